// The snooze modal's submission: validate (a duration of 1, 7 or 30 days; a reason), check the
// `snooze` permission again, then enqueue the snooze job. Errors go back into the modal.
import type { App, ViewSubmitAction } from '@slack/bolt';
import { parseArchiveMetadata, SNOOZE_MODAL } from '../../../blocks/modals.ts';
import { MAX_REASON_LENGTH, SNOOZE_DAYS, type SnoozeDays } from '../../findings/limits.ts';
import { type ActionRequest, JOBS, type SnoozeData } from '../../queue/index.ts';
import { intentOf, type ListenerDeps } from '../listeners/common.ts';
import { findingFormSubmit } from './finding-form.ts';

/** Checks the modal's values; returns field errors keyed by block id, or the clean values. */
export function validateSnoozeInput(
  values: ViewSubmitAction['view']['state']['values'],
): { ok: true; days: SnoozeDays; reason: string } | { ok: false; errors: Record<string, string> } {
  const picked = values[SNOOZE_MODAL.daysBlock]?.[SNOOZE_MODAL.daysAction]?.selected_option?.value;
  const reason = (values[SNOOZE_MODAL.reasonBlock]?.[SNOOZE_MODAL.reasonAction]?.value ?? '').trim();
  const days = SNOOZE_DAYS.find((d) => String(d) === picked);
  const errors: Record<string, string> = {};
  if (days === undefined) errors[SNOOZE_MODAL.daysBlock] = 'Pick 1, 7 or 30 days.';
  if (reason.length < 3)
    errors[SNOOZE_MODAL.reasonBlock] = 'Say why the reminders can wait (at least 3 characters).';
  if (reason.length > MAX_REASON_LENGTH)
    errors[SNOOZE_MODAL.reasonBlock] = `At most ${MAX_REASON_LENGTH} characters.`;
  return days === undefined || Object.keys(errors).length
    ? { ok: false, errors }
    : { ok: true, days, reason };
}

/** The snooze job and its audit entry, for the modal and for `/access snooze`. */
export function snoozeRequest(base: ActionRequest, userId: string, days: SnoozeDays, reason: string) {
  const data: SnoozeData = { ...base, days, reason };
  return {
    job: { name: JOBS.snooze, data } as const,
    audit: {
      actor: userId,
      action: 'snooze',
      findingId: base.findingId,
      region: base.region,
      detail: `${days} days: ${reason}`,
    },
    forDays: days === 1 ? '1 day' : `${days} days`,
  };
}

export function snoozeSubmit(deps: ListenerDeps) {
  return findingFormSubmit(deps, {
    action: 'snooze',
    block: SNOOZE_MODAL.reasonBlock,
    button: 'Snooze',
    untouched: 'Nothing was changed',
    metadata: parseArchiveMetadata,
    validate: validateSnoozeInput,
    request: async ({ input, base, userId }) => {
      const { job, audit, forDays } = snoozeRequest(base, userId, input.days, input.reason);
      return {
        intent: intentOf(JOBS.snooze, base.findingId, userId),
        // A resubmitted view (Slack retry) has the same view id: one job.
        job,
        audit,
        accepted: `Snoozing the reminders for ${forDays}…`,
      };
    },
  });
}

export function registerSnoozeView(app: App, deps: ListenerDeps): void {
  app.view<ViewSubmitAction>(SNOOZE_MODAL.callbackId, snoozeSubmit(deps) as never);
}
