// BullMQ workers: one per queue, dispatching on the job name.
import { type Job, UnrecoverableError, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import { processAction } from './actions.ts';
import { agingSweep } from './aging.ts';
import { deliverChannel } from './deliver.ts';
import type { JobDeps } from './deps.ts';
import { runDigest } from './digest.ts';
import { explainOwnersJob } from './owners.ts';
import {
  pollPolicyGeneration,
  requestPolicyGeneration,
  startPolicyGeneration,
  validatePolicyJob,
} from './policy.ts';
import {
  type ActionRequest,
  bullPrefix,
  type DeleteRolePreviewData,
  type DeliverData,
  isConnectionError,
  JOBS,
  type OwnersData,
  type PolicyRequestData,
  type PolicyStepData,
  type PolicyValidateData,
  QUEUES,
  type RecommendPollData,
  type RestoreRoleData,
  type ScanAnalyzerData,
  type ScanFinalizeData,
  type ScanRunData,
} from './queues.ts';
import { recommend, recommendPoll } from './recommend.ts';
import { RETRY_BACKOFF, retryBackoff } from './retry.ts';
import { deleteRole, deleteRolePreview, restoreRole } from './role-actions.ts';
import { finalizeScan, runScan, scanAnalyzer } from './scan.ts';

export interface Workers {
  scan: Worker;
  deliver: Worker;
  actions: Worker;
  /** Every worker is running (not closed, not closing). */
  running(): boolean;
  close(): Promise<void>;
}

/** `connection` must be a blocking-capable connection (maxRetriesPerRequest: null). */
export function createWorkers(
  deps: JobDeps,
  connection: Redis,
  opts: { deliverConcurrency?: number } = {},
): Workers {
  const prefix = bullPrefix(deps.config.redis.keyPrefix);
  const scan = new Worker(
    QUEUES.scan,
    async (job: Job) => {
      switch (job.name) {
        case JOBS.scanRun:
          return runScan(deps, job as Job<ScanRunData>);
        case JOBS.scanAnalyzer:
          return scanAnalyzer(deps, job as Job<ScanAnalyzerData>);
        case JOBS.scanFinalize:
          return finalizeScan(deps, job as Job<ScanFinalizeData>);
        case JOBS.agingSweep:
          return agingSweep(deps);
        case JOBS.digestRun:
          return runDigest(deps);
        default:
          throw new UnrecoverableError(`unknown job ${job.name} on queue ${QUEUES.scan}`);
      }
    },
    {
      connection,
      prefix,
      concurrency: deps.config.scan.concurrency,
      settings: {
        backoffStrategy: (attempts, type, err, job) => {
          if (type !== RETRY_BACKOFF) throw new Error(`unknown backoff type ${type}`);
          return retryBackoff(attempts, type, err, job);
        },
      },
    },
  );
  const deliver = new Worker(QUEUES.deliver, async (job: Job<DeliverData>) => deliverChannel(deps, job), {
    connection,
    prefix,
    // Channels are delivered in parallel; within a channel one job paces its own posts.
    concurrency: opts.deliverConcurrency ?? 8,
  });
  const actions = new Worker(
    QUEUES.actions,
    async (job: Job<ActionRequest>) => {
      switch (job.name) {
        case JOBS.deleteRolePreview:
          return deleteRolePreview(deps, job as Job<DeleteRolePreviewData>);
        case JOBS.deleteRole:
          return deleteRole(deps, job);
        case JOBS.restoreRole:
          return restoreRole(deps, job as Job<RestoreRoleData>);
        case JOBS.owners:
          return explainOwnersJob(deps, job as unknown as Job<OwnersData>);
        case JOBS.recommend:
          return recommend(deps, job);
        case JOBS.recommendPoll:
          return recommendPoll(deps, job as Job<RecommendPollData>);
        case JOBS.policyRequest:
          return requestPolicyGeneration(deps, job as unknown as Job<PolicyRequestData>);
        case JOBS.policyStart:
          return startPolicyGeneration(deps, job as unknown as Job<PolicyStepData>);
        case JOBS.policyPoll:
          return pollPolicyGeneration(deps, job as unknown as Job<PolicyStepData>);
        case JOBS.policyValidate:
          return validatePolicyJob(deps, job as unknown as Job<PolicyValidateData>);
        default:
          return processAction(deps, job);
      }
    },
    {
      connection,
      prefix,
      concurrency: 4,
    },
  );
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
