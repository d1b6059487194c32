// What every action on a finding does around its own step: re-read the card from AWS through an id
// that still has it, refuse a stale click (nothing changes in AWS; the message is redrawn and the
// person told why), keep a service-linked analyzer's findings read-only, and audit what AWS did,
// whatever happens to the messages about it afterwards.
import { type Job, UnrecoverableError } from 'bullmq';
import { differenceInMilliseconds } from 'date-fns/differenceInMilliseconds';
import { actionFailedNote, notShownNote, readOnlyNote, staleNote } from '../../blocks/receipts.ts';
import type { Finding, FindingStatus } from '../../src/findings/model.ts';
import { type ActionRequest, enqueue, type JOBS } from '../../src/queue/index.ts';
import type { OutgoingMessage } from '../../src/slack/client.ts';
import type { CardMember, FindingState } from '../../src/store/findings.ts';
import { readCard } from '../card.ts';
import type { JobDeps } from '../deps.ts';
import { redraw, showInSlack, threadReplyOnce, withMissed } from '../finding-message.ts';
import { onceKey } from '../post-once.ts';
import { failureMessage, isFinalFailure } from '../retry.ts';
import { tell } from '../tell.ts';

export interface ActionResult {
  /** failed: a fix that stopped half way, reported with its Undo (jobs/fixes/run.ts). */
  outcome: 'succeeded' | 'stale' | 'failed';
  status: string;
}

/** What an action's own step gets: the card as AWS has it now, and the frame's helpers. */
export interface ActionContext<D extends ActionRequest = ActionRequest> {
  deps: JobDeps;
  job: Job<D>;
  data: D;
  finding: Finding;
  state: FindingState | null;
  members: CardMember[];
  /** The id and analyzer the action goes through. */
  acting: Pick<CardMember, 'id' | 'analyzerArn' | 'region'>;
  analyzer: { arn: string; region: string };
  /** ISO time the step runs. */
  at: string;
  /** The once-key of the action's one thread receipt (a retry does not post it again). */
  receipt: string;
  /** Runs a Slack step that shows the outcome; a gone channel or message is noted, not fatal. */
  shown(step: () => Promise<unknown>): Promise<void>;
  /** Posts the action's receipt in the card's thread (once, under `receipt`), as a step `shown` runs. */
  reply(msg: OutgoingMessage): Promise<void>;
  /** Marks that AWS (or, for a snooze, the stored state) has changed: from now on it is audited as done. */
  done(detail?: string): void;
  /** Audits the action as succeeded (saying what could not be shown) and returns its result. */
  succeeded(status: string, detail?: string): Promise<ActionResult>;
}

export interface ActionSpec<D extends ActionRequest = ActionRequest> {
  /** What the finding must be in AWS for the action. */
  expected: FindingStatus;
  /** What the action leaves it as in AWS, for actions that change its status (archive, unarchive). */
  leaves?: FindingStatus;
  /**
   * When the finding is not as expected (or gone): a result instead of the stale answer, or null for
   * the stale answer (a rescan's check reports a finding resolved meanwhile as its outcome).
   */
  unexpected?: (
    ctx: Omit<ActionContext<D>, 'finding'> & { finding: Finding | null },
  ) => Promise<ActionResult | null>;
  step(ctx: ActionContext<D>): Promise<ActionResult>;
  /** The action's name in the audit log, when it is not the job's name (a fix: its kind). */
  audited?: string;
  /**
   * For a retry: whether an earlier attempt already changed AWS (a fix saved its backup), so the
   * step goes on whatever the finding's status is now.
   */
  resumes?: () => Promise<boolean>;
}

export async function runFindingAction<D extends ActionRequest>(
  deps: JobDeps,
  job: Job<D>,
  spec: ActionSpec<D>,
): Promise<ActionResult> {
  const data = job.data;
  const action = spec.audited ?? job.name;
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
  let done: { detail?: string } | undefined;
  const succeeded = async (status: string, detail?: string): Promise<ActionResult> => {
    await audit('succeeded', withMissed(detail, missed));
    if (missed.length) await tell(deps, data, notShownNote({ action, problem: missed.join(', ') }));
    return { outcome: 'succeeded', status };
  };

  try {
    // Through an id of the card whose analyzer still has it in the state the action expects.
    const { finding, state, members, acting, managedBy } = await readCard(deps, data, spec.expected);
    // Every action posts one receipt; a retry after a later step failed does not post it again.
    const receipt = onceKey(job, 'receipt');
    const base = {
      deps,
      job,
      data,
      state,
      members,
      acting,
      analyzer: { arn: acting.analyzerArn, region: acting.region },
      at: deps.now().toISOString(),
      receipt,
      shown,
      reply: (msg: OutgoingMessage) => shown(() => threadReplyOnce(deps, state, msg, receipt)),
      done: (detail?: string) => {
        done = detail === undefined ? {} : { detail };
      },
      succeeded,
    };
    if (finding?.status !== spec.expected) {
      const answered = await spec.unexpected?.({ ...base, finding });
      if (answered) return answered;
    }
    // A retry of a job whose AWS write went through before a later step failed finds the finding
    // already in the state it asked for: it finishes the remaining steps instead of calling it stale.
    const resumed =
      job.attemptsMade > 0 &&
      !!finding &&
      ((!!spec.leaves && finding.status === spec.leaves) || (!!spec.resumes && (await spec.resumes())));
    if (!finding || (finding.status !== spec.expected && !resumed)) {
      if (finding) await shown(() => redraw(deps, finding, state, { status: finding.status }));
      await tell(deps, data, staleNote({ status: finding?.status ?? 'GONE', action }));
      await audit('stale', { detail: `finding is ${finding?.status ?? 'gone'}` });
      return { outcome: 'stale', status: finding?.status ?? 'GONE' };
    }
    if (managedBy && spec.leaves) {
      // AWS keeps a service-linked analyzer's findings read-only: UpdateFindings would be refused.
      await shown(() => redraw(deps, finding, state, { status: finding.status }));
      await tell(
        deps,
        data,
        readOnlyNote({ action: spec.leaves === 'ARCHIVED' ? 'archive' : 'unarchive', managedBy }),
      );
      await audit('failed', { error: `read-only: the analyzer is managed by ${managedBy}` });
      return { outcome: 'stale', status: finding.status };
    }
    return await spec.step({ ...base, finding });
  } catch (err) {
    if (isFinalFailure(err, job)) {
      const message = failureMessage(err);
      if (done) {
        // AWS did it; only a later step (a message, a follow-up job) failed for good.
        deps.logger.error({ err: message, jobId: job.id }, 'action done in AWS, a later step failed');
        await audit('succeeded', withMissed(done.detail, [...missed, message]));
        await tell(deps, data, notShownNote({ action, problem: message }));
        return { outcome: 'succeeded', status: spec.leaves ?? 'ACTIVE' };
      }
      await audit('failed', { error: message });
      await tell(deps, data, actionFailedNote({ action, error: message })).catch(() => undefined);
      if (!(err instanceof UnrecoverableError)) throw new UnrecoverableError(message);
    }
    throw err;
  }
}

/**
 * Queues the end of an archive or snooze: `name` runs as the system at `due`, with `requestTs` the
 * end it was scheduled for, so that run can tell whether the end is still current.
 */
export async function scheduleEnd(
  deps: JobDeps,
  name: typeof JOBS.archiveExpiry | typeof JOBS.snoozeEnd,
  data: ActionRequest,
  requestTs: string,
  due: Date,
): Promise<void> {
  await enqueue(
    deps.queues,
    name,
    { ...data, userId: 'system', requestTs },
    { delay: Math.max(0, differenceInMilliseconds(due, deps.now())) },
  );
}
