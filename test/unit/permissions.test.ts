import nock from 'nock';
import { describe, expect, it } from 'vitest';
import { parseConfigText } from '../../src/config/load.ts';
import { configSchema } from '../../src/config/schema.ts';
import { createWebClient } from '../../src/slack/client.ts';
import {
  ACTIONS,
  type Action,
  authorize,
  type Membership,
  type PermissionsConfig,
  slackMembership,
} from '../../src/slack/permissions.ts';

const BASE = {
  regions: ['eu-west-1'],
  slack: { defaultChannel: 'C0DEFAULT', adminChannel: 'C0ADMIN' },
};

function permissions(p: Record<string, unknown> = {}): PermissionsConfig {
  return configSchema.parse({ ...BASE, permissions: p }).permissions;
}

const CONFIG = permissions({
  admins: { users: ['UADMIN'], userGroups: ['SSECOPS'] },
  archive: { users: ['UARCHIVER'] },
  'delete-role': { userGroups: ['SPLATFORM'] },
});

/** Channel C0OWNER has UMEMBER; group SSECOPS has UGROUPADMIN; SPLATFORM has UPLATFORM. */
function fakeMembership(): Membership & { calls: string[] } {
  const channels: Record<string, string[]> = { C0OWNER: ['UMEMBER', 'UGROUPADMIN'] };
  const groups: Record<string, string[]> = { SSECOPS: ['UGROUPADMIN'], SPLATFORM: ['UPLATFORM'] };
  const calls: string[] = [];
  return {
    calls,
    async isInChannel(user, channel) {
      calls.push(`channel ${channel}`);
      return channels[channel]?.includes(user) ?? false;
    },
    async isInGroup(user, group) {
      calls.push(`group ${group}`);
      return groups[group]?.includes(user) ?? false;
    },
  };
}

const check = (action: Action, userId: string, findingChannel: string | null = 'C0OWNER') =>
  authorize(
    { action, userId, ...(findingChannel ? { findingChannel } : {}) },
    { config: CONFIG, membership: fakeMembership() },
  );

describe('authorize', () => {
  it.each(ACTIONS)('lets an admin %s', async (action) => {
    expect(await check(action, 'UADMIN')).toEqual({ allowed: true, via: 'admin' });
  });

  it.each(ACTIONS)('lets a member of an admin user group %s', async (action) => {
    expect(await check(action, 'UGROUPADMIN', null)).toEqual({
      allowed: true,
      via: 'admin (member of <!subteam^SSECOPS>)',
    });
  });

  it.each([
    ['archive', true],
    ['unarchive', true],
    ['rescan', true],
    ['generate-policy', true],
    ['delete-role', false],
    ['restore-role', false],
    ['scan', false],
    ['snooze', true],
    ['recommend', true],
  ] as const)('a member of the owner channel may %s: %s', async (action, allowed) => {
    const result = await check(action, 'UMEMBER');
    expect(result.allowed).toBe(allowed);
    if (result.allowed) expect(result.via).toBe('member of <#C0OWNER>');
  });

  it('does not grant by channel when the action is on no finding', async () => {
    expect((await check('archive', 'UMEMBER', null)).allowed).toBe(false);
  });

  it('lets a user listed for the action do it, and only that action', async () => {
    expect(await check('archive', 'UARCHIVER', null)).toEqual({
      allowed: true,
      via: 'listed in permissions.archive.users',
    });
    expect((await check('unarchive', 'UARCHIVER', null)).allowed).toBe(false);
  });

  it('lets a member of a user group listed for the action do it', async () => {
    expect(await check('delete-role', 'UPLATFORM')).toEqual({
      allowed: true,
      via: 'member of <!subteam^SPLATFORM>, listed in permissions.delete-role.userGroups',
    });
    expect((await check('restore-role', 'UPLATFORM')).allowed).toBe(false);
  });

  it('tells a refused person what is needed and whom to ask', async () => {
    expect(await check('archive', 'USTRANGER')).toMatchObject({
      allowed: false,
      need: 'to be an admin (permissions.admins), listed in permissions.archive or a member of <#C0OWNER>',
      askOneOf: ['<@UADMIN>', '<!subteam^SSECOPS>', '<@UARCHIVER>', 'members of <#C0OWNER>'],
    });
    expect(await check('delete-role', 'UMEMBER')).toMatchObject({
      allowed: false,
      need: 'to be an admin (permissions.admins) or listed in permissions.delete-role',
      askOneOf: ['<@UADMIN>', '<!subteam^SSECOPS>', '<!subteam^SPLATFORM>'],
    });
  });

  it('refuses everyone but owner-channel members when nobody is configured', async () => {
    const membership = fakeMembership();
    const config = permissions();
    expect(
      await authorize(
        { action: 'delete-role', userId: 'UMEMBER', findingChannel: 'C0OWNER' },
        { config, membership },
      ),
    ).toMatchObject({
      allowed: false,
      need: 'to be an admin (permissions.admins) or listed in permissions.delete-role',
      askOneOf: [],
    });
    expect(membership.calls).toEqual([]);
    expect(
      await authorize(
        { action: 'rescan', userId: 'UMEMBER', findingChannel: 'C0OWNER' },
        { config, membership },
      ),
    ).toEqual({ allowed: true, via: 'member of <#C0OWNER>' });
  });

  it("lets the owners named by the finding's routing rule take the owners' actions, not the admins'", async () => {
    const ruleOwners = { users: ['URULEOWNER'], userGroups: ['SONCALL'] };
    const membership = fakeMembership();
    const ask = (action: Action, userId: string) =>
      authorize({ action, userId, findingChannel: 'C0OWNER', ruleOwners }, { config: CONFIG, membership });
    expect(await ask('archive', 'URULEOWNER')).toEqual({
      allowed: true,
      via: 'an owner named by its routing rule',
    });
    expect(membership.calls).toEqual([]);
    expect((await ask('read', 'URULEOWNER')).allowed).toBe(true);
    expect(await ask('delete-role', 'URULEOWNER')).toMatchObject({
      allowed: false,
      need: 'to be an admin (permissions.admins) or listed in permissions.delete-role',
      askOneOf: ['<@UADMIN>', '<!subteam^SSECOPS>', '<!subteam^SPLATFORM>'],
    });
    expect(await ask('rescan', 'USTRANGER')).toMatchObject({
      allowed: false,
      need: 'to be an admin (permissions.admins), listed in permissions.rescan, a member of <#C0OWNER> or an owner named by its routing rule',
      askOneOf: [
        '<@UADMIN>',
        '<!subteam^SSECOPS>',
        '<@URULEOWNER>',
        '<!subteam^SONCALL>',
        'members of <#C0OWNER>',
      ],
    });
  });

  it("lets a member of a rule owners' user group act on the rule's findings", async () => {
    const membership: Membership = {
      isInChannel: async () => false,
      isInGroup: async (user, group) => group === 'SONCALL' && user === 'UONCALL',
    };
    expect(
      await authorize(
        { action: 'snooze', userId: 'UONCALL', ruleOwners: { users: [], userGroups: ['SONCALL'] } },
        { config: CONFIG, membership },
      ),
    ).toEqual({ allowed: true, via: 'member of <!subteam^SONCALL>, an owner named by its routing rule' });
  });

  it('reads for everyone only to admins and people listed under permissions.read', async () => {
    const config = permissions({ admins: { users: ['UADMIN'] }, read: { users: ['UAUDITOR'] } });
    const membership = fakeMembership();
    const ask = (userId: string) => authorize({ action: 'read', userId }, { config, membership });
    expect((await ask('UADMIN')).allowed).toBe(true);
    expect((await ask('UAUDITOR')).allowed).toBe(true);
    expect((await ask('UMEMBER')).allowed).toBe(false);
  });

  it('checks listed users before asking Slack, and stops at the first grant', async () => {
    const membership = fakeMembership();
    await authorize(
      { action: 'archive', userId: 'UARCHIVER', findingChannel: 'C0OWNER' },
      { config: CONFIG, membership },
    );
    expect(membership.calls).toEqual([]);
    await authorize(
      { action: 'archive', userId: 'UMEMBER', findingChannel: 'C0OWNER' },
      { config: CONFIG, membership },
    );
    expect(membership.calls).toEqual(['channel C0OWNER']);
  });

  it('rethrows a failed lookup rather than refusing, unless another check grants', async () => {
    const broken: Membership = {
      isInChannel: async () => {
        throw new Error('ratelimited');
      },
      isInGroup: async (user, group) => group === 'SSECOPS' && user === 'UGROUPADMIN',
    };
    const ask = (userId: string) =>
      authorize(
        { action: 'archive', userId, findingChannel: 'C0OWNER' },
        { config: CONFIG, membership: broken },
      );
    await expect(ask('USTRANGER')).rejects.toThrow('ratelimited');
    expect(await ask('UGROUPADMIN')).toEqual({ allowed: true, via: 'admin (member of <!subteam^SSECOPS>)' });
  });
});

describe('permissions config', () => {
  const yaml = (permissionsYaml: string) => `regions: [eu-west-1]
slack:
  defaultChannel: C0DEFAULT
  adminChannel: C0ADMIN
permissions:
${permissionsYaml}`;

  it('defaults: owner-channel members for finding actions, admins only for the rest', () => {
    const p = permissions();
    expect(p.admins).toEqual({ users: [], userGroups: [] });
    for (const a of ['archive', 'unarchive', 'rescan', 'generate-policy'] as const)
      expect(p[a]).toEqual({ users: [], userGroups: [], ownerChannelMembers: true });
    for (const a of ['delete-role', 'restore-role', 'scan'] as const)
      expect(p[a]).toEqual({ users: [], userGroups: [], ownerChannelMembers: false });
  });

  it.each(['delete-role', 'restore-role'])(
    'rejects ownerChannelMembers: true for %s, saying why',
    (action) => {
      const result = parseConfigText(yaml(`  ${action}:\n    ownerChannelMembers: true\n`), 'test.yml');
      expect(result.ok).toBe(false);
      if (result.ok) return;
      expect(result.problems).toEqual([
        {
          path: `permissions.${action}.ownerChannelMembers`,
          expected:
            'false: deleting or restoring an IAM role can break every workload that uses it, and anyone may join a channel, so only admins and the users and userGroups listed here may do it',
          got: 'true',
          at: 'test.yml:7:26',
        },
      ]);
    },
  );

  it('rejects malformed user and group ids and unknown actions', () => {
    const result = parseConfigText(
      yaml(`  admins: { users: [bob], userGroups: [U0123] }\n  archiv: { users: [U0123] }\n`),
      'test.yml',
    );
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.problems.map((p) => `${p.path}: ${p.expected}`)).toEqual([
      'permissions.admins.users[0]: a Slack user id such as U0123456789 (W… on Enterprise Grid)',
      'permissions.admins.userGroups[0]: a Slack user group id such as S0123456789',
      expect.stringMatching(/^permissions\.archiv: no such key \(did you mean archive\?/),
    ]);
  });
});

describe('slackMembership', () => {
  const API = 'https://slack.test/api/';
  const web = () => createWebClient({ token: 'xoxb-test', apiUrl: API, retries: 0 });

  it('pages through conversations.members and caches the channel for the TTL', async () => {
    let t = 0;
    const m = slackMembership(web(), { ttlMs: 1000, now: () => t });
    const scope = nock('https://slack.test')
      .post('/api/conversations.members', (b) => b.channel === 'C1' && !b.cursor)
      .reply(200, { ok: true, members: ['U1'], response_metadata: { next_cursor: 'next' } })
      .post('/api/conversations.members', (b) => b.channel === 'C1' && b.cursor === 'next')
      .reply(200, { ok: true, members: ['U2'], response_metadata: { next_cursor: '' } });
    expect(await m.isInChannel('U2', 'C1')).toBe(true);
    expect(await m.isInChannel('U3', 'C1')).toBe(false);
    expect(scope.isDone()).toBe(true);

    t = 1001;
    nock('https://slack.test')
      .post('/api/conversations.members')
      .reply(200, { ok: true, members: ['U3'], response_metadata: { next_cursor: '' } });
    expect(await m.isInChannel('U3', 'C1')).toBe(true);
  });

  it('counts nobody as a member of a channel Slack does not show the bot', async () => {
    const m = slackMembership(web());
    nock('https://slack.test')
      .post('/api/conversations.members', (b) => b.channel === 'C0GONE')
      .reply(200, { ok: false, error: 'channel_not_found' })
      .post('/api/conversations.members', (b) => b.channel === 'C0LIMIT')
      .reply(200, { ok: false, error: 'internal_error' });
    expect(await m.isInChannel('U1', 'C0GONE')).toBe(false);
    await expect(m.isInChannel('U1', 'C0LIMIT')).rejects.toThrow(/internal_error/);
  });

  it('reads user groups with usergroups.users.list, cached, and does not cache failures', async () => {
    const m = slackMembership(web());
    nock('https://slack.test')
      .post('/api/usergroups.users.list', (b) => b.usergroup === 'S1')
      .reply(200, { ok: false, error: 'no_such_subteam' })
      .post('/api/usergroups.users.list', (b) => b.usergroup === 'S1')
      .once()
      .reply(200, { ok: true, users: ['U1'] });
    await expect(m.isInGroup('U1', 'S1')).rejects.toThrow(/no_such_subteam/);
    expect(await m.isInGroup('U1', 'S1')).toBe(true);
    expect(await m.isInGroup('U2', 'S1')).toBe(false);
  });
});

describe('one-click fixes', () => {
  const FIXES = [
    'block-public-access',
    'deactivate-key',
    'remove-password',
    'remove-external-access',
  ] as const;

  it.each(FIXES)('%s: owner-channel members may not by default', async (fix) => {
    const d = await authorize(
      { action: fix, userId: 'UMEMBER', findingChannel: 'C0OWNER' },
      { config: permissions({ admins: { users: ['UADMIN'] } }), membership: fakeMembership() },
    );
    expect(d.allowed).toBe(false);
  });

  it('lets the members of a listed owner channel fix the findings that channel owns, and no other', async () => {
    const config = permissions({ 'deactivate-key': { channels: ['C0OWNER'] } });
    const member = (findingChannel: string) =>
      authorize(
        { action: 'deactivate-key', userId: 'UMEMBER', findingChannel },
        { config, membership: fakeMembership() },
      );
    expect(await member('C0OWNER')).toEqual({ allowed: true, via: 'member of <#C0OWNER>' });
    expect((await member('C0ELSEWHERE')).allowed).toBe(false);
    const other = await authorize(
      { action: 'remove-password', userId: 'UMEMBER', findingChannel: 'C0OWNER' },
      { config, membership: fakeMembership() },
    );
    expect(other.allowed).toBe(false);
  });

  it('lets every owner channel fix with ownerChannelMembers', async () => {
    const config = permissions({ 'block-public-access': { ownerChannelMembers: true } });
    const d = await authorize(
      { action: 'block-public-access', userId: 'UMEMBER', findingChannel: 'C0OWNER' },
      { config, membership: fakeMembership() },
    );
    expect(d.allowed).toBe(true);
  });
});
