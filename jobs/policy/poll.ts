// policy-poll: a delayed job per check of a running generation (no worker sleeps waiting for AWS).
// IN_PROGRESS: the progress note is updated in place and the next poll scheduled, with a doubling
// delay; SUCCEEDED: the report and the policy; FAILED, CANCELED, past maxWaitMinutes (canceled by
// the bot) or unreadable: why. Whatever the outcome, the request ends and the account's next one starts.
import { type Job, UnrecoverableError } from 'bullmq';
import {
  generationEndedNote,
  generationFailedMessage,
  generationResultMessage,
  policyDocumentMessages,
} from '../../blocks/policy.ts';
import { AwsError } from '../../src/aws/errors.ts';
import type { GeneratedPolicyResult } from '../../src/aws/policy.ts';
import { pollDelayMs, slotTtlMs } from '../../src/config/policy-generation.ts';
import type { PolicyStepData } from '../../src/queue/index.ts';
import type { PolicyRequestState } from '../../src/store/policy-requests.ts';
import type { JobDeps } from '../deps.ts';
import { onceKey } from '../post-once.ts';
import { isFinalFailure } from '../retry.ts';
import { finish, schedulePoll } from './account-queue.ts';
import { auditGeneration } from './audit.ts';
import { postToAnchor, showProgress, subjectOf } from './messages.ts';
import { buildReport } from './report.ts';
import { noteProgress, openStep } from './step.ts';

export async function pollPolicyGeneration(
  deps: JobDeps,
  job: Job<PolicyStepData>,
): Promise<{ outcome: string }> {
  const { requestId, accountId, attempt } = job.data;
  const step = await openStep(deps, job);
  if (!step?.req.awsJobId) return { outcome: 'stale' };
  const { cfg, req, region, subject } = step;
  const awsJobId = step.req.awsJobId;
  let result: GeneratedPolicyResult;
  try {
    result = await deps.policy.getGeneratedPolicy(accountId, region, awsJobId);
  } catch (err) {
    // Retried by BullMQ while it may help; after that the request ends here, so the account's
    // queue moves on instead of waiting for the slot to expire.
    const final = isFinalFailure(err, job, { nonAwsIsFinal: true });
    if (!final) throw err;
    const code = err instanceof AwsError ? err.code : 'Error';
    await reportEnd(deps, job, req, 'ERROR', { code, message: (err as Error).message });
    throw new UnrecoverableError((err as Error).message);
  }
  const now = deps.now();
  const startedAt = new Date(req.startedAt ?? now.toISOString());
  req.polls = attempt + 1;

  if (result.status === 'IN_PROGRESS') {
    if (now.getTime() - startedAt.getTime() > cfg.maxWaitMinutes * 60_000) {
      await deps.policy.cancelGeneration(accountId, region, awsJobId).catch(() => undefined);
      return reportEnd(deps, job, req, 'TIMED_OUT', {
        code: 'TIMED_OUT',
        message: `still running after ${cfg.maxWaitMinutes} minutes; canceled so the account's next request can run`,
      });
    }
    // Keep the slot while this generation runs.
    await deps.policyRequests.renewSlot(accountId, requestId, slotTtlMs(cfg));
    await noteProgress(deps, job, step, {
      polls: req.polls,
      startedAt,
      now,
      nextCheckSeconds: pollDelayMs(cfg, attempt + 1) / 1000,
    });
    await deps.policyRequests.save(req);
    await schedulePoll(deps, req, attempt + 1);
    return { outcome: 'in-progress' };
  }
  if (result.status === 'SUCCEEDED') {
    if (!req.resultPosted) {
      const report = await buildReport(deps, req, result);
      await showProgress(
        deps,
        req,
        generationEndedNote(subject, 'done, the result is below'),
        onceKey(job, 'progress'),
      ).catch(() => undefined);
      await postToAnchor(
        deps,
        req,
        generationResultMessage({ ...subject, ...report, result }),
        onceKey(job, 'result'),
      );
      const documents = policyDocumentMessages(result.policies);
      for (const [i, m] of documents.entries()) {
        await postToAnchor(deps, req, m, onceKey(job, `policy-${i}`));
      }
      req.resultPosted = true;
      await deps.policyRequests.save(req);
      const c = report.comparison;
      await auditGeneration(deps, req, 'succeeded', {
        detail: [
          c ? `keeps ${c.kept} of ${c.current} actions` : 'no comparison',
          `complete ${result.isComplete !== false}`,
          report.noNewAccess ? `CheckNoNewAccess ${report.noNewAccess.map((r) => r.result).join(',')}` : '',
          `ValidatePolicy ${report.findings.length} findings`,
        ]
          .filter(Boolean)
          .join('; '),
      });
    }
    await finish(deps, req);
    return { outcome: 'succeeded' };
  }
  return reportEnd(deps, job, req, result.status, result.error);
}

/** A generation that ended without a policy: the progress note and a message say why, then it ends. */
async function reportEnd(
  deps: JobDeps,
  job: Job<PolicyStepData>,
  req: PolicyRequestState,
  status: 'FAILED' | 'CANCELED' | 'TIMED_OUT' | 'ERROR',
  error?: { code: string; message: string },
): Promise<{ outcome: string }> {
  const subject = subjectOf(req);
  const word = {
    FAILED: 'failed',
    CANCELED: 'canceled',
    TIMED_OUT: 'timed out',
    ERROR: 'could not be followed',
  }[status];
  await showProgress(deps, req, generationEndedNote(subject, word), onceKey(job, 'progress')).catch(
    () => undefined,
  );
  await postToAnchor(
    deps,
    req,
    generationFailedMessage(subject, { status, ...(error ? { error } : {}) }),
    onceKey(job, 'result'),
  );
  await auditGeneration(deps, req, 'failed', {
    detail: status.toLowerCase(),
    ...(error ? { error: `${error.code}: ${error.message}` } : { error: status.toLowerCase() }),
  });
  await finish(deps, req);
  return { outcome: status.toLowerCase() };
}
