// Archive a card (every id of it, in every analyzer that has it) with who, why and an optional
// expiry; on that date archive-expiry makes it ACTIVE again (AWS's own archive never expires).
import type { Job } from 'bullmq';
import { parseISO } from 'date-fns/parseISO';
import { archivedReceipt, unarchivedReceipt } from '../../blocks/receipts.ts';
import { type ActionRequest, type ArchiveData, JOBS } from '../../src/queue/index.ts';
import { setCardStatus } from '../card.ts';
import type { JobDeps } from '../deps.ts';
import { redraw } from '../finding-message.ts';
import { type ActionResult, runFindingAction, scheduleEnd } from './frame.ts';

export function archiveAction(deps: JobDeps, job: Job<ArchiveData>): Promise<ActionResult> {
  return runFindingAction(deps, job, {
    expected: 'ACTIVE',
    leaves: 'ARCHIVED',
    async step({ data, finding, state, members, acting, at, shown, reply, done, succeeded }) {
      const { reason, until } = data;
      await setCardStatus(deps, job, members, acting, 'ACTIVE', 'ARCHIVED');
      const detail = until ? `${reason} (until ${until})` : reason;
      done(detail);
      await deps.store.set(data.findingId, {
        status: 'ARCHIVED',
        archivedBy: data.userId,
        archiveReason: reason,
        archiveUntil: until,
      });
      await shown(() =>
        redraw(deps, finding, state, { status: 'ARCHIVED', at, by: data.userId, reason, until }),
      );
      await reply(archivedReceipt({ userId: data.userId, reason, until }));
      // Midnight UTC at the start of the expiry day.
      if (until) await scheduleEnd(deps, JOBS.archiveExpiry, data, until, parseISO(`${until}T00:00:00Z`));
      return succeeded('ARCHIVED', detail);
    },
  });
}

/** Unarchive from Slack, or the archive's expiry day (then `requestTs` is the expiry date). */
export function unarchiveAction(deps: JobDeps, job: Job<ActionRequest>): Promise<ActionResult> {
  const expiry = job.name === JOBS.archiveExpiry;
  return runFindingAction(deps, job, {
    expected: 'ARCHIVED',
    leaves: 'ACTIVE',
    async step({ data, finding, state, members, acting, shown, reply, done, succeeded }) {
      if (expiry && state?.archiveUntil && state.archiveUntil !== data.requestTs) {
        // The archive was renewed or replaced since this expiry was scheduled.
        return { outcome: 'stale', status: 'ARCHIVED' };
      }
      await setCardStatus(deps, job, members, acting, 'ARCHIVED', 'ACTIVE');
      const detail = expiry ? 'archive expired' : undefined;
      done(detail);
      await deps.store.clearArchive(data.findingId);
      await deps.store.clearReminders(data.findingId);
      await deps.store.set(data.findingId, { status: 'ACTIVE' });
      await shown(() => redraw(deps, { ...finding, status: 'ACTIVE' }, state, { status: 'ACTIVE' }));
      await reply(
        unarchivedReceipt(expiry ? { userId: 'system', expired: data.requestTs } : { userId: data.userId }),
      );
      return succeeded('ACTIVE', detail);
    },
  });
}
