// Every way to act on a finding from Slack (buttons, modal submissions, /access verbs), by every kind
// of person, from every place a click can come from: permission is decided by the finding's stored
// owner (its routed channel and its routing rule's owners), never by the channel of the request.
// A refused request is answered, audited as refused, queues nothing, calls no AWS API and leaves
// Redis as it was. Real Bolt receiver, real Redis and workers, the sandbox AWS server, Slack behind nock.
import { Redis } from 'ioredis';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DELETE_ROLE_MODAL } from '../../blocks/delete-role.ts';
import { ACTION_IDS, encodeFindingRef } from '../../blocks/ids.ts';
import { ARCHIVE_MODAL, SNOOZE_MODAL } from '../../blocks/modals.ts';
import { GENERATE_POLICY_MODAL } from '../../blocks/policy.ts';
import { type AwsSandbox, startAwsSandbox } from '../../sandbox/aws.ts';
import {
  DEMO_ACCOUNTS,
  DEMO_ANALYZERS,
  DEMO_FINDING_IDS,
  DEMO_MEMBER_ROLE,
  demoData,
} from '../../sandbox/fixtures/demo-org.ts';
import type { AppConfig } from '../../src/config/schema.ts';
import type { Runtime } from '../../src/runtime.ts';
import type { StoredAuditEntry } from '../../src/store/audit.ts';
import type { FindingState } from '../../src/store/findings.ts';
import { type FakeSlack, fakeSlack } from '../helpers/fake-slack.ts';
import { REDIS_URL, sandboxRuntime, testConfig, wipePrefix } from '../helpers/runtime.ts';
import { blockActionBody, slashCommandBody, viewSubmissionBody } from '../helpers/slack-requests.ts';
import { type Receiver, recordResponses, type SlackResponse, startReceiver } from '../helpers/triage.ts';

const SECRET = 'matrix-signing-secret';
const FINDING = DEMO_FINDING_IDS.unusedRoleCiDeployer;
const PROD = DEMO_ACCOUNTS.prod;
const CI_DEPLOYER = `arn:aws:iam::${PROD}:role/ci-deployer`;
const OWNER_CHANNEL = 'C0PLATFORM';
const DEFAULT_CHANNEL = 'C0DEFAULT';
const FORGED_CHANNEL = 'C0FORGED1';
/** Another team's channel, with a finding of its own. */
const DATA_CHANNEL = 'C0DATA001';
const DATA_FINDING = DEMO_FINDING_IDS.publicBucketLogsProd;
/** A second finding of the owner channel, for the actions that run to the end. */
const OTHER_ROLE_FINDING = DEMO_FINDING_IDS.unusedRoleNeverUsed;

const PEOPLE = {
  admin: 'U0ADMIN01',
  'owner-channel member': 'U0OWNER01',
  'other-channel member': 'U0OTHER01',
  'rule owner': 'U0RULEOWN',
} as const;
type Role = keyof typeof PEOPLE;

/** Where a request comes from: the channel Slack names in it, and the message clicked. */
const PLACES = {
  'owner channel': { channel: OWNER_CHANNEL, digest: false },
  'default channel (fallback)': { channel: DEFAULT_CHANNEL, digest: false },
  'a digest message': { channel: DEFAULT_CHANNEL, digest: true },
  'a forged channel id': { channel: FORGED_CHANNEL, digest: false },
} as const;
type Place = keyof typeof PLACES;

let config: AppConfig;
let aws: AwsSandbox;
let slack: FakeSlack;
let rt: Runtime;
let receiver: Receiver;
let redis: Redis;
let state: FindingState;
let responses: SlackResponse[];

const ref = (extra: Record<string, string> = {}) =>
  JSON.stringify({
    ...JSON.parse(encodeFindingRef({ f: FINDING, a: DEMO_ANALYZERS.usUnused, r: 'us-east-1' })),
    ...extra,
  });

function button(actionId: string, value = ref()) {
  return (user: string, place: Place) => {
    const where = PLACES[place];
    return blockActionBody({
      actionId,
      value,
      user: { id: user },
      channel: { id: where.channel, name: 'somewhere' },
      blockId: where.digest ? 'digest_overdue_0' : `finding_${FINDING}`,
      ...(where.channel === OWNER_CHANNEL && !where.digest ? { messageTs: state.ts! } : {}),
    });
  };
}

const meta = (channel: string, extra: Record<string, string> = {}) =>
  JSON.stringify({ f: FINDING, a: DEMO_ANALYZERS.usUnused, r: 'us-east-1', c: channel, t: '1.2', ...extra });

function submission(callbackId: string, values: object, extra: Record<string, string> = {}) {
  return (user: string, place: Place) =>
    viewSubmissionBody({
      callbackId,
      privateMetadata: meta(PLACES[place].channel, extra),
      values: values as never,
      user: { id: user },
    });
}

function command(text: string) {
  return (user: string, place: Place) =>
    slashCommandBody({ text, user_id: user, channel_id: PLACES[place].channel });
}

const text = (v: string) => ({ type: 'plain_text_input', value: v });
const ENTRY_POINTS = [
  {
    name: 'Archive button',
    action: 'archive',
    from: 'message',
    body: button(ACTION_IDS.archive),
    kind: 'modal',
  },
  {
    name: 'Unarchive button',
    action: 'unarchive',
    from: 'message',
    body: button(ACTION_IDS.unarchive),
    kind: 'job',
  },
  { name: 'Rescan button', action: 'rescan', from: 'message', body: button(ACTION_IDS.rescan), kind: 'job' },
  {
    name: 'Snooze button',
    action: 'snooze',
    from: 'message',
    body: button(ACTION_IDS.snooze),
    kind: 'modal',
  },
  {
    name: 'Unsnooze button',
    action: 'snooze',
    from: 'message',
    body: button(ACTION_IDS.unsnooze),
    kind: 'job',
  },
  {
    name: 'Show recommendation',
    action: 'recommend',
    from: 'message',
    body: button(ACTION_IDS.recommend),
    kind: 'job',
  },
  {
    name: 'Generate policy button',
    action: 'generate-policy',
    from: 'message',
    body: button(ACTION_IDS.generatePolicy),
    kind: 'modal',
  },
  {
    name: 'Delete role button',
    action: 'delete-role',
    from: 'message',
    body: button(ACTION_IDS.deleteRole),
    kind: 'modal',
  },
  {
    name: 'Restore role button',
    action: 'restore-role',
    from: 'message',
    body: button(ACTION_IDS.restoreRole, ref({ k: 'backup:role:x' })),
    kind: 'job',
  },
  {
    name: 'Archive form',
    action: 'archive',
    from: 'form',
    body: submission(ARCHIVE_MODAL.callbackId, {
      [ARCHIVE_MODAL.reasonBlock]: { [ARCHIVE_MODAL.reasonAction]: text('accepted risk, SEC-1') },
    }),
    kind: 'job',
  },
  {
    name: 'Snooze form',
    action: 'snooze',
    from: 'form',
    body: submission(SNOOZE_MODAL.callbackId, {
      [SNOOZE_MODAL.daysBlock]: {
        [SNOOZE_MODAL.daysAction]: { type: 'static_select', selected_option: { value: '7' } },
      },
      [SNOOZE_MODAL.reasonBlock]: { [SNOOZE_MODAL.reasonAction]: text('after the release') },
    }),
    kind: 'job',
  },
  {
    name: 'Generate policy form',
    action: 'generate-policy',
    from: 'form',
    body: submission(
      GENERATE_POLICY_MODAL.callbackId,
      {
        [GENERATE_POLICY_MODAL.trailSelectBlock]: {
          [GENERATE_POLICY_MODAL.trailSelectAction]: {
            type: 'static_select',
            selected_option: { value: '0' },
          },
        },
        [GENERATE_POLICY_MODAL.daysBlock]: {
          [GENERATE_POLICY_MODAL.daysAction]: { type: 'number_input', value: '30' },
        },
        [GENERATE_POLICY_MODAL.regionsBlock]: { [GENERATE_POLICY_MODAL.regionsAction]: text('all') },
      },
      // A forged principal: the stored finding's resource is what counts.
      { p: `arn:aws:iam::${PROD}:role/someone-elses-role` },
    ),
    kind: 'job',
  },
  {
    name: 'Delete role form',
    action: 'delete-role',
    from: 'form',
    body: submission(DELETE_ROLE_MODAL.callbackId, {}),
    kind: 'job',
  },
  {
    name: '/access archive',
    action: 'archive',
    from: 'command',
    body: command(`archive ${FINDING} --reason "accepted risk"`),
    kind: 'job',
  },
  {
    name: '/access unarchive',
    action: 'unarchive',
    from: 'command',
    body: command(`unarchive ${FINDING}`),
    kind: 'job',
  },
  {
    name: '/access rescan',
    action: 'rescan',
    from: 'command',
    body: command(`rescan ${FINDING}`),
    kind: 'job',
  },
  {
    name: '/access snooze',
    action: 'snooze',
    from: 'command',
    body: command(`snooze ${FINDING} --days 7 --reason "after the release"`),
    kind: 'job',
  },
] as const;

const ADMIN_ONLY = new Set(['delete-role', 'restore-role']);
const allowedTo = (role: Role, action: string) =>
  role === 'admin' || ((role === 'owner-channel member' || role === 'rule owner') && !ADMIN_ONLY.has(action));

/** Every key of this test's prefix with its serialized value, but BullMQ's and the audit stream's. */
async function redisSnapshot(): Promise<Map<string, string>> {
  const prefix = config.redis.keyPrefix;
  const out = new Map<string, string>();
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
    cursor = next;
    for (const key of keys) {
      const rest = key.slice(prefix.length);
      if (rest.startsWith('bull:') || rest === 'audit' || rest.startsWith('slack-request:')) continue;
      const dumped = await redis.dumpBuffer(key);
      if (dumped) out.set(key, dumped.toString('base64'));
    }
  } while (cursor !== '0');
  return out;
}

async function jobCount(): Promise<number> {
  const counts = await rt.queues.actions.getJobCounts();
  return Object.values(counts).reduce((n, c) => n + c, 0);
}

/**
 * Waits until no action job is waiting or running, then drops the delayed follow-ups and ends the
 * requests they held (intents), so that each case starts with nothing under way.
 */
async function settle(): Promise<void> {
  await expect
    .poll(
      async () => {
        const c = await rt.queues.actions.getJobCounts('waiting', 'active');
        return (c.waiting ?? 0) + (c.active ?? 0);
      },
      { timeout: 20_000, interval: 50 },
    )
    .toBe(0);
  await rt.queues.actions.drain(true);
  let cursor = '0';
  do {
    const [next, held] = await redis.scan(
      cursor,
      'MATCH',
      `${config.redis.keyPrefix}intent:*`,
      'COUNT',
      1000,
    );
    cursor = next;
    if (held.length) await redis.del(...held);
  } while (cursor !== '0');
}

async function newestAudit(): Promise<StoredAuditEntry | undefined> {
  return (await rt.deps.audit.query({ last: 1 }))[0];
}

beforeAll(async () => {
  aws = await startAwsSandbox({ data: demoData(new Date(), { burst: false }) });
  aws.data.policyTools = { pollsUntilDone: 1 };
  slack = fakeSlack();
  config = testConfig({
    regions: ['us-east-1'],
    slack: { defaultChannel: DEFAULT_CHANNEL, adminChannel: 'C0ADMIN', postIntervalMs: 0 },
    scan: { expectedAnalyzerKinds: ['external', 'unused'] },
    organization: { memberRoleName: DEMO_MEMBER_ROLE.name, externalId: DEMO_MEMBER_ROLE.externalId },
    routing: [
      {
        name: 'platform',
        match: { findingType: 'UnusedIAMRole' },
        channel: OWNER_CHANNEL,
        owners: { users: [PEOPLE['rule owner']] },
      },
      { name: 'data', match: { resourceType: 'AWS::S3::Bucket', accountId: PROD }, channel: DATA_CHANNEL },
    ],
    permissions: { admins: { users: [PEOPLE.admin] } },
    policyGeneration: {
      accessRoleArn: 'arn:aws:iam::{accountId}:role/service-role/AccessAnalyzerMonitorServiceRole',
      trails: [`arn:aws:cloudtrail:us-east-1:${DEMO_ACCOUNTS.securityTooling}:trail/org-trail`],
      firstPollSeconds: 0.05,
      maxPollSeconds: 0.1,
    },
  });
  rt = sandboxRuntime(config, aws);
  rt.startWorkers();
  redis = new Redis(REDIS_URL);
  await rt.scanNow({ timeoutMs: 30_000 });
  state = (await rt.deps.store.get(FINDING))!;
  receiver = await startReceiver(rt, { secret: SECRET });
}, 60_000);

// nock is reset after every test (test/setup.ts): Slack's stand-in comes back for each.
beforeEach(() => {
  slack = fakeSlack();
  slack.members[OWNER_CHANNEL] = [PEOPLE['owner-channel member']];
  slack.members[DEFAULT_CHANNEL] = [PEOPLE['other-channel member']];
  slack.members[FORGED_CHANNEL] = [PEOPLE['other-channel member']];
  responses = recordResponses();
});

afterAll(async () => {
  await receiver.stop();
  await rt.close();
  await redis.quit();
  await aws.close();
  await wipePrefix(config.redis.keyPrefix);
});

describe('permission matrix', () => {
  it('routes the finding to its owner channel under the rule that names its owner', () => {
    expect(state).toMatchObject({
      routeChannel: OWNER_CHANNEL,
      routeRule: 'platform',
      resourceArn: CI_DEPLOYER,
    });
  });

  const cases = ENTRY_POINTS.flatMap((entry) =>
    (Object.keys(PEOPLE) as Role[]).map((role) => ({ entry, role })),
  );

  it.each(cases)(
    '$entry.name by the $role',
    async ({ entry, role }) => {
      const user = PEOPLE[role];
      const allowed = allowedTo(role, entry.action);
      // A form or a command has no message: its place is only the channel it names.
      const places = (Object.keys(PLACES) as Place[]).filter(
        (p) => entry.from === 'message' || !PLACES[p].digest,
      );
      for (const place of places) {
        await settle();
        const before = {
          redis: await redisSnapshot(),
          jobs: await jobCount(),
          aws: aws.requests.length,
          audit: (await newestAudit())?.id,
          responses: responses.length,
          ephemerals: slack.byMethod('chat.postEphemeral').length,
          opened: slack.byMethod('views.open').length,
        };
        const res = await receiver.post(entry.body(user, place));
        expect(res.status, `${place}: HTTP status`).toBe(200);

        // The answer the person sees: an ephemeral reply (response_url, or chat.postEphemeral after a form).
        const answers = () => [
          ...responses.slice(before.responses).map((r) => String(r.body.text)),
          ...slack
            .byMethod('chat.postEphemeral')
            .slice(before.ephemerals)
            .map((c) => String(c.args.text)),
        ];
        if (allowed) {
          await expect
            .poll(
              async () =>
                slack.byMethod('views.open').length > before.opened || (await jobCount()) > before.jobs,
              { timeout: 5000, interval: 25 },
            )
            .toBe(true);
          expect(
            answers().filter((a) => /^Only .* can |^Nobody can |knows no finding/.test(a)),
            place,
          ).toEqual([]);
          continue;
        }
        await expect.poll(() => answers().length, { timeout: 5000, interval: 25 }).toBeGreaterThan(0);
        expect(answers().join('\n'), place).toMatch(/^Only admins[^.]* can [^.]+\.$/m);
        // The refusal is answered first, then audited.
        await expect.poll(async () => (await newestAudit())?.id !== before.audit).toBe(true);
        expect(await newestAudit(), place).toMatchObject({
          actor: user,
          outcome: 'refused',
          findingId: FINDING,
        });
        expect(slack.byMethod('views.open').length, `${place}: no modal`).toBe(before.opened);
        expect(await jobCount(), `${place}: no job`).toBe(before.jobs);
        await settle();
        expect(aws.requests.slice(before.aws), `${place}: no AWS call`).toEqual([]);
        expect(await redisSnapshot(), `${place}: Redis unchanged`).toEqual(before.redis);
      }
    },
    60_000,
  );
});

describe('a finding the bot does not know', () => {
  it('is refused with the reason, and the refusal is audited', async () => {
    await settle();
    const body = blockActionBody({
      actionId: ACTION_IDS.archive,
      value: encodeFindingRef({ f: 'f-forged-0001', a: DEMO_ANALYZERS.usUnused, r: 'us-east-1' }),
      user: { id: PEOPLE.admin },
      channel: { id: OWNER_CHANNEL, name: 'team-platform' },
    });
    await receiver.post(body);

    await expect.poll(() => responses.length).toBe(1);
    expect(String(responses[0]!.body.text)).toBe(
      'Nothing was done: access-patrol knows no finding f-forged-0001',
    );
    expect(slack.byMethod('views.open')).toHaveLength(0);
    await expect.poll(async () => (await newestAudit())?.findingId).toBe('f-forged-0001');
    expect(await newestAudit()).toMatchObject({
      actor: PEOPLE.admin,
      action: 'archive',
      outcome: 'refused',
      findingId: 'f-forged-0001',
      detail: 'finding unknown to the bot',
    });
  });
});

describe('an action whose message Slack no longer takes', () => {
  it("archives from the default channel's digest when the bot left the owner channel, and audits what AWS did", async () => {
    await settle();
    slack.failChannel(OWNER_CHANNEL, 'not_in_channel');
    const member = PEOPLE['owner-channel member'];
    await receiver.post(
      viewSubmissionBody({
        callbackId: ARCHIVE_MODAL.callbackId,
        privateMetadata: JSON.stringify({
          f: OTHER_ROLE_FINDING,
          a: DEMO_ANALYZERS.usUnused,
          r: 'us-east-1',
          c: DEFAULT_CHANNEL,
        }),
        values: {
          [ARCHIVE_MODAL.reasonBlock]: {
            [ARCHIVE_MODAL.reasonAction]: text('migration role, kept on purpose'),
          },
        },
        user: { id: member },
        viewId: 'V0DIGESTARC',
      }),
    );
    await expect
      .poll(async () => (await rt.deps.audit.query({ findingId: OTHER_ROLE_FINDING, last: 1 }))[0]?.outcome, {
        timeout: 20_000,
        interval: 50,
      })
      .toBe('succeeded');

    const [entry] = await rt.deps.audit.query({ findingId: OTHER_ROLE_FINDING, last: 1 });
    expect(entry).toMatchObject({
      actor: member,
      action: 'archive',
      detail: 'migration role, kept on purpose; not shown in Slack: not_in_channel',
    });
    expect(entry?.error).toBeUndefined();
    expect(aws.data.findings.get(OTHER_ROLE_FINDING)?.status, 'the finding is archived in AWS').toBe(
      'ARCHIVED',
    );
    expect((await rt.deps.store.get(OTHER_ROLE_FINDING))?.status).toBe('ARCHIVED');
    // The person is told where it stands, in the channel they acted from.
    const told = slack.byMethod('chat.postEphemeral').map((c) => [c.args.channel, String(c.args.text)]);
    expect(told).toContainEqual([
      DEFAULT_CHANNEL,
      'Done in AWS (archive); not shown in Slack: not_in_channel',
    ]);
  });
});

describe("reading other teams' findings", () => {
  const ask = async (user: string, text: string) => {
    const n = responses.length;
    await receiver.post(slashCommandBody({ text, user_id: user, channel_id: DEFAULT_CHANNEL }));
    await expect.poll(() => responses.length).toBe(n + 1);
    return responses[n]!.body;
  };

  it('shows a finding to its owners and admins, and refuses and audits anyone else', async () => {
    const owner = await ask(PEOPLE['owner-channel member'], `show ${FINDING}`);
    expect(String(owner.text)).toBe(`Finding ${FINDING}: UnusedIAMRole ${state.status}`);
    expect(String((await ask(PEOPLE.admin, `show ${FINDING}`)).text)).toMatch(/^Finding /);

    const other = await ask(PEOPLE['other-channel member'], `show ${FINDING}`);
    expect(String(other.text)).toMatch(/^Only admins[^.]* can see this finding\.$/);
    expect(JSON.stringify(other.blocks)).not.toContain('ci-deployer');
    await expect.poll(async () => (await newestAudit())?.action).toBe('read');
    expect(await newestAudit()).toMatchObject({
      actor: PEOPLE['other-channel member'],
      action: 'read',
      outcome: 'refused',
      findingId: FINDING,
    });
  });

  it('lists only the findings someone owns, and everything to an admin', async () => {
    const listed = async (user: string) => {
      const pages: unknown[] = [];
      for (const status of ['active', 'archived'])
        for (const type of ['UnusedIAMRole', 'ExternalAccess --account 222222222222'])
          pages.push((await ask(user, `findings --type ${type} --status ${status}`)).blocks);
      return JSON.stringify(pages);
    };
    const owner = await listed(PEOPLE['owner-channel member']);
    expect(owner).toContain(FINDING);
    expect(owner).not.toContain(DATA_FINDING);
    expect(owner).toContain('yours only');
    const other = await listed(PEOPLE['other-channel member']);
    expect(other).not.toContain(FINDING);
    expect(other).not.toContain(DATA_FINDING);
    const admin = await listed(PEOPLE.admin);
    expect(admin).toContain(FINDING);
    expect(admin).toContain(DATA_FINDING);
    expect(admin).not.toContain('yours only');
  });

  it("shows someone the audit entries of their findings and their own requests, not another team's", async () => {
    await rt.deps.audit.record({
      actor: PEOPLE.admin,
      action: 'archive',
      outcome: 'succeeded',
      findingId: DATA_FINDING,
      detail: 'secret vendor deal',
    });
    const owner = JSON.stringify(await ask(PEOPLE['owner-channel member'], 'audit --last 200'));
    expect(owner).toContain(FINDING);
    expect(owner).not.toContain('secret vendor deal');
    expect(owner).toContain('only entries about your findings and your own requests');
    const other = JSON.stringify(await ask(PEOPLE['other-channel member'], 'audit --last 200'));
    // Their own refused requests (about FINDING) are theirs to read; others' entries about it are not.
    expect(other).toContain(`<@${PEOPLE['other-channel member']}>`);
    expect(other).not.toContain(`<@${PEOPLE['owner-channel member']}>`);
    expect(other).not.toContain('secret vendor deal');
    expect(JSON.stringify(await ask(PEOPLE.admin, 'audit --last 200'))).toContain('secret vendor deal');
  });
});
