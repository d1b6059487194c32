// The weekly digest (`digest-run` on the scan queue, scheduled by digest.cron in digest.timezone):
// one message per owner channel, and a DM per owner e-mail about their own resources.
//
// One job fans out over every owner. It never sends twice for one owner and week, whatever retries
// or duplicate runs happen: before posting, it claims `digest:<owner>:<week>` (src/store/once.ts,
// the protocol job receipts use too; 14-day TTL); if the post fails the claim is dropped and the job
// fails after the other owners were served, so BullMQ's retry sends only what is missing. A crash
// between claim and post loses that one digest (at most once, never twice), as the aging sweep does
// for reminders.
//
// Owner e-mails come from the finding state (`ownerEmail`, saved when routing read the resource's
// tags). Addresses Slack does not know are reported to the admin channel once: they are remembered
// in the `digest-unknown-emails` set, claimed the same way.
import {
  allClearMessage,
  type DigestOverdueEntry,
  type DigestOwner,
  digestMessage,
  unknownOwnerEmailsNotice,
} from '../blocks/digest.ts';
import { channelRef, code } from '../blocks/escape.ts';
import { capBlocks, context, type SlackMessage } from '../blocks/limits.ts';
import {
  type ArchiveRecord,
  computeDigest,
  type DigestCounts,
  type DigestRow,
  digestWeek,
  isEmptyDigest,
  ownerChannelOf,
} from '../src/findings/digest.ts';
import { CHANNEL_UNUSABLE_ERRORS, SlackError } from '../src/slack/client.ts';
import type { LastDigest } from '../src/store/digests.ts';
import { FINDING_FIELDS as F } from '../src/store/findings.ts';
import { shortHash } from '../src/util/hash.ts';
import type { JobDeps } from './deps.ts';

/** Slack errors that mean a person found by e-mail cannot get a DM (deactivated, a bot). */
const UNREACHABLE_USER_ERRORS = new Set([
  'user_disabled',
  'account_inactive',
  'cannot_dm_bot',
  'user_not_found',
]);

const SCAN_BATCH = 500;

const ROW_FIELDS = [
  'status',
  'channel',
  'routeChannel',
  'findingType',
  'severity',
  'category',
  'createdAt',
  'firstSeen',
  'updatedAt',
  'archivedBy',
  'deletedBy',
  'snoozedUntil',
  'ownerEmail',
] as const satisfies readonly (keyof DigestRow)[];

/** Every finding state, as the digest reads it (SCAN in batches, one pipelined HMGET per hash). */
export async function loadDigestRows(deps: JobDeps): Promise<DigestRow[]> {
  const prefix = deps.keys.finding('');
  const fields = ROW_FIELDS.map((f) => F[f]);
  const rows: DigestRow[] = [];
  let cursor = '0';
  do {
    const [next, batch] = await deps.redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', SCAN_BATCH);
    cursor = next;
    const ids = batch.filter((key) => !key.endsWith(':long')).map((key) => key.slice(prefix.length));
    if (ids.length === 0) continue;
    const pipe = deps.redis.pipeline();
    // Values over 64 bytes (a long owner e-mail) live in the side hash.
    for (const id of ids)
      pipe.hmget(deps.keys.finding(id), ...fields).hmget(deps.keys.findingLong(id), ...fields);
    const res = (await pipe.exec()) ?? [];
    ids.forEach((id, i) => {
      const [e1, short] = res[2 * i] ?? [];
      const [e2, long] = res[2 * i + 1] ?? [];
      if (e1 || e2) throw e1 ?? e2;
      const row: Record<string, string> = { id };
      ROW_FIELDS.forEach((f, j) => {
        const v = (short as (string | null)[])[j] || (long as (string | null)[])[j];
        if (v) row[f] = v;
      });
      if (row.status) rows.push(row as unknown as DigestRow);
    });
  } while (cursor !== '0');
  return rows;
}

/** Successful archives from Slack since the start of the week (the audit trail says who). */
export async function loadArchives(deps: JobDeps, since: Date): Promise<ArchiveRecord[]> {
  const entries = await deps.audit.since(
    since,
    (e) => e.action === 'archive' && e.outcome === 'succeeded' && e.findingId !== undefined,
  );
  return entries.map((e) => ({ findingId: e.findingId!, actor: e.actor, at: e.at }));
}

export interface DigestTarget {
  /** `ch-<channel>` or `user-<hash of e-mail>`: the claim, snapshot and last-digest key. */
  ownerKey: string;
  owner: DigestOwner;
  /** Channel (id or #name) or owner e-mail. */
  to: string;
  kind: 'channel' | 'user';
  counts: DigestCounts;
  /** Null when nothing is sent (an empty week with emptyWeek: skip, or an owner with nothing to say). */
  message: SlackMessage | null;
}

export interface DigestPlan {
  week: ReturnType<typeof digestWeek>;
  targets: DigestTarget[];
}

interface PlanInput {
  rows: DigestRow[];
  archives: ArchiveRecord[];
  now: Date;
}

/** Loads the overdue findings to list (their full state: ARN, analyzer, message). */
async function overdueEntries(
  deps: JobDeps,
  overdue: ReturnType<typeof computeDigest>['overdue'],
): Promise<DigestOverdueEntry[]> {
  const out: DigestOverdueEntry[] = [];
  for (const o of overdue.slice(0, deps.config.digest.overdueLimit)) {
    const s = await deps.store.get(o.id);
    if (!s) continue;
    out.push({
      ...o,
      resourceArn: s.resourceArn,
      resourceType: s.resourceType,
      accountId: s.accountId,
      region: s.region,
      analyzerArn: s.analyzerArn,
      channel: s.channel,
      ts: s.ts,
    });
  }
  return out;
}

async function buildTarget(
  deps: JobDeps,
  input: PlanInput,
  target: Pick<DigestTarget, 'ownerKey' | 'owner' | 'to' | 'kind'>,
  rows: DigestRow[],
): Promise<DigestTarget> {
  const cfg = deps.config;
  const week = digestWeek(input.now, cfg.digest.timezone);
  const data = computeDigest(
    rows,
    input.archives,
    input.now,
    { timezone: cfg.digest.timezone, aging: cfg.aging },
    await deps.digests.snapshot(target.ownerKey, week.previousId),
  );
  let message: SlackMessage | null;
  if (isEmptyDigest(data)) {
    message =
      target.kind === 'channel' && cfg.digest.emptyWeek === 'all-clear'
        ? allClearMessage(target.owner, week)
        : null;
  } else {
    message = digestMessage({
      owner: target.owner,
      data,
      overdue: await overdueEntries(deps, data.overdue),
      timezone: cfg.digest.timezone,
      consoleUrl: cfg.consoleUrl,
      workspaceUrl: cfg.slack.workspaceUrl,
      // In a DM, a click would make the DM's only member look like an owner-channel member.
      buttons: target.kind === 'channel',
    });
  }
  return { ...target, counts: data.counts, message };
}

export function channelOwnerKey(channel: string): string {
  return `ch-${channel}`;
}

export function userOwnerKey(email: string): string {
  return `user-${shortHash(email.toLowerCase())}`;
}

/** What a digest run at `now` would send to whom (reads only). */
export async function planDigest(deps: JobDeps, now: Date = deps.now()): Promise<DigestPlan> {
  const cfg = deps.config;
  const week = digestWeek(now, cfg.digest.timezone);
  const rows = await loadDigestRows(deps);
  const archives = await loadArchives(deps, new Date(now.getTime() - 9 * 86_400_000));
  const input: PlanInput = { rows, archives, now };

  const byChannel = new Map<string, DigestRow[]>([[cfg.slack.defaultChannel, []]]);
  const byEmail = new Map<string, DigestRow[]>();
  const add = (m: Map<string, DigestRow[]>, key: string, r: DigestRow) => {
    const list = m.get(key);
    if (list) list.push(r);
    else m.set(key, [r]);
  };
  for (const r of rows) {
    const ch = ownerChannelOf(r);
    if (ch) add(byChannel, ch, r);
    if (cfg.digest.dmOwners && r.ownerEmail) add(byEmail, r.ownerEmail.toLowerCase(), r);
  }
  const targets: DigestTarget[] = [];
  for (const [channel, list] of [...byChannel].sort((a, b) => a[0].localeCompare(b[0]))) {
    targets.push(
      await buildTarget(
        deps,
        input,
        {
          ownerKey: channelOwnerKey(channel),
          owner: { kind: 'channel', channel },
          to: channel,
          kind: 'channel',
        },
        list,
      ),
    );
  }
  for (const [email, list] of [...byEmail].sort((a, b) => a[0].localeCompare(b[0]))) {
    targets.push(
      await buildTarget(
        deps,
        input,
        { ownerKey: userOwnerKey(email), owner: { kind: 'user' }, to: email, kind: 'user' },
        list,
      ),
    );
  }
  return { week, targets };
}

/**
 * The digest of the channel a person is in, now, for `/access digest`: the findings routed there
 * (by the channel's id, or a #name the bot has learned is this id). Records nothing.
 */
export async function channelDigestPreview(deps: JobDeps, channel: string): Promise<SlackMessage> {
  const now = deps.now();
  const rows = await loadDigestRows(deps);
  const names = [...new Set(rows.map(ownerChannelOf).filter((c): c is string => !!c?.startsWith('#')))];
  const aliases = new Set([channel]);
  if (names.length) {
    const ids = await deps.channelIds.idsOf(names);
    names.forEach((n, i) => {
      if (ids[i] === channel) aliases.add(n);
    });
  }
  const mine = rows.filter(
    (r) => aliases.has(ownerChannelOf(r) ?? '') || (r.channel && aliases.has(r.channel)),
  );
  const archives = await loadArchives(deps, new Date(now.getTime() - 9 * 86_400_000));
  const week = digestWeek(now, deps.config.digest.timezone);
  const target = await buildTarget(
    deps,
    { rows, archives, now },
    { ownerKey: channelOwnerKey(channel), owner: { kind: 'channel', channel }, to: channel, kind: 'channel' },
    mine,
  );
  return target.message ?? allClearMessage({ kind: 'channel', channel }, week);
}

/**
 * The digest of one owner's own resources now (their DM digest), for `/access digest` typed in a
 * DM. Null when the week has nothing to report for them. Records nothing.
 */
export async function ownerDigestPreview(deps: JobDeps, email: string): Promise<SlackMessage | null> {
  const now = deps.now();
  const owner = email.toLowerCase();
  const rows = (await loadDigestRows(deps)).filter((r) => r.ownerEmail?.toLowerCase() === owner);
  const archives = await loadArchives(deps, new Date(now.getTime() - 9 * 86_400_000));
  const target = await buildTarget(
    deps,
    { rows, archives, now },
    { ownerKey: userOwnerKey(owner), owner: { kind: 'user' }, to: owner, kind: 'user' },
    rows,
  );
  return target.message;
}

export type { LastDigest };

export interface DigestRunResult {
  week: string;
  sent: { kind: 'channel' | 'user'; to: string; channel: string }[];
  alreadySent: string[];
  skipped: string[];
  unknownEmails: string[];
  failed: { to: string; error: string }[];
}

/** Sends this week's digests; safe to retry and to run twice (see the top of this file). */
export async function runDigest(deps: JobDeps, now: Date = deps.now()): Promise<DigestRunResult> {
  const plan = await planDigest(deps, now);
  const week = plan.week.id;
  const result: DigestRunResult = {
    week,
    sent: [],
    alreadySent: [],
    skipped: [],
    unknownEmails: [],
    failed: [],
  };
  const log = deps.logger.child({ week });
  /** Addresses reported for the first time, with their claim (dropped again if the report fails). */
  const newlyUnknown: { email: string; ownerKey: string }[] = [];

  for (const t of plan.targets) {
    // The trend needs this week's counts whatever is sent.
    await deps.digests.saveSnapshot(t.ownerKey, week, t.counts);
    if (!t.message) {
      result.skipped.push(t.to);
      continue;
    }
    const message = t.message;
    try {
      const outcome = await sendOnce(deps, t.ownerKey, week, now, async () => {
        if (t.kind === 'channel') return postToChannel(deps, t.to, message);
        const user = await deps.slack.lookupUserByEmail(t.to);
        if (!user) return null;
        try {
          return await deps.slack.post(await deps.slack.openDm(user), message);
        } catch (err) {
          // A deactivated account cannot be messaged, this week or any other: report it like an unknown one.
          if (err instanceof SlackError && UNREACHABLE_USER_ERRORS.has(err.code)) return null;
          throw err;
        }
      });
      if (outcome === 'already') result.alreadySent.push(t.to);
      else if (outcome === 'no-user') {
        result.unknownEmails.push(t.to);
        if (await deps.digests.rememberUnknownEmail(t.to))
          newlyUnknown.push({ email: t.to, ownerKey: t.ownerKey });
      } else {
        result.sent.push({ kind: t.kind, to: t.to, channel: outcome.channel });
        const last: LastDigest = {
          week,
          at: now.toISOString(),
          channel: outcome.channel,
          ts: outcome.ts,
          text: message.text,
        };
        const lastKey = t.kind === 'channel' ? channelOwnerKey(outcome.channel) : t.ownerKey;
        await deps.digests.saveLast(lastKey, last);
      }
      await deps.sleep(deps.config.slack.postIntervalMs);
    } catch (err) {
      log.error({ to: t.to, err: (err as Error).message }, 'digest not sent; the retry sends it');
      result.failed.push({ to: t.to, error: (err as Error).message });
    }
  }

  if (newlyUnknown.length) {
    const emails = newlyUnknown.map((u) => u.email);
    try {
      await deps.slack.post(deps.config.slack.adminChannel, unknownOwnerEmailsNotice(emails));
    } catch (err) {
      // The retry looks these owners up again and reports them then.
      await deps.digests.forgetUnknownEmails(emails);
      await deps.once.release(
        ...newlyUnknown.map((u) => ({ kind: 'digest' as const, ownerKey: u.ownerKey, week })),
      );
      result.failed.push({ to: deps.config.slack.adminChannel, error: (err as Error).message });
    }
  }
  log.info(
    {
      sent: result.sent.length,
      already: result.alreadySent.length,
      skipped: result.skipped.length,
      failed: result.failed.length,
    },
    'digest done',
  );
  if (result.failed.length) {
    throw new Error(`digest for ${week}: ${result.failed.map((f) => `${f.to}: ${f.error}`).join('; ')}`);
  }
  return result;
}

/**
 * Posts a channel's digest; a channel the bot cannot post to (gone, archived, not invited) gets its
 * digest in the default channel with a note, as its findings do (jobs/deliver.ts).
 */
async function postToChannel(deps: JobDeps, channel: string, message: SlackMessage) {
  try {
    return await deps.slack.post(channel, message);
  } catch (err) {
    const fallback = deps.config.slack.defaultChannel;
    if (!(err instanceof SlackError) || !CHANNEL_UNUSABLE_ERRORS.has(err.code) || channel === fallback)
      throw err;
    return deps.slack.post(fallback, {
      text: message.text,
      blocks: capBlocks([
        context([`Digest of ${channelRef(channel)}, which the bot cannot post to (${code(err.code)}).`]),
        ...message.blocks,
      ]),
    });
  }
}

/**
 * Claims (owner, week), then sends. A failed send drops the claim and rethrows, so a retry sends it.
 * 'no-user' (an e-mail Slack does not know) keeps the claim: that owner is not looked up again this week.
 */
async function sendOnce(
  deps: JobDeps,
  ownerKey: string,
  week: string,
  now: Date,
  send: () => Promise<{ channel: string; ts: string } | null>,
): Promise<'already' | 'no-user' | { channel: string; ts: string }> {
  const outcome = await deps.once.run({ kind: 'digest', ownerKey, week }, now, send, () =>
    deps.afterDigestPostHook?.(ownerKey),
  );
  if (outcome.by === 'earlier-attempt') return 'already';
  return outcome.sent ?? 'no-user';
}
