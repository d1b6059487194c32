// The digest and the App Home through the real Bolt receiver: signed HTTP requests for `/access digest`
// and `app_home_opened`, real Redis state on a fixed clock, Slack's Web API and response_url behind nock.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runDigest } from '../../jobs/digest.ts';
import type { AppConfig } from '../../src/config/schema.ts';
import type { Runtime } from '../../src/runtime.ts';
import type { FindingState } from '../../src/store/findings.ts';
import { makeFindingState } from '../factories/finding.ts';
import { type FakeSlack, fakeSlack } from '../helpers/fake-slack.ts';
import { testConfig, testRuntime, wipePrefix } from '../helpers/runtime.ts';
import { slashCommandBody, TEST_APP_ID, TEST_TEAM } from '../helpers/slack-requests.ts';
import { type Receiver, recordResponseBodies, startReceiver } from '../helpers/triage.ts';

const SECRET = 'digest-signing-secret';
const PAY = 'C0PAY0001';
const OPS = 'C0OPS0001';
const NOW = new Date('2030-05-20T07:00:00Z');
/**
 * How long a reply (response_url, views.publish) may take to arrive after the receiver answered: the
 * listener reads Redis and renders after its ack, which on a loaded machine takes seconds, not
 * expect.poll's default second. Two waits in one test stay within the 30 s test timeout.
 */
const REPLY = { timeout: 12_000, interval: 50 };

let config: AppConfig;
let slack: FakeSlack;
let rt: Runtime;
let receiver: Receiver;
let responses: Record<string, unknown>[];

function state(over: Partial<FindingState>): Partial<FindingState> {
  return makeFindingState({
    updatedAt: '2030-05-01T10:00:00.000Z',
    routeChannel: PAY,
    channel: PAY,
    createdAt: '2030-05-18T10:00:00.000Z',
    firstSeen: '2030-05-18T10:05:00.000Z',
    ts: '1800000000.000100',
    ...over,
  });
}

beforeEach(async () => {
  config = testConfig({
    slack: {
      defaultChannel: 'C0DEFAULT',
      adminChannel: 'C0ADMIN',
      postIntervalMs: 0,
      workspaceUrl: 'https://acme.slack.com',
    },
  });
  slack = fakeSlack();
  slack.users['dana@example.com'] = { id: 'U0DANA', channels: [{ id: PAY, name: 'payments' }] };
  slack.users['erin@example.com'] = { id: 'U0ERIN', channels: [] };
  responses = recordResponseBodies();
  rt = testRuntime(config, { now: () => NOW });
  const { store } = rt.deps;
  await store.set('fresh', state({}));
  await store.set(
    'overdue',
    state({
      createdAt: '2030-04-01T10:00:00.000Z',
      firstSeen: '2030-04-01T10:00:00.000Z',
      severity: 'medium',
      ts: '1800000000.000200',
    }),
  );
  await store.set(
    'critical',
    state({ severity: 'critical', createdAt: '2030-05-19T10:00:00.000Z', ts: '1800000000.000300' }),
  );
  await store.set(
    'ops-erin',
    state({
      routeChannel: OPS,
      channel: OPS,
      resourceArn: 'arn:aws:iam::222222222222:role/erin-<b>tool</b>',
      ts: '1800000000.000400',
      ownerEmail: 'Erin@example.com',
    }),
  );
  await store.set('ops-closed', state({ routeChannel: OPS, channel: OPS, status: 'RESOLVED' }));
  receiver = await startReceiver(rt, { secret: SECRET });
});

afterEach(async () => {
  await receiver.stop();
  await rt.close();
  await wipePrefix(config.redis.keyPrefix);
});

describe('/access digest', () => {
  it('shows the channel’s digest to the person only, and records nothing', async () => {
    const res = await receiver.post(slashCommandBody({ text: 'digest', channel_id: PAY }));
    expect(res.status).toBe(200);
    await expect.poll(() => responses.length, REPLY).toBe(1);
    expect(responses[0]).toMatchObject({
      response_type: 'ephemeral',
      text: 'Weekly access digest for this channel: 3 open (1 overdue), 2 new, 0 resolved, 0 archived',
    });
    expect(JSON.stringify(responses[0]!.blocks)).toContain('"action_id":"finding_archive"');
    expect(slack.byMethod('chat.postMessage')).toEqual([]);
    expect(await rt.deps.redis.keys(`${config.redis.keyPrefix}digest*`)).toEqual([]);
    // The weekly run still sends it.
    await runDigest(rt.deps);
    expect(slack.posted.filter((p) => p.channel === PAY)).toHaveLength(1);
  });

  it('answers with the all-clear in a channel that owns nothing', async () => {
    await receiver.post(slashCommandBody({ text: 'digest', channel_id: 'C0EMPTY01' }));
    await expect.poll(() => responses.length, REPLY).toBe(1);
    expect(responses[0]!.text).toBe(
      'All clear for this channel (2030-05-13 to 2030-05-19): nothing open, nothing new.',
    );
  });
});

describe('/access digest in a DM', () => {
  it('shows the person the digest of the resources tagged with their e-mail', async () => {
    await receiver.post(slashCommandBody({ text: 'digest', channel_id: 'D0ERIN001', user_id: 'U0ERIN' }));
    await expect.poll(() => responses.length, REPLY).toBe(1);
    expect(responses[0]).toMatchObject({
      response_type: 'ephemeral',
      text: 'Weekly access digest for your resources: 1 open (0 overdue), 1 new, 0 resolved, 0 archived',
    });
    expect(JSON.stringify(responses[0]!.blocks)).toContain('Weekly access digest: your resources');
    expect(slack.byMethod('chat.postMessage')).toEqual([]);
  });

  it('says there is nothing to report when no resource carries their e-mail', async () => {
    await receiver.post(slashCommandBody({ text: 'digest', channel_id: 'D0DANA001', user_id: 'U0DANA' }));
    await expect.poll(() => responses.length, REPLY).toBe(1);
    expect(responses[0]!.text).toBe('Nothing to report on your resources this week');
  });
});

function homeOpened(user: string, tab = 'home'): string {
  return JSON.stringify({
    token: 'legacy-verification-token',
    team_id: TEST_TEAM.id,
    api_app_id: TEST_APP_ID,
    type: 'event_callback',
    event_id: `Ev${Math.random().toString(36).slice(2, 10).toUpperCase()}`,
    event_time: Math.floor(Date.now() / 1000),
    event: {
      type: 'app_home_opened',
      user,
      channel: `D${user.slice(1)}`,
      tab,
      event_ts: `${Date.now() / 1000}`,
    },
  });
}

const post = (body: string) => receiver.post(body, { contentType: 'application/json' });
const homeText = (user: string) => JSON.stringify(slack.homes[user]?.at(-1)?.blocks ?? []);

describe('App Home', () => {
  it('publishes the viewer’s findings from their channels, overdue first, and the last digest', async () => {
    await runDigest(rt.deps);
    const res = await post(homeOpened('U0DANA'));
    expect(res.status).toBe(200);
    await expect.poll(() => slack.homes.U0DANA?.length ?? 0, REPLY).toBe(1);
    const view = slack.homes.U0DANA![0]!;
    expect(view.type).toBe('home');
    expect(view.blocks.length).toBeLessThanOrEqual(100);
    const text = homeText('U0DANA');
    expect(text).toContain(
      '*3 open* (1 overdue) routed to your channels or on resources tagged with your e-mail',
    );
    // Overdue first, then the worst, then the rest; each linking to its message.
    const order = ['p1800000000000200', 'p1800000000000300', 'p1800000000000100'].map((ts) =>
      text.indexOf(ts),
    );
    expect(order.every((i) => i > 0)).toBe(true);
    expect([...order].sort((a, b) => a - b)).toEqual(order);
    expect(text).toContain('⏰ open 49 days, 42 days over its 7-day SLA');
    expect(text).not.toContain('erin');
    expect(text).toContain('*Last digest* (sent 2030-05-20 to <#C0PAY0001>)');
    expect(slack.byMethod('users.info').map((c) => c.args.user)).toEqual(['U0DANA']);
  });

  it('shows resources tagged with the viewer’s e-mail, escaped, even outside their channels', async () => {
    await post(homeOpened('U0ERIN'));
    await expect.poll(() => slack.homes.U0ERIN?.length ?? 0, REPLY).toBe(1);
    const text = homeText('U0ERIN');
    expect(text).toContain('*1 open* (0 overdue)');
    expect(text).toContain('role/erin-&lt;b&gt;tool&lt;/b&gt;');
    expect(text).not.toContain('payments-exports');
    expect(text).toContain('No digest has been sent to your channels yet.');
  });

  it('reads the viewer’s channels once for repeated opens, and ignores the other tabs', async () => {
    await post(homeOpened('U0DANA'));
    await expect.poll(() => slack.homes.U0DANA?.length ?? 0, REPLY).toBe(1);
    await post(homeOpened('U0DANA', 'messages'));
    await post(homeOpened('U0DANA'));
    await expect.poll(() => slack.homes.U0DANA?.length ?? 0, REPLY).toBe(2);
    expect(slack.byMethod('users.conversations')).toHaveLength(1);
    expect(slack.byMethod('views.publish')).toHaveLength(2);
  });
});
