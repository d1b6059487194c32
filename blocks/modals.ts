// Modals opened from finding messages. The finding travels in private_metadata (its id and the
// channel to answer in, nothing more); the handler reloads everything else from the stored card.
import type { KnownBlock, ModalView } from '@slack/types';
import { formatISO } from 'date-fns/formatISO';
import { code } from './escape.ts';
import { fitPrivateMetadata, section, truncate } from './limits.ts';

export const ARCHIVE_MODAL = {
  callbackId: 'archive_modal',
  reasonBlock: 'archive_reason',
  reasonAction: 'reason',
  untilBlock: 'archive_until',
  untilAction: 'until',
} as const;

export interface ArchiveModalMetadata {
  /** Finding id, analyzer ARN, region. */
  f: string;
  a: string;
  r: string;
  /** Message the click came from. */
  c?: string;
  t?: string;
}

/**
 * A form in a modal: its submission carries `meta` (ids only) in private_metadata; Cancel closes it.
 * Metadata over Slack's 3000 characters throws (see fitPrivateMetadata).
 */
export function formModal(input: {
  callbackId: string;
  meta: unknown;
  title: string;
  submit: string;
  blocks: KnownBlock[];
}): ModalView {
  return {
    type: 'modal',
    callback_id: input.callbackId,
    private_metadata: fitPrivateMetadata(input.meta),
    title: { type: 'plain_text', text: input.title },
    submit: { type: 'plain_text', text: input.submit },
    close: { type: 'plain_text', text: 'Cancel' },
    blocks: input.blocks,
  };
}

/**
 * What the archive and snooze modals keep in private_metadata: the finding's id and the channel the
 * click came from, all their submission reads (it reloads the analyzer and region from the stored
 * card). The finding id arrived in a button value (2000 characters at most), so this always fits.
 */
export type FindingFormMetadata = Pick<ArchiveModalMetadata, 'f' | 'c'>;

const formMetaOf = (meta: ArchiveModalMetadata): FindingFormMetadata => ({
  f: meta.f,
  ...(meta.c ? { c: meta.c } : {}),
});

export function archiveModal(input: { meta: ArchiveModalMetadata; headline: string; now: Date }): ModalView {
  const blocks: KnownBlock[] = [
    section(`Archive ${truncate(input.headline, 2500)}\nFinding ${code(input.meta.f, 80)}`),
    {
      type: 'input',
      block_id: ARCHIVE_MODAL.reasonBlock,
      label: { type: 'plain_text', text: 'Why is this access acceptable?' },
      element: {
        type: 'plain_text_input',
        action_id: ARCHIVE_MODAL.reasonAction,
        multiline: true,
        min_length: 3,
        max_length: 500,
        placeholder: { type: 'plain_text', text: 'e.g. approved vendor share, ticket SEC-42' },
      },
    },
    {
      type: 'input',
      block_id: ARCHIVE_MODAL.untilBlock,
      optional: true,
      label: { type: 'plain_text', text: 'Active again on (optional)' },
      hint: {
        type: 'plain_text',
        text: 'AWS archives never expire; with a date the bot sets the finding active again.',
      },
      element: {
        type: 'datepicker',
        action_id: ARCHIVE_MODAL.untilAction,
        placeholder: {
          type: 'plain_text',
          text: `after ${formatISO(input.now, { representation: 'date' })}`,
        },
      },
    },
  ];
  return formModal({
    callbackId: ARCHIVE_MODAL.callbackId,
    meta: formMetaOf(input.meta),
    title: 'Archive finding',
    submit: 'Archive',
    blocks,
  });
}

/** The metadata of an archive or snooze modal; one opened before it stored less (with `a`, `r`, `t`) reads the same. */
export function parseArchiveMetadata(raw: string): FindingFormMetadata | null {
  try {
    const m = JSON.parse(raw) as Partial<ArchiveModalMetadata> | null;
    if (!m || typeof m.f !== 'string') return null;
    return { f: m.f, ...(typeof m.c === 'string' ? { c: m.c } : {}) };
  } catch {
    return null;
  }
}

export const SNOOZE_MODAL = {
  callbackId: 'snooze_modal',
  daysBlock: 'snooze_days',
  daysAction: 'days',
  reasonBlock: 'snooze_reason',
  reasonAction: 'reason',
} as const;

/** Snooze: pause the aging reminders of an ACTIVE finding for 1, 7 or 30 days. Same metadata as archive. */
export function snoozeModal(input: { meta: ArchiveModalMetadata; headline: string }): ModalView {
  const option = (days: number) => ({
    text: { type: 'plain_text' as const, text: days === 1 ? '1 day' : `${days} days` },
    value: String(days),
  });
  const blocks: KnownBlock[] = [
    section(
      `Snooze the reminders about ${truncate(input.headline, 2500)}\nFinding ${code(input.meta.f, 80)}\nThe finding stays active in AWS; reminders resume when the snooze ends.`,
    ),
    {
      type: 'input',
      block_id: SNOOZE_MODAL.daysBlock,
      label: { type: 'plain_text', text: 'For how long?' },
      element: {
        type: 'radio_buttons',
        action_id: SNOOZE_MODAL.daysAction,
        options: [option(1), option(7), option(30)],
        initial_option: option(7),
      },
    },
    {
      type: 'input',
      block_id: SNOOZE_MODAL.reasonBlock,
      label: { type: 'plain_text', text: 'Why wait?' },
      element: {
        type: 'plain_text_input',
        action_id: SNOOZE_MODAL.reasonAction,
        multiline: true,
        min_length: 3,
        max_length: 500,
        placeholder: { type: 'plain_text', text: 'e.g. fix ships in the next release, ticket SEC-42' },
      },
    },
  ];
  return formModal({
    callbackId: SNOOZE_MODAL.callbackId,
    meta: formMetaOf(input.meta),
    title: 'Snooze reminders',
    submit: 'Snooze',
    blocks,
  });
}
