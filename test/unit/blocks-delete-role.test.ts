import { describe, expect, it } from 'vitest';
import { backupSnippet, deletionReceipt, restoreReceipt } from '../../blocks/delete-role.ts';
import { unescapeEntities } from '../../blocks/escape.ts';
import { limitViolations } from '../../blocks/limits.ts';
import type { RoleBackup } from '../../src/aws/iam.ts';

const shown = (m: { blocks?: unknown[] }) =>
  (m.blocks as { text: { text: string } }[]).map((b) => b.text.text).join('\n');

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
        '🗑️ <@U0BOB> deleted role `legacy-ci`.',
        '*Done*',
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
    const text = shown(m);
    expect(text).not.toMatch(/<!(here|channel)>/);
  });

  it('reports a restore, complete or not', () => {
    const ok = restoreReceipt({
      userId: 'U0BOB',
      roleName: 'legacy-ci',
      done: ['created role'],
      notDone: [],
    });
    expect(ok.text).toBe('Role legacy-ci restored');
    expect(shown(ok)).toBe('♻️ <@U0BOB> restored role `legacy-ci` from its backup.\n*Done*\n• created role');

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

  it('reads back as exactly the backup JSON: line breaks, * and <> kept inside its code blocks', () => {
    const m = backupSnippet(backup, 'ap:backup:role:222222222222:ci-deployer:2026-12-01T10:00:00.000Z');
    const [head, ...code] = (m.blocks as { text: { text: string } }[]).map((b) => b.text.text);
    expect(head).toBe(
      '💾 Backup of role `ci-deployer` taken 2026-12-01T10:00:00.000Z, kept as `ap:backup:role:222222222222:ci-deployer:2026-12-01T10:00:00.000Z`:',
    );
    for (const c of code) expect(c).toMatch(/^```[\s\S]*```$/);
    const json = unescapeEntities(code.map((c) => c.slice(3, -3)).join('\n'));
    expect(JSON.parse(json)).toEqual(backup);
    expect(json).toBe(JSON.stringify(backup, null, 2));
  });

  it('splits a long backup over several code blocks, each within a section’s limit', () => {
    const big = {
      ...backup,
      attachedPolicyArns: Array.from({ length: 200 }, (_, i) => `arn:aws:iam::aws:policy/P${i}`),
    };
    const m = backupSnippet(big, 'k');
    expect(m.blocks.length).toBeGreaterThan(2);
    expect(limitViolations(m)).toEqual([]);
    const code = (m.blocks as { text: { text: string } }[]).slice(1).map((b) => b.text.text.slice(3, -3));
    expect(JSON.parse(unescapeEntities(code.join('\n')))).toEqual(big);
  });
});
