// BullMQ wiring: the queues, their default options, the schedulers. What runs where and with which
// id is src/queue/registry.ts.
import { type DefaultJobOptions, FlowProducer, Queue, QueueEvents } from 'bullmq';
import type { Redis } from 'ioredis';
import type { AppConfig } from '../config/schema.ts';
import { JOBS, QUEUES } from './names.ts';
import type {
  ActionJobData,
  DeliverData,
  ScanAnalyzerData,
  ScanFinalizeData,
  ScanRunData,
} from './payloads.ts';
import { DEFAULT_RETENTION, removalOptions, retentionOf } from './registry.ts';

/** Backoff type of jobs whose retries wait for AWS's Retry-After (jobs/retry.ts implements it). */
export const RETRY_BACKOFF = 'exponential-retry-after';

export const DEFAULT_JOB_OPTIONS: DefaultJobOptions = {
  attempts: 5,
  backoff: { type: 'exponential', delay: 2000, jitter: 0.5 },
  ...removalOptions(DEFAULT_RETENTION),
};

/**
 * BullMQ's events stream per queue (what QueueEvents reads: `scanNow` waits on it). Every job adds a
 * handful of events; trimmed to about this many, so it does not grow with the number of scans either.
 */
export const EVENTS_MAX_LEN = 500;

/**
 * Options of the scan queue's jobs, flow nodes included: jobs added through a FlowProducer do not
 * get the queue's defaultJobOptions, so runScan passes these on every node. Their retries wait for
 * AWS's Retry-After when it throttled (jobs/retry.ts).
 */
export function scanJobOptions(
  scan: Pick<AppConfig['scan'], 'attempts' | 'retryDelayMs'>,
): DefaultJobOptions {
  return {
    ...DEFAULT_JOB_OPTIONS,
    attempts: scan.attempts,
    backoff: { type: RETRY_BACKOFF, delay: scan.retryDelayMs, jitter: 0.5 },
  };
}

/** BullMQ keeps its own keys under `<keyPrefix>bull:`. */
export function bullPrefix(keyPrefix: string): string {
  return `${keyPrefix.replace(/:$/, '')}:bull`;
}

export interface Queues {
  scan: Queue<ScanRunData | ScanAnalyzerData | ScanFinalizeData>;
  deliver: Queue<DeliverData>;
  actions: Queue<ActionJobData>;
  flows: FlowProducer;
  prefix: string;
  close(): Promise<void>;
}

/** The scan settings when the caller passes no config (the schema's defaults). */
const DEFAULT_SCAN_RETRY = { attempts: 8, retryDelayMs: 2000 };

/**
 * Producer side, on a connection with bounded retries (not maxRetriesPerRequest: null, which is for
 * workers). The runtime passes its command connection, which keeps the offline queue (see
 * src/runtime.ts for why); listeners put their own deadline on enqueueing so an outage is a prompt
 * reply rather than a Slack timeout.
 */
export function createQueues(
  connection: Redis,
  keyPrefix: string,
  scanRetry: Pick<AppConfig['scan'], 'attempts' | 'retryDelayMs'> = DEFAULT_SCAN_RETRY,
): Queues {
  const prefix = bullPrefix(keyPrefix);
  const streams = { events: { maxLen: EVENTS_MAX_LEN } };
  const scan = new Queue<ScanRunData | ScanAnalyzerData | ScanFinalizeData>(QUEUES.scan, {
    connection,
    prefix,
    streams,
    defaultJobOptions: scanJobOptions(scanRetry),
  });
  const deliver = new Queue<DeliverData>(QUEUES.deliver, {
    connection,
    prefix,
    streams,
    defaultJobOptions: DEFAULT_JOB_OPTIONS,
  });
  const actions = new Queue<ActionJobData>(QUEUES.actions, {
    connection,
    prefix,
    streams,
    defaultJobOptions: { ...DEFAULT_JOB_OPTIONS, attempts: 3 },
  });
  const flows = new FlowProducer({ connection, prefix });
  return {
    scan,
    deliver,
    actions,
    flows,
    prefix,
    async close() {
      await Promise.all([scan.close(), deliver.close(), actions.close(), flows.close()]);
    },
  };
}

export function createQueueEvents(
  connection: Redis,
  keyPrefix: string,
  name: keyof typeof QUEUES,
): QueueEvents {
  return new QueueEvents(QUEUES[name], { connection, prefix: bullPrefix(keyPrefix) });
}

/** The aging sweep's schedule when the caller passes no `aging` config (the schema's defaults). */
const DEFAULT_AGING_SCHEDULE = { sweepCron: '0 8 * * *', timezone: 'UTC' };

/** The weekly digest's schedule when the caller passes no `digest` config (the schema's defaults). */
const DEFAULT_DIGEST_SCHEDULE = { cron: '0 9 * * 1', timezone: 'UTC' };

/** Scheduler id of the weekly digest (jobs/digest.ts), upserted by registerSchedulers too. */
export const DIGEST_SCHEDULER = 'weekly-digest';

/**
 * Upserts the periodic scan and the daily aging sweep (jobs/aging.ts); idempotent, so every replica
 * may call it at start.
 */
export async function registerSchedulers(
  queues: Queues,
  intervalMinutes: number,
  aging: Pick<AppConfig['aging'], 'sweepCron' | 'timezone'> = DEFAULT_AGING_SCHEDULE,
  digest: Pick<AppConfig['digest'], 'cron' | 'timezone'> = DEFAULT_DIGEST_SCHEDULE,
): Promise<void> {
  await queues.scan.upsertJobScheduler(
    'periodic-scan',
    { every: intervalMinutes * 60_000 },
    { name: JOBS.scanRun, data: {} satisfies ScanRunData, opts: retentionOf(JOBS.scanRun) },
  );
  await queues.scan.upsertJobScheduler(
    JOBS.agingSweep,
    { pattern: aging.sweepCron, tz: aging.timezone },
    { name: JOBS.agingSweep, data: {}, opts: retentionOf(JOBS.agingSweep) },
  );
  await queues.scan.upsertJobScheduler(
    DIGEST_SCHEDULER,
    { pattern: digest.cron, tz: digest.timezone },
    { name: JOBS.digestRun, data: {}, opts: retentionOf(JOBS.digestRun) },
  );
}
