// The job contract: for every job name, the queue it runs on, what it carries, and how its id is
// made from what it carries. Producers enqueue through `enqueue` (or `flowJob` for the scan's flow)
// and never pick a queue or build an id themselves; workers register one handler per name, checked
// at start-up (jobs/workers.ts).
import type { FlowJob, Job, JobsOptions, Queue } from 'bullmq';
import { shortHash } from '../util/hash.ts';
import { JOBS, type JobName, QUEUES, type QueueName } from './names.ts';
import type {
  ActionRequest,
  ArchiveData,
  ArchiveRuleCreateData,
  ArchiveRuleDeleteData,
  ArchiveRulePreviewData,
  ArchiveRulesListData,
  CreateAnalyzerData,
  DeleteRolePreviewData,
  DeliverData,
  FixData,
  FixUndoData,
  KeyDeletionData,
  OwnersData,
  PolicyRequestData,
  PolicyStepData,
  PolicyValidateData,
  QuarantineEndData,
  RecommendPollData,
  RestoreRoleData,
  ScanAnalyzerData,
  ScanFinalizeData,
  ScanRunData,
  SnoozeData,
} from './payloads.ts';

/** What each job carries. */
export interface JobPayloads {
  [JOBS.scanRun]: ScanRunData;
  [JOBS.scanAnalyzer]: ScanAnalyzerData;
  [JOBS.scanFinalize]: ScanFinalizeData;
  [JOBS.deliverChannel]: DeliverData;
  [JOBS.archive]: ArchiveData;
  [JOBS.unarchive]: ActionRequest;
  [JOBS.rescan]: ActionRequest;
  [JOBS.rescanCheck]: ActionRequest;
  [JOBS.archiveExpiry]: ActionRequest;
  [JOBS.deleteRolePreview]: DeleteRolePreviewData;
  [JOBS.deleteRole]: ActionRequest;
  [JOBS.restoreRole]: RestoreRoleData;
  [JOBS.owners]: OwnersData;
  [JOBS.agingSweep]: Record<string, never>;
  [JOBS.snooze]: SnoozeData;
  [JOBS.unsnooze]: ActionRequest;
  [JOBS.snoozeEnd]: ActionRequest;
  [JOBS.recommend]: ActionRequest;
  [JOBS.recommendPoll]: RecommendPollData;
  [JOBS.digestRun]: Record<string, never>;
  [JOBS.policyRequest]: PolicyRequestData;
  [JOBS.policyStart]: PolicyStepData;
  [JOBS.policyPoll]: PolicyStepData;
  [JOBS.policyValidate]: PolicyValidateData;
  [JOBS.fix]: FixData;
  [JOBS.fixUndo]: FixUndoData;
  [JOBS.keyDeletionOffer]: KeyDeletionData;
  [JOBS.deleteKey]: KeyDeletionData;
  [JOBS.quarantineEnd]: QuarantineEndData;
  [JOBS.archiveRulePreview]: ArchiveRulePreviewData;
  [JOBS.archiveRuleCreate]: ArchiveRuleCreateData;
  [JOBS.archiveRuleDelete]: ArchiveRuleDeleteData;
  [JOBS.archiveRulesList]: ArchiveRulesListData;
  [JOBS.createAnalyzer]: CreateAnalyzerData;
}
export type PayloadOf<N extends JobName> = JobPayloads[N];

/** Job ids must not contain `:` and must not be all digits (BullMQ rules). */
export function jobId(...parts: string[]): string {
  return parts.map((p) => p.replace(/[^A-Za-z0-9_.-]/g, '-')).join('-');
}

/** How long BullMQ keeps a finished job: removeOnComplete / removeOnFail, by age (seconds) and count. */
export interface Retention {
  complete: { age: number; count: number };
  fail: { age: number; count: number };
}

const DAY = 24 * 3600;

/**
 * Jobs a person or a follow-up can ask about for a day, failures for a week: the queues' defaults
 * (src/queue/queues.ts) and every job without a retention of its own.
 */
export const DEFAULT_RETENTION: Retention = {
  complete: { age: DAY, count: 1000 },
  fail: { age: 7 * DAY, count: 5000 },
};

/**
 * The steps of a scan (one job per analyzer, the finalize step, the run) come by the dozen every
 * `scan.intervalMinutes`: a completed one is kept for the last few scans only (the count applies to
 * the scan queue's completed set as a whole), so Redis does not grow with the number of scans. Their
 * results live on: finalize reads its children's results from its own dependency set, and keeps them
 * in `last-scan`. A failed analyzer job stays a week (finalize reads its data when it reports it).
 */
export const SCAN_STEP_RETENTION: Retention = {
  complete: { age: DAY, count: 100 },
  fail: { age: 7 * DAY, count: 1000 },
};

/** BullMQ's job options for a retention. */
export function removalOptions(r: Retention): Pick<JobsOptions, 'removeOnComplete' | 'removeOnFail'> {
  return { removeOnComplete: { ...r.complete }, removeOnFail: { ...r.fail } };
}

export interface JobSpec<N extends JobName> {
  queue: QueueName;
  /** How long a finished job is kept; DEFAULT_RETENTION when absent. */
  retention?: Retention;
  /**
   * The job's id from what it carries: the same request always gets the same id, so a retried
   * webhook or a resubmitted form enqueues once. Undefined for jobs only a scheduler adds.
   */
  id(data: JobPayloads[N]): string | undefined;
}

/** A person's request on a finding: one job per finding and request (click, form or command). */
const perRequest =
  (name: JobName) =>
  (d: ActionRequest): string =>
    jobId(name, d.findingId, d.requestTs);

const onActions = <N extends JobName>(id: (d: JobPayloads[N]) => string | undefined): JobSpec<N> => ({
  queue: QUEUES.actions,
  id,
});

export const JOB_SPECS: { [N in JobName]: JobSpec<N> } = {
  [JOBS.scanRun]: {
    queue: QUEUES.scan,
    retention: SCAN_STEP_RETENTION,
    id: (d) => (d.requestId ? jobId('scan', d.requestId) : undefined),
  },
  [JOBS.scanAnalyzer]: {
    queue: QUEUES.scan,
    retention: SCAN_STEP_RETENTION,
    id: (d) => jobId(JOBS.scanAnalyzer, d.scanId, shortHash(d.analyzer.arn)),
  },
  [JOBS.scanFinalize]: {
    queue: QUEUES.scan,
    retention: SCAN_STEP_RETENTION,
    id: (d) => jobId(JOBS.scanFinalize, d.scanId),
  },
  [JOBS.agingSweep]: { queue: QUEUES.scan, id: () => undefined },
  [JOBS.digestRun]: { queue: QUEUES.scan, id: () => undefined },
  [JOBS.deliverChannel]: {
    queue: QUEUES.deliver,
    id: (d) => jobId('deliver', d.scanId, shortHash(d.channel)),
  },
  [JOBS.archive]: onActions(perRequest(JOBS.archive)),
  [JOBS.unarchive]: onActions(perRequest(JOBS.unarchive)),
  [JOBS.rescan]: onActions(perRequest(JOBS.rescan)),
  // Follow-ups carry the request of the job that scheduled them; their time goes in `requestTs`
  // (the expiry date, the snooze's end), so a renewed archive or snooze schedules a new one.
  [JOBS.rescanCheck]: onActions(perRequest(JOBS.rescanCheck)),
  [JOBS.archiveExpiry]: onActions(perRequest(JOBS.archiveExpiry)),
  [JOBS.snoozeEnd]: onActions(perRequest(JOBS.snoozeEnd)),
  [JOBS.snooze]: onActions(perRequest(JOBS.snooze)),
  [JOBS.unsnooze]: onActions(perRequest(JOBS.unsnooze)),
  [JOBS.recommend]: onActions(perRequest(JOBS.recommend)),
  [JOBS.recommendPoll]: onActions((d) => jobId(JOBS.recommendPoll, d.findingId, d.requestTs, String(d.poll))),
  // One preview per confirm dialog opened.
  [JOBS.deleteRolePreview]: onActions((d) => jobId(JOBS.deleteRolePreview, d.findingId, d.viewId)),
  [JOBS.deleteRole]: onActions(perRequest(JOBS.deleteRole)),
  [JOBS.restoreRole]: onActions(perRequest(JOBS.restoreRole)),
  [JOBS.owners]: onActions((d) => jobId(JOBS.owners, d.requestTs)),
  [JOBS.policyRequest]: onActions((d) => jobId(JOBS.policyRequest, d.requestId)),
  [JOBS.policyStart]: onActions((d) => jobId(JOBS.policyStart, d.requestId, String(d.attempt))),
  [JOBS.policyPoll]: onActions((d) => jobId(JOBS.policyPoll, d.requestId, String(d.attempt))),
  [JOBS.policyValidate]: onActions((d) => jobId(JOBS.policyValidate, d.requestTs)),
  [JOBS.fix]: onActions((d) => jobId(JOBS.fix, d.kind, d.findingId, d.requestTs)),
  [JOBS.fixUndo]: onActions((d) => jobId(JOBS.fixUndo, d.kind, d.findingId, d.requestTs)),
  // One offer per deactivation (its backup); one deletion per click.
  [JOBS.keyDeletionOffer]: onActions((d) => jobId(JOBS.keyDeletionOffer, shortHash(d.backupKey))),
  [JOBS.deleteKey]: onActions(perRequest(JOBS.deleteKey)),
  // One end per quarantine (its backup): a new quarantine of the role gets a new one.
  [JOBS.quarantineEnd]: onActions((d) => jobId(JOBS.quarantineEnd, d.findingId, shortHash(d.backupKey))),
  // One preview per modal opened.
  [JOBS.archiveRulePreview]: onActions((d) => jobId(JOBS.archiveRulePreview, d.findingId, d.viewId)),
  [JOBS.archiveRuleCreate]: onActions(perRequest(JOBS.archiveRuleCreate)),
  [JOBS.archiveRuleDelete]: onActions((d) =>
    jobId(JOBS.archiveRuleDelete, shortHash(`${d.analyzerArn}\n${d.ruleName}`), d.requestTs),
  ),
  [JOBS.archiveRulesList]: onActions((d) => jobId(JOBS.archiveRulesList, d.requestTs)),
  [JOBS.createAnalyzer]: onActions((d) => jobId(JOBS.createAnalyzer, d.region, d.kind, d.requestTs)),
};

export const JOB_NAMES = Object.keys(JOB_SPECS) as JobName[];

export function isJobName(name: string): name is JobName {
  return Object.hasOwn(JOB_SPECS, name);
}

/** How long a finished job of this name is kept, as BullMQ options. */
export function retentionOf(name: JobName): Pick<JobsOptions, 'removeOnComplete' | 'removeOnFail'> {
  return removalOptions(JOB_SPECS[name].retention ?? DEFAULT_RETENTION);
}

/** The id `name` gets for `data` (what a test waits for, what `enqueue` adds). */
export function jobIdOf<N extends JobName>(name: N, data: JobPayloads[N]): string | undefined {
  return JOB_SPECS[name].id(data);
}

/** The queues a producer holds (the web role holds no deliver queue). */
export type ProducerQueues = Partial<Record<QueueName, Queue>>;

/**
 * Adds a job to its queue with its id. A job with that id already there is not added again (BullMQ
 * returns the existing one), which is what makes a retried request enqueue once.
 */
export async function enqueue<N extends JobName>(
  queues: ProducerQueues,
  name: N,
  data: JobPayloads[N],
  opts: Pick<JobsOptions, 'delay'> = {},
): Promise<Job> {
  const spec = JOB_SPECS[name];
  const queue = queues[spec.queue];
  if (!queue) throw new Error(`no ${spec.queue} queue to add ${name} to`);
  const id = spec.id(data);
  return queue.add(name, data, {
    // Jobs without a retention of their own get the queue's default (the same DEFAULT_RETENTION).
    ...(spec.retention ? retentionOf(name) : {}),
    ...(id ? { jobId: id } : {}),
    ...(opts.delay !== undefined ? { delay: opts.delay } : {}),
  });
}

/**
 * Removes the waiting or delayed job `name` has for `data` (a follow-up no longer wanted: a lifted
 * quarantine's end). True when there was one; a job already running or finished is left alone.
 */
export async function cancel<N extends JobName>(
  queues: ProducerQueues,
  name: N,
  data: JobPayloads[N],
): Promise<boolean> {
  const queue = queues[JOB_SPECS[name].queue];
  const id = JOB_SPECS[name].id(data);
  if (!queue || !id) return false;
  const job = await queue.getJob(id);
  if (!job || !['delayed', 'waiting', 'prioritized'].includes(await job.getState())) return false;
  await job.remove();
  return true;
}

/**
 * A node of a FlowProducer flow, with its id, its retention and the given options: jobs added through
 * a flow do not get their queue's default options, so the caller passes them.
 */
export function flowJob<N extends JobName>(
  name: N,
  data: JobPayloads[N],
  opts: JobsOptions,
  children?: FlowJob[],
): FlowJob {
  const id = JOB_SPECS[name].id(data);
  return {
    name,
    queueName: JOB_SPECS[name].queue,
    data,
    opts: { ...opts, ...retentionOf(name), ...(id ? { jobId: id } : {}) },
    ...(children ? { children } : {}),
  };
}
