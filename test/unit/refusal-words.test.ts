// A refused request is answered in sentences a person understands, for every action and every way
// the config can grant it: who may do it, and whom to ask.
import { describe, expect, it } from 'vitest';
import { refusedNote } from '../../blocks/receipts.ts';
import { configSchema } from '../../src/config/schema.ts';
import { ACTIONS, type Action, authorize, type RuleOwners } from '../../src/slack/permissions.ts';

const nobodyIsAMember = { isInChannel: async () => false, isInGroup: async () => false };

async function refusal(
  action: Action,
  permissions: Record<string, unknown>,
  opts: { findingChannel?: string; ruleOwners?: RuleOwners } = { findingChannel: 'C0OWNER01' },
) {
  const config = configSchema.parse({
    regions: ['eu-west-1'],
    slack: { defaultChannel: 'C0DEFAULT', adminChannel: 'C0ADMIN' },
    permissions,
  }).permissions;
  const decision = await authorize(
    { action, userId: 'USTRANGER', ...opts },
    { config, membership: nobodyIsAMember },
  );
  if (decision.allowed) throw new Error(`${action} was allowed`);
  const note = refusedNote({ action, who: decision.who });
  const section = note.blocks[0] as { text: { text: string } };
  return { mrkdwn: section.text.text, text: note.text };
}

const ADMINS = { admins: { users: ['UADMIN'], userGroups: ['SSECOPS'] } };

/** What each action is called in the refusal. */
const WHAT: Record<Action, string> = {
  archive: 'archive this finding',
  unarchive: 'unarchive this finding',
  rescan: 'rescan this finding',
  'delete-role': 'delete this role',
  'restore-role': 'restore this role',
  'generate-policy': 'generate a policy',
  scan: 'start a scan',
  snooze: 'snooze this finding',
  recommend: 'ask for a recommendation on this finding',
  read: 'see this finding',
  'block-public-access': 'block public access to this bucket (or undo it)',
  'deactivate-key': 'deactivate this access key (or undo it)',
  'remove-password': 'remove this password (or undo it)',
  'remove-external-access': 'remove external access to this role (or undo it)',
  'delete-key': 'delete this access key',
  'quarantine-role': 'quarantine this role (or say it is still needed)',
  'apply-recommendation': "apply AWS's recommendation to this principal (or undo it)",
  'archive-rule': 'create or delete archive rules',
  'create-analyzer': 'create an analyzer',
};
/** The actions a finding's owners may take by default; the rest are for admins only. */
const OWNER_ACTIONS: readonly Action[] = [
  'archive',
  'unarchive',
  'rescan',
  'generate-policy',
  'snooze',
  'recommend',
  'read',
];

describe('a refusal reads as sentences, for every action', () => {
  it.each(ACTIONS)('%s, refused to a member of another channel', async (action) => {
    const r = await refusal(action, ADMINS);
    const what = WHAT[action];
    if (OWNER_ACTIONS.includes(action)) {
      expect(r.mrkdwn).toBe(
        `🚫 Only admins and members of <#C0OWNER01> can ${what}. Ask <@UADMIN>, <!subteam^SSECOPS> or anyone in <#C0OWNER01>.`,
      );
      expect(r.text).toBe(`Only admins and members of the finding's channel can ${what}.`);
    } else {
      expect(r.mrkdwn).toBe(`🚫 Only admins can ${what}. Ask <@UADMIN> or <!subteam^SSECOPS>.`);
      expect(r.text).toBe(`Only admins can ${what}.`);
    }
  });

  it.each(ACTIONS)('%s, with people listed for it and owners named by the routing rule', async (action) => {
    const r = await refusal(
      action,
      { ...ADMINS, [action]: { users: ['ULISTED'] } },
      { findingChannel: '#payments', ruleOwners: { users: ['URULEOWNER'], userGroups: [] } },
    );
    const what = WHAT[action];
    const listed = `the people named under \`permissions.${action}\``;
    expect(r.mrkdwn).toBe(
      OWNER_ACTIONS.includes(action)
        ? `🚫 Only admins, ${listed}, members of #payments and the owners named by this finding's routing rule can ${what}. Ask <@UADMIN>, <!subteam^SSECOPS>, <@ULISTED>, <@URULEOWNER> or anyone in #payments.`
        : `🚫 Only admins and ${listed} can ${what}. Ask <@UADMIN>, <!subteam^SSECOPS> or <@ULISTED>.`,
    );
  });

  it.each(ACTIONS)('%s, when the config names nobody', async (action) => {
    const r = await refusal(action, {});
    const what = WHAT[action];
    expect(r.mrkdwn).toBe(
      OWNER_ACTIONS.includes(action)
        ? `🚫 Only members of <#C0OWNER01> can ${what}. Ask anyone in <#C0OWNER01>.`
        : `🚫 Nobody can ${what} yet: no admins are set up. Whoever runs access-patrol can name them under \`permissions.admins\` in the config.`,
    );
  });

  it('names at most 20 people and counts the rest', async () => {
    const users = Array.from({ length: 23 }, (_, i) => `UADMIN${String(i).padStart(2, '0')}`);
    const r = await refusal('delete-role', { admins: { users } });
    expect(r.mrkdwn).toBe(
      `🚫 Only admins can delete this role. Ask ${users
        .slice(0, 20)
        .map((u) => `<@${u}>`)
        .join(', ')} or one of 3 more.`,
    );
  });

  it('never reads like "delete-role this" or "you need you must"', async () => {
    const setups: Record<string, unknown>[] = [{}, ADMINS, { ...ADMINS, archive: { userGroups: ['SARCH'] } }];
    for (const action of ACTIONS) {
      for (const setup of setups) {
        const { mrkdwn, text } = await refusal(action, setup);
        for (const words of [mrkdwn, text]) {
          expect(words).not.toMatch(/you need|you must|\bthis:|\b(delete|restore)-role this|generate-policy/);
          expect(words).toMatch(/\.$/);
          // Every sentence starts with a capital letter.
          for (const sentence of words.replace(/^🚫 /, '').split(/(?<=\.) /))
            expect(sentence).toMatch(/^[A-Z]/);
        }
      }
    }
  });
});
