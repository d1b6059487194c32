// BullMQ workers: one per queue, each running the handler its job's name has in HANDLERS. Every job
// name has a handler (the type says so, and createWorkers checks it at start-up), so a job without
// one is found when the bot starts, not when the job runs.

import { type Job, UnrecoverableError, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import {
  type ActionRequest,
  bullPrefix,
  isJobName,
  JOB_NAMES,
  JOB_SPECS,
  JOBS,
  type JobName,
  type JobPayloads,
  QUEUES,
  type QueueName,
  RETRY_BACKOFF,
} from '../src/queue/index.ts';
import { isConnectionError } from '../src/redis.ts';
import { archiveAction, unarchiveAction } from './actions/archive.ts';
import { rescanAction, rescanCheck } from './actions/rescan.ts';
import { snoozeAction, unsnoozeAction } from './actions/snooze.ts';
import { agingSweep } from './aging.ts';
import { deliverChannel } from './deliver.ts';
import type { JobDeps } from './deps.ts';
import { runDigest } from './digest.ts';
import { fixAction, undoFix } from './fixes/run.ts';
import { explainOwnersJob } from './owners.ts';
import {
  pollPolicyGeneration,
  requestPolicyGeneration,
  startPolicyGeneration,
  validatePolicyJob,
} from './policy.ts';
import { recommend, recommendPoll } from './recommend.ts';
import { retryBackoff } from './retry.ts';
import { deleteRole, deleteRolePreview, restoreRole } from './role-actions.ts';
import { finalizeScan, runScan, scanAnalyzer } from './scan.ts';

export type JobHandler<N extends JobName> = (deps: JobDeps, job: Job<JobPayloads[N]>) => Promise<unknown>;
export type JobHandlers = { [N in JobName]: JobHandler<N> };

export const HANDLERS: JobHandlers = {
  [JOBS.scanRun]: runScan,
  [JOBS.scanAnalyzer]: scanAnalyzer,
  [JOBS.scanFinalize]: finalizeScan,
  [JOBS.agingSweep]: (deps) => agingSweep(deps),
  [JOBS.digestRun]: (deps) => runDigest(deps),
  [JOBS.deliverChannel]: deliverChannel,
  [JOBS.archive]: archiveAction,
  [JOBS.unarchive]: unarchiveAction,
  [JOBS.archiveExpiry]: unarchiveAction,
  [JOBS.rescan]: rescanAction,
  [JOBS.rescanCheck]: rescanCheck,
  [JOBS.snooze]: snoozeAction,
  [JOBS.unsnooze]: unsnoozeAction,
  [JOBS.snoozeEnd]: unsnoozeAction,
  [JOBS.deleteRolePreview]: deleteRolePreview,
  [JOBS.deleteRole]: deleteRole,
  [JOBS.restoreRole]: restoreRole,
  [JOBS.owners]: explainOwnersJob,
  [JOBS.recommend]: recommend,
  [JOBS.recommendPoll]: recommendPoll,
  [JOBS.policyRequest]: requestPolicyGeneration,
  [JOBS.policyStart]: startPolicyGeneration,
  [JOBS.policyPoll]: pollPolicyGeneration,
  [JOBS.policyValidate]: validatePolicyJob,
  [JOBS.fix]: fixAction,
  [JOBS.fixUndo]: undoFix,
};

/** Job names without a handler (an empty list when every job can run). */
export function missingHandlers(handlers: Partial<Record<string, unknown>>): JobName[] {
  return JOB_NAMES.filter((name) => typeof handlers[name] !== 'function');
}

export interface Workers {
  scan: Worker;
  deliver: Worker;
  actions: Worker;
  /** Every worker is running (not closed, not closing). */
  running(): boolean;
  close(): Promise<void>;
}

/** `connection` must be a blocking-capable connection (maxRetriesPerRequest: null). */
export function createWorkers(deps: JobDeps, connection: Redis, handlers: JobHandlers = HANDLERS): Workers {
  const missing = missingHandlers(handlers);
  if (missing.length) throw new Error(`no handler for job ${missing.join(', ')}`);
  const prefix = bullPrefix(deps.config.redis.keyPrefix);
  const dispatch = (queue: QueueName) => async (job: Job) => {
    const name = job.name;
    if (!isJobName(name) || JOB_SPECS[name].queue !== queue) {
      throw new UnrecoverableError(`unknown job ${name} on queue ${queue}`);
    }
    return (handlers[name] as JobHandler<typeof name>)(deps, job as Job<JobPayloads[typeof name]>);
  };
  const scan = new Worker(QUEUES.scan, dispatch(QUEUES.scan), {
    connection,
    prefix,
    concurrency: deps.config.scan.concurrency,
    settings: {
      backoffStrategy: (attempts, type, err, job) => {
        if (type !== RETRY_BACKOFF) throw new Error(`unknown backoff type ${type}`);
        return retryBackoff(attempts, type, err, job);
      },
    },
  });
  // Channels are delivered in parallel; within a channel one job paces its own posts.
  const deliver = new Worker(QUEUES.deliver, dispatch(QUEUES.deliver), {
    connection,
    prefix,
    concurrency: deps.config.workers.deliverConcurrency,
  });
  const actions = new Worker(QUEUES.actions, dispatch(QUEUES.actions), {
    connection,
    prefix,
    concurrency: deps.config.workers.actionsConcurrency,
  });
  // A request's intent ends with its last job: when that job completes (and schedules no follow-up
  // carrying the intent) or fails for good.
  actions.on('completed', (job: Job<ActionRequest>, result: unknown) => {
    if (job.data.intent && !continues(job.name, result)) void releaseIntent(deps, job);
  });
  actions.on('failed', (job: Job<ActionRequest> | undefined, err: Error) => {
    if (!job?.data.intent) return;
    const final = err instanceof UnrecoverableError || err.name === 'UnrecoverableError';
    if (final || job.attemptsMade >= (job.opts.attempts ?? 1)) void releaseIntent(deps, job);
  });
  for (const w of [scan, deliver, actions]) {
    w.on('error', (err) => {
      if (isConnectionError(err)) deps.logger.debug({ err: err.message, queue: w.name }, 'worker lost Redis');
      else deps.logger.error({ err: err.message, queue: w.name }, 'worker error');
    });
    w.on('failed', (job, err) =>
      deps.logger.error(
        { jobId: job?.id, name: job?.name, attempts: job?.attemptsMade, err: err.message },
        'job failed',
      ),
    );
  }
  return {
    scan,
    deliver,
    actions,
    running: () => [scan, deliver, actions].every((w) => w.isRunning()),
    async close() {
      await Promise.all([scan.close(), deliver.close(), actions.close()]);
    },
  };
}

/** Whether a completed job handed its request on to a follow-up (a rescan's check, a recommendation's poll). */
function continues(name: string, result: unknown): boolean {
  const outcome = (result as { outcome?: string } | null)?.outcome;
  if (name === JOBS.rescan) return outcome === 'succeeded';
  if (name === JOBS.recommend || name === JOBS.recommendPoll) return outcome === 'polling';
  return false;
}

async function releaseIntent(deps: JobDeps, job: Job<ActionRequest>): Promise<void> {
  const intent = job.data.intent;
  if (!intent) return;
  await deps.intents
    .release(intent.key, intent.token)
    .catch((err: unknown) =>
      deps.logger.warn(
        { err: (err as Error).message, jobId: job.id },
        'could not release the request; it expires',
      ),
    );
}
