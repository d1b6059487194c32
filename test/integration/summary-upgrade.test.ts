// A burst summary the previous version posted, whose answer it lost (or that it crashed before
// recording), is retried by this version: the summary carries the previous version's key
// (`summary-<scanId>`, the same in every channel), not this one's (`summary-<scanId>-<channel hash>`).
// The retry adopts it instead of posting a second summary. Real Redis and BullMQ, the AWS and Slack
// sandboxes over HTTP; the Slack stand-in stores the summary under the old key and loses the answer.
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { type AwsSandbox, startAwsSandbox } from '../../sandbox/aws.ts';
import { BULK_MEMBER_ROLE, bulkChannelNames, bulkData } from '../../sandbox/fixtures/bulk.ts';
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
  rt = aws = slack = undefined;
});

const summaryId = (m: SandboxMessage) => String(m.metadata?.event_payload.finding_id ?? '');
const isSummary = (m: SandboxMessage) => summaryId(m).startsWith('summary-');

/** This version's key less its channel hash: the key the previous version gave every summary. */
const previousKey = (key: string) => key.replace(/-[0-9a-f]{12}$/, '');

/** Stores a top-level summary post under the previous version's key; true when it did. */
function underPreviousKey(body: Record<string, unknown>): boolean {
  const meta = body.metadata as { event_payload?: { finding_id?: unknown } } | undefined;
  const key = meta?.event_payload?.finding_id;
  if (body.thread_ts || typeof key !== 'string' || !key.startsWith('summary-')) return false;
  meta!.event_payload!.finding_id = previousKey(key);
  return true;
}

/**
 * Every summary is posted as the previous version posted it (under its key), and the first one
 * posted in `channel` (any when absent) has its answer lost: what a summary posted just before the
 * upgrade leaves for the retry.
 */
const postedByPreviousVersion = (channel?: string): SlackFaultRule[] => [
  {
    fraction: 1,
    times: 1,
    when: 'after',
    answer: 500,
    match: (body) => (channel === undefined || body.channel === channel) && underPreviousKey(body),
  },
  // Never picked: it only rewrites the other summaries' keys.
  {
    fraction: 1,
    match: (body) => {
      underPreviousKey(body);
      return false;
    },
  },
];

async function start(opts: { channels: number; faults: SlackFaultRule[]; defaultChannel?: string }) {
  const data = bulkData({
    findings: 40,
    regions: 1,
    accounts: 2,
    channels: opts.channels,
    archivedRatio: 0,
    resolvedRatio: 0,
  });
  aws = await startAwsSandbox({ data });
  const sl = await startSlackSandbox({
    channels: [...bulkChannelNames(opts.channels), '#sec-alerts', '#access-patrol-admin'],
    faults: { seed: 5, rules: opts.faults },
  });
  slack = sl;
  prefix = uniquePrefix('sumup');
  const config = configSchema.parse({
    regions: data.regions,
    slack: {
      defaultChannel: opts.defaultChannel ?? '#sec-alerts',
      adminChannel: '#access-patrol-admin',
      postIntervalMs: 0,
      burstThreshold: 5,
    },
    organization: { memberRoleName: BULK_MEMBER_ROLE.name, externalId: BULK_MEMBER_ROLE.externalId },
    tags: { useResourceGroupsTaggingApi: true },
    routing: [{ name: 'channel tag', match: { tag: { key: 'access-patrol-channel' } } }],
    redis: { keyPrefix: prefix },
    scan: { retryDelayMs: 200 },
  });
  rt = createRuntime({
    env: { redisUrl: REDIS_URL, slackBotToken: 'xoxb-summary-upgrade', slackApiUrl: sl.apiUrl },
    config,
    logger: pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' }),
    aws: {
      credentials: { accessKeyId: 'AKIASANDBOXSUMUP0001', secretAccessKey: 'sandbox' },
      endpoints: { accessAnalyzer: aws.url, iam: aws.url, sts: aws.url, tagging: aws.url },
      maxAttempts: 3,
    },
    // The lost answer fails the delivery job; its retry (this version) finds the pending summary.
    slackRetries: 0,
  });
  rt.startWorkers();
  return { slack: sl, rt };
}

describe('a summary pending when the bot was upgraded', () => {
  it('is adopted by the retry under its old key, not posted again, and its thread gets the cards', async () => {
    const { slack, rt } = await start({ channels: 1, faults: postedByPreviousVersion() });

    const report = await rt.scanNow({ timeoutMs: 60_000 });

    expect(slack.faulted.filter((f) => f.ts)).toHaveLength(1);
    const summaries = slack.messages.filter(isSummary);
    expect(summaries).toHaveLength(1);
    const [old] = summaries;
    expect(summaryId(old!)).toBe(`summary-${report.run.scanId}`);
    const [delivery] = report.deliveries.filter((d) => d.channel.startsWith('#team-'));
    expect(delivery?.summary?.ts).toBe(old!.ts);
    const thread = slack.threadReplies(old!.channel, old!.ts);
    expect(thread.length).toBe(delivery!.posted);
    expect(thread.length).toBeGreaterThan(5);
    expect(old!.text).toMatch(new RegExp(`^${thread.length} new access findings`));
  }, 90_000);

  it('does not adopt another channel’s old summary that landed in the same channel', async () => {
    // Both team channels are gone: both summaries fall back to the default channel, under the one
    // key the previous version gave both. The first one's answer is lost; the second is recorded.
    const defaultId = fakeChannelId('#sec-alerts');
    const { slack, rt } = await start({
      channels: 2,
      defaultChannel: defaultId,
      faults: postedByPreviousVersion(defaultId),
    });
    slack.failChannel('#team-0', 'not_in_channel');
    slack.failChannel('#team-1', 'not_in_channel');

    const report = await rt.scanNow({ timeoutMs: 60_000 });

    expect(slack.faulted.filter((f) => f.ts)).toHaveLength(1);
    const teams = report.deliveries.filter((d) => d.channel.startsWith('#team-'));
    expect(teams).toHaveLength(2);
    const summaries = slack.messages.filter(isSummary);
    expect(summaries.map((m) => m.channel)).toEqual([defaultId, defaultId]);
    // Each delivery kept a summary of its own, and each thread holds that channel's cards.
    expect(new Set(teams.map((d) => d.summary?.ts)).size).toBe(2);
    expect(teams.map((d) => d.summary?.ts).sort()).toEqual(summaries.map((s) => s.ts).sort());
    for (const d of teams) {
      const thread = slack.threadReplies(d.summary!.channel, d.summary!.ts);
      expect(thread.length).toBe(d.posted);
      for (const m of thread) {
        const s = await rt.deps.store.get(String(m.metadata?.event_payload.finding_id));
        expect(s?.routeChannel).toBe(d.channel);
      }
    }
  }, 90_000);
});
