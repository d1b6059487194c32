// BullMQ workers: one per queue, each running the handler its job's name has in HANDLERS. Every job
// name has a handler (the type says so, and createWorkers checks it at start-up), so a job without
// one is found when the bot starts, not when the job runs.
import { DelayedError, type Job, UnrecoverableError, Worker } from 'bullmq';
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
import {
  createSimilarRule,
  deleteArchiveRule,
  listArchiveRules,
  previewArchiveRule,
} from './archive-rules.ts';
import { createAnalyzerJob } from './create-analyzer.ts';
import { deliverChannel } from './deliver.ts';
import type { JobDeps } from './deps.ts';
import { runDigest } from './digest.ts';
import { deleteKey, offerKeyDeletion } from './fixes/delete-key.ts';
import { fixAction, undoFix } from './fixes/run.ts';
import { explainOwnersJob } from './owners.ts';
import { pollPolicyGeneration } from './policy/poll.ts';
import { requestPolicyGeneration } from './policy/request.ts';
import { startPolicyGeneration } from './policy/start.ts';
import { validatePolicyJob } from './policy/validate.ts';
import { endQuarantine } from './quarantine-end.ts';
import { recommend, recommendPoll } from './recommend.ts';
import { retryBackoff } from './retry.ts';
import { deleteRole, deleteRolePreview, restoreRole } from './role-actions.ts';
import { finalizeScan, runScan, scanAnalyzer } from './scan.ts';

/**
 * `signal` is aborted when the process shuts down and the grace period is running out: a handler
 * that checks it at safe points (`signal?.throwIfAborted()` between outbox events, between listing
 * pages) stops there, and its job goes back to the queue for another worker.
 */
export type JobHandler<N extends JobName> = (
  deps: JobDeps,
  job: Job<JobPayloads[N]>,
  signal?: AbortSignal,
) => Promise<unknown>;
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
  [JOBS.deleteRole]: (deps, job) => deleteRole(deps, job),
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
  [JOBS.keyDeletionOffer]: offerKeyDeletion,
  [JOBS.deleteKey]: deleteKey,
  [JOBS.quarantineEnd]: endQuarantine,
  [JOBS.archiveRulePreview]: previewArchiveRule,
  [JOBS.archiveRuleCreate]: createSimilarRule,
  [JOBS.archiveRuleDelete]: deleteArchiveRule,
  [JOBS.archiveRulesList]: listArchiveRules,
  [JOBS.createAnalyzer]: createAnalyzerJob,
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
  /**
   * Stops taking jobs and lets running ones finish. With `graceMs`, at most that long: near its end
   * running jobs are asked to stop (their signal) and go back to the queue; whatever still runs at
   * the end is left to BullMQ's stalled-job check (another worker takes it over once its lock expires).
   */
  close(opts?: { graceMs?: number }): Promise<{ handedBack: number; leftRunning: number }>;
}

/** A job handed back at shutdown is due this long after the grace ends (the process has exited). */
const HAND_BACK_DELAY_MS = 1000;

/** The abort reason of a job stopped by a shutdown. */
export const SHUTDOWN_REASON = 'worker shutting down';

/** `connection` must be a blocking-capable connection (maxRetriesPerRequest: null). */
export function createWorkers(deps: JobDeps, connection: Redis, handlers: JobHandlers = HANDLERS): Workers {
  const missing = missingHandlers(handlers);
  if (missing.length) throw new Error(`no handler for job ${missing.join(', ')}`);
  const prefix = bullPrefix(deps.config.redis.keyPrefix);
  /** Jobs running in this process, so a shutdown knows what it waits for. */
  const active = new Set<string>();
  let handedBack = 0;
  let shutdownEnd = 0;
  const dispatch = (queue: QueueName) => async (job: Job, token?: string, signal?: AbortSignal) => {
    const name = job.name;
    if (!isJobName(name) || JOB_SPECS[name].queue !== queue) {
      throw new UnrecoverableError(`unknown job ${name} on queue ${queue}`);
    }
    const slot = `${queue}/${job.id}`;
    active.add(slot);
    try {
      return await (handlers[name] as JobHandler<typeof name>)(
        deps,
        job as Job<JobPayloads[typeof name]>,
        signal,
      );
    } catch (err) {
      // Stopped by the shutdown at a safe point: back to the queue, no attempt spent. Due a moment
      // after this process is gone (not at once: this worker's own fetch, still blocked on Redis
      // while paused, would take a waiting job straight back).
      if (signal?.aborted && signal.reason === SHUTDOWN_REASON && token) {
        await job.moveToDelayed(Math.max(Date.now(), shutdownEnd) + HAND_BACK_DELAY_MS, token);
        handedBack++;
        deps.logger.info({ jobId: job.id, name }, 'job handed back to the queue at shutdown');
        throw new DelayedError();
      }
      throw err;
    } finally {
      active.delete(slot);
    }
  };
  // Every job is idempotent, so a job whose worker died is taken over and resumes; BullMQ's default
  // (1) would fail it for good after a second crash.
  const stalled = {
    maxStalledCount: deps.config.workers.maxStalledCount,
    stalledInterval: deps.config.workers.stalledIntervalMs,
    lockDuration: deps.config.workers.lockMs,
  };
  const scan = new Worker(QUEUES.scan, dispatch(QUEUES.scan), {
    connection,
    prefix,
    concurrency: scanConcurrency(deps.config),
    ...stalled,
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
    ...stalled,
  });
  const actions = new Worker(QUEUES.actions, dispatch(QUEUES.actions), {
    connection,
    prefix,
    concurrency: deps.config.workers.actionsConcurrency,
    ...stalled,
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
    async close({ graceMs } = {}) {
      const all = [scan, deliver, actions];
      if (graceMs === undefined) {
        await Promise.all(all.map((w) => w.close()));
        return { handedBack, leftRunning: 0 };
      }
      const end = Date.now() + graceMs;
      shutdownEnd = end;
      // The last quarter of the grace (at most 3 s) is for handing back what has not finished.
      const handBackAt = end - Math.min(3000, graceMs / 4);
      await Promise.all(all.map((w) => w.pause(true)));
      await until(() => active.size === 0, handBackAt);
      if (active.size > 0) {
        deps.logger.warn({ running: [...active] }, 'shutdown grace running out; handing back running jobs');
        for (const w of all) w.cancelAllJobs(SHUTDOWN_REASON);
        await until(() => active.size === 0, end);
      }
      const leftRunning = active.size;
      if (leftRunning > 0) {
        deps.logger.warn(
          { running: [...active] },
          'jobs still running at the end of the shutdown grace; another worker takes them over',
        );
      }
      await Promise.all(all.map((w) => w.close(leftRunning > 0)));
      return { handedBack, leftRunning };
    },
  };
}

/**
 * Scan jobs one process runs at once: `scan.concurrency`, and at least enough for every analyzer of
 * a scan (external, internal and unused access in every region) plus the scan's own step. Each
 * region's requests are paced by its own token bucket (aws.rateLimits): an analyzer job waiting for
 * its region's tokens costs nothing, while a region none of whose jobs runs leaves its rate unused
 * and makes the scan longer than its busiest region needs.
 */
export function scanConcurrency(config: Pick<JobDeps['config'], 'scan' | 'regions'>): number {
  return Math.max(config.scan.concurrency, 3 * config.regions.length + 1);
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

/** Resolves when `done()` or at `deadline` (epoch ms), checking every 50 ms. */
async function until(done: () => boolean, deadline: number): Promise<void> {
  while (!done() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
}
