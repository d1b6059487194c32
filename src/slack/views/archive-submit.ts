// The archive modal's submission: validate (reason required, expiry a future date within a year),
// then enqueue the archive job. Validation errors go back into the modal, next to the field.
import type { App, ViewSubmitAction } from '@slack/bolt';
import { addDays } from 'date-fns/addDays';
import { formatISO } from 'date-fns/formatISO';
import { ARCHIVE_MODAL, parseArchiveMetadata } from '../../../blocks/modals.ts';
import { MAX_ARCHIVE_DAYS, MAX_REASON_LENGTH } from '../../findings/limits.ts';
import { type ArchiveData, JOBS } from '../../queue/index.ts';
import { intentOf, type ListenerDeps } from '../listeners/common.ts';
import { findingFormSubmit } from './finding-form.ts';

/** Checks the modal's values; returns field errors keyed by block id, or the clean values. */
export function validateArchiveInput(
  values: ViewSubmitAction['view']['state']['values'],
  now: Date,
): { ok: true; reason: string; until?: string } | { ok: false; errors: Record<string, string> } {
  const reason = (values[ARCHIVE_MODAL.reasonBlock]?.[ARCHIVE_MODAL.reasonAction]?.value ?? '').trim();
  const until = values[ARCHIVE_MODAL.untilBlock]?.[ARCHIVE_MODAL.untilAction]?.selected_date ?? undefined;
  const errors: Record<string, string> = {};
  if (reason.length < 3)
    errors[ARCHIVE_MODAL.reasonBlock] = 'Say why this access is acceptable (at least 3 characters).';
  if (reason.length > MAX_REASON_LENGTH)
    errors[ARCHIVE_MODAL.reasonBlock] = `At most ${MAX_REASON_LENGTH} characters.`;
  if (until) {
    const today = formatISO(now, { representation: 'date' });
    const latest = formatISO(addDays(now, MAX_ARCHIVE_DAYS), { representation: 'date' });
    if (until <= today) errors[ARCHIVE_MODAL.untilBlock] = 'Pick a date after today.';
    else if (until > latest)
      errors[ARCHIVE_MODAL.untilBlock] = `Pick a date within ${MAX_ARCHIVE_DAYS} days (by ${latest}).`;
  }
  return Object.keys(errors).length
    ? { ok: false, errors }
    : { ok: true, reason, ...(until ? { until } : {}) };
}

export function archiveSubmit(deps: ListenerDeps) {
  return findingFormSubmit(deps, {
    action: 'archive',
    block: ARCHIVE_MODAL.reasonBlock,
    button: 'Archive',
    untouched: 'Nothing was changed',
    metadata: parseArchiveMetadata,
    validate: validateArchiveInput,
    request: async ({ input, base, userId }) => {
      const data: ArchiveData = {
        ...base,
        reason: input.reason,
        ...(input.until ? { until: input.until } : {}),
      };
      return {
        intent: intentOf(JOBS.archive, base.findingId, userId),
        // A resubmitted view (Slack retry) has the same view id: one job.
        job: { name: JOBS.archive, data },
        audit: {
          actor: userId,
          action: 'archive',
          findingId: base.findingId,
          region: base.region,
          detail: input.reason,
        },
        accepted: 'Archiving…',
      };
    },
  });
}

export function registerArchiveView(app: App, deps: ListenerDeps): void {
  app.view<ViewSubmitAction>(ARCHIVE_MODAL.callbackId, archiveSubmit(deps) as never);
}
