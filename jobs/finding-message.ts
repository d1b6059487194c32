// A finding's Slack message after it was posted: how it is drawn from the stored state, redrawn in
// place, and answered in its thread, by every job that changes a finding (actions, delivery's closing,
// aging, recommendations, role deletion).
import { type FindingView, findingMessageWithKey } from '../blocks/finding.ts';
import type { Finding } from '../src/findings/model.ts';
import { assessSeverity } from '../src/findings/severity.ts';
import { CHANNEL_UNUSABLE_ERRORS, type OutgoingMessage, SlackError } from '../src/slack/client.ts';
import type { FindingState } from '../src/store/findings.ts';
import type { JobDeps } from './deps.ts';
import { postOnce } from './post-once.ts';
import { failureMessage } from './retry.ts';

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

/**
 * For the Slack steps after AWS has acted, where a retry would act again: every failure, not only a
 * gone channel or message, is logged (with `what` and the job id) and noted in `missed`, never
 * thrown. The caller puts `missed` into its audit entry (withMissed).
 */
export function afterAwsActed(
  deps: Pick<JobDeps, 'logger'>,
  jobId: string | undefined,
  what: string,
): { missed: string[]; shown(step: () => Promise<unknown>): Promise<void> } {
  const missed: string[] = [];
  return {
    missed,
    async shown(step) {
      try {
        await showInSlack(deps, missed, step);
      } catch (err) {
        deps.logger.error({ err: failureMessage(err), jobId }, what);
        missed.push(failureMessage(err));
      }
    },
  };
}

/** An audit detail that says what could not be shown in Slack. */
export function withMissed(detail: string | undefined, missed: readonly string[]): { detail?: string } {
  if (missed.length === 0) return detail === undefined ? {} : { detail };
  const note = `not shown in Slack: ${missed.join(', ')}`;
  return { detail: detail ? `${detail}; ${note}` : note };
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
    state: { ...snoozedView(deps.now(), state, view), ...quarantinedView(state, view), ...view },
    unusedRole: deps.config.roles.unusedRole,
  };
}

/** A quarantine made from Slack, shown on the ACTIVE card of the role until it is lifted or ends. */
export function quarantinedView(
  state: FindingState | null,
  view: NonNullable<FindingView['state']>,
): Pick<NonNullable<FindingView['state']>, 'quarantined'> {
  if (view.status !== 'ACTIVE' || view.deleted || !state?.quarantineBackupKey) return {};
  return {
    quarantined: {
      by: state.quarantinedBy ?? '',
      until: state.quarantinedUntil ?? '',
      backupKey: state.quarantineBackupKey,
    },
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
  const { message, fingerprint } = findingMessageWithKey(storedFindingView(deps, finding, state, view));
  await deps.slack.update(state.channel, state.ts, message);
  await deps.store.set(finding.id, {
    status: view.status,
    fingerprint,
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
  await postOnce(deps, onceKey, (marker) =>
    deps.slack.post(channel, msg, { threadTs: state?.threadTs ?? ts, ...marker }),
  );
}
