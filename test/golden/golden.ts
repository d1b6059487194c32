// Golden fixtures of the Block Kit builders: each case's output is kept as pretty JSON in
// test/golden/<builder>/<case>.json and compared by deep equality (test/unit/blocks-golden.test.ts).
// `npm run golden:update` (GOLDEN_UPDATE=1) rewrites every fixture from the cases and removes the ones
// no case makes any more, so a deliberate change to what Slack is sent is one command and a diff to read.
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

export const GOLDEN_DIR = dirname(fileURLToPath(import.meta.url));
export const UPDATE_GOLDEN = process.env.GOLDEN_UPDATE === '1';

/** Cases of one builder: case name (kebab-case, the fixture's file name) → what the builder returns. */
export type BuilderCases = Record<string, () => unknown>;
/** Builder name (the exported function, the fixture's directory) → its cases. */
export type GoldenCases = Record<string, BuilderCases>;

const NAME = /^[a-z0-9]+(-[a-z0-9]+)*$/;
const BUILDER = /^[a-z][A-Za-z0-9]*$/;

export function fixturePath(builder: string, name: string): string {
  if (!BUILDER.test(builder)) throw new Error(`golden builder name ${builder} is not an identifier`);
  if (!NAME.test(name)) throw new Error(`golden case name ${name} is not kebab-case`);
  return join(GOLDEN_DIR, builder, `${name}.json`);
}

/** What Slack receives: the value through JSON (undefined fields dropped). */
export function asSent(value: unknown): unknown {
  return JSON.parse(JSON.stringify(value));
}

/**
 * Pretty JSON, two spaces, one trailing newline. Invisible characters (format characters such as
 * zero-width spaces and bidi controls, line and paragraph separators, no-break spaces) are written as
 * \u escapes so a reviewer sees them in the diff; JSON.parse reads them back as the same characters.
 */
export function serialize(value: unknown): string {
  return `${JSON.stringify(value, null, 2).replace(
    /[\p{Cf}\u00A0\u2028\u2029]/gu,
    (c) => `\\u${c.charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')}`,
  )}\n`;
}

export function readFixture(builder: string, name: string): unknown {
  const path = fixturePath(builder, name);
  if (!existsSync(path))
    throw new Error(`no golden fixture ${relative(process.cwd(), path)}: run \`npm run golden:update\``);
  return JSON.parse(readFileSync(path, 'utf8'));
}

export function writeFixture(builder: string, name: string, value: unknown): void {
  const path = fixturePath(builder, name);
  mkdirSync(dirname(path), { recursive: true });
  const text = serialize(value);
  if (!existsSync(path) || readFileSync(path, 'utf8') !== text) writeFileSync(path, text);
}

/** Fixture files on disk, as `<builder>/<case>`. */
export function fixturesOnDisk(): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(GOLDEN_DIR, { withFileTypes: true })) {
    if (!entry.isDirectory() || entry.name === 'cases') continue;
    for (const file of readdirSync(join(GOLDEN_DIR, entry.name)))
      if (file.endsWith('.json')) out.push(`${entry.name}/${file.slice(0, -5)}`);
  }
  return out.sort();
}

/** Removes fixtures that no case makes any more (and directories left empty). */
export function removeFixtures(keys: readonly string[]): void {
  for (const key of keys) {
    const [builder, name] = key.split('/') as [string, string];
    rmSync(fixturePath(builder, name));
    const dir = join(GOLDEN_DIR, builder);
    if (readdirSync(dir).length === 0) rmSync(dir, { recursive: true });
  }
}
