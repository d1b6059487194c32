import { describe, expect, it } from 'vitest';
import { deletionReceipt, restoreReceipt } from '../../blocks/delete-role.ts';

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
    expect(text).toContain('stopped: DeleteConflict: &lt;!here&gt; must detach');
    expect(text).toContain('*Done*\n• nothing\n*Not done*\n• delete inline policy &lt;!channel&gt;');
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
    expect(shown(partial)).toContain('*Not done*\n• attach arn:aws:iam::123456789012:policy/gone');
  });
});
