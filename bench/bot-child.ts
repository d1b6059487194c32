// The bot under measurement, in a process of its own: the runtime (workers, SDK clients, Slack client,
// Redis connections) exactly as `access-patrol start` builds it, and nothing else. bench/scan.bench.ts
// drives it over IPC and does its own bookkeeping (sandbox counts, Redis walks) in the parent, so the
// RSS and heap sampled here are the bot's alone.
//   parent → { type: 'init', init }        child → { type: 'ready', memory, droppedConfig }
//   parent → { type: 'scan' }              child → { type: 'scanned', result } | { type: 'error', message }
//   parent → { type: 'probe', from, to }   child → { type: 'probed', probe } (CPU in a window, deliver jobs)
//   parent → { type: 'close' }             child exits
import { readFileSync, writeFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { writeHeapSnapshot } from 'node:v8';
import type { Job } from 'bullmq';
import { Pipeline, Redis } from 'ioredis';
import pino from 'pino';
import { configSchema } from '../src/config/schema.ts';
import { createRuntime, type Runtime, type ScanReport } from '../src/runtime.ts';
import { type CpuWindow, cpuBetween, resetLoopDelay, startCpuTrack } from './cpu-track.ts';

export interface BotInit {
  redisUrl: string;
  awsUrl: string;
  slackApiUrl: string;
  /** The config object (validated again here). */
  config: unknown;
  logLevel: string;
  /** Write a heap snapshot (in the working directory) the first time heapUsed passes this many MB. */
  heapSnapshotMb?: number;
  /** Write a heap snapshot after the first scan's forced GC: what the bot retains. */
  heapSnapshotAfter?: boolean;
}

export interface PhaseTimes {
  /** ms from the start of the scan */
  runDone?: number;
  analyzersFirstStart?: number;
  analyzersLastDone?: number;
  finalizeDone?: number;
  deliverFirstStart?: number;
  deliverLastDone?: number;
  /** Busy time (finishedOn - processedOn) summed over analyzer jobs, and the longest one. */
  analyzerBusy: number;
  slowestAnalyzer: number;
}

export interface BotScan {
  report: ScanReport;
  wallMs: number;
  /** Peaks sampled every 50 ms. */
  rss: number;
  heap: number;
  /** Kernel RSS high-water mark for the scan (VmHWM, reset before it), when readable. */
  hwm: number | undefined;
  /** Memory when the scan started and when it ended. */
  startMemory: NodeJS.MemoryUsage;
  endMemory: NodeJS.MemoryUsage;
  /** After a forced full GC at the end of the scan (the bot runs with --expose-gc): what is retained. */
  afterGc?: NodeJS.MemoryUsage;
  cpuMs: number;
  /** Event loop utilisation over the scan (1 = the loop never idled). */
  elu: number;
  phases: PhaseTimes;
  heapSnapshot?: string;
  /** The snapshot written after the forced GC (`heapSnapshotAfter`). */
  retainedSnapshot?: string;
  /** Redis traffic of every connection of the bot over the scan (counted in the client). */
  redis: RedisTraffic;
}

export interface RedisTraffic {
  /** Commands sent, inside pipelines and MULTIs too (a Lua script is one command). */
  commands: number;
  /** Round trips: a command sent alone, or a whole pipeline/MULTI (written to the socket at once). */
  roundTrips: number;
  /** The same, for BullMQ's blocking waits (BZPOPMIN, BRPOPLPUSH…): idle waits, not work. */
  blocking: number;
}

// Every ioredis connection in this process (the bot's, BullMQ's) goes through these two methods: a
// command outside a pipeline is one round trip, a pipeline's exec another however many it holds.
const traffic: RedisTraffic = { commands: 0, roundTrips: 0, blocking: 0 };
const BLOCKING = new Set(['bzpopmin', 'bzpopmax', 'brpoplpush', 'blmove', 'brpop', 'blpop', 'xread']);
const sendCommand = Redis.prototype.sendCommand;
Redis.prototype.sendCommand = function (this: Redis, command, stream?: unknown) {
  traffic.commands++;
  if (!(stream as { isPipeline?: boolean } | undefined)?.isPipeline) {
    if (BLOCKING.has(String((command as { name?: string }).name).toLowerCase())) traffic.blocking++;
    else traffic.roundTrips++;
  }
  return sendCommand.call(this, command, stream as never);
} as typeof sendCommand;
const exec = Pipeline.prototype.exec;
Pipeline.prototype.exec = function (this: Pipeline, ...rest: Parameters<typeof exec>) {
  if (this.length > 0) traffic.roundTrips++;
  return exec.apply(this, rest);
} as typeof exec;

/** What one bot process did in a window: its CPU, and the deliver jobs it ran (any process may run any). */
export interface BotProbe extends CpuWindow {
  pid: number;
  /** Deliver job runs completed since the previous probe (a run that handed its slot back is not counted). */
  deliverJobs: number;
  /** Slack writes those runs reported (a paced job's include its earlier runs'). */
  deliverWrites: number;
}

type Msg =
  | { type: 'init'; init: BotInit }
  | { type: 'scan' }
  | { type: 'probe'; from: number; to: number }
  | { type: 'close' };

const MB = 1024 * 1024;
const send = (m: unknown) => process.send?.(m);

/** Linux: clear_refs 5 resets VmHWM, so each scan gets its own kernel peak. */
function resetHighWaterMark(): void {
  try {
    writeFileSync('/proc/self/clear_refs', '5');
  } catch {
    // not Linux, or not allowed: VmHWM is then the peak since the process started
  }
}

function highWaterMark(): number | undefined {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'));
    return m ? Number(m[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

let rt: Runtime | undefined;
let init: BotInit | undefined;
let phases: PhaseTimes = { analyzerBusy: 0, slowestAnalyzer: 0 };
let t0 = 0;
let snapshotTaken: string | undefined;
let retainedSnapshot: string | undefined;
/** Every deliver job this process completed, with the Slack writes it reported. */
const delivered: { writes: number }[] = [];

let probedUpTo = 0;

function probe(from: number, to: number): BotProbe {
  const jobs = delivered.slice(probedUpTo);
  probedUpTo = delivered.length;
  const p: BotProbe = {
    pid: process.pid,
    ...cpuBetween(from, to),
    deliverJobs: jobs.length,
    deliverWrites: jobs.reduce((s, d) => s + d.writes, 0),
  };
  resetLoopDelay();
  return p;
}

/**
 * The config as this bot's schema takes it. A bot of an earlier revision (`--against`) does not know
 * every key of today's config, and its schema refuses unknown keys: those are left out (and
 * reported), so it runs with its own defaults for them. Any other problem still throws.
 */
function configForThisBot(raw: unknown): {
  config: ReturnType<typeof configSchema.parse>;
  dropped: string[];
} {
  const input = structuredClone(raw) as Record<string, unknown>;
  const dropped: string[] = [];
  for (let round = 0; round < 50; round++) {
    const parsed = configSchema.safeParse(input);
    if (parsed.success) return { config: parsed.data, dropped };
    const unknown = parsed.error.issues.filter((i) => i.code === 'unrecognized_keys');
    if (unknown.length === 0 || unknown.length < parsed.error.issues.length) throw parsed.error;
    for (const issue of unknown) {
      let at: unknown = input;
      for (const p of issue.path) at = (at as Record<PropertyKey, unknown>)[p as PropertyKey];
      for (const k of (issue as { keys: string[] }).keys) {
        delete (at as Record<string, unknown>)[k];
        dropped.push([...issue.path, k].join('.'));
      }
    }
  }
  throw new Error('config: could not leave out the keys this bot does not know');
}

let droppedConfig: string[] = [];

function start(i: BotInit): void {
  init = i;
  const { config, dropped } = configForThisBot(i.config);
  droppedConfig = dropped;
  rt = createRuntime({
    env: { redisUrl: i.redisUrl, slackBotToken: 'xoxb-sandbox-bench', slackApiUrl: i.slackApiUrl },
    config,
    logger: pino({ level: i.logLevel }),
    aws: {
      credentials: { accessKeyId: 'AKIASANDBOXBENCH0001', secretAccessKey: 'sandbox-secret' },
      endpoints: { accessAnalyzer: i.awsUrl, iam: i.awsUrl, sts: i.awsUrl, tagging: i.awsUrl, s3: i.awsUrl },
      maxAttempts: 3,
    },
  });
  const workers = rt.startWorkers();
  const rel = (t: number | undefined) => (t ?? Date.now()) - t0;
  workers.scan.on('completed', (job: Job) => {
    const s = job.processedOn ?? Date.now();
    const e = job.finishedOn ?? Date.now();
    if (job.name === 'scan-run') phases.runDone = rel(e);
    if (job.name === 'scan-analyzer') {
      phases.analyzersFirstStart = Math.min(phases.analyzersFirstStart ?? Number.POSITIVE_INFINITY, rel(s));
      phases.analyzersLastDone = Math.max(phases.analyzersLastDone ?? 0, rel(e));
      phases.analyzerBusy += e - s;
      phases.slowestAnalyzer = Math.max(phases.slowestAnalyzer, e - s);
    }
    if (job.name === 'scan-finalize') phases.finalizeDone = rel(e);
  });
  workers.deliver.on('completed', (job: Job) => {
    delivered.push({ writes: Number(job.returnvalue?.slackWrites ?? 0) });
    phases.deliverFirstStart = Math.min(
      phases.deliverFirstStart ?? Number.POSITIVE_INFINITY,
      rel(job.processedOn),
    );
    phases.deliverLastDone = Math.max(phases.deliverLastDone ?? 0, rel(job.finishedOn));
  });
}

async function scan(): Promise<BotScan> {
  if (!rt) throw new Error('not initialised');
  let rss = 0;
  let heap = 0;
  const sample = () => {
    const m = process.memoryUsage();
    rss = Math.max(rss, m.rss);
    heap = Math.max(heap, m.heapUsed);
    const at = init?.heapSnapshotMb;
    if (at !== undefined && !snapshotTaken && m.heapUsed > at * MB) {
      snapshotTaken = writeHeapSnapshot(`bench-bot-${Date.now()}.heapsnapshot`);
    }
  };
  phases = { analyzerBusy: 0, slowestAnalyzer: 0 };
  const startMemory = process.memoryUsage();
  resetHighWaterMark();
  const traffic0 = { ...traffic };
  const cpu0 = process.cpuUsage();
  const elu0 = performance.eventLoopUtilization();
  sample();
  const timer = setInterval(sample, 50);
  t0 = Date.now();
  try {
    const report = await rt.scanNow({ timeoutMs: 60 * 60_000 });
    const wallMs = Date.now() - t0;
    sample();
    const cpu = process.cpuUsage(cpu0);
    const result: BotScan = {
      report,
      wallMs,
      rss,
      heap,
      hwm: highWaterMark(),
      startMemory,
      endMemory: process.memoryUsage(),
      cpuMs: (cpu.user + cpu.system) / 1000,
      elu: performance.eventLoopUtilization(elu0).utilization,
      phases,
      redis: {
        commands: traffic.commands - traffic0.commands,
        roundTrips: traffic.roundTrips - traffic0.roundTrips,
        blocking: traffic.blocking - traffic0.blocking,
      },
    };
    if (snapshotTaken) result.heapSnapshot = snapshotTaken;
    const gc = (globalThis as { gc?: () => void }).gc;
    if (gc) {
      gc();
      result.afterGc = process.memoryUsage();
      if (init?.heapSnapshotAfter && !retainedSnapshot) {
        retainedSnapshot = writeHeapSnapshot(`bench-bot-retained-${Date.now()}.heapsnapshot`);
        result.retainedSnapshot = retainedSnapshot;
      }
    }
    return result;
  } finally {
    clearInterval(timer);
  }
}

process.on('message', (msg: Msg) => {
  if (msg.type === 'init') {
    startCpuTrack();
    start(msg.init);
    send({ type: 'ready', memory: process.memoryUsage(), droppedConfig });
  } else if (msg.type === 'scan') {
    scan().then(
      (result) => send({ type: 'scanned', result }),
      (err: Error) => send({ type: 'error', message: err.stack ?? String(err) }),
    );
  } else if (msg.type === 'probe') {
    send({ type: 'probed', probe: probe(msg.from, msg.to) });
  } else if (msg.type === 'close') {
    void (async () => {
      await rt?.close();
      process.exit(0); // exits normally, so --cpu-prof writes its profile
    })();
  }
});
process.on('disconnect', () => process.exit(0));
