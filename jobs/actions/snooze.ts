// Snooze pauses a finding's aging reminders for 1, 7 or 30 days with a reason; only Redis changes
// (the aging sweep skips findings whose snoozedUntil is in the future). Unsnooze, or snooze-end on
// its day, clears it and says in the thread that reminders resume.
import type { Job } from 'bullmq';
import { addDays } from 'date-fns/addDays';
import { parseISO } from 'date-fns/parseISO';
import { snoozedReceipt, unsnoozedReceipt } from '../../blocks/receipts.ts';
import { type ActionRequest, JOBS, type SnoozeData } from '../../src/queue/index.ts';
import type { JobDeps } from '../deps.ts';
import { redraw } from '../finding-message.ts';
import { type ActionResult, runFindingAction, scheduleEnd } from './frame.ts';

export function snoozeAction(deps: JobDeps, job: Job<SnoozeData>): Promise<ActionResult> {
  return runFindingAction(deps, job, {
    expected: 'ACTIVE',
    async step({ data, finding, state, shown, reply, done, succeeded }) {
      const { days, reason } = data;
      const snooze = {
        snoozedUntil: addDays(deps.now(), days).toISOString(),
        snoozedBy: data.userId,
        snoozeReason: reason,
      };
      await deps.store.set(data.findingId, snooze);
      const detail = `${days} days until ${snooze.snoozedUntil}: ${reason}`;
      done(detail);
      await shown(() => redraw(deps, finding, state && { ...state, ...snooze }, { status: 'ACTIVE' }));
      await reply(snoozedReceipt({ userId: data.userId, days, until: snooze.snoozedUntil, reason }));
      // At the end the message loses its snooze line and the thread says reminders resume.
      await scheduleEnd(deps, JOBS.snoozeEnd, data, snooze.snoozedUntil, parseISO(snooze.snoozedUntil));
      return succeeded('ACTIVE', detail);
    },
  });
}

/** Unsnooze from Slack, or the snooze's end (then `requestTs` is the time it was due to end). */
export function unsnoozeAction(deps: JobDeps, job: Job<ActionRequest>): Promise<ActionResult> {
  const end = job.name === JOBS.snoozeEnd;
  return runFindingAction(deps, job, {
    expected: 'ACTIVE',
    async step({ data, finding, state, shown, reply, done, succeeded }) {
      if (end && state?.snoozedUntil !== data.requestTs) {
        // Ended early, or renewed since this end was scheduled.
        return { outcome: 'stale', status: 'ACTIVE' };
      }
      await deps.store.clearSnooze(data.findingId);
      const detail = state?.snoozedUntil ? `was snoozed until ${state.snoozedUntil}` : undefined;
      done(detail);
      const cleared = state && {
        ...state,
        snoozedUntil: undefined,
        snoozedBy: undefined,
        snoozeReason: undefined,
      };
      await shown(() => redraw(deps, finding, cleared, { status: 'ACTIVE' }));
      await reply(
        unsnoozedReceipt(end ? { userId: 'system', ended: data.requestTs } : { userId: data.userId }),
      );
      return succeeded('ACTIVE', detail);
    },
  });
}
