// Aging and escalation: a scheduled sweep (`aging-sweep` on the scan queue) reminds, in the finding's
// thread, about ACTIVE findings left open past their SLA, every `aging.remindEveryDays`, and posts one
// escalation after `aging.escalateAfterReminders` reminders.
//
// Days are calendar days in `aging.timezone`. @date-fns/tz is not a dependency, so the calendar date
// of an instant in that zone is read with Intl.DateTimeFormat and compared with date-fns
// differenceInCalendarDays.
//
// Retries and concurrent sweeps (a retried job, two replicas) never remind twice:
// - A reminder is *claimed* before it is posted (FindingStore.claimReminder), by one Lua script on the
//   finding's hash that checks the finding is still ACTIVE and that `lastReminderAt` is still the
//   value this sweep read, then sets `lastReminderAt` to now and increments `reminders`
//   (compare-and-set). Only one claimer can win; a retried sweep reads the new `lastReminderAt`,
//   which is less than remindEveryDays old.
// - If the post fails, the claim is undone (again compare-and-set, so only our own claim) and the
//   error fails the job, whose retry tries again. A crash between claim and post loses that one
//   reminder (the next comes remindEveryDays later): at most once, never twice.
// - The escalation is guarded by a marker key (SET NX) taken before posting and dropped if the post
//   fails. Every sweep checks "reminders >= escalateAfterReminders and no marker", so an escalation
//   whose post failed is retried, and one that was posted is never repeated.
import { agingEscalation, agingReminder } from '../blocks/aging.ts';
import { type AgingConfig, agingState, daysBetween } from '../src/findings/aging.ts';
import { ruleOwners } from '../src/findings/routing.ts';
import type { FindingRow, FindingState } from '../src/store/findings.ts';
import type { JobDeps } from './deps.ts';
import { threadReply } from './finding-message.ts';

/** Findings read per pipelined batch. */
const SCAN_BATCH = 500;

export interface AgingSweepResult {
  scanned: number;
  overdue: number;
  snoozed: number;
  reminded: number;
  escalated: number;
}

/** Fields read of every candidate (one HMGET each, pipelined per batch). */
const SWEEP_FIELDS = [
  'status',
  'createdAt',
  'category',
  'findingType',
  'channel',
  'ts',
  'lastReminderAt',
  'reminders',
  'snoozedUntil',
] as const satisfies readonly (keyof FindingState)[];
type SweepRow = FindingRow<(typeof SWEEP_FIELDS)[number]>;

/**
 * Reminds about and escalates the overdue ACTIVE findings. Only a card created longer ago than the
 * shortest SLA can be overdue, so the store's index of ACTIVE cards by createdAt names the
 * candidates (a day's margin covers calendar days in any time zone); each is then judged as before.
 */
export async function agingSweep(deps: JobDeps, now: Date = deps.now()): Promise<AgingSweepResult> {
  const cfg = deps.config.aging;
  const result: AgingSweepResult = { scanned: 0, overdue: 0, snoozed: 0, reminded: 0, escalated: 0 };
  const shortestSla = Math.min(...Object.values(cfg.slaDays));
  const cutoff = new Date(now.getTime() - (shortestSla - 1) * 86_400_000);
  const indexed = await deps.store.activeCreatedBefore(cutoff);
  if (indexed) result.scanned = indexed.count;
  const batches = indexed ? candidateRows(deps, indexed.ids) : deps.store.walk(SWEEP_FIELDS, SCAN_BATCH);
  for await (const rows of batches) {
    for (const row of rows) {
      if (row.status !== 'ACTIVE' || !row.createdAt) continue;
      if (!indexed) result.scanned++;
      await sweepOne(deps, cfg, row, now, result);
    }
  }
  deps.logger.info({ ...result }, 'aging sweep done');
  return result;
}

async function* candidateRows(deps: JobDeps, ids: string[]): AsyncGenerator<SweepRow[]> {
  for (let i = 0; i < ids.length; i += SCAN_BATCH) {
    yield await deps.store.rows(ids.slice(i, i + SCAN_BATCH), SWEEP_FIELDS);
  }
}

async function sweepOne(
  deps: JobDeps,
  cfg: AgingConfig,
  row: SweepRow,
  now: Date,
  result: AgingSweepResult,
): Promise<void> {
  const aging = agingState({ createdAt: row.createdAt!, ...row }, now, cfg);
  if (!aging?.overdue) return;
  result.overdue++;
  if (row.snoozedUntil && new Date(row.snoozedUntil).getTime() > now.getTime()) {
    result.snoozed++;
    return;
  }
  // Without a message there is no thread to remind in.
  if (!row.channel || !row.ts) return;
  let reminders = Number(row.reminders ?? 0) || 0;
  const due =
    !row.lastReminderAt ||
    daysBetween(new Date(row.lastReminderAt), now, cfg.timezone) >= cfg.remindEveryDays;
  const escalateTo = cfg.escalationChannel ?? deps.config.slack.adminChannel;
  const pace = () => deps.sleep(deps.config.slack.postIntervalMs);

  if (due) {
    const at = now.toISOString();
    const prev = row.lastReminderAt ?? '';
    const claimed = await deps.store.claimReminder(row.id, prev, at);
    if (claimed === null) return; // another sweep (or an earlier attempt of this one) reminded already
    reminders = claimed;
    const state = await deps.store.get(row.id);
    const escalating = reminders >= cfg.escalateAfterReminders && !(await deps.store.isEscalated(row.id));
    try {
      await threadReply(
        deps,
        state,
        agingReminder({
          ...aging,
          reminder: reminders,
          escalateAfter: cfg.escalateAfterReminders,
          escalatedTo: escalating ? escalateTo : undefined,
          owners: ruleOwners(deps.config.routing, state?.routeRule),
        }),
      );
    } catch (err) {
      await deps.store.unclaimReminder(row.id, at, prev);
      throw err;
    }
    result.reminded++;
    await pace();
  }

  if (reminders >= cfg.escalateAfterReminders) {
    if (!(await deps.store.claimEscalation(row.id, now.toISOString()))) return;
    const state = await deps.store.get(row.id);
    try {
      await deps.slack.post(
        escalateTo,
        agingEscalation({
          ...aging,
          findingId: row.id,
          findingType: state?.findingType ?? row.findingType ?? 'unknown',
          resourceArn: state?.resourceArn ?? '',
          accountId: state?.accountId ?? '',
          region: state?.region ?? '',
          severity: state?.severity ?? '',
          reminders,
          channel: state?.channel,
          permalink: permalink(deps, state),
        }),
      );
    } catch (err) {
      await deps.store.releaseEscalation(row.id);
      throw err;
    }
    result.escalated++;
    await pace();
  }
}

function permalink(deps: JobDeps, state: FindingState | null): string | undefined {
  const base = deps.config.slack.workspaceUrl?.replace(/\/$/, '');
  if (!base || !state?.channel || !state.ts || !/^[CG][A-Z0-9]+$/.test(state.channel)) return undefined;
  const ts = `p${state.ts.replace('.', '')}`;
  const thread = state.threadTs ? `?thread_ts=${state.threadTs}&cid=${state.channel}` : '';
  return `${base}/archives/${state.channel}/${ts}${thread}`;
}
