// The weekly digest's numbers for one owner (a channel, or a person known by e-mail), computed from
// the stored finding states and the archive entries of the audit trail. Pure: no I/O.
//
// "The week" is the 7 calendar days before the digest's day, in the digest's time zone: a digest run
// on Monday covers Monday to Sunday of the week before, so two weekly runs never count one event
// twice and never miss one. The week's id is the ISO week the digest runs in (e.g. 2026-W49): every
// run within one ISO week (the scheduled one, a retry, a manual one) shares it, so an owner gets at
// most one digest per ISO week.
import { format } from 'date-fns/format';
import { subDays } from 'date-fns/subDays';
import type { AppConfig } from '../config/schema.ts';
import { agingState, calendarDay, daysBetween } from './aging.ts';
import { SEVERITIES } from './model.ts';

export interface DigestWeek {
  /** ISO week of the run day, e.g. 2026-W49; the idempotency and snapshot key. */
  id: string;
  /** The week before, for the trend. */
  previousId: string;
  /** First and last covered day, YYYY-MM-DD in the digest's time zone. */
  from: string;
  to: string;
}

/** The week a digest run at `now` reports on. */
export function digestWeek(now: Date, timeZone: string): DigestWeek {
  const today = calendarDay(now, timeZone);
  const last = subDays(today, 1);
  return {
    id: format(today, "RRRR-'W'II"),
    previousId: format(subDays(today, 7), "RRRR-'W'II"),
    from: format(subDays(today, 7), 'yyyy-MM-dd'),
    to: format(last, 'yyyy-MM-dd'),
  };
}

/** True when `at` falls on one of the 7 calendar days before `now`'s day (in `timeZone`). */
export function inDigestWeek(at: string | undefined, now: Date, timeZone: string): boolean {
  if (!at) return false;
  const t = new Date(at);
  if (Number.isNaN(t.getTime())) return false;
  const d = daysBetween(t, now, timeZone);
  return d >= 1 && d <= 7;
}

/** What the digest reads of one finding (from its state hash). */
export interface DigestRow {
  id: string;
  status: string;
  channel?: string;
  routeChannel?: string;
  findingType?: string;
  severity?: string;
  category?: string;
  createdAt?: string;
  firstSeen?: string;
  /** AWS updatedAt: for a closed finding, when it was resolved or archived. */
  updatedAt?: string;
  archivedBy?: string;
  deletedBy?: string;
  snoozedUntil?: string;
  ownerEmail?: string;
}

/** A successful archive from Slack, from the audit trail. */
export interface ArchiveRecord {
  findingId: string;
  actor: string;
  at: string;
}

export interface DigestCounts {
  open: number;
  overdue: number;
  new: number;
  resolved: number;
  archived: number;
}

export interface OverdueFinding {
  id: string;
  findingType: string;
  severity: string;
  createdAt: string;
  ageDays: number;
  slaDays: number;
  overdueDays: number;
}

export interface OwnerDigestData {
  week: DigestWeek;
  counts: DigestCounts;
  /** Open findings per type and per severity, most first (severity: worst first). */
  byType: [string, number][];
  bySeverity: [string, number][];
  /** Who archived this week: Slack user id, or null for archives made outside Slack. */
  archivedBy: { by: string | null; count: number }[];
  /** Resolved this week after a role was deleted from Slack, per person. */
  resolvedAfterDeletion: { by: string; count: number }[];
  /** Every overdue finding, oldest first (the message shows the first `overdueLimit`). */
  overdue: OverdueFinding[];
  /** Last week's counts, when a snapshot was stored. */
  previous?: DigestCounts;
}

/** The owner channel of a finding: where routing sends it (a fallback channel is only a stand-in). */
export function ownerChannelOf(row: Pick<DigestRow, 'routeChannel' | 'channel'>): string | undefined {
  return row.routeChannel ?? row.channel;
}

/** True when the digest has nothing to say: nothing open, nothing happened. */
export function isEmptyDigest(d: Pick<OwnerDigestData, 'counts'>): boolean {
  const c = d.counts;
  return c.open === 0 && c.new === 0 && c.resolved === 0 && c.archived === 0;
}

/**
 * One owner's digest from the rows that belong to it. `archives` are this week's successful archives
 * from Slack (any finding: those of other owners are ignored); the newest per finding counts.
 */
export function computeDigest(
  rows: readonly DigestRow[],
  archives: readonly ArchiveRecord[],
  now: Date,
  /** `timezone`: the digest's (the week); `aging`: SLAs and the time zone overdue days count in. */
  config: { timezone: string; aging: Pick<AppConfig['aging'], 'slaDays' | 'timezone'> },
  previous?: DigestCounts,
): OwnerDigestData {
  const tz = config.timezone;
  const week = digestWeek(now, tz);
  const counts: DigestCounts = { open: 0, overdue: 0, new: 0, resolved: 0, archived: 0 };
  const byType = new Map<string, number>();
  const bySeverity = new Map<string, number>();
  const archivers = new Map<string | null, number>();
  const deleters = new Map<string, number>();
  const overdue: OverdueFinding[] = [];
  const archiveOf = new Map<string, ArchiveRecord>();
  for (const a of archives) {
    if (!inDigestWeek(a.at, now, tz)) continue;
    const seen = archiveOf.get(a.findingId);
    if (!seen || seen.at < a.at) archiveOf.set(a.findingId, a);
  }
  const bump = <K>(m: Map<K, number>, k: K) => m.set(k, (m.get(k) ?? 0) + 1);

  for (const r of rows) {
    if (inDigestWeek(r.firstSeen, now, tz)) counts.new++;
    if (r.status === 'ACTIVE') {
      counts.open++;
      bump(byType, r.findingType ?? 'unknown');
      bump(bySeverity, r.severity ?? 'unknown');
      if (!r.createdAt) continue;
      const aging = agingState({ ...r, createdAt: r.createdAt }, now, config.aging);
      const snoozed = r.snoozedUntil !== undefined && Date.parse(r.snoozedUntil) > now.getTime();
      if (aging?.overdue && !snoozed) {
        counts.overdue++;
        overdue.push({
          id: r.id,
          findingType: r.findingType ?? 'unknown',
          severity: r.severity ?? 'unknown',
          createdAt: r.createdAt,
          ageDays: aging.ageDays,
          slaDays: aging.slaDays,
          overdueDays: aging.overdueDays,
        });
      }
    } else if (r.status === 'RESOLVED') {
      if (!inDigestWeek(r.updatedAt, now, tz)) continue;
      counts.resolved++;
      if (r.deletedBy) bump(deleters, r.deletedBy);
    } else if (r.status === 'ARCHIVED') {
      const fromSlack = archiveOf.get(r.id);
      if (fromSlack) {
        counts.archived++;
        bump(archivers, fromSlack.actor);
      } else if (inDigestWeek(r.updatedAt, now, tz) && !r.archivedBy) {
        // Archived in the console or by an archive rule: AWS's updatedAt is when.
        counts.archived++;
        bump(archivers, null);
      }
    }
  }
  overdue.sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.id.localeCompare(b.id));
  const most = <K>(m: Map<K, number>) =>
    [...m].sort((a, b) => b[1] - a[1] || String(a[0]).localeCompare(String(b[0])));
  const sevRank = (s: string) => {
    const i = (SEVERITIES as readonly string[]).indexOf(s);
    return i < 0 ? SEVERITIES.length : i;
  };
  return {
    week,
    counts,
    byType: most(byType),
    bySeverity: [...bySeverity].sort((a, b) => sevRank(a[0]) - sevRank(b[0])),
    // People first, archives made outside Slack last.
    archivedBy: most(archivers)
      .sort((a, b) => Number(a[0] === null) - Number(b[0] === null))
      .map(([by, count]) => ({ by, count })),
    resolvedAfterDeletion: most(deleters).map(([by, count]) => ({ by, count })),
    overdue,
    ...(previous ? { previous } : {}),
  };
}
