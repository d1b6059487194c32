// The product's rules for what people may ask, shared by the slash-command parser, the modals and
// the jobs: how long a snooze or a temporary archive may last, how long a reason may be.

/** How long a snooze may pause a finding's reminders, in days (the modal offers the same). */
export const SNOOZE_DAYS = [1, 7, 30] as const;
export type SnoozeDays = (typeof SNOOZE_DAYS)[number];

/** How far ahead an archive may expire: a temporary exception must come back within a year. */
export const MAX_ARCHIVE_DAYS = 365;
/** The longest archive or snooze reason kept (the modal's field takes as much). */
export const MAX_REASON_LENGTH = 500;
/** Days of CloudTrail activity a generated policy looks at: the default and AWS's maximum. */
export const DEFAULT_POLICY_DAYS = 30;
export const MAX_POLICY_DAYS = 90;
