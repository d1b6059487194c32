// How old a finding is against its SLA, in calendar days of a time zone: the rules the aging sweep,
// the digest and the App Home share. Pure: no I/O.
import { differenceInCalendarDays } from 'date-fns/differenceInCalendarDays';
import type { AppConfig } from '../config/schema.ts';
import { SEVERITY_CATEGORIES, type SeverityCategory } from './model.ts';

export type AgingConfig = AppConfig['aging'];

export interface AgingState {
  category: SeverityCategory;
  ageDays: number;
  slaDays: number;
  overdueDays: number;
  overdue: boolean;
}

/**
 * The category of a stored finding: the stored one, or (states saved before `category` was stored)
 * one derived from the finding type. An external access finding without a stored category is taken
 * as cross-account: whether it is public is in its details, which the state does not keep.
 */
export function findingCategory(f: { category?: string; findingType?: string }): SeverityCategory | null {
  if (f.category && (SEVERITY_CATEGORIES as readonly string[]).includes(f.category)) {
    return f.category as SeverityCategory;
  }
  switch (f.findingType) {
    case 'ExternalAccess':
      return 'cross-account-access';
    case 'InternalAccess':
      return 'internal-access';
    case 'UnusedIAMRole':
      return 'unused-role';
    case 'UnusedIAMUserAccessKey':
    case 'UnusedIAMUserPassword':
      return 'unused-credential';
    case 'UnusedPermission':
      return 'unused-permission';
    default:
      return null;
  }
}

const dayFormats = new Map<string, Intl.DateTimeFormat>();

/** The calendar date of `at` in `timeZone`, as a local-midnight Date (for differenceInCalendarDays). */
export function calendarDay(at: Date, timeZone: string): Date {
  let fmt = dayFormats.get(timeZone);
  if (!fmt) {
    fmt = new Intl.DateTimeFormat('en-US', { timeZone, year: 'numeric', month: 'numeric', day: 'numeric' });
    dayFormats.set(timeZone, fmt);
  }
  const part = (type: string) => Number(fmt.formatToParts(at).find((p) => p.type === type)?.value);
  return new Date(part('year'), part('month') - 1, part('day'));
}

/** Calendar days from `from` to `to` in `timeZone` (0 on the same day). */
export function daysBetween(from: Date, to: Date, timeZone: string): number {
  return differenceInCalendarDays(calendarDay(to, timeZone), calendarDay(from, timeZone));
}

/**
 * How old a finding is against its SLA: overdue once it has been open more calendar days than its
 * category's SLA. Null when the category is unknown (no SLA applies).
 */
export function agingState(
  finding: { createdAt: string; category?: string; findingType?: string },
  now: Date,
  config: Pick<AgingConfig, 'slaDays' | 'timezone'>,
): AgingState | null {
  const category = findingCategory(finding);
  const created = new Date(finding.createdAt);
  if (!category || Number.isNaN(created.getTime())) return null;
  const ageDays = Math.max(0, daysBetween(created, now, config.timezone));
  const slaDays = config.slaDays[category];
  const overdueDays = Math.max(0, ageDays - slaDays);
  return { category, ageDays, slaDays, overdueDays, overdue: overdueDays > 0 };
}
