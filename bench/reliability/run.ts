// `npm run reliability -- <scenario> [--findings N] [--seed S]`: the bot under faults, on loopback,
// bounded in time and count, printing what it counted. Not a test (exit code 1 only when a figure
// misses its goal or the run itself fails). docs/reliability.md has the method and the figures.
//   kill9    `kill -9` of a worker process at random points (20 times) during listing and delivery
//   sigterm  SIGTERM during an analyzer listing and during a delivery, within the grace
//   faults   Slack 5xx before and after acting, dropped connections, 429 storms; AWS 30% throttled
//            and 5% 500s: every finding once, every change shown in order
// Workers are `start --role worker` processes run from source (tsx); the AWS and Slack sandboxes
// and the bookkeeping run in this process. Redis: REDIS_URL, or one started on a free port.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { Job } from 'bullmq';
import pino from 'pino';
import { type AwsSandbox, startAwsSandbox } from '../../sandbox/aws.ts';
import { BULK_MEMBER_ROLE, bulkChannelNames, bulkData } from '../../sandbox/fixtures/bulk.ts';
import { ensureRedis, wipePrefix } from '../../sandbox/redis.ts';
import { type SandboxMessage, type SlackSandbox, startSlackSandbox } from '../../sandbox/slack.ts';
import type { SandboxData } from '../../sandbox/types.ts';
import { configSchema } from '../../src/config/schema.ts';
import { enqueue, JOBS } from '../../src/queue/index.ts';
import { createRuntime, type Runtime } from '../../src/runtime.ts';

const { values: args, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    findings: { type: 'string', default: '200' },
    seed: { type: 'string', default: '1' },
    kills: { type: 'string', default: '20' },
    'grace-ms': { type: 'string', default: '30000' },
  },
});
const scenario = positionals[0] ?? '';
const FINDINGS = Number(args.findings);
const SEED = Number(args.seed);
const CLI = fileURLToPath(new URL('../../src/cli.ts', import.meta.url));
const TSX = new URL('../../node_modules/tsx/dist/loader.mjs', import.meta.url).href;
const out = (line = '') => process.stdout.write(`${line}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A small seeded generator, so a run can be repeated. */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const rand = seeded(SEED);

interface World {
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

async function world(opts: {
  postIntervalMs: number;
  graceMs?: number;
  awsRate?: number;
  slackFaults?: Parameters<typeof startSlackSandbox>[0];
  awsFaults?: Parameters<typeof startAwsSandbox>[0]['randomFaults'];
  pageSize?: number;
}): Promise<World> {
  const redis = await ensureRedis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
  const data = bulkData({ findings: FINDINGS, regions: 2, accounts: 4, channels: 3, seed: SEED });
  const aws = await startAwsSandbox({
    data,
    ...(opts.awsRate ? { rateLimit: { perSecond: opts.awsRate } } : {}),
    ...(opts.awsFaults ? { randomFaults: opts.awsFaults } : {}),
  });
  const slack = await startSlackSandbox({
    channels: [...bulkChannelNames(3), '#sec-alerts', '#access-patrol-admin'],
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
    },
    organization: { memberRoleName: BULK_MEMBER_ROLE.name, externalId: BULK_MEMBER_ROLE.externalId },
    tags: { useResourceGroupsTaggingApi: true },
    routing: [{ name: 'channel tag', match: { tag: { key: 'access-patrol-channel' } } }],
    redis: { keyPrefix: prefix },
    workers: { stalledIntervalMs: 5000 },
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

interface WorkerProc {
  child: ChildProcess;
  exited: Promise<number | null>;
  output: () => string;
}

function startWorker(w: World): WorkerProc {
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

async function until(what: string, fn: () => Promise<boolean> | boolean, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (!(await fn())) {
    if (Date.now() > end) throw new Error(`timed out after ${ms / 1000} s waiting for ${what}`);
    await sleep(100);
  }
}

/** Nothing waiting, running or delayed (other than the schedulers' next runs) in the scan and deliver queues. */
async function drained(rt: Runtime): Promise<boolean> {
  for (const q of [rt.queues.scan, rt.queues.deliver]) {
    const c = await q.getJobCounts('waiting', 'active', 'prioritized', 'waiting-children');
    if (Object.values(c).some((n) => n > 0)) return false;
    const delayed = (await q.getJobs(['delayed'])) as Job[];
    if (delayed.some((j) => !j.repeatJobKey)) return false;
  }
  return true;
}

async function failedJobs(rt: Runtime): Promise<number> {
  let n = 0;
  for (const q of [rt.queues.scan, rt.queues.deliver]) n += (await q.getJobCounts('failed')).failed ?? 0;
  return n;
}

/** Finalized scans so far (each scan ends with one scan-finalize job). */
async function finalized(rt: Runtime): Promise<number> {
  return ((await rt.queues.scan.getJobs(['completed'])) as Job[]).filter((j) => j.name === JOBS.scanFinalize)
    .length;
}

/** Waits until `n` scans have finalized and every delivery is done. */
async function scansDone(w: World, n: number, what: string, ms: number): Promise<void> {
  await until(what, async () => (await finalized(w.rt)) >= n && (await drained(w.rt)), ms);
}

// The first scan of every scenario is the one the workers' scheduler runs when they start (a scan
// enqueued beside it would overlap it; two overlapping first scans race for the same new findings).
function scanNow(w: World, tag: string): Promise<unknown> {
  return enqueue(w.rt.queues, JOBS.scanRun, { requestId: `rel-${tag}-${Date.now().toString(36)}` });
}

/** AWS changes between two scans: a third of the active findings resolved, a tenth updated. */
function changeAws(w: World): { resolved: Set<string>; updated: Set<string> } {
  const resolved = new Set<string>();
  const updated = new Set<string>();
  const at = new Date().toISOString();
  for (const f of w.data.findings.all()) {
    if (f.status !== 'ACTIVE') continue;
    const r = rand();
    if (r < 0.33) {
      w.data.findings.update(f.id, { status: 'RESOLVED', updatedAt: at });
      resolved.add(f.id);
    } else if (r < 0.43) {
      w.data.findings.update(f.id, { updatedAt: at });
      updated.add(f.id);
    }
  }
  return { resolved, updated };
}

interface Tally {
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
async function tally(w: World, everActive: Set<string>, resolved: Set<string>): Promise<Tally> {
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
        const replies = w.slack.threadReplies(sm.channel, sm.ts).length;
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

function printTally(label: string, t: Tally): void {
  out(`${label}:`);
  out(`  cards in Slack            ${t.cards}`);
  out(`  lost cards                ${t.lost}`);
  out(`  duplicate cards           ${t.duplicateCards}`);
  out(`  duplicate thread replies  ${t.duplicateReplies}`);
  out(
    `  summaries                 ${t.summaries} (duplicates ${t.duplicateSummaries}, miscounted ${t.summaryMiscounts})`,
  );
  out(`  resolved but shown active ${t.stale}`);
  out(`  jobs failed for good      ${t.failedJobs}`);
}

const bad = (t: Tally) =>
  t.lost +
    t.duplicateCards +
    t.duplicateReplies +
    t.duplicateSummaries +
    t.summaryMiscounts +
    t.stale +
    t.failedJobs >
  0;

function activeIds(w: World): Set<string> {
  return new Set([...w.data.findings.all()].filter((f) => f.status === 'ACTIVE').map((f) => f.id));
}

// ---------------------------------------------------------------- kill -9

async function kill9(): Promise<boolean> {
  const KILLS = Number(args.kills);
  const w = await world({ postIntervalMs: 150, awsRate: 40, pageSize: 25 });
  const t0 = Date.now();
  try {
    const everActive = activeIds(w);
    out(
      `kill9: ${FINDINGS} findings (${everActive.size} active), ${w.data.regions.length} regions, ${KILLS} kills, seed ${SEED}`,
    );
    const workers = [startWorker(w), startWorker(w)];
    const phases: string[] = [];
    let kills = 0;
    let resolved = new Set<string>();
    // Phase 1: the first scan (listing, posting, bursts); phase 2: resolutions and updates.
    for (const phase of ['first scan', 'rescan after changes']) {
      if (phase !== 'first scan') {
        resolved = changeAws(w).resolved;
        for (const id of activeIds(w)) everActive.add(id);
      }
      if (phase !== 'first scan') await scanNow(w, 'rescan');
      const target = phase === 'first scan' ? Math.ceil(KILLS * 0.6) : KILLS;
      const kinds = new Map<string, number>();
      while (kills < target) {
        const phaseDone = async () =>
          (await finalized(w.rt)) >= (phase === 'first scan' ? 1 : 2) && (await drained(w.rt));
        const runningJobs = async () => [
          ...((await w.rt.queues.scan.getJobs(['active'])) as Job[]),
          ...((await w.rt.queues.deliver.getJobs(['active'])) as Job[]),
        ];
        // Kill while jobs run: wait for one (a restarted worker takes seconds to start), then a
        // random 0.2-2.2 s into it.
        await until(
          'a running job',
          async () => (await runningJobs()).length > 0 || (await phaseDone()),
          120_000,
        );
        await sleep(200 + rand() * 2000);
        if (await phaseDone()) break;
        const running = await runningJobs();
        const i = Math.floor(rand() * workers.length);
        workers[i]!.child.kill('SIGKILL');
        await workers[i]!.exited;
        kills++;
        for (const j of running) kinds.set(j.name, (kinds.get(j.name) ?? 0) + 1);
        workers[i] = startWorker(w);
      }
      await scansDone(w, phase === 'first scan' ? 1 : 2, `${phase} to finish`, 10 * 60_000);
      phases.push(
        `${phase}: kills so far ${kills}; jobs running at the kills: ${[...kinds].map(([k, n]) => `${k} ${n}`).join(', ') || 'none'}`,
      );
    }
    for (const p of phases) out(`  ${p}`);
    const t = await tally(w, everActive, resolved);
    printTally(`after ${kills} kills, ${((Date.now() - t0) / 1000).toFixed(0)} s`, t);
    for (const wp of workers) wp.child.kill('SIGTERM');
    await Promise.all(workers.map((wp) => wp.exited));
    return !bad(t);
  } finally {
    await w.stop();
  }
}

// ---------------------------------------------------------------- SIGTERM

async function sigterm(): Promise<boolean> {
  const GRACE = Number(args['grace-ms']);
  let ok = true;
  // Delivery paced at 1 post/s (Slack's rate) and listings throttled to 2 requests/s, so both run
  // for longer than the grace and have to be handed back.
  const w = await world({ postIntervalMs: 1000, awsRate: 2, pageSize: 10, graceMs: GRACE });
  try {
    const everActive = activeIds(w);
    out(`sigterm: ${FINDINGS} findings (${everActive.size} active), grace ${GRACE / 1000} s, seed ${SEED}`);
    for (const kind of [JOBS.scanAnalyzer, JOBS.deliverChannel] as const) {
      const wp = startWorker(w);
      const queue = kind === JOBS.deliverChannel ? w.rt.queues.deliver : w.rt.queues.scan;
      await until(
        `a running ${kind}`,
        async () => ((await queue.getJobs(['active'])) as Job[]).some((j) => j.name === kind),
        5 * 60_000,
      );
      await sleep(2000);
      const t0 = Date.now();
      wp.child.kill('SIGTERM');
      const code = await wp.exited;
      const ms = Date.now() - t0;
      const handedBack = (wp.output().match(/job handed back to the queue at shutdown/g) ?? []).length;
      const leftRunning = /still running at the end of the shutdown grace/.test(wp.output());
      out(
        `  SIGTERM during ${kind}: exit code ${code} after ${(ms / 1000).toFixed(1)} s; jobs handed back ${handedBack}${leftRunning ? ', some left to the stalled check' : ''}`,
      );
      if (code !== 0 || ms > GRACE) ok = false;
    }
    // Another worker finishes what was handed back.
    const wp = startWorker(w);
    const t1 = Date.now();
    await scansDone(w, 1, 'the scan to finish', 15 * 60_000);
    out(`  another worker finished the rest in ${((Date.now() - t1) / 1000).toFixed(0)} s`);
    wp.child.kill('SIGTERM');
    await wp.exited;
    const t = await tally(w, everActive, new Set());
    printTally('after the SIGTERMs', t);
    return ok && !bad(t);
  } finally {
    await w.stop();
  }
}

// ---------------------------------------------------------------- Slack and AWS faults

async function faults(): Promise<boolean> {
  const posts = ['chat.postMessage'];
  const writes = ['chat.postMessage', 'chat.update'];
  const w = await world({
    postIntervalMs: 0,
    slackFaults: {
      faults: {
        seed: SEED,
        rules: [
          { methods: writes, fraction: 0.1, when: 'after', answer: 500 },
          { methods: posts, fraction: 0.05, when: 'after', answer: 'drop' },
          { methods: writes, fraction: 0.1, when: 'before', answer: 503 },
          {
            methods: [...writes, 'conversations.history', 'conversations.replies'],
            fraction: 0.1,
            answer: 429,
          },
        ],
      },
    },
    awsFaults: { seed: SEED, throttled: 0.3, internalError: 0.05 },
  });
  try {
    const everActive = activeIds(w);
    out(`faults: ${FINDINGS} findings (${everActive.size} active), seed ${SEED}`);
    out('  Slack: chat.postMessage/chat.update 10% 500 after acting, 10% 503 before; posts 5% dropped after');
    out('         acting; 10% 429 (Retry-After 1) on writes and history reads. AWS: 30% throttled, 5% 500.');
    const wp = startWorker(w);
    const t0 = Date.now();
    await scansDone(w, 1, 'the first scan', 15 * 60_000);
    const first = (Date.now() - t0) / 1000;
    const { resolved, updated } = changeAws(w);
    for (const id of activeIds(w)) everActive.add(id);
    const t1 = Date.now();
    await scanNow(w, 'faults2');
    await scansDone(w, 2, 'the rescan', 15 * 60_000);
    const second = (Date.now() - t1) / 1000;
    const f = w.slack.faulted;
    const count = (pred: (x: (typeof f)[number]) => boolean) => f.filter(pred).length;
    out(
      `  first scan ${first.toFixed(0)} s, rescan (${resolved.size} resolved, ${updated.size} updated) ${second.toFixed(0)} s`,
    );
    out(
      `  Slack faults: ${count((x) => x.when === 'after')} after acting (${count((x) => x.answer === 'drop')} dropped), ${count((x) => x.when === 'before' && x.answer !== 429)} 5xx before, ${count((x) => x.answer === 429)} 429s`,
    );
    const aa = w.aws.requests.filter((r) => r.service === 'access-analyzer');
    out(
      `  AWS: ${aa.length} Access Analyzer requests, ${aa.filter((r) => r.status === 429).length} throttled, ${aa.filter((r) => r.status === 500).length} 500s`,
    );
    // Every change shown in order: an updated card was redrawn and its last drawing is its newest state.
    let outOfOrder = 0;
    for (const m of w.slack.messages) {
      const states = [...m.history.map((h) => h.text), m.text].map((t) => (/Resolved/.test(t) ? 'R' : 'A'));
      if (states.join('').includes('RA')) outOfOrder++;
    }
    out(`  cards whose drawings went back from Resolved to Active: ${outOfOrder}`);
    const t = await tally(w, everActive, resolved);
    printTally('after both scans', t);
    wp.child.kill('SIGTERM');
    await wp.exited;
    return outOfOrder === 0 && !bad(t);
  } finally {
    await w.stop();
  }
}

const SCENARIOS: Record<string, () => Promise<boolean>> = { kill9, sigterm, faults };
const run = SCENARIOS[scenario];
if (!run) {
  process.stderr.write(
    `usage: npm run reliability -- <${Object.keys(SCENARIOS).join('|')}> [--findings N] [--seed S]\n`,
  );
  process.exit(2);
}
const ok = await run();
out(ok ? 'goal met' : 'GOAL MISSED');
process.exit(ok ? 0 : 1);
