// `npm run bench [-- --findings N --regions R]`: a first scan and a steady-state rescan of a large
// synthetic organisation (sandbox/fixtures/bulk.ts), printing wall time, peak memory, AWS requests
// against the minimum, Slack calls and Redis bytes per finding. Prints figures; it is not a test
// (exit code 0 even when a target is missed, 1 only when the benchmark itself fails).
//
// Three processes: this one (orchestration, sandbox counts, Redis walks), the AWS and Slack sandboxes
// (bench/sandbox-child.ts) and the bot (bench/bot-child.ts), so the RSS and heap reported are the
// bot's own: the runtime, its workers, SDK clients and Redis connections, loaded through tsx as
// bin/access-patrol.js does.
// Slack is not paced (slack.postIntervalMs 0, no sandbox rate limit): see the paced estimate printed.
// See docs/performance.md for the method and the measured figures.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import type { DeliverResult } from '../jobs/deliver.ts';
import { ensureRedis } from '../sandbox/redis.ts';
import { type AppConfig, configSchema } from '../src/config/schema.ts';
import { bullPrefix, QUEUES } from '../src/queue/index.ts';
import { SCAN_SCRATCH_TTL_SECONDS } from '../src/store/keys.ts';
import type { AnalyzerScanResult } from '../src/store/scans.ts';
import type { BotInit, BotProbe, BotScan } from './bot-child.ts';
import { runClicks } from './clicks.ts';
import type { CpuWindow } from './cpu-track.ts';
import { PRODUCTION_ENV, PRODUCTION_NODE_FLAGS } from './node-flags.ts';
import { BOT_DIRS, exportRevision } from './revision.ts';
import type { ChildStats, Expected } from './sandbox-child.ts';

const MB = 1024 * 1024;
const TARGETS = {
  rssBytes: 300 * MB,
  compiledRssBytes: 200 * MB,
  redisBytesPerFinding: 1024,
  roundTripsPerFinding: 10,
};
/** Slack allows about one message per second per channel; the bot's default pause is 1100 ms. */
const PACED_PER_SECOND = 1;
const DEFAULT_POST_INTERVAL_MS = 1100;

const { values: args } = parseArgs({
  options: {
    findings: { type: 'string', default: '100000' },
    regions: { type: 'string', default: '10' },
    'log-level': { type: 'string', default: 'error' },
    /** Write a heap snapshot of the bot when its heapUsed first passes this many MB (investigation). */
    'heap-snapshot-mb': { type: 'string' },
    /** Write a heap snapshot of the bot after the first scan and a forced GC: what it retains (investigation). */
    'heap-snapshot-after': { type: 'boolean', default: false },
    /** Run the bot with --cpu-prof, writing .cpuprofile files into this directory (investigation). */
    'cpu-prof-dir': { type: 'string' },
    /** Run the bot with --max-old-space-size=N (investigation: does a heap cap bound the peak RSS?). */
    'bot-max-old-space-mb': { type: 'string' },
    /** More node/V8 flags for the bot, space-separated (investigation: GC settings that are not a heap cap). */
    'bot-node-flags': { type: 'string' },
    /**
     * Run the bot as production does: compiled JavaScript with plain node (no tsx loader), built
     * with the project's build options into dist/bench-build before the run.
     */
    compiled: { type: 'boolean', default: false },
    /** Stop after the first scan (investigation). */
    'first-only': { type: 'boolean', default: false },
    /** Access Analyzer answers 429 ThrottlingException above this many requests per second per region (0: unlimited). */
    'aws-rate-limit': { type: 'string', default: '0' },
    /** Bucket size of that limit (requests at once); default the rate. */
    'aws-burst': { type: 'string' },
    /** Clicks and commands instead of scans (bench/clicks.ts): signed Slack requests to the web role. */
    clicks: { type: 'boolean', default: false },
    /** With --clicks: how many requests, at what rate per second, and how many for the forced walk. */
    requests: { type: 'string', default: '1000' },
    rate: { type: 'string', default: '50' },
    'walk-requests': { type: 'string', default: '150' },
    /** Team channels the findings are routed to (default 8). */
    channels: { type: 'string', default: '8' },
    /** slack.postIntervalMs of the bot (default 0: not paced). */
    'post-interval-ms': { type: 'string', default: '0' },
    /** The Slack sandbox answers 429 above this many writes per second per channel (0: no limit). */
    'slack-rate-limit': { type: 'string', default: '0' },
    /** The Slack sandbox answers every call after this many milliseconds. */
    'slack-latency-ms': { type: 'string', default: '0' },
    /** Deliver the first scan again with this many worker processes and compare with one (0: skip). */
    horizontal: { type: 'string', default: '0' },
    /** workers.deliverConcurrency of every bot process (default: the config's default, 8). */
    'deliver-concurrency': { type: 'string' },
    /** After the steady-state rescans, this many more, printing Redis memory after each (job removal). */
    'repeat-scans': { type: 'string', default: '0' },
    /**
     * Side by side: first scans of this git revision's bot (exported next to the working tree,
     * bench/revision.ts) and of the working tree's, alternating, and CPU per finding of each.
     */
    against: { type: 'string' },
    /** With --against: first scans of each side (default 2). */
    rounds: { type: 'string', default: '2' },
  },
});
const FINDINGS = Number(args.findings);
const REGIONS = Number(args.regions);
if (!Number.isInteger(FINDINGS) || FINDINGS < 1) throw new Error('--findings must be a positive integer');
if (!Number.isInteger(REGIONS) || REGIONS < 1 || REGIONS > 16) throw new Error('--regions must be 1..16');
const CHANNELS = Number(args.channels);
const POST_INTERVAL_MS = Number(args['post-interval-ms']);
const HORIZONTAL = Number(args.horizontal);
const REPEAT_SCANS = Number(args['repeat-scans']);
const ROUNDS = Number(args.rounds);
if (!Number.isInteger(ROUNDS) || ROUNDS < 1) throw new Error('--rounds must be an integer >= 1');
if (args.against !== undefined && !args.against.trim())
  throw new Error('--against needs a git revision (a commit hash, a branch, main~3…)');
if (!Number.isInteger(REPEAT_SCANS) || REPEAT_SCANS < 0)
  throw new Error('--repeat-scans must be an integer >= 0');
const AWS_RATE = Number(args['aws-rate-limit']);
const AWS_BURST = args['aws-burst'] === undefined ? undefined : Number(args['aws-burst']);
if (!Number.isFinite(AWS_RATE) || AWS_RATE < 0) throw new Error('--aws-rate-limit must be a number >= 0');
if (AWS_BURST !== undefined && !(AWS_BURST >= 1)) throw new Error('--aws-burst must be a number >= 1');

const out = (line = '') => process.stdout.write(`${line}\n`);
const mb = (b: number) => `${(b / MB).toFixed(1)} MB`;
const secs = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
const pf = (ok: boolean) => (ok ? 'PASS' : 'FAIL');
const pad = (s: string | number, n: number) => String(s).padEnd(n);
const rpad = (s: string | number, n: number) => String(s).padStart(n);

// ---------------------------------------------------------------- the sandbox child

interface Sandbox {
  child: ChildProcess;
  awsUrl: string;
  slackApiUrl: string;
  expected: Expected;
  stats(): Promise<ChildStats>;
  /** The sandbox process's CPU between two instants (and its event-loop delay since the last probe). */
  probe(from: number, to: number): Promise<CpuWindow>;
}

async function startSandboxChild(): Promise<Sandbox> {
  const script = fileURLToPath(new URL('./sandbox-child.ts', import.meta.url));
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      script,
      '--findings',
      String(FINDINGS),
      '--regions',
      String(REGIONS),
      '--aws-rate-limit',
      String(AWS_RATE),
      ...(AWS_BURST === undefined ? [] : ['--aws-burst', String(AWS_BURST)]),
      '--channels',
      String(CHANNELS),
      '--slack-rate-limit',
      String(args['slack-rate-limit']),
      '--slack-latency-ms',
      String(args['slack-latency-ms']),
    ],
    { stdio: ['ignore', 'pipe', 'inherit', 'ipc'] },
  );
  const first = await new Promise<string>((resolve, reject) => {
    const rl = createInterface({ input: child.stdout! });
    rl.once('line', (line) => resolve(line));
    child.once('exit', (code) => reject(new Error(`sandbox child exited with code ${code}`)));
  });
  const ready = JSON.parse(first) as { awsUrl: string; slackApiUrl: string; expected: Expected };
  let nextId = 0;
  const stats = () =>
    new Promise<ChildStats>((resolve) => {
      const id = ++nextId;
      const onMessage = (msg: { type?: string; id?: number; stats?: ChildStats }) => {
        if (msg?.type !== 'stats' || msg.id !== id) return;
        child.off('message', onMessage);
        resolve(msg.stats!);
      };
      child.on('message', onMessage);
      child.send({ type: 'stats', id });
    });
  const probe = (from: number, to: number) =>
    new Promise<CpuWindow>((resolve) => {
      const id = ++nextId;
      const onMessage = (msg: { type?: string; id?: number; probe?: CpuWindow }) => {
        if (msg?.type !== 'probed' || msg.id !== id) return;
        child.off('message', onMessage);
        resolve(msg.probe!);
      };
      child.on('message', onMessage);
      child.send({ type: 'probe', id, from, to });
    });
  return { child, ...ready, stats, probe };
}

function diff(a: Record<string, number>, b: Record<string, number>): Record<string, number> {
  const d: Record<string, number> = {};
  for (const k of new Set([...Object.keys(a), ...Object.keys(b)])) {
    const v = (b[k] ?? 0) - (a[k] ?? 0);
    if (v !== 0) d[k] = v;
  }
  return d;
}

// ---------------------------------------------------------------- Redis measurement

interface RedisUsage {
  byCategory: Record<string, { keys: number; bytes: number }>;
  findingKeys: number;
  sampleMean: number;
  sampleSize: number;
  activeSetBytes: number;
  activeMembers: number;
  outboxKeys: number;
  outboxLength: number;
  scratchTtl: number | undefined;
  /** OBJECT ENCODING of the sampled finding hashes (listpack is the compact one). */
  encodings: Record<string, number>;
  /** Hash fields whose value is longer than hash-max-listpack-value in the sample, with how often. */
  longFields: string[];
  /** Per hash field in the sample: how many hashes have it and the mean bytes of its name and value. */
  fields: { field: string; count: number; meanBytes: number }[];
  listpackValue: number | string;
}

/** The natural-key buckets (natural key -> card id), counted in the bytes per finding. */
const NATURAL_KEYS = 'natural keys (nks:*)';

function categoryOf(prefix: string, key: string): string {
  const rest = key.slice(prefix.length);
  if (rest.startsWith('finding:') && rest.endsWith(':long')) return 'finding long values (side hashes)';
  if (rest.startsWith('finding:')) return 'finding hashes';
  if (rest === 'analyzers') return 'analyzer ids';
  if (/^analyzer:[^:]+:active$/.test(rest)) return 'analyzer active sets';
  if (/^analyzer:[^:]+:seen:/.test(rest)) return 'analyzer seen sets (scratch)';
  if (rest.startsWith('outbox:')) return 'outbox lists';
  if (rest.startsWith('scan:')) return 'scan scratch (burst stats/worst, summary, channels)';
  if (rest.startsWith('bull:')) return 'BullMQ jobs and queues';
  if (rest.startsWith('idx:')) return 'finding indexes (idx:*)';
  if (rest.startsWith('nks:')) return NATURAL_KEYS;
  return 'other (notices, channel ids, last-scan)';
}

async function measureRedis(r: Redis, prefix: string): Promise<RedisUsage> {
  const allKeys: string[] = [];
  let cursor = '0';
  do {
    const [next, batch] = await r.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 5000);
    cursor = next;
    allKeys.push(...batch);
  } while (cursor !== '0');
  const usage = new Map<string, number>();
  for (let i = 0; i < allKeys.length; i += 2000) {
    const pipe = r.pipeline();
    const chunk = allKeys.slice(i, i + 2000);
    for (const k of chunk) pipe.call('MEMORY', 'USAGE', k, 'SAMPLES', '0');
    const res = (await pipe.exec()) ?? [];
    for (const [j, k] of chunk.entries()) usage.set(k, Number(res[j]?.[1] ?? 0));
  }
  const byCategory: RedisUsage['byCategory'] = {};
  for (const [k, bytes] of usage) {
    const cat = categoryOf(prefix, k);
    const c = byCategory[cat] ?? { keys: 0, bytes: 0 };
    byCategory[cat] = c;
    c.keys++;
    c.bytes += bytes;
  }
  const findingKeys = allKeys.filter((k) => k.startsWith(`${prefix}finding:`) && !k.endsWith(':long'));
  // A random sample of 1000 finding hashes (partial Fisher-Yates).
  const sample = [...findingKeys];
  const n = Math.min(1000, sample.length);
  for (let i = 0; i < n; i++) {
    const j = i + Math.floor(Math.random() * (sample.length - i));
    [sample[i], sample[j]] = [sample[j]!, sample[i]!];
  }
  const sampleBytes = sample.slice(0, n).reduce((s, k) => s + (usage.get(k) ?? 0), 0);
  const activeKeys = allKeys.filter((k) => /^analyzer:[^:]+:active$/.test(k.slice(prefix.length)));
  let activeMembers = 0;
  for (const k of activeKeys) activeMembers += await r.scard(k);
  const outboxKeys = allKeys.filter((k) => k.startsWith(`${prefix}outbox:`));
  let outboxLength = 0;
  for (const k of outboxKeys) outboxLength += await r.llen(k);
  const scratch = allKeys.find((k) => k.startsWith(`${prefix}scan:`));
  let listpackValue: number | string = '?';
  try {
    const cfg = (await r.config('GET', 'hash-max-listpack-value')) as string[];
    listpackValue = Number(cfg[1] ?? Number.NaN);
  } catch {
    // CONFIG may be disabled (managed Redis)
  }
  const limit = typeof listpackValue === 'number' && Number.isFinite(listpackValue) ? listpackValue : 64;
  const encodings: Record<string, number> = {};
  const long = new Map<string, number>();
  const fields = new Map<string, { count: number; bytes: number }>();
  const pipe = r.pipeline();
  for (const k of sample.slice(0, n)) pipe.object('ENCODING', k).hgetall(k);
  const res = (await pipe.exec()) ?? [];
  for (let i = 0; i < res.length; i += 2) {
    const enc = String(res[i]?.[1]);
    encodings[enc] = (encodings[enc] ?? 0) + 1;
    for (const [f, v] of Object.entries((res[i + 1]?.[1] ?? {}) as Record<string, string>)) {
      if (Buffer.byteLength(v) > limit) long.set(f, (long.get(f) ?? 0) + 1);
      const c = fields.get(f) ?? { count: 0, bytes: 0 };
      c.count++;
      c.bytes += Buffer.byteLength(f) + Buffer.byteLength(v);
      fields.set(f, c);
    }
  }
  return {
    encodings,
    longFields: [...long].map(([f, c]) => `${f} (${c}/${n})`),
    fields: [...fields]
      .map(([field, c]) => ({ field, count: c.count, meanBytes: c.bytes / c.count }))
      .sort((a, b) => b.meanBytes * b.count - a.meanBytes * a.count),
    listpackValue,
    byCategory,
    findingKeys: findingKeys.length,
    sampleMean: n ? sampleBytes / n : 0,
    sampleSize: n,
    activeSetBytes: activeKeys.reduce((s, k) => s + (usage.get(k) ?? 0), 0),
    activeMembers,
    outboxKeys: outboxKeys.length,
    outboxLength,
    scratchTtl: scratch ? await r.ttl(scratch) : undefined,
  };
}

async function redisInfo(r: Redis): Promise<{ usedMemory: number; cpu: number; commands: number }> {
  const mem = await r.info('memory');
  const cpu = await r.info('cpu');
  const stats = await r.info('stats');
  const num = (text: string, field: string) => Number(new RegExp(`^${field}:([\\d.]+)`, 'm').exec(text)?.[1]);
  return {
    usedMemory: num(mem, 'used_memory'),
    cpu: num(cpu, 'used_cpu_user') + num(cpu, 'used_cpu_sys'),
    commands: num(stats, 'total_commands_processed'),
  };
}

/** Keys and bytes (MEMORY USAGE) under a prefix. */
async function prefixBytes(r: Redis, prefix: string): Promise<{ keys: number; bytes: number }> {
  let keys = 0;
  let bytes = 0;
  let cursor = '0';
  do {
    const [next, batch] = await r.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 5000);
    cursor = next;
    if (!batch.length) continue;
    const pipe = r.pipeline();
    for (const k of batch) pipe.call('MEMORY', 'USAGE', k, 'SAMPLES', '0');
    for (const [, v] of (await pipe.exec()) ?? []) bytes += Number(v ?? 0);
    keys += batch.length;
  } while (cursor !== '0');
  return { keys, bytes };
}

async function wipe(r: Redis, prefix: string): Promise<void> {
  let cursor = '0';
  do {
    const [next, batch] = await r.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 5000);
    cursor = next;
    if (batch.length) await r.del(...batch);
  } while (cursor !== '0');
}

// ---------------------------------------------------------------- the bot child

/** The working tree this benchmark runs from. */
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const compiledChildren = new Map<string, string>();
/**
 * The bot child compiled as `npm run build` compiles the bot (tsconfig.build.json: its options,
 * rewritten relative imports), into `<tree>/dist/bench-build/` so node finds node_modules. `tree` is
 * the working tree, or an exported revision (bench/revision.ts), compiled with the same options.
 */
function compiledBotChild(tree = ROOT): string {
  const done = compiledChildren.get(tree);
  if (done) return done;
  const dir = join(tree, 'dist', 'bench-build');
  mkdirSync(dir, { recursive: true });
  const tsconfig = join(dir, 'tsconfig.json');
  writeFileSync(
    tsconfig,
    JSON.stringify({
      extends: join(ROOT, 'tsconfig.build.json'),
      compilerOptions: { outDir: dir, rootDir: tree, tsBuildInfoFile: join(dir, '.tsbuildinfo') },
      include: [...BOT_DIRS.map((d) => join(tree, d)), join(tree, 'bench', 'bot-child.ts')],
    }),
  );
  const t0 = performance.now();
  try {
    execFileSync(process.execPath, [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', tsconfig], {
      stdio: tree === ROOT ? 'inherit' : 'pipe',
    });
  } catch (err) {
    // An earlier revision may not type-check against today's dependencies; tsc still emits it.
    if (tree === ROOT || !existsSync(join(dir, 'bench', 'bot-child.js'))) throw err;
    out(`  (tsc reported type errors in ${tree}; it emitted the JavaScript, which is what runs)`);
  }
  out(
    `compiled the bot${tree === ROOT ? '' : ` of ${tree}`} with tsc (tsconfig.build.json options) in ${secs(performance.now() - t0)}: plain node, no tsx`,
  );
  const child = join(dir, 'bench', 'bot-child.js');
  compiledChildren.set(tree, child);
  return child;
}

interface Bot {
  child: ChildProcess;
  idle: NodeJS.MemoryUsage;
  scan(): Promise<BotScan>;
  /** This process's CPU between two instants, and the deliver jobs it completed since the last probe. */
  probe(from: number, to: number): Promise<BotProbe>;
  close(): Promise<void>;
}

/** The node flags the bot last started with (printed with its memory). */
let botNodeFlags = 'none';
/** The environment production sets that the bot last started with (printed with its memory). */
let botEnv = 'inherited';

/** Config keys the last bot started did not know and ran without (an earlier revision's bot). */
let droppedConfig: string[] = [];

/** A bot process: the working tree's, or that of an exported revision (`tree`, bench/revision.ts). */
async function startBot(init: BotInit, tree = ROOT): Promise<Bot> {
  const script = args.compiled ? compiledBotChild(tree) : join(tree, 'bench', 'bot-child.ts');
  const prof = args['cpu-prof-dir'] ? ['--cpu-prof', '--cpu-prof-dir', args['cpu-prof-dir']] : [];
  if (args['bot-max-old-space-mb']) prof.push(`--max-old-space-size=${args['bot-max-old-space-mb']}`);
  if (args['bot-node-flags']) prof.push(...args['bot-node-flags'].split(/\s+/).filter(Boolean));
  // Compiled, the bot runs as production starts it, with its GC flags (bench/node-flags.ts), unless
  // --bot-node-flags names others ('' for none).
  if (args.compiled && args['bot-node-flags'] === undefined) prof.push(...PRODUCTION_NODE_FLAGS);
  const loader = args.compiled ? [] : ['--import', 'tsx'];
  botNodeFlags = prof.join(' ') || 'none';
  // Its environment too (PRODUCTION_ENV), with the same exception.
  const production = args.compiled && args['bot-node-flags'] === undefined;
  botEnv = production
    ? Object.entries(PRODUCTION_ENV)
        .map(([k, v]) => `${k}=${v}`)
        .join(' ')
    : 'inherited';
  const child = spawn(process.execPath, [...prof, '--expose-gc', ...loader, script], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    env: production ? { ...process.env, ...PRODUCTION_ENV } : process.env,
  });
  const exited = new Promise<never>((_, reject) =>
    child.once('exit', (code) => reject(new Error(`bot child exited with code ${code}`))),
  );
  exited.catch(() => undefined);
  const next = <T>(type: string) =>
    Promise.race([
      exited,
      new Promise<T>((resolve, reject) => {
        const on = (m: { type: string; message?: string } & T) => {
          if (m.type === 'error') {
            child.off('message', on);
            reject(new Error(`bot: ${m.message}`));
          } else if (m.type === type) {
            child.off('message', on);
            resolve(m);
          }
        };
        child.on('message', on);
      }),
    ]);
  const ready = next<{ memory: NodeJS.MemoryUsage; droppedConfig?: string[] }>('ready');
  child.send({ type: 'init', init });
  const { memory, droppedConfig: dropped } = await ready;
  droppedConfig = dropped ?? [];
  return {
    child,
    idle: memory,
    async scan() {
      const done = next<{ result: BotScan }>('scanned');
      child.send({ type: 'scan' });
      return (await done).result;
    },
    async probe(from, to) {
      const done = next<{ probe: BotProbe }>('probed');
      child.send({ type: 'probe', from, to });
      return (await done).probe;
    },
    async close() {
      if (child.exitCode !== null) return;
      const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.send({ type: 'close' });
      await gone;
    },
  };
}

// ---------------------------------------------------------------- one measured scan

interface Measured extends BotScan {
  aws: Record<string, number>;
  awsErrors: number;
  awsThrottled: number;
  analyzerByRegion: Record<string, number>;
  /** First and last Slack write of this scan (ms since the epoch), as the Slack sandbox saw them. */
  writeWindow: [number, number] | undefined;
  slackRateLimited: number;
  slack: Record<string, number>;
  slackErrors: number;
  perChannel: ChildStats['slack']['perChannel'];
  messages: number;
  topLevel: number;
  replies: number;
  childCpuMs: number;
  childRss: number;
  redisCpuMs: number;
  redisCommands: number;
}

const sumCpu = (c: NodeJS.CpuUsage) => (c.user + c.system) / 1000;
const windowOf = (at: number[]): [number, number] | undefined =>
  at.length ? [Math.min(...at), Math.max(...at)] : undefined;

/** Every target line, printed together at the end: [what, measured, met]. */
const targets: [string, string, boolean][] = [];

/**
 * Under --aws-rate-limit: the AWS phase of a scan (its start to the last analyzer job's end) against
 * the lower bound the rate sets, the busiest region's Access Analyzer requests / rate.
 */
function rateLimitedScan(label: string, m: Measured): void {
  if (!(AWS_RATE > 0)) return;
  const regions = Object.entries(m.analyzerByRegion).sort((a, b) => b[1] - a[1]);
  const [busiest, requests] = regions[0] ?? ['-', 0];
  const boundMs = (requests / AWS_RATE) * 1000;
  const awsMs = m.phases.analyzersLastDone ?? m.phases.runDone ?? 0;
  const ratio = boundMs > 0 ? awsMs / boundMs : 0;
  out(
    `Scan under AWS rate limits (${AWS_RATE} Access Analyzer requests/s per region): AWS phase ${secs(awsMs)}; ` +
      `lower bound ${secs(boundMs)} = busiest region ${busiest} ${requests} requests / ${AWS_RATE}/s; ` +
      `ratio ${ratio.toFixed(2)}x; ${m.awsThrottled} answered 429; requests per region: ` +
      regions.map(([r, n]) => `${r} ${n}`).join(', '),
  );
  targets.push([
    `${label}: AWS phase <= 1.2x the rate's lower bound (busiest region's requests / rate)`,
    `${ratio.toFixed(2)}x (${secs(awsMs)} vs ${secs(boundMs)}), ${m.awsThrottled} throttled`,
    ratio > 0 && ratio <= 1.2,
  ]);
}

async function measure(bot: Bot, sandbox: Sandbox, admin: Redis): Promise<Measured> {
  const before = await sandbox.stats();
  const redisBefore = await redisInfo(admin);
  const scan = await bot.scan();
  const after = await sandbox.stats();
  const redisAfter = await redisInfo(admin);
  const perChannel: Measured['perChannel'] = {};
  for (const [ch, v] of Object.entries(after.slack.perChannel)) {
    const b = before.slack.perChannel[ch] ?? { posts: 0, updates: 0 };
    if (v.posts - b.posts || v.updates - b.updates)
      perChannel[ch] = { posts: v.posts - b.posts, updates: v.updates - b.updates };
  }
  return {
    ...scan,
    aws: diff(before.aws, after.aws),
    awsErrors: after.awsErrors - before.awsErrors,
    awsThrottled: after.awsThrottled - before.awsThrottled,
    analyzerByRegion: diff(before.analyzerByRegion, after.analyzerByRegion),
    writeWindow: windowOf(after.slack.writesAt.slice(before.slack.writesAt.length)),
    slackRateLimited: after.slack.rateLimited - before.slack.rateLimited,
    slack: diff(before.slack.byMethod, after.slack.byMethod),
    slackErrors: after.slack.errors - before.slack.errors,
    perChannel,
    messages: after.slack.messages - before.slack.messages,
    topLevel: after.slack.topLevel - before.slack.topLevel,
    replies: after.slack.replies - before.slack.replies,
    childCpuMs: sumCpu(after.cpu) - sumCpu(before.cpu),
    childRss: after.rss,
    redisCpuMs: (redisAfter.cpu - redisBefore.cpu) * 1000,
    // minus the INFO calls of this benchmark; other clients of a shared Redis would count too
    redisCommands: redisAfter.commands - redisBefore.commands - 3,
  };
}

// ---------------------------------------------------------------- delivery: CPU and slots per process

interface DeliveryRun {
  m: Measured;
  processes: number;
  slots: number;
  /** Every bot process's CPU over the write window, and the deliver jobs it ran. */
  bots: BotProbe[];
  sandbox: CpuWindow;
  /** 1-minute load average before and after the scan. */
  load: [number, number];
  /** Deliver jobs running (all processes), time-weighted mean over the write window. */
  meanActive: number;
  /** Slot-seconds a free slot stayed free while a deliver job waited in the queue (sampled every 200 ms). */
  idleWhileWaiting: number;
  /** Messages per second from the first to the last Slack write. */
  rate: number;
}

const windowMs = (m: Measured) => (m.writeWindow ? m.writeWindow[1] - m.writeWindow[0] : 0);

/**
 * One measured scan (`measure`) while the deliver queue is sampled, then every bot process and the
 * sandbox process are asked for their CPU over the write window: one scan, every process's share.
 */
async function measureDelivery(
  runner: Bot,
  all: Bot[],
  sandbox: Sandbox,
  admin: Redis,
  deliverKeys: string,
  slots: number,
): Promise<DeliveryRun> {
  const load0 = loadavg()[0]!;
  for (const b of all) await b.probe(0, 0); // resets each process's job count and loop-delay histogram
  await sandbox.probe(0, 0);
  const samples: { at: number; waiting: number; active: number }[] = [];
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      const res = (await admin
        .pipeline()
        .llen(`${deliverKeys}:wait`)
        .zcard(`${deliverKeys}:prioritized`)
        .llen(`${deliverKeys}:active`)
        .exec()) as [Error | null, number][];
      samples.push({ at: Date.now(), waiting: res[0]![1] + res[1]![1], active: res[2]![1] });
      await new Promise((r) => setTimeout(r, 200));
    }
  })();
  const m = await measure(runner, sandbox, admin);
  sampling = false;
  await sampler;
  const [from, to] = m.writeWindow ?? [Date.now(), Date.now()];
  const bots = [];
  for (const b of all) bots.push(await b.probe(from, to));
  const sb = await sandbox.probe(from, to);
  let activeMs = 0;
  let spanMs = 0;
  let idleWaitingMs = 0;
  for (let i = 1; i < samples.length; i++) {
    const a = samples[i - 1]!;
    const b = samples[i]!;
    if (a.at < from || b.at > to) continue;
    const dt = b.at - a.at;
    spanMs += dt;
    activeMs += a.active * dt;
    idleWaitingMs += Math.min(Math.max(0, slots * all.length - a.active), a.waiting) * dt;
  }
  return {
    m,
    processes: all.length,
    slots,
    bots,
    sandbox: sb,
    load: [load0, loadavg()[0]!],
    meanActive: spanMs ? activeMs / spanMs : 0,
    idleWhileWaiting: idleWaitingMs / 1000,
    rate: m.messages / Math.max(0.001, windowMs(m) / 1000),
  };
}

/**
 * What bound a run: its own CPU (one process near a whole core, or all of them near every core);
 * the machine (a bot's event loop busy at least 30 points more of the window than it had a CPU: it
 * was ready to run and waiting for one); else Slack's latency and the Redis round trips.
 */
function boundBy(r: DeliveryRun): 'CPU-bound' | 'waiting for a CPU' | 'latency-bound' {
  const w = Math.max(1, windowMs(r.m));
  const total = r.bots.reduce((s, b) => s + b.cpuMs, 0) + r.sandbox.cpuMs;
  if (r.bots.some((b) => b.cpuMs / w >= 0.85) || total / w >= 0.85 * cpus().length) return 'CPU-bound';
  if (r.bots.some((b) => b.elu - b.cpuMs / w >= 0.3)) return 'waiting for a CPU';
  return 'latency-bound';
}

function printDelivery(r: DeliveryRun): void {
  const w = Math.max(1, windowMs(r.m));
  const pct = (ms: number) => `${((ms / w) * 100).toFixed(0)}% of a core`;
  const botCpu = r.bots.reduce((s, b) => s + b.cpuMs, 0);
  out(
    `Delivery, ${r.processes} worker process${r.processes > 1 ? 'es' : ''} × ${r.slots} deliver slots: ` +
      `${r.m.messages} messages from the first to the last Slack write in ${secs(w)} = ${r.rate.toFixed(1)} messages/s; ` +
      `load average (1 min) ${r.load[0].toFixed(1)} → ${r.load[1].toFixed(1)} on ${cpus().length} CPUs`,
  );
  for (const b of r.bots)
    out(
      `  bot pid ${b.pid}: CPU ${secs(b.cpuMs)} (${pct(b.cpuMs)}), event loop ${(b.elu * 100).toFixed(0)}% busy, ` +
        `loop delay p50/p99/max ${b.loopDelayMs.p50}/${b.loopDelayMs.p99}/${b.loopDelayMs.max} ms; ` +
        `${b.deliverJobs} deliver jobs, ${b.deliverWrites} Slack writes`,
    );
  out(
    `  all bot processes: CPU ${secs(botCpu)} = ${(botCpu / Math.max(1, r.m.messages)).toFixed(2)} ms per message; ` +
      `sandbox process (AWS and Slack stand-ins): CPU ${secs(r.sandbox.cpuMs)} (${pct(r.sandbox.cpuMs)}), ` +
      `event loop ${(r.sandbox.elu * 100).toFixed(0)}% busy, loop delay p99 ${r.sandbox.loopDelayMs.p99} ms; ` +
      `redis-server ${secs(r.m.redisCpuMs)} over the whole scan (a shared Redis counts others' work too)`,
  );
  out(
    `  deliver slots: ${r.meanActive.toFixed(1)} of ${r.slots * r.processes} busy on average; ` +
      `${r.idleWhileWaiting.toFixed(1)} slot-seconds free while a deliver job waited in the queue; ` +
      `${((r.meanActive * w) / Math.max(1, r.m.messages)).toFixed(0)} ms of slot time per message; ` +
      `${boundBy(r)}`,
  );
}

// ---------------------------------------------------------------- main

async function main(): Promise<void> {
  if (args.clicks) {
    await runClicks({
      findings: FINDINGS,
      requests: Number(args.requests),
      rate: Number(args.rate),
      walkRequests: Number(args['walk-requests']),
      logLevel: args['log-level'],
    });
    return;
  }
  const redisHandle = await ensureRedis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
  const sandbox = await startSandboxChild();
  const { expected } = sandbox;
  const keyPrefix = `bench${Date.now().toString(36)}:`;
  const config = configSchema.parse({
    regions: expected.regions,
    slack: {
      defaultChannel: '#sec-alerts',
      adminChannel: '#access-patrol-admin',
      postIntervalMs: POST_INTERVAL_MS, // default 0, not paced: see the paced estimate
    },
    organization: { memberRoleName: expected.memberRole.name, externalId: expected.memberRole.externalId },
    tags: { useResourceGroupsTaggingApi: true },
    // The bot paces Access Analyzer at the sandbox's rate, with a smaller burst (requests in flight
    // arrive a little bunched; the sandbox's fuller bucket absorbs that). Tagging and IAM are not
    // limited by the sandbox, so not paced here either; without --aws-rate-limit nothing is.
    aws: {
      rateLimits: {
        accessAnalyzer:
          AWS_RATE > 0
            ? { perSecond: AWS_RATE, burst: Math.max(1, Math.floor((AWS_BURST ?? AWS_RATE) / 2)) }
            : { perSecond: 0 },
        tagging: { perSecond: 0 },
        iam: { perSecond: 0 },
      },
    },
    routing: [{ name: 'channel tag', match: { tag: { key: 'access-patrol-channel' } } }],
    redis: { keyPrefix },
    ...(args['deliver-concurrency']
      ? { workers: { deliverConcurrency: Number(args['deliver-concurrency']) } }
      : {}),
  });
  const deliverKeys = `${bullPrefix(keyPrefix)}:${QUEUES.deliver}`;
  const init: BotInit = {
    redisUrl: redisHandle.url,
    awsUrl: sandbox.awsUrl,
    slackApiUrl: sandbox.slackApiUrl,
    config,
    logLevel: args['log-level'],
  };
  if (args['heap-snapshot-mb']) init.heapSnapshotMb = Number(args['heap-snapshot-mb']);
  if (args['heap-snapshot-after']) init.heapSnapshotAfter = true;
  const admin = new Redis(redisHandle.url);
  const bots: Bot[] = [];

  const minListPages = expected.analyzers.reduce(
    (s, a) => s + Math.max(1, Math.ceil(a.active / config.scan.pageSize)),
    0,
  );
  const tagReadsMin = expected.tagReads.role + expected.tagReads.user + expected.tagReads.other;

  out(`access-patrol scan benchmark`);
  out(
    `data: ${expected.totalFindings} findings (${expected.activeFindings} ACTIVE) over ${expected.regions.length} regions, ` +
      `${expected.analyzers.length} analyzers; routing by tag access-patrol-channel (${CHANNELS} team channels)`,
  );
  out(
    `config: scan.concurrency ${config.scan.concurrency}, scan.detailConcurrency ${config.scan.detailConcurrency}, ` +
      `scan.pageSize ${config.scan.pageSize}, workers.deliverConcurrency ${config.workers.deliverConcurrency}, ` +
      `slack.burstThreshold ${config.slack.burstThreshold}, slack.postIntervalMs ${config.slack.postIntervalMs} ` +
      `(production default ${DEFAULT_POST_INTERVAL_MS}); Slack sandbox: ${Number(args['slack-rate-limit']) > 0 ? `${args['slack-rate-limit']} writes/s/channel` : 'no rate limit'}, ${args['slack-latency-ms']} ms per call; ${CHANNELS} team channels`,
  );
  out(
    `machine: ${cpus().length} CPUs, Node ${process.version}; Redis ${redisHandle.url}; ` +
      `sandboxes in child pid ${sandbox.child.pid}; key prefix ${keyPrefix}`,
  );

  const redisBase = await redisInfo(admin);
  try {
    if (args.against) {
      await sideBySide(args.against, {
        init,
        config,
        sandbox,
        admin,
        activeFindings: expected.activeFindings,
      });
      printTargets();
      return;
    }
    const bot = await startBot(init);
    bots.push(bot);
    out(
      `bot process (pid ${bot.child.pid}, node flags: ${botNodeFlags}; environment: ${botEnv}) idle before the first scan: RSS ${mb(bot.idle.rss)}, heapUsed ${mb(bot.idle.heapUsed)}`,
    );

    // ------------------------------------------------------------ 1. first scan
    out(`\n== 1. First scan (empty Redis state) ==`);
    const firstRun = await measureDelivery(
      bot,
      [bot],
      sandbox,
      admin,
      deliverKeys,
      config.workers.deliverConcurrency,
    );
    const first = firstRun.m;
    const redisAfterFirst = await redisInfo(admin);
    printScan(first);
    printDelivery(firstRun);
    rateLimitedScan('first scan', first);
    const awsRows: [string, number, number | string][] = [
      ['ListAnalyzers', first.aws.ListAnalyzers ?? 0, expected.regions.length],
      ['ListFindingsV2', first.aws.ListFindingsV2 ?? 0, minListPages],
      ['GetFindingV2', first.aws.GetFindingV2 ?? 0, expected.activeFindings],
      [
        'IAM GetRole',
        first.aws.GetRole ?? 0,
        `${expected.principals.role} (1 per role; ${expected.tagReads.role} role findings)`,
      ],
      [
        'IAM ListUserTags',
        first.aws.ListUserTags ?? 0,
        `${expected.principals.user} (1 per user; ${expected.tagReads.user} user findings)`,
      ],
      [
        'Tagging GetResources',
        first.aws.GetResources ?? 0,
        `${expected.taggingBatchedMin} (100 ARNs/call per account and region; ${expected.tagReads.other} findings)`,
      ],
      [
        'STS AssumeRole',
        first.aws.AssumeRole ?? 0,
        `${expected.accountsWithFindings} (1 per member account)`,
      ],
    ];
    const shown = new Set(['ListAnalyzers', 'ListFindingsV2', 'GetFindingV2', 'GetRole', 'ListUserTags']);
    for (const s of ['GetResources', 'AssumeRole']) shown.add(s);
    for (const [op, n] of Object.entries(first.aws)) if (!shown.has(op)) awsRows.push([op, n, '-']);
    out(`AWS requests (made / minimum):`);
    for (const [op, n, min] of awsRows) out(`  ${pad(op, 22)} ${rpad(n, 8)}   min ${min}`);
    out(
      `  tag reads total ${(first.aws.GetRole ?? 0) + (first.aws.ListUserTags ?? 0) + (first.aws.GetResources ?? 0)} / min ${tagReadsMin} unbatched; AWS error answers: ${first.awsErrors}`,
    );
    printSlack(first);
    const getResources = first.aws.GetResources ?? 0;
    out(
      `Tags: ${getResources} GetResources for ${expected.tagReads.other} findings ` +
        `(${(expected.tagReads.other / Math.max(1, getResources)).toFixed(1)} ARNs per call); ` +
        `${first.aws.GetRole ?? 0} GetRole for ${expected.principals.role} roles, ` +
        `${first.aws.ListUserTags ?? 0} ListUserTags for ${expected.principals.user} users`,
    );
    targets.push([
      'tags: IAM read once per principal per scan',
      `${(first.aws.GetRole ?? 0) + (first.aws.ListUserTags ?? 0)} for ${expected.principals.role + expected.principals.user}`,
      (first.aws.GetRole ?? 0) <= expected.principals.role &&
        (first.aws.ListUserTags ?? 0) <= expected.principals.user,
    ]);

    // Paced estimate: every post and update waits postIntervalMs; every channel in parallel (a paced
    // channel holds no worker slot between writes).
    const channelOrder = first.report.deliveries.map((d) => d.channel);
    const writesOf = (ch: string) =>
      (first.perChannel[ch]?.posts ?? 0) + (first.perChannel[ch]?.updates ?? 0);
    const makespan = (perWriteSec: number) => {
      const free = Array.from({ length: Math.max(1, channelOrder.length) }, () => 0);
      for (const ch of channelOrder) {
        free.sort((a, b) => a - b);
        free[0]! += writesOf(ch) * perWriteSec;
      }
      return Math.max(...free);
    };
    const busiest = channelOrder.reduce((m, ch) => Math.max(m, writesOf(ch)), 0);
    out(`Paced delivery estimate (production paces writes per channel; every channel in parallel):`);
    out(
      `  busiest channel ${busiest} writes → ${secs((busiest / PACED_PER_SECOND) * 1000)} at ${PACED_PER_SECOND} msg/s/channel ` +
        `(${(busiest / PACED_PER_SECOND / 3600).toFixed(2)} h); whole delivery ${secs(makespan(1 / PACED_PER_SECOND) * 1000)} ` +
        `at 1 msg/s, ${secs(makespan(DEFAULT_POST_INTERVAL_MS / 1000) * 1000)} at the default postIntervalMs ${DEFAULT_POST_INTERVAL_MS}`,
    );

    if (POST_INTERVAL_MS > 0) {
      // First contact: every channel paced by the bot itself, all in parallel in one worker.
      const deliverMs = (first.phases.deliverLastDone ?? 0) - (first.phases.finalizeDone ?? 0);
      const boundMs = busiest * POST_INTERVAL_MS;
      const ratio = deliverMs / Math.max(1, boundMs);
      out(
        `First contact: ${first.messages} messages to ${channelOrder.length} channels, one worker, postIntervalMs ${POST_INTERVAL_MS}: ` +
          `delivery ${secs(deliverMs)} (finalize → last channel done); the busiest channel's own pacing allows ` +
          `${secs(boundMs)} (${busiest} writes × ${POST_INTERVAL_MS} ms); ratio ${ratio.toFixed(2)}x; ` +
          `${first.slackRateLimited} Slack 429s`,
      );
      targets.push([
        `first contact: delivery <= 1.1x the busiest channel's pacing (${channelOrder.length} channels, 1 worker)`,
        `${ratio.toFixed(2)}x (${secs(deliverMs)} vs ${secs(boundMs)}), ${first.slackRateLimited} Slack 429s`,
        ratio <= 1.1,
      ]);
    }

    if (HORIZONTAL > 1) {
      // The same first delivery again, from empty state, with HORIZONTAL worker processes: the same
      // findings, channels and messages (checked below), measured the same way.
      await wipe(admin, keyPrefix);
      const extra: Bot[] = [];
      for (let i = 1; i < HORIZONTAL; i++) {
        const b = await startBot(init);
        bots.push(b);
        extra.push(b);
      }
      out(`\n== Horizontal: the first scan again, from empty state, with ${HORIZONTAL} worker processes ==`);
      const manyRun = await measureDelivery(
        bot,
        [bot, ...extra],
        sandbox,
        admin,
        deliverKeys,
        config.workers.deliverConcurrency,
      );
      for (const b of extra) await b.close();
      const many = manyRun.m;
      printDelivery(manyRun);
      const same = many.messages === first.messages && sameChannels(first, many);
      const ratio = manyRun.rate / Math.max(0.001, firstRun.rate);
      const bound = boundBy;
      out(
        `Horizontal (Slack answering after ${args['slack-latency-ms']} ms per call, ${config.workers.deliverConcurrency} deliver slots per process): ` +
          `1 worker process ${firstRun.rate.toFixed(1)} messages/s (${first.messages} in ${secs(windowMs(first))}, ${bound(firstRun)}), ` +
          `${HORIZONTAL} processes ${manyRun.rate.toFixed(1)} messages/s (${many.messages} in ${secs(windowMs(many))}, ${bound(manyRun)}): ` +
          `${ratio.toFixed(2)}x; ${same ? 'the same messages to the same channels in both runs' : 'NOT the same messages in both runs'}`,
      );
      targets.push([
        `horizontal: ${HORIZONTAL} worker processes deliver >= 2.5x what 1 does (${config.workers.deliverConcurrency} slots each)`,
        `${ratio.toFixed(2)}x (${firstRun.rate.toFixed(1)} → ${manyRun.rate.toFixed(1)} messages/s; ${bound(firstRun)} → ${bound(manyRun)})`,
        ratio >= 2.5 && same,
      ]);
    }

    // ------------------------------------------------------------ 3. Redis after the first scan
    out(`\n== Redis after the first scan ==`);
    const usage = await measureRedis(admin, keyPrefix);
    const findings = usage.findingKeys || 1;
    const perFindingSampled = usage.sampleMean + usage.activeSetBytes / findings;
    const hashTotal = usage.byCategory['finding hashes']?.bytes ?? 0;
    const sideTotal =
      (usage.byCategory['finding long values (side hashes)']?.bytes ?? 0) +
      (usage.byCategory['analyzer ids']?.bytes ?? 0);
    const indexTotal = usage.byCategory['finding indexes (idx:*)']?.bytes ?? 0;
    const nkTotal = usage.byCategory[NATURAL_KEYS]?.bytes ?? 0;
    const perFindingExact = (hashTotal + sideTotal + usage.activeSetBytes + indexTotal + nkTotal) / findings;
    out(`  ${pad('key group', 56)} ${rpad('keys', 8)} ${rpad('bytes', 12)}`);
    for (const [cat, v] of Object.entries(usage.byCategory).sort((a, b) => b[1].bytes - a[1].bytes))
      out(`  ${pad(cat, 56)} ${rpad(v.keys, 8)} ${rpad(v.bytes, 12)}`);
    out(
      `  finding hashes: ${usage.findingKeys} (ACTIVE findings ${expected.activeFindings}); ` +
        `MEMORY USAGE sample of ${usage.sampleSize}: mean ${usage.sampleMean.toFixed(0)} B/hash; ` +
        `encodings in the sample: ${Object.entries(usage.encodings)
          .map(([e, n]) => `${e} ${n}`)
          .join(', ')}`,
    );
    out(
      `  active sets: ${usage.activeMembers} members, ${usage.activeSetBytes} B = ${(usage.activeSetBytes / findings).toFixed(0)} B/finding`,
    );
    out(
      `  bytes per finding (sampled hash + active sets): ${perFindingSampled.toFixed(0)} B; ` +
        `exact over all hashes, side hashes, analyzer ids, active sets, indexes and natural keys: ${perFindingExact.toFixed(0)} B ` +
        `(indexes ${(indexTotal / findings).toFixed(0)} B, natural keys ${(nkTotal / findings).toFixed(0)} B)`,
    );
    out(
      `  INFO used_memory delta over the first scan: ${mb(redisAfterFirst.usedMemory - redisBase.usedMemory)} ` +
        `= ${((redisAfterFirst.usedMemory - redisBase.usedMemory) / findings).toFixed(0)} B/finding ` +
        `(includes BullMQ and scratch keys, allocator overhead, and anything else using this Redis)`,
    );
    out(
      `  outbox lists after delivery: ${usage.outboxKeys} keys, ${usage.outboxLength} events; ` +
        `scan scratch TTL ${usage.scratchTtl ?? '-'} s (SCAN_SCRATCH_TTL_SECONDS ${SCAN_SCRATCH_TTL_SECONDS})`,
    );
    out(
      `  finding hash fields in the sample (name+value bytes, mean; hashes that have it): ${usage.fields
        .map(
          (f) => `${f.field} ${f.meanBytes.toFixed(0)}${f.count < usage.sampleSize ? ` (${f.count})` : ''}`,
        )
        .join(', ')}`,
    );
    if (usage.longFields.length)
      out(
        `  hash fields longer than 64 bytes (hash-max-listpack-value ${usage.listpackValue}) in the sample: ${usage.longFields.join(', ')}`,
      );

    targets.push([
      'Redis < 1 KB per finding (hashes, side hashes, active sets, indexes, natural keys)',
      `${perFindingExact.toFixed(0)} B`,
      perFindingExact < TARGETS.redisBytesPerFinding,
    ]);
    {
      const newFindings = (first.report.finalize.analyzers as AnalyzerScanResult[]).reduce(
        (n, x) => n + x.new,
        0,
      );
      const perNew = first.redis.roundTrips / Math.max(1, newFindings);
      targets.push([
        'first scan: Redis round trips <= 10 per new finding (all the bot sends)',
        `${perNew.toFixed(2)} (${first.redis.roundTrips} for ${newFindings})`,
        perNew <= TARGETS.roundTripsPerFinding,
      ]);
      // The higher of the sampled peak and the kernel's high-water mark (which sees between samples).
      const peak = Math.max(first.rss, first.hwm ?? 0);
      if (args.compiled && !args['bot-max-old-space-mb'])
        targets.push([
          'first scan: peak RSS of the compiled bot < 200 MB (no heap cap; sampled or VmHWM, the higher)',
          `${mb(peak)} (sampled ${mb(first.rss)}, VmHWM ${first.hwm === undefined ? '-' : mb(first.hwm)})`,
          peak < TARGETS.compiledRssBytes,
        ]);
    }
    if (args['first-only']) {
      printTargets();
      return;
    }

    // ------------------------------------------------------------ 2. steady-state rescans
    const expectedSteady: Record<string, number> = {
      ListAnalyzers: expected.regions.length,
      ListFindingsV2: minListPages,
    };
    const steady = async (title: string, b: Bot) => {
      out(`\n== 2. ${title} ==`);
      const m = await measure(b, sandbox, admin);
      printScan(m);
      out(`AWS requests (made / expected):`);
      for (const op of new Set([...Object.keys(expectedSteady), ...Object.keys(m.aws)]))
        out(`  ${pad(op, 22)} ${rpad(m.aws[op] ?? 0, 8)}   expected ${expectedSteady[op] ?? 0}`);
      printSlack(m);
      return m;
    };
    const second = await steady('Steady-state rescan, same bot process (nothing changed in AWS)', bot);
    await bot.close();
    const fresh = await startBot(init);
    bots.push(fresh);
    out(
      `\nrestarted bot (pid ${fresh.child.pid}) idle: RSS ${mb(fresh.idle.rss)}, heapUsed ${mb(fresh.idle.heapUsed)}`,
    );
    const third = await steady('Steady-state rescan, freshly started bot process', fresh);

    // ------------------------------------------------------------ job removal
    if (REPEAT_SCANS > 0) {
      out(`\n== Job removal: Redis after each of ${REPEAT_SCANS} more steady-state scans ==`);
      const bull = `${keyPrefix}bull:`;
      const rows: { scan: number; used: number; all: number; bullBytes: number; bullKeys: number }[] = [];
      for (let i = 1; i <= REPEAT_SCANS; i++) {
        await fresh.scan();
        const [info, all, b] = await Promise.all([
          redisInfo(admin),
          prefixBytes(admin, keyPrefix),
          prefixBytes(admin, bull),
        ]);
        rows.push({ scan: i, used: info.usedMemory, all: all.bytes, bullBytes: b.bytes, bullKeys: b.keys });
        if (i === 1 || i % 5 === 0 || i === REPEAT_SCANS)
          out(
            `  after scan ${rpad(i, 3)}: bot's keys ${rpad(all.bytes, 10)} B; BullMQ ${rpad(b.keys, 5)} keys ${rpad(b.bytes, 9)} B; ` +
              `INFO used_memory ${mb(info.usedMemory)}`,
          );
      }
      // Flat: over the second half of the scans the bot's keys grow by less than 1 kB per scan.
      const mid = rows[Math.floor(rows.length / 2)]!;
      const end = rows[rows.length - 1]!;
      const perScan = (end.all - mid.all) / Math.max(1, end.scan - mid.scan);
      out(
        `  growth over scans ${mid.scan} → ${end.scan}: ${perScan.toFixed(0)} B per scan ` +
          `(BullMQ ${((end.bullBytes - mid.bullBytes) / Math.max(1, end.scan - mid.scan)).toFixed(0)} B per scan)`,
      );
      targets.push([
        `job removal: Redis flat over ${REPEAT_SCANS} scans (second half < 1 kB/scan)`,
        `${perScan.toFixed(0)} B/scan; ${end.bullKeys} BullMQ keys, ${(end.bullBytes / 1024).toFixed(0)} kB`,
        perScan < 1024,
      ]);
    }

    // ------------------------------------------------------------ targets
    const rows = targets;
    for (const [label, m] of [
      ['same process', second],
      ['fresh process', third],
    ] as const) {
      const slackCalls = Object.values(m.slack).reduce((s, n) => s + n, 0);
      const onlyListing = Object.entries(m.aws).every(
        ([op, n]) => op in expectedSteady && n === expectedSteady[op],
      );
      rows.push(
        [`steady state (${label}): zero Slack calls`, String(slackCalls), slackCalls === 0],
        [`steady state (${label}): zero GetFindingV2`, String(m.aws.GetFindingV2 ?? 0), !m.aws.GetFindingV2],
        [
          `steady state (${label}): only ListAnalyzers + ListFindingsV2 pages`,
          `${m.aws.ListAnalyzers ?? 0} + ${m.aws.ListFindingsV2 ?? 0}`,
          onlyListing,
        ],
        [`steady state (${label}): peak RSS < 300 MB`, mb(m.rss), m.rss < TARGETS.rssBytes],
      );
    }
    rows.push(['first scan: peak RSS < 300 MB', mb(first.rss), first.rss < TARGETS.rssBytes]);
    printTargets();
  } finally {
    for (const b of bots) await b.close().catch(() => undefined);
    await wipe(admin, keyPrefix);
    await admin.quit();
    sandbox.child.kill('SIGTERM');
    await redisHandle.stop();
  }
}

// ---------------------------------------------------------------- side by side with a revision

interface SideRun {
  side: 'revision' | 'tree';
  m: Measured;
  load: [number, number];
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
};

/**
 * `--against REV`: first scans of REV's bot and of the working tree's, alternating (REV, tree, tree,
 * REV, …: a machine getting busier or quieter weighs on both alike), each from empty state under a
 * key prefix of its own, against the same sandboxes and data, started the same way (tsx, or
 * `--compiled` with the same node flags). CPU per finding is the bot process's CPU over the scan
 * divided by the ACTIVE findings, every one of them new on a first scan.
 */
async function sideBySide(
  asked: string,
  base: { init: BotInit; config: AppConfig; sandbox: Sandbox; admin: Redis; activeFindings: number },
): Promise<void> {
  const rev = exportRevision(ROOT, asked);
  const treeLabel = `working tree (${execFileSync('git', ['-C', ROOT, 'log', '-1', '--format=%h'], { encoding: 'utf8' }).trim()}${
    execFileSync('git', ['-C', ROOT, 'status', '--porcelain', '--', ...BOT_DIRS], { encoding: 'utf8' }).trim()
      ? ' with uncommitted changes'
      : ''
  })`;
  out(`\n== Side by side: ${rev.label} against the ${treeLabel} ==`);
  out(`  revision exported to ${rev.dir} (${BOT_DIRS.join(', ')}; this tree's bench/bot-child.ts drives it)`);
  if (rev.dependencyDifferences.length)
    out(
      `  it runs with this tree's node_modules; its package.json names other versions of: ${rev.dependencyDifferences.join('; ')}`,
    );
  const runs: SideRun[] = [];
  const per = base.activeFindings || 1;
  for (let round = 0; round < ROUNDS; round++) {
    const order: SideRun['side'][] = round % 2 === 0 ? ['revision', 'tree'] : ['tree', 'revision'];
    for (const side of order) {
      const prefix = `bench${Date.now().toString(36)}${side === 'revision' ? 'r' : 't'}:`;
      const init: BotInit = {
        ...base.init,
        config: { ...base.config, redis: { ...base.config.redis, keyPrefix: prefix } },
      };
      const load0 = loadavg()[0] ?? 0;
      const bot = await startBot(init, side === 'revision' ? rev.dir : ROOT);
      try {
        if (droppedConfig.length)
          out(
            `  (${rev.label.split(' ')[0]} does not know, and ran with its own defaults for: ${droppedConfig.join(', ')})`,
          );
        const m = await measure(bot, base.sandbox, base.admin);
        const run: SideRun = { side, m, load: [load0, loadavg()[0] ?? 0] };
        runs.push(run);
        const who = side === 'revision' ? rev.label.split(' ')[0]! : 'tree';
        const awsCalls = Object.values(m.aws).reduce((s, n) => s + n, 0);
        const slackCalls = Object.values(m.slack).reduce((s, n) => s + n, 0);
        out(
          `  run ${runs.length} ${pad(who, 8)} bot CPU ${secs(m.cpuMs)} = ${(m.cpuMs / per).toFixed(2)} ms per finding; ` +
            `wall ${secs(m.wallMs)}; Redis ${(m.redis.roundTrips / per).toFixed(2)} round trips, ${(m.redis.commands / per).toFixed(2)} commands per finding; ` +
            `peak RSS ${mb(m.rss)}; ${m.messages} messages, ${slackCalls} Slack calls, ${awsCalls} AWS requests; ` +
            `sandbox CPU ${secs(m.childCpuMs)}; load ${run.load[0].toFixed(1)} → ${run.load[1].toFixed(1)}`,
        );
      } finally {
        await bot.close();
        await wipe(base.admin, prefix);
      }
    }
  }
  const of = (side: SideRun['side'], f: (m: Measured) => number) =>
    median(runs.filter((r) => r.side === side).map((r) => f(r.m)));
  const cpuRev = of('revision', (m) => m.cpuMs / per);
  const cpuTree = of('tree', (m) => m.cpuMs / per);
  const ratio = cpuTree / Math.max(1e-9, cpuRev);
  const trips = (side: SideRun['side']) => of(side, (m) => m.redis.roundTrips / per);
  out(
    `  median of ${ROUNDS} each: bot CPU per finding ${cpuRev.toFixed(2)} ms (${rev.label.split(' ')[0]}) → ${cpuTree.toFixed(2)} ms (tree) = ${ratio.toFixed(2)}x; ` +
      `Redis round trips per finding ${trips('revision').toFixed(2)} → ${trips('tree').toFixed(2)}; ` +
      `wall ${secs(of('revision', (m) => m.wallMs))} → ${secs(of('tree', (m) => m.wallMs))}; ` +
      `peak RSS ${mb(of('revision', (m) => m.rss))} → ${mb(of('tree', (m) => m.rss))}`,
  );
  targets.push([
    `first scan: bot CPU per finding at most half of ${rev.label.split(' ')[0]}'s (side by side, ${ROUNDS} runs each)`,
    `${ratio.toFixed(2)}x (${cpuRev.toFixed(2)} → ${cpuTree.toFixed(2)} ms)`,
    ratio <= 0.5,
  ]);
}

/** Both runs wrote the same number of posts and updates to every channel. */
function sameChannels(a: Measured, b: Measured): boolean {
  const names = new Set([...Object.keys(a.perChannel), ...Object.keys(b.perChannel)]);
  return [...names].every(
    (c) =>
      a.perChannel[c]?.posts === b.perChannel[c]?.posts &&
      a.perChannel[c]?.updates === b.perChannel[c]?.updates,
  );
}

function printTargets(): void {
  out(`\n== Targets ==`);
  for (const [what, got, ok] of targets) out(`  ${pf(ok)}  ${pad(what, 70)} ${got}`);
}

function printScan(m: Measured): void {
  const a = m.report.finalize.analyzers as AnalyzerScanResult[];
  const sum = (f: (x: AnalyzerScanResult) => number) => a.reduce((s, x) => s + f(x), 0);
  const d = m.report.deliveries as DeliverResult[];
  const dsum = (f: (x: DeliverResult) => number) => d.reduce((s, x) => s + f(x), 0);
  const p = m.phases;
  out(`wall time ${secs(m.wallMs)}`);
  out(
    `  phases: scan-run (ListAnalyzers, notices, flow) done at ${secs(p.runDone ?? 0)}; analyzer jobs ` +
      `${secs(p.analyzersFirstStart ?? 0)} → ${secs(p.analyzersLastDone ?? 0)} (busy ${secs(p.analyzerBusy)} summed over ` +
      `${a.length} jobs, slowest ${secs(p.slowestAnalyzer)}); finalize done at ${secs(p.finalizeDone ?? 0)}; ` +
      `delivery ${secs(p.deliverFirstStart ?? 0)} → ${secs(p.deliverLastDone ?? 0)} (${d.length} channel jobs)`,
  );
  out(
    `  CPU: bot ${secs(m.cpuMs)} (event loop utilisation ${(m.elu * 100).toFixed(0)}%), ` +
      `sandbox child ${secs(m.childCpuMs)}, redis-server ${secs(m.redisCpuMs)}; ` +
      `Redis commands ${m.redisCommands} (${(
        m.redisCommands /
          Math.max(
            1,
            sum((x) => x.active),
          )
      ).toFixed(1)} per active finding)`,
  );
  const perNew = Math.max(
    1,
    sum((x) => x.new),
  );
  out(
    `  Redis from the bot (counted in its client): ${m.redis.roundTrips} round trips, ${m.redis.commands} commands ` +
      `(${(m.redis.roundTrips / perNew).toFixed(2)} round trips and ${(m.redis.commands / perNew).toFixed(2)} commands ` +
      `per new finding; a pipeline or MULTI is one round trip), ${m.redis.blocking} blocking waits (BullMQ, not counted)`,
  );
  out(
    `bot peak RSS ${mb(m.rss)} (kernel VmHWM ${m.hwm === undefined ? '-' : mb(m.hwm)}), peak heapUsed ${mb(m.heap)}; ` +
      `at start RSS ${mb(m.startMemory.rss)} / heapUsed ${mb(m.startMemory.heapUsed)}, ` +
      `at end ${mb(m.endMemory.rss)} / ${mb(m.endMemory.heapUsed)}` +
      (m.afterGc ? `, after a forced GC ${mb(m.afterGc.rss)} / ${mb(m.afterGc.heapUsed)}` : '') +
      `; sandbox child RSS ${mb(m.childRss)} (not counted)`,
  );
  if (m.heapSnapshot) out(`  heap snapshot: ${m.heapSnapshot}`);
  if (m.retainedSnapshot) out(`  heap snapshot after the forced GC (retained): ${m.retainedSnapshot}`);
  out(
    `scan: ${sum((x) => x.pages)} pages, ${sum((x) => x.active)} active, ${sum((x) => x.new)} new, ` +
      `${sum((x) => x.changed)} changed, ${sum((x) => x.closed)} closed, ${sum((x) => x.detailCalls)} detail calls, ` +
      `${a.filter((x) => !x.ok).length} of ${a.length} analyzers failed` +
      (m.awsThrottled ? `; ${m.awsThrottled} Access Analyzer requests answered 429 ThrottlingException` : ''),
  );
  out(
    `delivery: ${dsum((x) => x.posted)} posted, ${dsum((x) => x.updated)} updated, ${dsum((x) => x.closed)} closed, ` +
      `${dsum((x) => x.notices)} notices, ${d.filter((x) => x.summary).length} burst summaries, ` +
      `${dsum((x) => x.slackWrites)} Slack writes`,
  );
}

function printSlack(m: Measured): void {
  const calls = Object.entries(m.slack)
    .map(([k, v]) => `${k} ${v}`)
    .join(', ');
  out(
    `Slack calls: ${calls || 'none'}${m.slackErrors ? ` (${m.slackErrors} errors)` : ''}; ` +
      `messages posted ${m.messages} (${m.topLevel} top-level, ${m.replies} thread replies)`,
  );
  const chans = Object.entries(m.perChannel).sort((a, b) => a[0].localeCompare(b[0]));
  if (chans.length) {
    out(
      `  per channel (posts + updates): ${chans.map(([c, v]) => `${c} ${v.posts}+${v.updates}`).join(', ')}`,
    );
  }
}

main().then(
  () => process.exit(0),
  (err) => {
    process.stderr.write(`benchmark failed: ${(err as Error).stack ?? err}\n`);
    process.exit(1);
  },
);
