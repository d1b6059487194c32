// Two scans that overlap (a scheduler tick and `access-patrol scan`, or two scheduler processes)
// both see the same findings as new. Between them they still post one card per finding, each card
// once in one summary's thread, and no second summary. Two runtimes over one Redis prefix stand for
// two worker processes; real Redis and BullMQ, the AWS and Slack sandboxes over HTTP.
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { type AwsSandbox, startAwsSandbox } from '../../sandbox/aws.ts';
import { BULK_MEMBER_ROLE, bulkChannelNames, bulkData } from '../../sandbox/fixtures/bulk.ts';
import { type SandboxMessage, type SlackSandbox, startSlackSandbox } from '../../sandbox/slack.ts';
import { formatScanReport } from '../../src/cli.ts';
import { configSchema } from '../../src/config/schema.ts';
import { createRuntime, type Runtime } from '../../src/runtime.ts';
import { REDIS_URL, uniquePrefix, wipePrefix } from '../helpers/runtime.ts';

let aws: AwsSandbox | undefined;
let slack: SlackSandbox | undefined;
let runtimes: Runtime[] = [];
let prefix = '';

afterEach(async () => {
  for (const rt of runtimes) await rt.close();
  runtimes = [];
  await aws?.close();
  await slack?.close();
  await wipePrefix(prefix);
});

async function twoProcesses(opts: { findings: number; burstThreshold: number; postIntervalMs: number }) {
  const data = bulkData({
    findings: opts.findings,
    regions: 1,
    accounts: 3,
    channels: 2,
    archivedRatio: 0,
    resolvedRatio: 0,
  });
  aws = await startAwsSandbox({ data });
  const sl = await startSlackSandbox({
    channels: [...bulkChannelNames(2), '#sec-alerts', '#access-patrol-admin'],
  });
  slack = sl;
  prefix = uniquePrefix('overlap');
  const config = configSchema.parse({
    regions: data.regions,
    slack: {
      defaultChannel: '#sec-alerts',
      adminChannel: '#access-patrol-admin',
      postIntervalMs: opts.postIntervalMs,
      burstThreshold: opts.burstThreshold,
    },
    organization: { memberRoleName: BULK_MEMBER_ROLE.name, externalId: BULK_MEMBER_ROLE.externalId },
    tags: { useResourceGroupsTaggingApi: true },
    routing: [{ name: 'channel tag', match: { tag: { key: 'access-patrol-channel' } } }],
    redis: { keyPrefix: prefix },
  });
  const awsUrl = aws.url;
  runtimes = ['a', 'b'].map((name) =>
    createRuntime({
      env: { redisUrl: REDIS_URL, slackBotToken: `xoxb-overlap-${name}`, slackApiUrl: sl.apiUrl },
      config,
      logger: pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' }),
      aws: {
        credentials: { accessKeyId: 'AKIASANDBOXOVERLAP01', secretAccessKey: 'sandbox' },
        endpoints: { accessAnalyzer: awsUrl, iam: awsUrl, sts: awsUrl, tagging: awsUrl },
        maxAttempts: 3,
      },
      slackRetries: 4,
    }),
  );
  for (const rt of runtimes) rt.startWorkers();
  return { data, slack: sl, runtimes };
}

/** Two scans started at once, one from each process: each call is its own scan (scan-now.test.ts). */
async function bothScans(a: Runtime, b: Runtime, timeoutMs: number) {
  const reports = await Promise.all([a.scanNow({ timeoutMs }), b.scanNow({ timeoutMs })]);
  expect(reports[0].run.scanId).not.toBe(reports[1].run.scanId);
  return reports;
}

/** The bot's finding cards in Slack, by the finding id in their metadata. */
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

describe('two scans that overlap', () => {
  it('post one card per finding, each once in one summary thread, and one summary per channel', async () => {
    const { data, slack, runtimes } = await twoProcesses({
      findings: 60,
      burstThreshold: 10,
      postIntervalMs: 40,
    });
    const [a, b] = runtimes as [Runtime, Runtime];
    // Both start before either has delivered anything.
    const [ra, rb] = await bothScans(a, b, 120_000);
    // Both scans saw the findings as new: the overlap happened.
    const newIn = (r: typeof ra) => r.finalize.analyzers.reduce((n, x) => n + x.new, 0);
    expect(newIn(ra)).toBeGreaterThan(20);
    expect(newIn(rb)).toBeGreaterThan(20);

    const active = [...data.findings.all()].filter((f) => f.status === 'ACTIVE');
    const cards = cardsById(slack.messages);
    const doubled = [...cards.entries()].filter(([, ms]) => ms.length !== 1).map(([id]) => id);
    expect(doubled).toEqual([]);
    // Every ACTIVE finding has a card, or joined the card of its natural key.
    const listed = await a.deps.store.getMany(active.map((f) => f.id));
    const lost = active.filter((f, i) => !cards.has(listed[i]?.cardId ?? f.id)).map((f) => f.id);
    expect(lost).toEqual([]);
    expect(cards.size).toBeGreaterThan(40);
    for (const [id, [m]] of cards) {
      const s = await a.deps.store.get(id);
      expect(s?.ts).toBe(m!.ts);
    }

    // One summary per channel that had a burst, and each card once in one thread.
    const summaries = slack.messages.filter(isSummary);
    const channels = new Set([...cards.values()].map(([m]) => m!.channel));
    expect(summaries.length).toBe(channels.size);
    expect(new Set(summaries.map((s) => s.channel)).size).toBe(summaries.length);
    let replies = 0;
    for (const sm of summaries) {
      const thread = slack.threadReplies(sm.channel, sm.ts);
      const ids = thread.map((m) => m.metadata?.event_payload.finding_id);
      expect(new Set(ids).size).toBe(ids.length);
      expect(sm.text).toMatch(new RegExp(`^${thread.length} new access findings`));
      replies += thread.length;
    }
    expect(replies).toBe(cards.size);
    // Between them the two scans posted each card once; the later one found them posted.
    const posted = [...ra.deliveries, ...rb.deliveries].reduce((n, d) => n + d.posted, 0);
    expect(posted).toBe(cards.size);
    expect(slack.messages.length).toBe(cards.size + summaries.length);
  }, 180_000);

  it('post each card once when the channel gets cards without a summary', async () => {
    const { slack, runtimes } = await twoProcesses({ findings: 24, burstThreshold: 100, postIntervalMs: 60 });
    const [a, b] = runtimes as [Runtime, Runtime];
    const [ra, rb] = await bothScans(a, b, 60_000);
    const newIn = (r: typeof ra) => r.finalize.analyzers.reduce((n, x) => n + x.new, 0);
    expect(newIn(ra)).toBeGreaterThan(8);
    expect(newIn(rb)).toBeGreaterThan(8);
    const cards = cardsById(slack.messages);
    expect(cards.size).toBeGreaterThan(8);
    expect([...cards.entries()].filter(([, ms]) => ms.length !== 1).map(([id]) => id)).toEqual([]);
    expect(slack.messages.filter(isSummary)).toEqual([]);
    const posted = [...ra.deliveries, ...rb.deliveries].reduce((n, d) => n + d.posted, 0);
    expect(posted).toBe(cards.size);
  }, 120_000);

  it('make the later delivery to a channel wait for the earlier one, and the scan says so', async () => {
    const { slack, runtimes } = await twoProcesses({ findings: 24, burstThreshold: 100, postIntervalMs: 0 });
    const [a, b] = runtimes as [Runtime, Runtime];
    // The first card posted anywhere stops before its ts is saved, until the second scan waits.
    let open: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => {
      open = resolve;
    });
    let stopped: string | undefined;
    let stoppedAt: () => void = () => undefined;
    const reached = new Promise<void>((resolve) => {
      stoppedAt = resolve;
    });
    for (const rt of runtimes)
      rt.deps.afterPostHook = async (id) => {
        if (stopped) return;
        stopped = id;
        stoppedAt();
        await gate;
      };
    const first = a.scanNow({ timeoutMs: 60_000 });
    await reached;
    const second = b.scanNow({ timeoutMs: 60_000 });
    // The second scan's delivery finds the channel held and waits in the delayed set.
    const waiting = async () => {
      for (let i = 0; i < 300; i++) {
        const delayed = await b.deps.queues.deliver.getJobs(['delayed']);
        const w = delayed.find((j) => (j.progress as { waitingSince?: number }).waitingSince);
        if (w) return w;
        await new Promise((r) => setTimeout(r, 100));
      }
      throw new Error('no delivery waited');
    };
    const waiter = await waiting();
    open();
    const [ra, rb] = await Promise.all([first, second]);

    const cards = cardsById(slack.messages);
    expect([...cards.entries()].filter(([, ms]) => ms.length !== 1).map(([id]) => id)).toEqual([]);
    const stoppedCard = await a.deps.store.get(stopped!);
    expect(stoppedCard?.ts).toBe(cards.get(stopped!)?.[0]?.ts);
    const waited = rb.deliveries.find((d) => d.channel === waiter.data.channel);
    expect(waited?.waited?.scanId).toBe(ra.run.scanId);
    expect(waited?.posted).toBe(0);
    expect(formatScanReport(rb)).toContain(`${waiter.data.channel}: posted 0, updated 0, closed 0, waited `);
    expect(formatScanReport(rb)).toMatch(
      new RegExp(`waited \\d+\\.\\d s for scan ${ra.run.scanId} to finish delivering here`),
    );
    expect([...ra.deliveries, ...rb.deliveries].reduce((n, d) => n + d.posted, 0)).toBe(cards.size);
  }, 120_000);
});
