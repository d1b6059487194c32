// Exact JSON of every Block Kit builder for a few cases each (test/golden/cases/), against the
// fixtures in test/golden/<builder>/<case>.json. After a deliberate change to what a builder sends,
// `npm run golden:update` rewrites the fixtures; review the diff like any other change. Every output
// is also held to the Slack stand-in's rules (sandbox/block-kit-rules.ts), so no fixture records
// something Slack would refuse, even when the update wrote it.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { limitViolations, type SlackMessage } from '../../blocks/limits.ts';
import {
  blockProblems,
  elementProblems,
  MESSAGE_BLOCKS,
  viewProblems,
} from '../../sandbox/block-kit-rules.ts';
import { GOLDEN_CASES, NOT_BUILDERS } from '../golden/cases/index.ts';
import {
  asSent,
  fixturesOnDisk,
  readFixture,
  removeFixtures,
  UPDATE_GOLDEN,
  writeFixture,
} from '../golden/golden.ts';

const BLOCKS_DIR = join(import.meta.dirname, '../../blocks');

const isMessage = (v: unknown): v is SlackMessage =>
  typeof v === 'object' &&
  v !== null &&
  typeof (v as SlackMessage).text === 'string' &&
  Array.isArray((v as SlackMessage).blocks);

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null;

/** What Slack would refuse in one output: a view, a message, one block or one element. */
function slackRefusals(v: unknown): string[] {
  if (isObject(v) && (v.type === 'modal' || v.type === 'home')) return viewProblems(v);
  if (isMessage(v)) return blockProblems(v.blocks);
  if (isObject(v) && typeof v.type === 'string')
    return MESSAGE_BLOCKS.has(v.type) ? blockProblems([v]) : elementProblems(v);
  return [`not a view, message, block or element: ${JSON.stringify(v)?.slice(0, 80)}`];
}

describe.each(Object.entries(GOLDEN_CASES))('%s', (builder, cases) => {
  it.each(Object.keys(cases))('%s', (name) => {
    const actual = asSent(cases[name]!());
    for (const m of Array.isArray(actual) ? actual : [actual]) {
      if (isMessage(m)) expect(limitViolations(m), `${builder}/${name} breaks a Slack limit`).toEqual([]);
      expect(slackRefusals(m), `${builder}/${name} would be refused by Slack`).toEqual([]);
    }
    if (UPDATE_GOLDEN) writeFixture(builder, name, actual);
    else
      expect(
        actual,
        `${builder}/${name} differs from its fixture (npm run golden:update after a deliberate change)`,
      ).toStrictEqual(readFixture(builder, name));
  });
});

describe('golden fixtures', () => {
  it('has a case for every fixture on disk', () => {
    const made = new Set(
      Object.entries(GOLDEN_CASES).flatMap(([b, cases]) => Object.keys(cases).map((n) => `${b}/${n}`)),
    );
    const orphans = fixturesOnDisk().filter((key) => !made.has(key));
    if (UPDATE_GOLDEN) removeFixtures(orphans);
    else expect(orphans, 'fixtures no case makes (npm run golden:update removes them)').toEqual([]);
  });

  it('covers every exported builder in blocks/', async () => {
    const missing: string[] = [];
    const unknown = new Set(Object.keys(GOLDEN_CASES));
    for (const file of readdirSync(BLOCKS_DIR).filter((f) => f.endsWith('.ts'))) {
      const mod = (await import(join(BLOCKS_DIR, file))) as Record<string, unknown>;
      for (const [name, value] of Object.entries(mod)) {
        if (typeof value !== 'function') continue;
        unknown.delete(name);
        if (!NOT_BUILDERS.has(name) && Object.keys(GOLDEN_CASES[name] ?? {}).length === 0)
          missing.push(`${file}: ${name}`);
      }
    }
    expect(missing, 'builders without golden cases (add them in test/golden/cases/)').toEqual([]);
    expect([...unknown], 'golden cases named after no exported function of blocks/').toEqual([]);
  });
});
