// BullMQ wiring: queue and job names, job payloads, deterministic job ids, default options.
import { type DefaultJobOptions, FlowProducer, Queue, QueueEvents } from 'bullmq';
import type { Redis } from 'ioredis';
import type { AppConfig } from '../src/config/schema.ts';
import type { AnalyzerInfo } from '../src/findings/model.ts';
import type { SnoozeDays } from '../src/slack/commands/parse.ts';
import { RETRY_BACKOFF } from './retry.ts';

export const QUEUES = { scan: 'scan', deliver: 'deliver', actions: 'actions' } as const;

export const JOBS = {
  scanRun: 'scan-run',
  scanAnalyzer: 'scan-analyzer',
  scanFinalize: 'scan-finalize',
  deliverChannel: 'deliver-channel',
  archive: 'archive',
  unarchive: 'unarchive',
  rescan: 'rescan',
  rescanCheck: 'rescan-check',
  archiveExpiry: 'archive-expiry',
  deleteRolePreview: 'delete-role-preview',
  deleteRole: 'delete-role',
  restoreRole: 'restore-role',
  owners: 'owners',
  agingSweep: 'aging-sweep',
  snooze: 'snooze',
  unsnooze: 'unsnooze',
  snoozeEnd: 'snooze-end',
  recommend: 'recommend',
  recommendPoll: 'recommend-poll',
  digestRun: 'digest-run',
  policyRequest: 'policy-request',
  policyStart: 'policy-start',
  policyPoll: 'policy-poll',
  policyValidate: 'policy-validate',
} as const;

/** A person's request from Slack, carried by every action job. */
export interface ActionRequest {
  findingId: string;
  analyzerArn: string;
  region: string;
  /** Slack user id of who asked ('system' for the bot's own follow-ups). */
  userId: string;
  /** Where to tell the person how it went (the finding message's channel, or the command's). */
  replyChannel?: string;
  /** Slack's action_ts or command trigger: makes the job id unique per click. */
  requestTs: string;
  /**
   * The finding id a follow-up job acts through when it is not the card's (`findingId`): another
   * analyzer's id of the same problem. Set by the job that chose it (a recommendation's polls).
   */
  awsId?: string;
  /**
   * The intent the request holds (src/store/intents.ts) and the token it holds it with; the last job
   * of the request releases it.
   */
  intent?: { key: string; token: string };
}
export interface ArchiveData extends ActionRequest {
  reason: string;
  /** YYYY-MM-DD: the archive expires and the finding becomes ACTIVE again. */
  until?: string;
}
export interface DeleteRolePreviewData extends ActionRequest {
  /** The loading modal the preview job fills in (views.update). */
  viewId: string;
}
export interface RestoreRoleData extends ActionRequest {
  backupKey: string;
}
/** `/access owners <arn>`: explained by a worker, because it reads the resource's tags from AWS. */
export interface OwnersData {
  arn: string;
  userId: string;
  replyChannel: string;
  requestTs: string;
}
export interface SnoozeData extends ActionRequest {
  days: SnoozeDays;
  reason: string;
}
/** A recommendation poll (jobs/recommend.ts): which poll this is and when asking began. */
export interface RecommendPollData extends ActionRequest {
  poll: number;
  /** ISO time the recommend job asked AWS; the total wait is measured from it. */
  startedAt: string;
}
/** A request for a least-privilege policy (button modal or `/access generate-policy`). */
export interface PolicyRequestData {
  /** Deterministic from where it was asked (view id or trigger), so a retry is the same request. */
  requestId: string;
  /** The IAM role or user. */
  principalArn: string;
  accountId: string;
  /** Days of CloudTrail activity, ending now. */
  days: number;
  /** Absent: the configured trails. */
  trailArn?: string;
  regions: 'all' | string[];
  userId: string;
  replyChannel?: string;
  requestTs: string;
  /** Set when asked from a finding message: the result goes into its thread. */
  findingId?: string;
}
/** One step of a queued generation: start it (attempt counts conflict retries) or poll it. */
export interface PolicyStepData {
  requestId: string;
  accountId: string;
  attempt: number;
  userId: string;
  requestTs: string;
}
/** `/access validate`: a pasted document to check. */
export interface PolicyValidateData {
  document: string;
  policyType: 'IDENTITY_POLICY' | 'RESOURCE_POLICY' | 'SERVICE_CONTROL_POLICY';
  /** CheckNoPublicAccess as this resource type, when chosen. */
  resourceType?: string;
  userId: string;
  replyChannel?: string;
  requestTs: string;
}
export type ActionJobData =
  | ActionRequest
  | ArchiveData
  | DeleteRolePreviewData
  | RestoreRoleData
  | OwnersData
  | SnoozeData
  | RecommendPollData
  | PolicyRequestData
  | PolicyStepData
  | PolicyValidateData;

export interface ScanRunData {
  /** Limit this scan to some regions (CLI `scan --region`); all configured regions when absent. */
  regions?: string[];
  requestedBy?: string;
}
export interface ScanAnalyzerData {
  scanId: string;
  analyzer: AnalyzerInfo;
}
export interface ScanFinalizeData {
  scanId: string;
}
export interface DeliverData {
  scanId: string;
  channel: string;
}

/** Job ids must not contain `:` and must not be all digits (BullMQ rules). */
export function jobId(...parts: string[]): string {
  return parts.map((p) => p.replace(/[^A-Za-z0-9_.-]/g, '-')).join('-');
}

export const DEFAULT_JOB_OPTIONS: DefaultJobOptions = {
  attempts: 5,
  backoff: { type: 'exponential', delay: 2000, jitter: 0.5 },
  removeOnComplete: { age: 24 * 3600, count: 1000 },
  removeOnFail: { age: 7 * 24 * 3600, count: 5000 },
};

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

/** Lost or refused Redis connections: the runtime's Redis watch reports those, once per backoff step. */
export function isConnectionError(err: Error & { code?: string }): boolean {
  return (
    /^(ECONNREFUSED|ECONNRESET|ENOTFOUND|ETIMEDOUT|EPIPE|EHOSTUNREACH|EAI_AGAIN)$/.test(err.code ?? '') ||
    /Connection is closed|connect ETIMEDOUT|Stream isn't writeable/.test(err.message)
  );
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

/** Producer side: give it a fail-fast connection (enableOfflineQueue: false) in the web role. */
export function createQueues(
  connection: Redis,
  keyPrefix: string,
  scanRetry: Pick<AppConfig['scan'], 'attempts' | 'retryDelayMs'> = DEFAULT_SCAN_RETRY,
): Queues {
  const prefix = bullPrefix(keyPrefix);
  const scan = new Queue<ScanRunData | ScanAnalyzerData | ScanFinalizeData>(QUEUES.scan, {
    connection,
    prefix,
    defaultJobOptions: scanJobOptions(scanRetry),
  });
  const deliver = new Queue<DeliverData>(QUEUES.deliver, {
    connection,
    prefix,
    defaultJobOptions: DEFAULT_JOB_OPTIONS,
  });
  const actions = new Queue<ActionJobData>(QUEUES.actions, {
    connection,
    prefix,
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
    { name: JOBS.scanRun, data: {} satisfies ScanRunData },
  );
  await queues.scan.upsertJobScheduler(
    JOBS.agingSweep,
    { pattern: aging.sweepCron, tz: aging.timezone },
    { name: JOBS.agingSweep, data: {} },
  );
  await queues.scan.upsertJobScheduler(
    DIGEST_SCHEDULER,
    { pattern: digest.cron, tz: digest.timezone },
    { name: JOBS.digestRun, data: {} },
  );
}
