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

/** Which cards a digest or the App Home reads (see FindingStore.digestCandidates). */
export interface DigestRowQuery {
  /** ACTIVE cards of these channels and owner e-mails only (both absent: every ACTIVE card). */
  channels?: readonly string[];
  emails?: readonly string[];
  /** Also the cards closed or first seen since then. */
  closedSince?: Date;
  /** And these cards (archived this week from Slack, by the audit trail). */
  ids?: readonly string[];
}

/**
 * The finding states a digest counts, as it reads them: from the store's indexes, the ACTIVE cards
 * asked for and the cards closed or first seen since `closedSince` (every other card counts for
 * nothing in a week's digest); every card while the store is not indexed yet. Callers filter the
 * rows as they always did.
 */
export async function loadDigestRows(deps: JobDeps, q: DigestRowQuery): Promise<DigestRow[]> {
  const ids = await deps.store.digestCandidates(q);
  if (ids) return (await deps.store.rows(ids, ROW_FIELDS)) as DigestRow[];
  const rows: DigestRow[] = [];
  for await (const batch of deps.store.walk(ROW_FIELDS, SCAN_BATCH)) rows.push(...(batch as DigestRow[]));
  return rows;
}

/** Closed cards and archives older than this cannot fall in the week a digest run reports on. */
function lookBack(now: Date): Date {
  return new Date(now.getTime() - 9 * 86_400_000);
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
  /**
   * A channel the bot could not post to at its last delivery there (the Slack error, from the admin
   * notice's record): its digest will most likely go to the default channel instead.
   */
  unusable?: string;
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
      unusedRole: cfg.roles.unusedRole,
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
  const archives = await loadArchives(deps, lookBack(now));
  const rows = await loadDigestRows(deps, {
    closedSince: lookBack(now),
    ids: archives.map((a) => a.findingId),
  });
  const input: PlanInput = { rows, archives, now };

  const byChannel = new Map<string, DigestRow[]>([[cfg.slack.defaultChannel, []]]);
  const byEmail = new Map<string, DigestRow[]>();
  const add = (m: Map<string, DigestRow[]>, key: string, r: DigestRow) => {
    const list = m.get(key);
    if (list) list.push(r);
    else m.set(key, [r]);
  };
  // Every owner with a card gets its target, as when every card was read (an owner whose cards
  // count for nothing this week gets its all-clear, or nothing).
  const owners = await deps.store.owners();
  for (const ch of owners?.channels ?? []) if (!byChannel.has(ch)) byChannel.set(ch, []);
  if (cfg.digest.dmOwners) {
    for (const e of owners?.emails ?? []) if (!byEmail.has(e.toLowerCase())) byEmail.set(e.toLowerCase(), []);
  }
  for (const r of rows) {
    const ch = ownerChannelOf(r);
    if (ch) add(byChannel, ch, r);
    if (cfg.digest.dmOwners && r.ownerEmail) add(byEmail, r.ownerEmail.toLowerCase(), r);
  }
  const channels = [...byChannel.keys()];
  const unusable = await deps.notices.statesOf(
    channels.map((c) => ({ about: 'unusable-channel', channel: c })),
  );
  const unusableOf = new Map(channels.map((c, i) => [c, unusable[i]]));
  const targets: DigestTarget[] = [];
  for (const [channel, list] of [...byChannel].sort((a, b) => a[0].localeCompare(b[0]))) {
    const target = await buildTarget(
      deps,
      input,
      {
        ownerKey: channelOwnerKey(channel),
        owner: { kind: 'channel', channel },
        to: channel,
        kind: 'channel',
      },
      list,
    );
    const error = unusableOf.get(channel);
    targets.push(error && channel !== cfg.slack.defaultChannel ? { ...target, unusable: error } : target);
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
  const archives = await loadArchives(deps, lookBack(now));
  const owners = await deps.store.owners();
  const aliases = new Set([channel]);
  const learn = async (ownerChannels: Iterable<string | undefined>) => {
    const names = [...new Set(ownerChannels)].filter((c): c is string => !!c?.startsWith('#'));
    if (!names.length) return;
    const ids = await deps.channelIds.idsOf(names);
    names.forEach((n, i) => {
      if (ids[i] === channel) aliases.add(n);
    });
  };
  if (owners) await learn(owners.channels);
  const rows = await loadDigestRows(deps, {
    channels: [...aliases],
    emails: [],
    closedSince: lookBack(now),
    ids: archives.map((a) => a.findingId),
  });
  if (!owners) await learn(rows.map(ownerChannelOf));
  const mine = rows.filter(
    (r) => aliases.has(ownerChannelOf(r) ?? '') || (r.channel && aliases.has(r.channel)),
  );
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
  const archives = await loadArchives(deps, lookBack(now));
  const rows = (
    await loadDigestRows(deps, {
      channels: [],
      emails: [owner],
      closedSince: lookBack(now),
      ids: archives.map((a) => a.findingId),
    })
  ).filter((r) => r.ownerEmail?.toLowerCase() === owner);
  const target = await buildTarget(
    deps,
    { rows, archives, now },
    { ownerKey: userOwnerKey(owner), owner: { kind: 'user' }, to: owner, kind: 'user' },
    rows,
  );
  return target.message;
}

export type { LastDigest };

/** Where a digest went instead of its owner's channel, and the Slack error that channel gave. */
export interface DigestFallback {
  to: string;
  error: string;
}

export interface DigestRunResult {
  week: string;
  /** `to`: the owner (channel or e-mail); `channel`: the id it was posted in; `fallback` when elsewhere. */
  sent: { kind: 'channel' | 'user'; to: string; channel: string; fallback?: DigestFallback }[];
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
        result.sent.push({
          kind: t.kind,
          to: t.to,
          channel: outcome.channel,
          ...(outcome.fallback && { fallback: outcome.fallback }),
        });
        const last: LastDigest = {
          week,
          at: now.toISOString(),
          channel: outcome.channel,
          ts: outcome.ts,
          text: message.text,
        };
        // A digest that fell back is still its owner's, not the default channel's latest.
        const lastKey =
          t.kind === 'channel' && !outcome.fallback ? channelOwnerKey(outcome.channel) : t.ownerKey;
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
async function postToChannel(deps: JobDeps, channel: string, message: SlackMessage): Promise<Posted> {
  try {
    return await deps.slack.post(channel, message);
  } catch (err) {
    const fallback = deps.config.slack.defaultChannel;
    if (!(err instanceof SlackError) || !CHANNEL_UNUSABLE_ERRORS.has(err.code) || channel === fallback)
      throw err;
    const posted = await deps.slack.post(fallback, {
      text: message.text,
      blocks: capBlocks([
        context([`Digest of ${channelRef(channel)}, which the bot cannot post to (${code(err.code)}).`]),
        ...message.blocks,
      ]),
    });
    return { ...posted, fallback: { to: fallback, error: err.code } };
  }
}

type Posted = { channel: string; ts: string; fallback?: DigestFallback };

/**
 * Claims (owner, week), then sends. A failed send drops the claim and rethrows, so a retry sends it.
 * 'no-user' (an e-mail Slack does not know) keeps the claim: that owner is not looked up again this week.
 */
async function sendOnce(
  deps: JobDeps,
  ownerKey: string,
  week: string,
  now: Date,
  send: () => Promise<Posted | null>,
): Promise<'already' | 'no-user' | Posted> {
  // The once-marker records where a message went; the fallback it took is kept from this attempt.
  const box: { posted: Posted | null } = { posted: null };
  const outcome = await deps.once.run(
    { kind: 'digest', ownerKey, week },
    now,
    async () => {
      box.posted = await send();
      return box.posted;
    },
    () => deps.afterDigestPostHook?.(ownerKey),
  );
  if (outcome.by === 'earlier-attempt') return 'already';
  return box.posted ?? 'no-user';
}
