// policy-start: the slot holder only. StartPolicyGeneration (clientToken = request id) and the
// progress note, then the first poll as a delayed job. A Conflict (a generation started outside the
// bot) keeps the slot and the place and tries again later; a quota refusal ends the request.
import { type Job, UnrecoverableError } from 'bullmq';
import {
  generationConflictNote,
  generationFailedMessage,
  generationQuotaNote,
  policyFailedNote,
} from '../../blocks/policy.ts';
import { AwsError } from '../../src/aws/errors.ts';
import { accessRoleFor, pollDelayMs } from '../../src/config/policy-generation.ts';
import { enqueue, JOBS, type PolicyStepData } from '../../src/queue/index.ts';
import type { JobDeps } from '../deps.ts';
import { onceKey } from '../post-once.ts';
import { failureMessage, isFinalFailure } from '../retry.ts';
import { tell } from '../tell.ts';
import { finish, schedulePoll } from './account-queue.ts';
import { auditGeneration } from './audit.ts';
import { postToAnchor } from './messages.ts';
import { noteProgress, openStep } from './step.ts';

const DAY_MS = 86_400_000;

export async function startPolicyGeneration(
  deps: JobDeps,
  job: Job<PolicyStepData>,
): Promise<{ outcome: string }> {
  const { requestId, accountId, attempt } = job.data;
  const step = await openStep(deps, job);
  if (!step) return { outcome: 'stale' };
  const { cfg, req, region, subject } = step;
  if ((await deps.policyRequests.holder(accountId)) !== requestId) return { outcome: 'not-holder' };
  if (req.awsJobId) {
    await schedulePoll(deps, req, 0);
    return { outcome: 'running' };
  }

  const now = deps.now();
  const recent = await deps.policyRequests.recentStarts(accountId, now);
  const refuseQuota = async (error: string) => {
    const oldest = recent[0] ?? now.getTime();
    await tell(
      deps,
      req,
      generationQuotaNote({ accountId, quota: cfg.dailyQuota, tryAfter: new Date(oldest + DAY_MS) }),
    );
    await auditGeneration(deps, req, 'failed', { error });
    await finish(deps, req);
    return { outcome: 'quota' };
  };
  if (recent.length >= cfg.dailyQuota) {
    return refuseQuota(`daily limit of ${cfg.dailyQuota} policy generations reached in account ${accountId}`);
  }

  const trails = (req.trailArn ? [req.trailArn] : cfg.trails).map((cloudTrailArn) =>
    req.regions === 'all'
      ? { cloudTrailArn, allRegions: true }
      : { cloudTrailArn, regions: req.regions as string[] },
  );
  try {
    req.awsJobId = await deps.policy.startGeneration({
      accountId,
      region,
      principalArn: req.principalArn,
      trails,
      accessRoleArn: accessRoleFor(cfg, accountId),
      startTime: new Date(now.getTime() - req.days * DAY_MS),
      endTime: now,
      clientToken: requestId,
    });
  } catch (err) {
    if (err instanceof AwsError && err.kind === 'conflict') {
      const since = req.conflictSince ?? now.toISOString();
      if (now.getTime() - Date.parse(since) > cfg.maxWaitMinutes * 60_000) {
        const message = `another policy generation kept account ${accountId} busy for over ${cfg.maxWaitMinutes} minutes`;
        await tell(deps, req, policyFailedNote(`generate a policy for ${req.principalArn}`, message));
        await auditGeneration(deps, req, 'failed', { error: message });
        await finish(deps, req);
        return { outcome: 'gave-up' };
      }
      const delay = pollDelayMs(cfg, attempt);
      if (!req.conflictSince)
        await tell(deps, req, generationConflictNote({ accountId, retryInSeconds: delay / 1000 }));
      req.status = 'conflict';
      req.conflictSince = since;
      req.startAttempt = attempt + 1;
      await deps.policyRequests.save(req);
      await enqueue(deps.queues, JOBS.policyStart, { ...job.data, attempt: attempt + 1 }, { delay });
      return { outcome: 'conflict' };
    }
    if (err instanceof AwsError && err.kind === 'quota') return refuseQuota(`${err.code}: ${err.message}`);
    const final = isFinalFailure(err, job, { nonAwsIsFinal: true });
    if (!final) throw err;
    const message = failureMessage(err);
    await postToAnchor(
      deps,
      req,
      generationFailedMessage(subject, {
        status: 'ERROR',
        error: { code: err instanceof AwsError ? err.code : 'Error', message },
      }),
      onceKey(job, 'result'),
    ).catch(() => undefined);
    await tell(deps, req, policyFailedNote(`generate a policy for ${req.principalArn}`, message));
    await auditGeneration(deps, req, 'failed', { error: message });
    await finish(deps, req);
    throw new UnrecoverableError(message);
  }
  await deps.policyRequests.recordStart(accountId, requestId, now);
  req.status = 'running';
  req.startedAt = now.toISOString();
  req.polls = 0;
  await noteProgress(deps, job, step, {
    polls: 0,
    startedAt: now,
    now,
    nextCheckSeconds: pollDelayMs(cfg, 0) / 1000,
  });
  await deps.policyRequests.save(req);
  await schedulePoll(deps, req, 0);
  return { outcome: 'started' };
}
