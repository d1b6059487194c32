// Show recommendation (unused-permission findings). AWS makes recommendations asynchronously
// (GenerateFindingRecommendation, then GetFindingRecommendation until SUCCEEDED or FAILED; AWS says it
// usually takes about 20 seconds). No worker waits: the `recommend` job starts it and each check is
// a delayed `recommend-poll` job, 5 s, 10 s, 20 s, 40 s, then every 60 s, until RECOMMEND_MAX_WAIT_MS
// has passed since the request, when the person is told it timed out.
//
// Reuse: GetFindingRecommendation is asked first. A SUCCEEDED recommendation completed after the
// finding last changed (AWS `updatedAt`) and less than RECOMMEND_REUSE_MS ago is posted as it is,
// without generating again; an IN_PROGRESS one is polled rather than started twice. Anything else
// (none, FAILED, older) is generated anew: AWS replaces the finding's recommendation when asked again.
import { type Job, UnrecoverableError } from 'bullmq';
import { differenceInMilliseconds } from 'date-fns/differenceInMilliseconds';
import { parseISO } from 'date-fns/parseISO';
import { actionFailedNote, readOnlyNote, staleNote } from '../blocks/receipts.ts';
import {
  recommendationFailedMessage,
  recommendationMessage,
  recommendationTimedOutMessage,
} from '../blocks/recommendation.ts';
import { AwsError } from '../src/aws/errors.ts';
import type { FindingRecommendation } from '../src/aws/types.ts';
import type { Finding } from '../src/findings/model.ts';
import { type ActionRequest, enqueue, JOBS, type RecommendPollData } from '../src/queue/index.ts';
import { readCard } from './card.ts';
import type { JobDeps } from './deps.ts';
import { redraw, showInSlack, threadReplyOnce, withMissed } from './finding-message.ts';
import { onceKey } from './post-once.ts';
import { failureMessage, isFinalFailure } from './retry.ts';
import { tell } from './tell.ts';

/** Delay before the first check, doubled for each further check up to RECOMMEND_POLL_MAX_DELAY_MS. */
export const RECOMMEND_POLL_FIRST_DELAY_MS = 5_000;
export const RECOMMEND_POLL_MAX_DELAY_MS = 60_000;
/** After this long since the request the bot stops asking and says so. */
export const RECOMMEND_MAX_WAIT_MS = 5 * 60_000;
/** A SUCCEEDED recommendation younger than this (and newer than the finding) is reused. */
export const RECOMMEND_REUSE_MS = 24 * 3600_000;

/** Delay before check number `poll` (1-based): 5 s, 10 s, 20 s, 40 s, 60 s, 60 s, … */
export function recommendPollDelay(poll: number): number {
  return Math.min(RECOMMEND_POLL_FIRST_DELAY_MS * 2 ** Math.max(0, poll - 1), RECOMMEND_POLL_MAX_DELAY_MS);
}

export interface RecommendResult {
  outcome: 'posted' | 'failed' | 'polling' | 'timed-out' | 'stale';
  status?: string;
}

type Audit = (
  outcome: 'succeeded' | 'failed' | 'stale',
  extra?: { detail?: string; error?: string },
) => Promise<unknown>;

function auditOf(deps: JobDeps, job: Job<ActionRequest>): Audit {
  return (outcome, extra = {}) =>
    deps.audit.record({
      actor: job.data.userId,
      action: 'recommend',
      outcome,
      findingId: job.data.findingId,
      region: job.data.region,
      requestId: job.id,
      ...extra,
    });
}

/** Whether a recommendation AWS already has can be shown instead of generating a new one. */
export function reusable(rec: FindingRecommendation, finding: Finding, now: Date): boolean {
  if (rec.status !== 'SUCCEEDED' || !rec.completedAt) return false;
  const done = Date.parse(rec.completedAt);
  return done >= Date.parse(finding.updatedAt) && now.getTime() - done < RECOMMEND_REUSE_MS;
}

export async function recommend(deps: JobDeps, job: Job<ActionRequest>): Promise<RecommendResult> {
  const data = job.data;
  const audit = auditOf(deps, job);
  return guarded(deps, job, audit, async () => {
    // AWS recommends per finding id: the polls ask through the same id and analyzer.
    const { finding, state, acting, managedBy } = await readCard(deps, data, 'ACTIVE');
    if (managedBy) {
      // GenerateFindingRecommendation would write to an analyzer another service owns.
      await tell(deps, data, readOnlyNote({ action: 'generate a recommendation for', managedBy }));
      await audit('failed', { error: `read-only: the analyzer is managed by ${managedBy}` });
      return { outcome: 'stale', status: 'ACTIVE' };
    }
    const analyzer = { arn: acting.analyzerArn, region: acting.region };
    const through = {
      analyzerArn: acting.analyzerArn,
      region: acting.region,
      ...(acting.id !== data.findingId ? { awsId: acting.id } : {}),
    };
    if (finding?.status !== 'ACTIVE') {
      if (finding)
        await showInSlack(deps, [], () => redraw(deps, finding, state, { status: finding.status }));
      await tell(deps, data, staleNote({ status: finding?.status ?? 'GONE', action: 'recommend' }));
      await audit('stale', { detail: `finding is ${finding?.status ?? 'gone'}` });
      return { outcome: 'stale', status: finding?.status ?? 'GONE' };
    }
    if (finding.findingType !== 'UnusedPermission') {
      throw new UnrecoverableError('AWS makes recommendations only for unused-permission findings');
    }
    const existing = await deps.analyzers.getFindingRecommendation(analyzer, acting.id);
    if (existing && reusable(existing, finding, deps.now())) {
      return publish(deps, job, audit, existing, finding, existing.completedAt);
    }
    if (existing?.status !== 'IN_PROGRESS') {
      await deps.analyzers.generateFindingRecommendation(analyzer, acting.id);
    }
    await schedulePoll(deps, { ...data, ...through, poll: 1, startedAt: deps.now().toISOString() });
    return { outcome: 'polling', status: 'IN_PROGRESS' };
  });
}

export async function recommendPoll(deps: JobDeps, job: Job<RecommendPollData>): Promise<RecommendResult> {
  const data = job.data;
  const analyzer = { arn: data.analyzerArn, region: data.region };
  const audit = auditOf(deps, job);
  return guarded(deps, job, audit, async () => {
    const awsId = data.awsId ?? data.findingId;
    const rec = await deps.analyzers.getFindingRecommendation(analyzer, awsId);
    if (!rec) {
      // Started, then gone: AWS no longer has it (the finding was resolved or replaced).
      return fail(
        deps,
        job,
        audit,
        'ResourceNotFound',
        'AWS no longer has a recommendation for this finding.',
      );
    }
    if (rec.status === 'SUCCEEDED') {
      const read = await deps.analyzers.getFinding(analyzer, awsId).catch(() => null);
      return publish(deps, job, audit, rec, read && { ...read, id: data.findingId });
    }
    if (rec.status === 'FAILED') {
      return fail(deps, job, audit, rec.error?.code ?? 'FAILED', rec.error?.message ?? 'No reason given.');
    }
    const next = data.poll + 1;
    const waited = differenceInMilliseconds(deps.now(), parseISO(data.startedAt));
    if (waited + recommendPollDelay(next) > RECOMMEND_MAX_WAIT_MS) {
      const minutes = Math.round(RECOMMEND_MAX_WAIT_MS / 60_000);
      const state = await deps.store.get(data.findingId);
      const msg = recommendationTimedOutMessage({ userId: data.userId, minutes });
      await showInSlack(deps, [], () => threadReplyOnce(deps, state, msg, onceKey(job, 'result')));
      await tell(deps, data, msg);
      await audit('failed', { error: `still ${rec.status} after ${minutes} minutes; stopped asking` });
      return { outcome: 'timed-out', status: rec.status };
    }
    await schedulePoll(deps, { ...data, poll: next });
    return { outcome: 'polling', status: rec.status };
  });
}

async function schedulePoll(deps: JobDeps, data: RecommendPollData): Promise<void> {
  await enqueue(deps.queues, JOBS.recommendPoll, data, { delay: recommendPollDelay(data.poll) });
}

async function publish(
  deps: JobDeps,
  job: Job<ActionRequest>,
  audit: Audit,
  rec: FindingRecommendation,
  finding: Finding | null,
  reusedFrom?: string,
): Promise<RecommendResult> {
  const data = job.data;
  const state = await deps.store.get(data.findingId);
  const services = finding?.details.kind === 'unusedPermission' ? finding.details.services : undefined;
  const msg = recommendationMessage({
    userId: data.userId,
    resourceArn: rec.resourceArn ?? finding?.resourceArn ?? state?.resourceArn ?? data.findingId,
    steps: rec.steps,
    ...(services ? { services } : {}),
    ...(reusedFrom ? { reusedFrom } : {}),
    // Apply recommendation acts on the card (its own id), through the analyzer that made it.
    apply: { f: data.findingId, a: data.analyzerArn, r: data.region },
  });
  // A finding without a message (never posted), or whose channel no longer takes the bot's
  // messages, has no thread to answer in: the person who asked gets it.
  const missed: string[] = [];
  if (state?.channel && state.ts) {
    await showInSlack(deps, missed, () => threadReplyOnce(deps, state, msg, onceKey(job, 'result')));
  }
  if (!state?.channel || !state.ts || missed.length) await tell(deps, data, msg);
  const actions = rec.steps.map((s) => s.action).join(', ') || 'no change';
  await audit(
    'succeeded',
    withMissed(
      `${rec.steps.length} steps (${actions})${reusedFrom ? `, reused from ${reusedFrom}` : ''}`,
      missed,
    ),
  );
  return { outcome: 'posted', status: 'SUCCEEDED' };
}

async function fail(
  deps: JobDeps,
  job: Job<ActionRequest>,
  audit: Audit,
  code: string,
  message: string,
): Promise<RecommendResult> {
  const data = job.data;
  const state = await deps.store.get(data.findingId);
  const msg = recommendationFailedMessage({ userId: data.userId, code, message });
  await showInSlack(deps, [], () => threadReplyOnce(deps, state, msg, onceKey(job, 'result')));
  await tell(deps, data, msg);
  await audit('failed', { error: `${code}: ${message}` });
  return { outcome: 'failed', status: 'FAILED' };
}

/**
 * Errors, as the action frame (jobs/actions/frame.ts) handles them: what retrying cannot fix (or the last attempt) is told and
 * audited once. An AWS refusal of the request itself (ValidationException, e.g. for an unsupported
 * principal) is told in words like a FAILED recommendation.
 */
async function guarded(
  deps: JobDeps,
  job: Job<ActionRequest>,
  audit: Audit,
  run: () => Promise<RecommendResult>,
): Promise<RecommendResult> {
  try {
    return await run();
  } catch (err) {
    const data = job.data;
    if (err instanceof AwsError && err.kind === 'invalid') {
      return fail(deps, job, audit, err.code, err.message);
    }
    const final = isFinalFailure(err, job, { permanent: ['access-denied', 'not-found'] });
    if (final) {
      const message = failureMessage(err);
      await audit('failed', { error: message });
      await tell(deps, data, actionFailedNote({ action: 'recommend', error: message })).catch(
        () => undefined,
      );
      if (!(err instanceof UnrecoverableError)) throw new UnrecoverableError(message);
    }
    throw err;
  }
}
