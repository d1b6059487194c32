// What people ask for from Slack, done by the worker: archive (with an optional expiry), unarchive,
// rescan. Each job re-reads the finding from AWS first: a click on a finding that is no longer
// ACTIVE (or no longer archived) changes nothing in AWS, redraws the message and tells the person.

import { type Job, UnrecoverableError } from 'bullmq';
import { addDays, differenceInMilliseconds, parseISO } from 'date-fns';
import { type FindingView, findingMessage, findingMessageKey } from '../blocks/finding.ts';
import {
  actionFailedNote,
  archivedReceipt,
  notShownNote,
  readOnlyNote,
  rescanReceipt,
  snoozedReceipt,
  staleNote,
  unarchivedReceipt,
  unsnoozedReceipt,
} from '../blocks/receipts.ts';
import type { Finding } from '../src/findings/model.ts';
import { assessSeverity } from '../src/findings/severity.ts';
import { type ActionRequest, type ArchiveData, enqueue, JOBS, type SnoozeData } from '../src/queue/index.ts';
import { CHANNEL_UNUSABLE_ERRORS, type OutgoingMessage, SlackError } from '../src/slack/client.ts';
import { serviceLinkedAnalyzers } from '../src/store/analyzers.ts';
import type { CardMember, FindingState } from '../src/store/findings.ts';
import { shortHash } from '../src/util/hash.ts';
import { idsByAnalyzer, readCard } from './card.ts';
import type { JobDeps } from './deps.ts';
import { onceKey, postOnce } from './post-once.ts';
import { failureMessage, isFinalFailure } from './retry.ts';
import { tell } from './tell.ts';

export interface ActionResult {
  outcome: 'succeeded' | 'stale';
  status: string;
}

/** How long after StartResourceScan the finding is read again (AWS analyzes asynchronously). */
export const RESCAN_CHECK_DELAY_MS = 60_000;

/** What an action leaves the finding as in AWS (actions that change its status). */
const STATUS_AFTER: Partial<Record<string, string>> = {
  [JOBS.archive]: 'ARCHIVED',
  [JOBS.unarchive]: 'ACTIVE',
  [JOBS.archiveExpiry]: 'ACTIVE',
};

export async function processAction(deps: JobDeps, job: Job<ActionRequest>): Promise<ActionResult> {
  const data = job.data;
  const action = job.name;
  // Every action posts one receipt; a retry after a later step failed does not post it again.
  const receipt = onceKey(job, 'receipt');
  const audit = (
    outcome: 'succeeded' | 'failed' | 'stale',
    extra: { detail?: string; error?: string } = {},
  ) =>
    deps.audit.record({
      actor: data.userId,
      action,
      outcome,
      findingId: data.findingId,
      region: data.region,
      requestId: job.id,
      ...extra,
    });
  // Slack steps that could not be shown (the channel or message is gone); they do not undo the action.
  const missed: string[] = [];
  const shown = (step: () => Promise<unknown>) => showInSlack(deps, missed, step);
  // Set once AWS (or, for a snooze, the finding's state) has changed: from then on the audit records
  // that it succeeded, whatever happens to the messages about it.
  let done: { detail?: string } | undefined;
  const succeeded = async (status: string, detail?: string): Promise<ActionResult> => {
    await audit('succeeded', withMissed(detail, missed));
    if (missed.length) await tell(deps, data, notShownNote({ action, problem: missed.join(', ') }));
    return { outcome: 'succeeded', status };
  };

  try {
    const expected = action === JOBS.unarchive || action === JOBS.archiveExpiry ? 'ARCHIVED' : 'ACTIVE';
    // Through an id of the card whose analyzer still has it in the state the action expects.
    const { finding, state, members, acting, managedBy } = await readCard(deps, data, expected);
    const analyzer = { arn: acting.analyzerArn, region: acting.region };
    if (action === JOBS.rescanCheck && finding?.status !== 'ACTIVE') {
      const status = finding?.status ?? 'RESOLVED';
      if (finding) await shown(() => redraw(deps, finding, state, { status, at: finding.updatedAt }));
      await shown(() =>
        threadReplyOnce(deps, state, rescanReceipt({ userId: data.userId, outcome: 'resolved' }), receipt),
      );
      return { outcome: 'succeeded', status };
    }
    // A retry of a job whose AWS write went through before a later step failed finds the finding
    // already in the state it asked for: it finishes the remaining steps instead of calling it stale.
    const resumed =
      job.attemptsMade > 0 &&
      !!finding &&
      finding.status === STATUS_AFTER[action] &&
      finding.status !== expected;
    if (!finding || (finding.status !== expected && !resumed)) {
      if (finding) await shown(() => redraw(deps, finding, state, { status: finding.status }));
      await tell(deps, data, staleNote({ status: finding?.status ?? 'GONE', action }));
      await audit('stale', { detail: `finding is ${finding?.status ?? 'gone'}` });
      return { outcome: 'stale', status: finding?.status ?? 'GONE' };
    }
    const at = deps.now().toISOString();
    if (managedBy && STATUS_AFTER[action]) {
      // AWS keeps a service-linked analyzer's findings read-only: UpdateFindings would be refused.
      await shown(() => redraw(deps, finding, state, { status: finding.status }));
      await tell(
        deps,
        data,
        readOnlyNote({
          action: action === JOBS.archive ? 'archive' : 'unarchive',
          managedBy,
        }),
      );
      await audit('failed', { error: `read-only: the analyzer is managed by ${managedBy}` });
      return { outcome: 'stale', status: finding.status };
    }

    switch (action) {
      case JOBS.archive: {
        const { reason, until } = data as ArchiveData;
        await setCardStatus(deps, job, members, acting, 'ACTIVE', 'ARCHIVED');
        done = { detail: until ? `${reason} (until ${until})` : reason };
        await deps.store.set(data.findingId, {
          status: 'ARCHIVED',
          archivedBy: data.userId,
          archiveReason: reason,
          archiveUntil: until,
        });
        await shown(() =>
          redraw(deps, finding, state, { status: 'ARCHIVED', at, by: data.userId, reason, until }),
        );
        await shown(() =>
          threadReplyOnce(deps, state, archivedReceipt({ userId: data.userId, reason, until }), receipt),
        );
        if (until) {
          // Midnight UTC at the start of the expiry day.
          const due = parseISO(`${until}T00:00:00Z`);
          await enqueue(
            deps.queues,
            JOBS.archiveExpiry,
            { ...data, userId: 'system', requestTs: until },
            { delay: Math.max(0, differenceInMilliseconds(due, deps.now())) },
          );
        }
        return await succeeded('ARCHIVED', done.detail);
      }
      case JOBS.unarchive:
      case JOBS.archiveExpiry: {
        if (action === JOBS.archiveExpiry && state?.archiveUntil && state.archiveUntil !== data.requestTs) {
          // The archive was renewed or replaced since this expiry was scheduled.
          return { outcome: 'stale', status: 'ARCHIVED' };
        }
        await setCardStatus(deps, job, members, acting, 'ARCHIVED', 'ACTIVE');
        done = action === JOBS.archiveExpiry ? { detail: 'archive expired' } : {};
        await deps.store.clearArchive(data.findingId);
        await deps.store.clearReminders(data.findingId);
        await deps.store.set(data.findingId, { status: 'ACTIVE' });
        await shown(() => redraw(deps, { ...finding, status: 'ACTIVE' }, state, { status: 'ACTIVE' }));
        await shown(() =>
          threadReplyOnce(
            deps,
            state,
            unarchivedReceipt(
              action === JOBS.archiveExpiry
                ? { userId: 'system', expired: data.requestTs }
                : { userId: data.userId },
            ),
            receipt,
          ),
        );
        return await succeeded('ACTIVE', done.detail);
      }
      case JOBS.rescan: {
        if (finding.findingType !== 'ExternalAccess') {
          throw new UnrecoverableError('only external access findings can be rescanned');
        }
        await deps.analyzers.startResourceScan(analyzer, finding.resourceArn, finding.accountId);
        done = {};
        await shown(() =>
          threadReplyOnce(deps, state, rescanReceipt({ userId: data.userId, outcome: 'requested' }), receipt),
        );
        await enqueue(deps.queues, JOBS.rescanCheck, { ...data }, { delay: RESCAN_CHECK_DELAY_MS });
        return await succeeded('ACTIVE');
      }
      case JOBS.rescanCheck: {
        // Still ACTIVE after AWS re-analyzed the resource.
        await shown(() => redraw(deps, finding, state, { status: 'ACTIVE' }));
        await shown(() =>
          threadReplyOnce(
            deps,
            state,
            rescanReceipt({ userId: data.userId, outcome: 'still-active' }),
            receipt,
          ),
        );
        return { outcome: 'succeeded', status: 'ACTIVE' };
      }
      case JOBS.snooze: {
        // Only Redis changes: the aging sweep skips findings whose snoozedUntil is in the future.
        const { days, reason } = data as SnoozeData;
        const snooze = {
          snoozedUntil: addDays(deps.now(), days).toISOString(),
          snoozedBy: data.userId,
          snoozeReason: reason,
        };
        await deps.store.set(data.findingId, snooze);
        done = { detail: `${days} days until ${snooze.snoozedUntil}: ${reason}` };
        await shown(() => redraw(deps, finding, state && { ...state, ...snooze }, { status: 'ACTIVE' }));
        await shown(() =>
          threadReplyOnce(
            deps,
            state,
            snoozedReceipt({ userId: data.userId, days, until: snooze.snoozedUntil, reason }),
            receipt,
          ),
        );
        // At the end the message loses its snooze line and the thread says reminders resume.
        await enqueue(
          deps.queues,
          JOBS.snoozeEnd,
          { ...data, userId: 'system', requestTs: snooze.snoozedUntil },
          { delay: Math.max(0, differenceInMilliseconds(parseISO(snooze.snoozedUntil), deps.now())) },
        );
        return await succeeded('ACTIVE', done.detail);
      }
      case JOBS.unsnooze:
      case JOBS.snoozeEnd: {
        if (action === JOBS.snoozeEnd && state?.snoozedUntil !== data.requestTs) {
          // Ended early, or renewed since this end was scheduled.
          return { outcome: 'stale', status: 'ACTIVE' };
        }
        await deps.store.clearSnooze(data.findingId);
        done = state?.snoozedUntil ? { detail: `was snoozed until ${state.snoozedUntil}` } : {};
        const cleared = state && {
          ...state,
          snoozedUntil: undefined,
          snoozedBy: undefined,
          snoozeReason: undefined,
        };
        await shown(() => redraw(deps, finding, cleared, { status: 'ACTIVE' }));
        await shown(() =>
          threadReplyOnce(
            deps,
            state,
            unsnoozedReceipt(
              action === JOBS.snoozeEnd
                ? { userId: 'system', ended: data.requestTs }
                : { userId: data.userId },
            ),
            receipt,
          ),
        );
        return await succeeded('ACTIVE', done.detail);
      }
      default:
        throw new UnrecoverableError(`unknown action ${action}`);
    }
  } catch (err) {
    const final = isFinalFailure(err, job);
    if (final) {
      const message = failureMessage(err);
      if (done) {
        // AWS did it; only a later step (a message, a follow-up job) failed for good.
        deps.logger.error({ err: message, jobId: job.id }, 'action done in AWS, a later step failed');
        await audit('succeeded', withMissed(done.detail, [...missed, message]));
        await tell(deps, data, notShownNote({ action, problem: message }));
        return { outcome: 'succeeded', status: STATUS_AFTER[action] ?? 'ACTIVE' };
      }
      await audit('failed', { error: message });
      await tell(deps, data, actionFailedNote({ action, error: message })).catch(() => undefined);
      if (!(err instanceof UnrecoverableError)) throw new UnrecoverableError(message);
    }
    throw err;
  }
}

/** Slack errors after which showing the same thing again cannot help: the channel or message is gone. */
const UNSHOWABLE_ERRORS = new Set([...CHANNEL_UNUSABLE_ERRORS, 'message_not_found', 'cant_update_message']);

/**
 * Runs one Slack step that shows what a job did (a redraw, a thread reply). When the channel or the
 * message can no longer take it, the step is logged and its error noted in `missed` instead of
 * failing the job: the action stands, and its audit entry says it was not shown. Other errors
 * (a 5xx, a timeout) are thrown, so BullMQ retries the job.
 */
export async function showInSlack(
  deps: Pick<JobDeps, 'logger'>,
  missed: string[],
  step: () => Promise<unknown>,
): Promise<void> {
  try {
    await step();
  } catch (err) {
    if (!(err instanceof SlackError) || !UNSHOWABLE_ERRORS.has(err.code)) throw err;
    deps.logger.warn({ err: err.message }, 'could not show the outcome in Slack');
    if (!missed.includes(err.code)) missed.push(err.code);
  }
}

/** An audit detail that says what could not be shown in Slack. */
export function withMissed(detail: string | undefined, missed: readonly string[]): { detail?: string } {
  if (missed.length === 0) return detail === undefined ? {} : { detail };
  const note = `not shown in Slack: ${missed.join(', ')}`;
  return { detail: detail ? `${detail}; ${note}` : note };
}

/**
 * Moves every id of the card that is `from` (under a live analyzer) to `to` in AWS, one UpdateFindings
 * per analyzer, and records each id's new status. The acting analyzer's call carries the job id as
 * its client token (a retry is the same request); the others a token derived from it.
 */
async function setCardStatus(
  deps: JobDeps,
  job: Job<ActionRequest>,
  members: CardMember[],
  acting: Pick<CardMember, 'id' | 'analyzerArn' | 'region'>,
  from: 'ACTIVE' | 'ARCHIVED',
  to: 'ACTIVE' | 'ARCHIVED',
): Promise<void> {
  // Ids under a service-linked analyzer are read-only in AWS: they keep their status.
  const readOnly = await serviceLinkedAnalyzers(deps.redis, deps.keys);
  const groups = idsByAnalyzer(members, from, acting).filter((g) => !readOnly.has(g.analyzer.arn));
  for (const [i, group] of groups.entries()) {
    const token = i === 0 ? job.id : `${job.id}-${shortHash(group.analyzer.arn)}`;
    await deps.analyzers.updateFindingStatus(group.analyzer, group.ids, to, token);
    for (const id of group.ids) await deps.store.setIdStatus(job.data.findingId, id, to);
  }
}

/**
 * The view of a finding whose message was posted earlier: routing as it was decided then (from the
 * stored state), severity as now assessed unless given.
 */
export function storedFindingView(
  deps: Pick<JobDeps, 'config' | 'now'>,
  finding: Finding,
  state: FindingState,
  view: NonNullable<FindingView['state']>,
  severity: FindingView['severity'] = assessSeverity(finding, deps.config.severity.overrides),
): FindingView {
  return {
    finding,
    severity,
    route: {
      channel: state.routeChannel,
      rule: state.routeRule ?? 'default',
      reason: `routed to ${state.routeChannel} when first seen`,
    },
    accountName: deps.config.accounts[finding.accountId]?.name,
    consoleUrl: deps.config.consoleUrl,
    now: deps.now(),
    state: { ...snoozedView(deps.now(), state, view), ...view },
  };
}

/** A snooze still running, shown on ACTIVE findings' messages. */
export function snoozedView(
  now: Date,
  state: FindingState | null,
  view: NonNullable<FindingView['state']>,
): Pick<NonNullable<FindingView['state']>, 'snoozed'> {
  const until = state?.snoozedUntil;
  if (view.status !== 'ACTIVE' || !until || !(Date.parse(until) > now.getTime())) return {};
  return { snoozed: { by: state?.snoozedBy ?? '', until, reason: state?.snoozeReason ?? '' } };
}

/** Redraws the finding's message in place with the given state. */
export async function redraw(
  deps: JobDeps,
  finding: Finding,
  state: FindingState | null,
  view: NonNullable<FindingView['state']>,
): Promise<void> {
  if (!state?.channel || !state.ts) return;
  const v = storedFindingView(deps, finding, state, view);
  await deps.slack.update(state.channel, state.ts, findingMessage(v));
  await deps.store.set(finding.id, {
    status: view.status,
    fingerprint: findingMessageKey(v),
    updatedAt: finding.updatedAt,
  });
}

/** A reply in the finding message's thread: the record everyone in the channel sees. */
export async function threadReply(
  deps: JobDeps,
  state: FindingState | null,
  msg: OutgoingMessage,
): Promise<void> {
  if (!state?.channel || !state.ts) return;
  await deps.slack.post(state.channel, msg, { threadTs: state.threadTs ?? state.ts });
}

/**
 * threadReply for a retryable job: posted at most once per `onceKey` (the job id and the step), so a
 * retry after a later step failed does not repeat the receipt (jobs/post-once.ts).
 */
export async function threadReplyOnce(
  deps: JobDeps,
  state: FindingState | null,
  msg: OutgoingMessage,
  onceKey: string,
): Promise<void> {
  const { channel, ts } = state ?? {};
  if (!channel || !ts) return;
  await postOnce(deps, onceKey, () => deps.slack.post(channel, msg, { threadTs: state?.threadTs ?? ts }));
}
