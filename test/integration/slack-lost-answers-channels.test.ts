// Lost answers where two channels' messages can be mistaken for each other, or where the bot only
// knows a channel by its #name: the recovery still adopts the message it posted, not another one.
// Real Redis and BullMQ, the AWS and Slack sandboxes over HTTP, the Slack sandbox's targeted faults.
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { type AwsSandbox, startAwsSandbox } from '../../sandbox/aws.ts';
import { BULK_MEMBER_ROLE, bulkData } from '../../sandbox/fixtures/bulk.ts';
import {
  fakeChannelId,
  type SandboxMessage,
  type SlackFaultRule,
  type SlackSandbox,
  startSlackSandbox,
} from '../../sandbox/slack.ts';
import { configSchema } from '../../src/config/schema.ts';
import { createRuntime, type Runtime } from '../../src/runtime.ts';
import { REDIS_URL, uniquePrefix, wipePrefix } from '../helpers/runtime.ts';

let aws: AwsSandbox | undefined;
let slack: SlackSandbox | undefined;
let rt: Runtime | undefined;
let prefix = '';

afterEach(async () => {
  await rt?.close();
  await aws?.close();
  await slack?.close();
  await wipePrefix(prefix);
  rt = undefined;
});

const DEFAULT = '#sec-alerts';

async function start(opts: {
  findings: number;
  channels: number;
  defaultChannel: string;
  burstThreshold: number;
  faults: SlackFaultRule[];
  slackRetries: number;
  /** The workspace's channels (default: any channel exists). */
  workspaceChannels?: string[];
  routing?: unknown[];
}) {
  const data = bulkData({
    findings: opts.findings,
    regions: 1,
    accounts: 3,
    channels: opts.channels,
    archivedRatio: 0,
    resolvedRatio: 0,
  });
  aws = await startAwsSandbox({ data });
  const sl = await startSlackSandbox({
    faults: { seed: 3, rules: opts.faults },
    ...(opts.workspaceChannels ? { channels: opts.workspaceChannels } : {}),
  });
  slack = sl;
  prefix = uniquePrefix('lostch');
  const config = configSchema.parse({
    regions: data.regions,
    slack: {
      defaultChannel: opts.defaultChannel,
      adminChannel: '#access-patrol-admin',
      postIntervalMs: 0,
      burstThreshold: opts.burstThreshold,
    },
    organization: { memberRoleName: BULK_MEMBER_ROLE.name, externalId: BULK_MEMBER_ROLE.externalId },
    tags: { useResourceGroupsTaggingApi: true },
    routing: opts.routing ?? [{ name: 'channel tag', match: { tag: { key: 'access-patrol-channel' } } }],
    redis: { keyPrefix: prefix },
    scan: { retryDelayMs: 200 },
  });
  rt = createRuntime({
    env: { redisUrl: REDIS_URL, slackBotToken: 'xoxb-lost-channels', slackApiUrl: sl.apiUrl },
    config,
    logger: pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' }),
    aws: {
      credentials: { accessKeyId: 'AKIASANDBOXLOSTCH001', secretAccessKey: 'sandbox' },
      endpoints: { accessAnalyzer: aws.url, iam: aws.url, sts: aws.url, tagging: aws.url },
      maxAttempts: 3,
    },
    slackRetries: opts.slackRetries,
  });
  return { data, slack: sl, rt };
}

function cardsById(messages: SandboxMessage[]): Map<string, SandboxMessage[]> {
  const out = new Map<string, SandboxMessage[]>();
  for (const m of messages) {
    const id = m.metadata?.event_payload.finding_id;
    if (typeof id !== 'string' || id.startsWith('summary-')) continue;
    out.set(id, [...(out.get(id) ?? []), m]);
  }
  return out;
}

const isSummary = (m: SandboxMessage) =>
  String(m.metadata?.event_payload.finding_id ?? '').startsWith('summary-');

describe('a lost answer to a summary after a fallback to the default channel', () => {
  it('is found by the job’s retry in the default channel, not posted again', async () => {
    const defaultId = fakeChannelId(DEFAULT);
    // The summary lands in the default channel and its answer is lost; no retry inside the call,
    // so the delivery job's own retry has to find it.
    const { slack, rt } = await start({
      findings: 30,
      channels: 1,
      defaultChannel: defaultId,
      burstThreshold: 5,
      slackRetries: 0,
      faults: [
        {
          fraction: 1,
          times: 1,
          when: 'after',
          answer: 500,
          match: (b) => b.channel === defaultId && !b.thread_ts,
        },
      ],
    });
    slack.failChannel('#team-0', 'not_in_channel');
    rt.startWorkers();
    const report = await rt.scanNow({ timeoutMs: 60_000 });

    expect(slack.faulted.filter((f) => f.ts)).toHaveLength(1);
    const summaries = slack.messages.filter(isSummary);
    expect(summaries.map((s) => s.channel)).toEqual([defaultId]);
    const [team] = report.deliveries.filter((d) => d.channel === '#team-0');
    expect(team?.summary?.ts).toBe(summaries[0]!.ts);
    expect(slack.threadReplies(defaultId, summaries[0]!.ts).length).toBe(team!.posted);
  }, 90_000);
});

describe('a lost answer to a summary when two channels post into one', () => {
  it('adopts its own summary, not the other channel’s, and each thread holds its own cards', async () => {
    const defaultId = fakeChannelId(DEFAULT);
    // Both summaries posted in the default channel are posted, and their answers lost.
    const { slack, rt } = await start({
      findings: 50,
      channels: 2,
      defaultChannel: defaultId,
      burstThreshold: 5,
      slackRetries: 4,
      faults: [
        {
          fraction: 1,
          times: 2,
          when: 'after',
          answer: 500,
          match: (b) => b.channel === defaultId && !b.thread_ts,
        },
      ],
    });
    // Both team channels are gone: both fall back to the default channel, summaries and all.
    slack.failChannel('#team-0', 'not_in_channel');
    slack.failChannel('#team-1', 'not_in_channel');
    rt.startWorkers();
    const report = await rt.scanNow({ timeoutMs: 60_000 });

    expect(slack.faulted.filter((f) => f.ts)).toHaveLength(2);
    const teams = report.deliveries.filter((d) => d.channel.startsWith('#team-'));
    expect(teams.map((d) => d.fallback?.to)).toEqual([defaultId, defaultId]);
    const summaries = slack.messages.filter(isSummary);
    expect(summaries).toHaveLength(2);
    expect(summaries.every((s) => s.channel === defaultId)).toBe(true);
    // Each delivery kept the summary it posted, the lost one included.
    expect(new Set(teams.map((d) => d.summary?.ts)).size).toBe(2);
    expect(teams.map((d) => d.summary?.ts).sort()).toEqual(summaries.map((s) => s.ts).sort());
    // Each thread holds that channel's cards, and its summary counts them.
    for (const d of teams) {
      const thread = slack.threadReplies(defaultId, d.summary!.ts);
      expect(thread.length).toBe(d.posted);
      expect(thread.length).toBeGreaterThan(5);
      for (const m of thread) {
        const s = await rt.deps.store.get(String(m.metadata?.event_payload.finding_id));
        expect(s?.routeChannel).toBe(d.channel);
      }
      const sm = summaries.find((s) => s.ts === d.summary!.ts)!;
      expect(sm.text).toMatch(new RegExp(`^${thread.length} new access findings`));
    }
    const cards = cardsById(slack.messages);
    expect([...cards.values()].filter((ms) => ms.length !== 1)).toEqual([]);
  }, 90_000);
});

describe('a lost answer to the first post in a channel known only by its #name', () => {
  it('is found again: the bot asked Slack for the channel id before posting', async () => {
    const defaultId = fakeChannelId(DEFAULT);
    const { data, slack, rt } = await start({
      findings: 8,
      channels: 1,
      defaultChannel: DEFAULT,
      burstThreshold: 100,
      routing: [],
      workspaceChannels: ['#general', DEFAULT, '#access-patrol-admin'],
      // The very first card posted is posted, and its answer lost.
      slackRetries: 4,
      faults: [
        {
          fraction: 1,
          times: 1,
          when: 'after',
          answer: 'drop',
          match: (b) => b.channel === defaultId || b.channel === DEFAULT,
        },
      ],
    });
    rt.startWorkers();
    const report = await rt.scanNow({ timeoutMs: 60_000 });

    const lost = slack.faulted.find((f) => f.ts);
    expect(lost).toBeDefined();
    const active = [...data.findings.all()].filter((f) => f.status === 'ACTIVE');
    const cards = cardsById(slack.messages);
    expect(cards.size).toBe(active.length);
    expect([...cards.values()].filter((ms) => ms.length !== 1)).toEqual([]);
    // The card whose answer was lost is the one the bot kept.
    const lostCard = [...cards.entries()].find(([, [m]]) => m!.ts === lost!.ts);
    expect(lostCard).toBeDefined();
    const state = await rt.deps.store.get(lostCard![0]);
    expect(state).toMatchObject({ channel: defaultId, ts: lost!.ts });
    expect(report.deliveries.find((d) => d.channel === DEFAULT)?.posted).toBe(active.length);
    // Slack was asked once for the id, before the first post; the id is kept for next time.
    const methods = slack.calls.map((c) => c.method);
    expect(methods.filter((m) => m === 'conversations.list')).toHaveLength(1);
    expect(methods.indexOf('conversations.list')).toBeLessThan(methods.indexOf('chat.postMessage'));
    expect(
      slack.calls.filter((c) => c.method === 'chat.postMessage').map((c) => c.body.channel),
    ).not.toContain(DEFAULT);
    expect(await rt.deps.channelIds.resolve(DEFAULT)).toBe(defaultId);
  }, 60_000);
});
