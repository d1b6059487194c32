// What the reliability scenarios (run.ts) and the kill -9 test share: a world of sandboxes, Redis
// and a bookkeeping runtime; `start --role worker` processes run from source; waiting for the
// queues to drain; and the tally of what Slack holds against what AWS has.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Job } from 'bullmq';
import { Redis } from 'ioredis';
import pino from 'pino';
import { type AwsSandbox, startAwsSandbox } from '../../sandbox/aws.ts';
import { BULK_MEMBER_ROLE, bulkChannelNames, bulkData } from '../../sandbox/fixtures/bulk.ts';
import { ensureRedis, wipePrefix } from '../../sandbox/redis.ts';
import { type SandboxMessage, type SlackSandbox, startSlackSandbox } from '../../sandbox/slack.ts';
import type { SandboxData } from '../../sandbox/types.ts';
import { configSchema } from '../../src/config/schema.ts';
import { JOBS } from '../../src/queue/index.ts';
import { createRuntime, type Runtime } from '../../src/runtime.ts';

const CLI = fileURLToPath(new URL('../../src/cli.ts', import.meta.url));
const TSX = new URL('../../node_modules/tsx/dist/loader.mjs', import.meta.url).href;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface World {
  data: SandboxData;
  aws: AwsSandbox;
  slack: SlackSandbox;
  redisUrl: string;
  settings: Record<string, unknown>;
  configPath: string;
  /** The bookkeeping runtime: queues and Redis, no workers unless started. */
  rt: Runtime;
  prefix: string;
  stop(): Promise<void>;
}

export async function world(opts: {
  findings: number;
  seed: number;
  postIntervalMs: number;
  /** `workers` settings (lock, stalled check) for the worker processes. */
  workers?: Record<string, unknown>;
  /** bulkData options besides the size and seed. */
  bulk?: Partial<Parameters<typeof bulkData>[0]>;
  /** `slack` settings besides the channels and the pace. */
  slackSettings?: Record<string, unknown>;
  /** A Redis of the caller's (kept running at stop); default REDIS_URL, or one started here. */
  redisUrl?: string;
  graceMs?: number;
  awsRate?: number;
  slackFaults?: Parameters<typeof startSlackSandbox>[0];
  awsFaults?: Parameters<typeof startAwsSandbox>[0]['randomFaults'];
  pageSize?: number;
}): Promise<World> {
  const redis = opts.redisUrl
    ? { url: opts.redisUrl, stop: async () => {} }
    : await ensureRedis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
  const bulk = {
    regions: 2,
    accounts: 4,
    channels: 3,
    ...opts.bulk,
    findings: opts.findings,
    seed: opts.seed,
  };
  const data = bulkData(bulk);
  const aws = await startAwsSandbox({
    data,
    ...(opts.awsRate ? { rateLimit: { perSecond: opts.awsRate } } : {}),
    ...(opts.awsFaults ? { randomFaults: opts.awsFaults } : {}),
  });
  const slack = await startSlackSandbox({
    channels: [...bulkChannelNames(bulk.channels), '#sec-alerts', '#access-patrol-admin'],
    ...(opts.slackFaults ?? {}),
  });
  const prefix = `rel${Date.now().toString(36)}:`;
  const settings = {
    regions: data.regions,
    scan: { intervalMinutes: 1440, ...(opts.pageSize ? { pageSize: opts.pageSize } : {}) },
    slack: {
      defaultChannel: '#sec-alerts',
      adminChannel: '#access-patrol-admin',
      postIntervalMs: opts.postIntervalMs,
      ...opts.slackSettings,
    },
    organization: { memberRoleName: BULK_MEMBER_ROLE.name, externalId: BULK_MEMBER_ROLE.externalId },
    tags: { useResourceGroupsTaggingApi: true },
    routing: [{ name: 'channel tag', match: { tag: { key: 'access-patrol-channel' } } }],
    redis: { keyPrefix: prefix },
    workers: { stalledIntervalMs: 5000, ...opts.workers },
    shutdown: { graceMs: opts.graceMs ?? 20_000 },
  };
  const dir = await mkdtemp(join(tmpdir(), 'ap-rel-'));
  const configPath = join(dir, 'access-patrol.yml');
  await writeFile(configPath, JSON.stringify(settings));
  const rt = createRuntime({
    env: { redisUrl: redis.url, slackBotToken: 'xoxb-reliability', slackApiUrl: slack.apiUrl },
    config: configSchema.parse(settings),
    logger: pino({ level: 'silent' }),
    aws: {
      credentials: { accessKeyId: 'AKIASANDBOXRELY0001', secretAccessKey: 'sandbox' },
      endpoints: { accessAnalyzer: aws.url, iam: aws.url, sts: aws.url, tagging: aws.url },
      maxAttempts: 3,
    },
  });
  return {
    data,
    aws,
    slack,
    redisUrl: redis.url,
    settings,
    configPath,
    rt,
    prefix,
    async stop() {
      await rt.close();
      await aws.close();
      await slack.close();
      await wipePrefix(redis.url, prefix);
      await redis.stop();
    },
  };
}

export interface WorkerProc {
  child: ChildProcess;
  exited: Promise<number | null>;
  output: () => string;
}

export function startWorker(w: World): WorkerProc {
  let output = '';
  const child = spawn(process.execPath, ['--import', TSX, CLI, 'start', '--role', 'worker'], {
    cwd: join(w.configPath, '..'),
    env: {
      PATH: process.env.PATH,
      SLACK_BOT_TOKEN: 'xoxb-reliability',
      SLACK_API_URL: w.slack.apiUrl,
      REDIS_URL: w.redisUrl,
      ACCESS_PATROL_CONFIG: w.configPath,
      PORT: '0',
      LOG_LEVEL: 'info',
      AWS_ACCESS_KEY_ID: 'AKIASANDBOXRELY0001',
      AWS_SECRET_ACCESS_KEY: 'sandbox',
      AWS_REGION: w.data.regions[0],
      AWS_ENDPOINT_URL_ACCESSANALYZER: w.aws.url,
      AWS_ENDPOINT_URL_IAM: w.aws.url,
      AWS_ENDPOINT_URL_STS: w.aws.url,
      AWS_ENDPOINT_URL_RESOURCE_GROUPS_TAGGING_API: w.aws.url,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout?.on('data', (d) => {
    output = (output + String(d)).slice(-200_000);
  });
  child.stderr?.on('data', (d) => {
    output = (output + String(d)).slice(-200_000);
  });
  return { child, exited: new Promise((r) => child.on('exit', (code) => r(code))), output: () => output };
}

export async function until(what: string, fn: () => Promise<boolean> | boolean, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (!(await fn())) {
    if (Date.now() > end) throw new Error(`timed out after ${ms / 1000} s waiting for ${what}`);
    await sleep(100);
  }
}

/** Nothing waiting, running or delayed (other than the schedulers' next runs) in the scan and deliver queues. */
export async function drained(rt: Runtime): Promise<boolean> {
  for (const q of [rt.queues.scan, rt.queues.deliver]) {
    const c = await q.getJobCounts('waiting', 'active', 'prioritized', 'waiting-children');
    if (Object.values(c).some((n) => n > 0)) return false;
    const delayed = (await q.getJobs(['delayed'])) as Job[];
    if (delayed.some((j) => !j.repeatJobKey)) return false;
  }
  return true;
}

export async function failedJobs(rt: Runtime): Promise<number> {
  let n = 0;
  for (const q of [rt.queues.scan, rt.queues.deliver]) n += (await q.getJobCounts('failed')).failed ?? 0;
  return n;
}

/** Finalized scans so far (each scan ends with one scan-finalize job). */
export async function finalized(rt: Runtime): Promise<number> {
  return ((await rt.queues.scan.getJobs(['completed'])) as Job[]).filter((j) => j.name === JOBS.scanFinalize)
    .length;
}

/** Waits until `n` scans have finalized and every delivery is done. */
export async function scansDone(w: World, n: number, what: string, ms: number): Promise<void> {
  await until(what, async () => (await finalized(w.rt)) >= n && (await drained(w.rt)), ms);
}

export interface Tally {
  cards: number;
  lost: number;
  duplicateCards: number;
  duplicateReplies: number;
  summaries: number;
  duplicateSummaries: number;
  summaryMiscounts: number;
  stale: number;
  failedJobs: number;
}

/** What Slack holds against what AWS has: every finding ever active once, closed ones shown closed. */
export async function tally(w: World, everActive: Set<string>, resolved: Set<string>): Promise<Tally> {
  const byKey = new Map<string, SandboxMessage[]>();
  for (const m of w.slack.messages) {
    const p = m.metadata?.event_payload;
    const id =
      typeof p?.finding_id === 'string'
        ? p.finding_id
        : typeof p?.once_key === 'string'
          ? `once-${p.once_key}`
          : undefined;
    // A scan's summaries share their key across channels: one per channel.
    const key = id?.startsWith('summary-') ? `${id}@${m.channel}` : id;
    if (key) byKey.set(key, [...(byKey.get(key) ?? []), m]);
  }
  const t: Tally = {
    cards: 0,
    lost: 0,
    duplicateCards: 0,
    duplicateReplies: 0,
    summaries: 0,
    duplicateSummaries: 0,
    summaryMiscounts: 0,
    stale: 0,
    failedJobs: await failedJobs(w.rt),
  };
  for (const [key, ms] of byKey) {
    if (key.startsWith('summary-')) {
      t.summaries++;
      if (ms.length > 1) t.duplicateSummaries += ms.length - 1;
      for (const sm of ms) {
        // The cards in its thread (a receipt for a card in the thread is a reply there too).
        const replies = w.slack
          .threadReplies(sm.channel, sm.ts)
          .filter((r) => typeof r.metadata?.event_payload.finding_id === 'string').length;
        if (!new RegExp(`^${replies} new access finding`).test(sm.text)) t.summaryMiscounts++;
      }
    } else if (key.startsWith('once-')) {
      if (ms.length > 1) t.duplicateReplies += ms.length - 1;
    } else {
      t.cards++;
      if (ms.length > 1) t.duplicateCards += ms.length - 1;
    }
  }
  const { redis, keys } = w.rt.deps;
  for (const id of everActive) {
    let card = id;
    if (!byKey.has(id)) {
      // Joined another card (same natural key): that card must exist.
      const joined = await redis.hgetall(keys.member(id));
      const other = Object.values(joined).find((v) => byKey.has(v));
      if (!other) {
        t.lost++;
        continue;
      }
      card = other;
    }
    const m = byKey.get(card)![0]!;
    if (resolved.has(id) && card === id && !/Resolved/.test(m.text)) t.stale++;
  }
  return t;
}

export const bad = (t: Tally) =>
  t.lost +
    t.duplicateCards +
    t.duplicateReplies +
    t.duplicateSummaries +
    t.summaryMiscounts +
    t.stale +
    t.failedJobs >
  0;

export function activeIds(w: World): Set<string> {
  return new Set([...w.data.findings.all()].filter((f) => f.status === 'ACTIVE').map((f) => f.id));
}

/**
 * A redis-server of its own on a free port, with the append-only file on (`appendfsync everysec`,
 * the common production setting) in a directory of its own, that can be stopped gracefully
 * (SIGTERM: Redis writes and syncs the AOF, then exits) or killed (`kill -9`: the last second of
 * writes may be lost) and started again on the same port and data.
 */
export async function persistentRedis(): Promise<{
  url: string;
  restart(how: 'graceful' | 'kill9', downMs: number): Promise<void>;
  stop(): Promise<void>;
}> {
  const dir = await mkdtemp(join(tmpdir(), 'ap-redis-'));
  const port = await new Promise<number>((resolve, reject) => {
    const srv = createServer();
    srv.listen(0, '127.0.0.1', () => {
      const p = (srv.address() as { port: number }).port;
      srv.close(() => resolve(p));
    });
    srv.on('error', reject);
  });
  const url = `redis://127.0.0.1:${port}`;
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', ''];
  args.push('--appendonly', 'yes', '--appendfsync', 'everysec');
  let child: ChildProcess;
  const start = async () => {
    child = spawn('redis-server', args, { stdio: 'ignore' });
    const probe = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    probe.on('error', () => undefined);
    try {
      for (let i = 0; i < 100; i++) {
        try {
          await probe.connect();
          // Loading the AOF answers LOADING until it is done.
          if ((await probe.ping()) === 'PONG') return;
        } catch {
          probe.disconnect();
        }
        await sleep(100);
      }
      throw new Error(`redis-server on port ${port} did not start`);
    } finally {
      probe.disconnect();
    }
  };
  const stopChild = async (signal: NodeJS.Signals) => {
    const exited = new Promise((r) => child.once('exit', r));
    child.kill(signal);
    await exited;
  };
  await start();
  return {
    url,
    async restart(how, downMs) {
      await stopChild(how === 'graceful' ? 'SIGTERM' : 'SIGKILL');
      await sleep(downMs);
      await start();
    },
    stop: () => stopChild('SIGTERM'),
  };
}
