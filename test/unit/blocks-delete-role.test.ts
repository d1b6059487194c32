import type { KnownBlock } from '@slack/types';
import { describe, expect, it } from 'vitest';
import { backupSnippet, deletionReceipt, restoreReceipt } from '../../blocks/delete-role.ts';
import { limitViolations, preformattedText } from '../../blocks/limits.ts';
import { blockProblems } from '../../sandbox/block-kit-rules.ts';
import type { RoleBackup } from '../../src/aws/iam.ts';
import { displayedBlocks, displayedCode, liveMarkup } from '../helpers/slack-display.ts';

/** What a person reads of a receipt. */
const shown = (m: { blocks: unknown[] }) => displayedBlocks(m.blocks).join('\n');

describe('role receipts', () => {
  it('lists what was done when the deletion succeeded', () => {
    const m = deletionReceipt({
      userId: 'U0BOB',
      roleName: 'legacy-ci',
      done: ['detached arn:aws:iam::aws:policy/ReadOnlyAccess', 'deleted role legacy-ci'],
      notDone: [],
    });
    expect(m.text).toBe('Role legacy-ci deleted');
    expect(shown(m)).toBe(
      [
        '🗑️ @U0BOB deleted role legacy-ci.',
        'Done',
        '• detached arn:aws:iam::aws:policy/ReadOnlyAccess',
        '• deleted role legacy-ci',
      ].join('\n'),
    );
  });

  it('says where a deletion stopped, what was done and what was not, escaping AWS text', () => {
    const m = deletionReceipt({
      userId: 'U0BOB',
      roleName: 'legacy-ci',
      done: [],
      notDone: ['delete inline policy <!channel>'],
      error: 'DeleteConflict: <!here> must detach',
    });
    expect(m.text).toBe('Deleting role legacy-ci stopped');
    // AWS text is shown as written, and inert: rich text is never parsed.
    expect(shown(m)).toBe(
      [
        '⚠️ Deleting role legacy-ci stopped: DeleteConflict: <!here> must detach',
        'Done',
        '• nothing',
        'Not done',
        '• delete inline policy <!channel>',
      ].join('\n'),
    );
    expect(liveMarkup(m.blocks)).toEqual([]);
    expect(displayedCode(m.blocks)).toEqual(['legacy-ci']);
  });

  it('reports a restore, complete or not', () => {
    const ok = restoreReceipt({
      userId: 'U0BOB',
      roleName: 'legacy-ci',
      done: ['created role'],
      notDone: [],
    });
    expect(ok.text).toBe('Role legacy-ci restored');
    expect(shown(ok)).toBe('♻️ @U0BOB restored role legacy-ci from its backup.\nDone\n• created role');

    const partial = restoreReceipt({
      userId: 'U0BOB',
      roleName: 'legacy-ci',
      done: ['created role'],
      notDone: ['attach arn:aws:iam::123456789012:policy/gone'],
      error: 'NoSuchEntity: policy gone',
    });
    expect(partial.text).toBe('Restoring role legacy-ci was incomplete');
  });
});

describe('role backup snippet', () => {
  const backup: RoleBackup = {
    version: 1,
    accountId: '222222222222',
    roleName: 'ci-deployer',
    arn: 'arn:aws:iam::222222222222:role/ci-deployer',
    path: '/',
    description: 'CI <deploys> & *more*',
    assumeRolePolicyDocument:
      '{"Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"}}]}',
    tags: [{ Key: 'team', Value: 'platform' }],
    inlinePolicies: [
      {
        name: 'ecr-push',
        document: JSON.stringify({ Statement: [{ Effect: 'Allow', Action: 'ecr:*', Resource: '*' }] }),
      },
    ],
    attachedPolicyArns: ['arn:aws:iam::aws:policy/ReadOnlyAccess'],
    instanceProfileNames: [],
    takenAt: '2026-12-01T10:00:00.000Z',
  };

  /** The backup as a person copies it from the thread: every part's preformatted blocks, in order. */
  const readBack = (messages: { blocks: unknown[] }[]) =>
    messages
      .flatMap((m) =>
        displayedBlocks(m.blocks.filter((b) => preformattedText(b as KnownBlock) !== undefined)),
      )
      .join('');

  it('reads back as exactly the backup: verbatim JSON, * and <> and backticks kept', () => {
    const hostile: RoleBackup = {
      ...backup,
      description: 'ops `` ``` `` *bold* _x_ ~y~ <!channel> <@U123> &amp; \u202Eevil\u200B \u2028 end',
      tags: [{ Key: 'owner', Value: '<https://evil.example|click>' }],
    };
    const messages = backupSnippet(
      hostile,
      'ap:backup:role:222222222222:ci-deployer:2026-12-01T10:00:00.000Z',
    );
    expect(messages).toHaveLength(1);
    const [m] = messages;
    expect(m!.text).toBe('Backup of role ci-deployer');
    expect(displayedBlocks(m!.blocks)[0]).toBe(
      '💾 Backup of role ci-deployer taken 2026-12-01T10:00:00.000Z, kept as ap:backup:role:222222222222:ci-deployer:2026-12-01T10:00:00.000Z. The JSON below is exact: copy it whole.',
    );
    expect(displayedCode(m!.blocks.slice(0, 1))).toEqual([
      'ci-deployer',
      'ap:backup:role:222222222222:ci-deployer:2026-12-01T10:00:00.000Z',
    ]);
    const json = readBack(messages);
    expect(JSON.parse(json)).toEqual(hostile);
    expect(json).toContain('\\"Resource\\":\\"*\\"');
    expect(json).toContain('<!channel>');
    expect(liveMarkup(m!.blocks)).toEqual([]);
    expect(json).not.toMatch(/[\p{Cf}\u2028]/u);
    expect(limitViolations(m!)).toEqual([]);
    expect(blockProblems(m!.blocks)).toEqual([]);
  });

  it('splits a long backup over blocks and messages, each within Slack’s limits, reading back exactly', () => {
    const big: RoleBackup = {
      ...backup,
      attachedPolicyArns: Array.from({ length: 400 }, (_, i) => `arn:aws:iam::aws:policy/P${i}`),
      inlinePolicies: [{ name: 'long', document: JSON.stringify({ Sid: 'x'.repeat(7000), Resource: '*' }) }],
    };
    const messages = backupSnippet(big, 'k');
    expect(messages.length).toBeGreaterThan(1);
    expect(messages.map((m) => m.text)).toEqual(
      messages.map((_, i) => `Backup of role ci-deployer (part ${i + 1} of ${messages.length})`),
    );
    for (const m of messages) {
      expect(limitViolations(m)).toEqual([]);
      expect(blockProblems(m.blocks)).toEqual([]);
      expect(JSON.stringify(m.blocks).length).toBeLessThan(12_000);
    }
    expect(JSON.parse(readBack(messages))).toEqual(big);
  });
});
