// Delivers one scan's events for one channel: posts new findings (or one summary plus a thread when
// there are more than the burst threshold), updates changed and closed ones in place, and falls back
// to the default channel when the owner's channel cannot take messages.
//
// Idempotency (a job may be retried after a crash at any point):
//  - events leave the outbox only after they are handled, so a retry resumes where it stopped;
//  - a finding with a saved message ts is updated, never posted again;
//  - before posting, the finding's hash records `pendingSince`/`pendingChannel`; the message carries
//    the finding id in its metadata. A retry that finds a pending marker but no ts looks for that
//    message in the channel (or thread) first and adopts its ts instead of posting a second time;
//  - one delivery to a channel at a time (the intent `deliver:<channel>`, held while the job works
//    and renewed as it goes): two scans that overlap both queue the findings they saw as new, and
//    the later delivery waits for the earlier one, then finds those cards posted and only updates.
//    A worker that dies stops renewing; its hold ends CHANNEL_HOLD_MS later, and the card it may
//    have been posting is found again through its pending marker, by whichever delivery is next.

import { DelayedError, type Job } from 'bullmq';
import { type FindingView, findingMessageWithKey } from '../blocks/finding.ts';
import { capBlocks } from '../blocks/limits.ts';
import { channelFallbackNotice, fallbackNoteBlock } from '../blocks/notice.ts';
import { filterValuesOf } from '../src/findings/archive-rule.ts';
import type { Finding, FindingDetails, FindingType, Severity } from '../src/findings/model.ts';
import { assessSeverity } from '../src/findings/severity.ts';
import type { DeliverData } from '../src/queue/index.ts';
import {
  CHANNEL_UNUSABLE_ERRORS,
  mayHaveActed,
  type OutgoingMessage,
  type PostedMessage,
  SlackError,
} from '../src/slack/client.ts';
import type { BurstCounts } from '../src/store/bursts.ts';
import { type FindingState, PENDING_FIELDS } from '../src/store/findings.ts';
import type { OutboxEvent } from '../src/store/outbox.ts';
import { shortHash } from '../src/util/hash.ts';
import type { JobDeps } from './deps.ts';
import { quarantinedView, snoozedView, storedFindingView } from './finding-message.ts';
import { onceKey, postOnce } from './post-once.ts';
import { type DeliveredCard, SummaryTally, summaryMessage } from './summary-count.ts';

export interface DeliverResult {
  scanId: string;
  channel: string;
  posted: number;
  updated: number;
  unchanged: number;
  closed: number;
  notices: number;
  summary?: { channel: string; ts: string; findings: number };
  fallback?: { to: string; error: string };
  /** Another scan's delivery to the channel was under way: this one waited for it to end. */
  waited?: { scanId: string; ms: number };
  /** Post and update calls made (the steady-state target is zero). */
  slackWrites: number;
}

interface Target {
  channel: string;
  /** Set when the owner's channel refused our messages and we post to the default channel. */
  fallbackError?: string;
}

export async function deliverChannel(
  deps: JobDeps,
  job: Job<DeliverData>,
  signal?: AbortSignal,
): Promise<DeliverResult> {
  const { scanId, channel } = job.data;
  const log = deps.logger.child({ jobId: job.id, scanId, channel });
  const result: DeliverResult = {
    scanId,
    channel,
    posted: 0,
    updated: 0,
    unchanged: 0,
    closed: 0,
    notices: 0,
    slackWrites: 0,
  };
  const target: Target = { channel };
  // A job that waited for its pacing before (see below) goes on where it stopped.
  const carried = carriedProgress(job);
  if (carried) {
    for (const k of COUNTS) result[k] += carried[k] ?? 0;
    if (carried.fallback) {
      target.channel = carried.fallback.to;
      target.fallbackError = carried.fallback.error;
      result.fallback = carried.fallback;
    }
    if (carried.waited) result.waited = carried.waited;
  }
  // Another scan's delivery to this channel first: this one waits until it has ended.
  const hold = await holdChannel(deps, job, carried, log);
  if (hold.waited) result.waited = hold.waited;
  let handedBack = false;
  try {
    return await deliverHeld(deps, job, signal, { result, target, carried, hold, log });
  } catch (err) {
    // Paced: the job keeps its channel through the wait (the hold was extended past it).
    if (err instanceof DelayedError) handedBack = true;
    throw err;
  } finally {
    hold.stop();
    if (!handedBack)
      await hold.release().catch((err: Error) => log.warn({ err: err.message }, 'hold not released'));
  }
}

async function deliverHeld(
  deps: JobDeps,
  job: Job<DeliverData>,
  signal: AbortSignal | undefined,
  ctx: {
    result: DeliverResult;
    target: Target;
    carried: ReturnType<typeof carriedProgress>;
    hold: ChannelHold;
    log: JobDeps['logger'];
  },
): Promise<DeliverResult> {
  const { scanId, channel } = job.data;
  const { config, slack, outbox } = deps;
  const { result, target, carried, hold, log } = ctx;
  // Writes to the channel are paced: the next one waits until postIntervalMs after the last.
  let lastWriteAt: number | undefined = carried?.lastWriteAt;
  const pace = async () => {
    result.slackWrites++;
    lastWriteAt = Date.now();
  };
  /**
   * Before the next event: a short wait is slept here; a longer one hands the worker's slot back.
   * The job moves to BullMQ's delayed set until the channel may be written again and resumes at the
   * outbox's head (any worker process may take it), so a worker delivers to many channels at once
   * while each keeps Slack's pace.
   */
  const waitForPace = async () => {
    const interval = config.slack.postIntervalMs;
    if (lastWriteAt === undefined || interval <= 0) return;
    const due = lastWriteAt + interval;
    const wait = due - Date.now();
    if (wait <= 0) return;
    if (job.token && wait >= YIELD_AT_LEAST_MS) {
      const { scanId: _s, channel: _c, summary: _summary, ...counts } = result;
      // What the next run would read again otherwise: the burst's counts and its summary message.
      // Channel ids looked up (only those found: a name Slack did not list is asked again).
      const channelIds: Record<string, string> = {};
      for (const [name, id] of ids) {
        const found = await id;
        if (!found.startsWith('#')) channelIds[name] = found;
      }
      await job.updateProgress({
        ...counts,
        lastWriteAt,
        burst,
        ...(summary ? { summaryMessage: { channel: summary.channel, ts: summary.ts } } : {}),
        channelIds,
        learned: [...learnedIds],
        usableNoted,
      });
      await hold.keepPast(due);
      // Back a little early (a delayed job takes some time to be promoted and taken); the rest of
      // the wait is slept when it resumes, so the pace stays exact.
      await job.moveToDelayed(due - RESUME_EARLY_MS, job.token);
      throw new DelayedError();
    }
    await deps.sleep(wait);
  };

  // Learned once per job: the channel id of a `#name`, and that the channel took a post (which ends
  // an unusable-channel notice); a Redis round trip per post otherwise.
  // A run after a paced pause goes on with what the run before had learned.
  const learnedIds = new Set<string>(carried?.learned ?? []);
  let usableNoted = carried?.usableNoted === true;
  /** Posts to the target channel; on an unusable channel switches to the default channel once. */
  // Channel ids, asked of Slack at most once per channel in this run (see channelIdFor).
  const ids = new Map<string, Promise<string>>(
    Object.entries(carried?.channelIds ?? {}).map(([name, id]) => [name, Promise.resolve(id)]),
  );
  const idOf = (ch: string): Promise<string> => {
    let id = ids.get(ch);
    if (!id) {
      id = channelIdFor(deps, ch);
      ids.set(ch, id);
    }
    return id;
  };
  const post = async (msg: OutgoingMessage, opts: PostOptions): Promise<PostedMessage> => {
    const { beforeSend, ...sendOpts } = opts;
    try {
      const to = await idOf(target.channel);
      await beforeSend?.(to);
      const posted = await slack.post(to, withNote(msg, target, channel), sendOpts);
      const learned = `${target.channel}\0${posted.channel}`;
      if (!learnedIds.has(learned)) {
        await deps.channelIds.remember(target.channel, posted.channel);
        learnedIds.add(learned);
      }
      await pace();
      if (!target.fallbackError && !usableNoted) {
        await clearChannelNotice(deps, channel);
        usableNoted = true;
      }
      return posted;
    } catch (err) {
      if (
        !(err instanceof SlackError) ||
        !CHANNEL_UNUSABLE_ERRORS.has(err.code) ||
        target.fallbackError ||
        channel === config.slack.defaultChannel ||
        opts.threadTs // a thread lives in one channel; the summary already decided where it goes
      ) {
        throw err;
      }
      log.warn({ error: err.code }, 'channel unusable; falling back to the default channel');
      target.channel = config.slack.defaultChannel;
      target.fallbackError = err.code;
      result.fallback = { to: target.channel, error: err.code };
      await reportChannelOnce(deps, channel, err.code);
      return post(msg, opts);
    }
  };

  // A burst: one summary message, the findings go into its thread. A run after a paced pause has the
  // counts (final once the scan is done) and the summary from the run before.
  const burst = carried?.burst ?? (await deps.bursts.counts(scanId, channel));
  const isBurst = burst.total > config.slack.burstThreshold;
  let summary: PostedMessage | undefined;
  let tally: SummaryTally | undefined;
  const useSummary = (s: PostedMessage) => {
    summary = s;
    target.channel = s.channel;
    result.summary = { channel: s.channel, ts: s.ts, findings: burst.total };
    tally = new SummaryTally(deps, scanId, channel, s);
  };
  if (isBurst) {
    const known = carried?.summaryMessage ?? (await knownSummary(deps, scanId, channel));
    if (known) useSummary(known);
  }
  // The summary is posted when the first card goes into its thread: a delivery that finds every
  // card already posted (by a scan it overlapped) posts no summary at all.
  const thread = async (): Promise<string | undefined> => {
    if (!isBurst) return undefined;
    if (!summary) useSummary(await postSummary(deps, scanId, channel, burst, post));
    return summary?.ts;
  };

  // Each handled event is popped in the same round trip that reads the next one.
  let event = await outbox.head(scanId, channel);
  while (event) {
    await waitForPace();
    if (event.kind === 'notice') {
      // Claimed before it is posted (jobs/post-once.ts): a retry after the pop failed (Redis
      // went away) finds the claim and does not post the notice again.
      const notice = event;
      await postOnce(deps, onceKey(job, `notice-${shortHash(notice.key)}`), (marker) =>
        post({ text: notice.text, blocks: notice.blocks }, marker),
      );
      result.notices++;
    } else if (event.kind === 'finding') {
      const id = event.finding.id;
      // The tally may start during this event (its summary is posted with the first card).
      const record = (card: DeliveredCard) => tally?.record(id, card) ?? Promise.resolve();
      await deliverFinding(deps, event, { post, thread, target, idOf, result, pace, record });
    } else {
      await deliverClosed(deps, event, { result, pace });
    }
    // A shutdown stops between events; the job is handed back and resumes here (jobs/workers.ts).
    if (signal?.aborted) {
      await outbox.pop(scanId, channel);
      signal.throwIfAborted();
    }
    event = await outbox.popAndHead(scanId, channel);
  }
  // The summary says what its thread holds.
  if (tally && result.summary) result.summary.findings = await tally.refresh();
  // scanId and channel are already the child logger's bindings.
  const { scanId: _scanId, channel: _channel, ...counts } = result;
  log.info(counts, 'channel delivered');
  return result;
}

/** Pacing waits at least this long hand the worker slot back instead of sleeping in it. */
const YIELD_AT_LEAST_MS = 300;
/** A job that handed its slot back asks to resume this much before its next write is due. */
const RESUME_EARLY_MS = 200;

const COUNTS = ['posted', 'updated', 'unchanged', 'closed', 'notices', 'slackWrites'] as const;

/** What earlier runs of this job (before they waited for the channel's pacing) had done. */
function carriedProgress(job: Job<DeliverData>):
  | (Partial<Pick<DeliverResult, (typeof COUNTS)[number]>> &
      Pick<DeliverResult, 'fallback' | 'waited'> & {
        lastWriteAt?: number;
        /** The burst's counts and its summary message, as the run before the pause had them. */
        burst?: BurstCounts;
        summaryMessage?: PostedMessage;
        /** Channel ids the run before looked up, the ids it saved, and that the channel took a post. */
        channelIds?: Record<string, string>;
        learned?: string[];
        usableNoted?: boolean;
        /** Waiting for another delivery to the channel since (epoch ms), and its scan. */
        waitingSince?: number;
        waitingFor?: string;
      })
  | undefined {
  const p = job.progress;
  return p && typeof p === 'object' && !Array.isArray(p)
    ? (p as ReturnType<typeof carriedProgress>)
    : undefined;
}

/**
 * How long a delivery's hold on its channel outlives its last renewal. The holder renews it a few
 * times within that while it works and past each paced wait, so only a dead process loses it.
 */
export const CHANNEL_HOLD_MS = 30_000;
/** What a hold has left at least, while its delivery works or waits for its pacing. */
const HOLD_MARGIN_MS = (CHANNEL_HOLD_MS * 2) / 3;
/** A delivery waiting for another one to the same channel asks again this often. */
const CHANNEL_WAIT_POLL_MS = 1_000;

interface ChannelHold {
  /** Set when this delivery waited for another scan's delivery to the channel. */
  waited?: { scanId: string; ms: number };
  /**
   * Keeps the channel across a paced wait, when no worker renews it, until at least HOLD_MARGIN_MS
   * past `at` (epoch ms, when the job is due again): the margin a working holder keeps too (it renews
   * every CHANNEL_HOLD_MS / 3). Renewed, to CHANNEL_HOLD_MS past `at`, only when less would remain:
   * the run that paused had just taken the hold back, so a pause of about a second costs no renewal.
   */
  keepPast(at: number): Promise<void>;
  stop(): void;
  release(): Promise<void>;
}

/** The intent that makes deliveries to one channel take turns (src/store/intents.ts). */
export function deliveryIntent(channel: string): string {
  return `deliver:${channel}`;
}

/**
 * Takes the channel for this delivery, or waits while another scan's delivery holds it: in BullMQ's
 * delayed set when the job has a lock token (the worker slot is free meanwhile), else here. An
 * earlier run of this same job (paced, handed back at shutdown, or crashed) holds it for this run.
 */
async function holdChannel(
  deps: JobDeps,
  job: Job<DeliverData>,
  carried: ReturnType<typeof carriedProgress>,
  log: JobDeps['logger'],
): Promise<ChannelHold> {
  const { scanId, channel } = job.data;
  const jobId = job.id ?? `deliver-${scanId}-${channel}`;
  const intent = deliveryIntent(channel);
  let waitingSince = carried?.waitingSince;
  let waitingFor = carried?.waitingFor;
  /** When the hold ends at the earliest (epoch ms), as of its last claim or renewal. */
  let heldUntil = 0;
  for (;;) {
    const asked = Date.now();
    // Taken, or taken back by this same job (after a paced pause), in one round trip.
    const claim = await deps.intents.hold(
      intent,
      { jobId, userId: scanId, at: deps.now().toISOString() },
      CHANNEL_HOLD_MS,
    );
    if (claim.held) {
      heldUntil = asked + CHANNEL_HOLD_MS;
      break;
    }
    if (!claim.holder) {
      // Ended between the two reads: claim it now.
      await deps.sleep(20);
      continue;
    }
    waitingSince ??= Date.now();
    if (waitingFor !== claim.holder.userId) {
      waitingFor = claim.holder.userId;
      log.info(
        { heldBy: claim.holder.jobId, heldSince: claim.holder.at },
        'another scan is delivering to this channel; waiting for it',
      );
    }
    if (job.token) {
      await job.updateProgress({ ...(carried ?? {}), waitingSince, waitingFor });
      await job.moveToDelayed(Date.now() + CHANNEL_WAIT_POLL_MS, job.token);
      throw new DelayedError();
    }
    await deps.sleep(CHANNEL_WAIT_POLL_MS);
  }
  const renew = async (ms: number) => {
    const asked = Date.now();
    if (await deps.intents.renew(intent, jobId, ms)) heldUntil = asked + ms;
    else log.warn('lost the hold on the channel');
  };
  const timer = setInterval(() => {
    renew(CHANNEL_HOLD_MS).catch((err: Error) => log.warn({ err: err.message }, 'hold not renewed'));
  }, CHANNEL_HOLD_MS / 3);
  timer.unref();
  return {
    ...(waitingSince !== undefined && waitingFor !== undefined
      ? { waited: { scanId: waitingFor, ms: Date.now() - waitingSince } }
      : {}),
    keepPast: async (at: number) => {
      if (heldUntil - at >= HOLD_MARGIN_MS) return;
      await renew(at - Date.now() + CHANNEL_HOLD_MS);
    },
    stop: () => clearInterval(timer),
    release: async () => {
      await deps.intents.release(intent, jobId, 0);
    },
  };
}

function withNote(msg: OutgoingMessage, target: Target, ownChannel: string): OutgoingMessage {
  if (!target.fallbackError) return msg;
  return {
    text: msg.text,
    blocks: capBlocks([...msg.blocks, fallbackNoteBlock(ownChannel, target.fallbackError)]),
  };
}

/**
 * The key a burst summary is found again by (its metadata), one per scan and channel: two channels'
 * summaries can land in one Slack channel (a fallback to the default channel, two routes naming one
 * channel), and a lost answer must not adopt the other one.
 */
export function summaryKey(scanId: string, channel: string): string {
  return `summary-${scanId}-${shortHash(channel)}`;
}

/**
 * The key every channel's summary of a scan carried before summaryKey named the channel. A summary
 * the previous version posted just before an upgrade (its answer lost, or the process stopped before
 * recording it) carries this one; its retry runs this version. Needed while such a delivery can
 * still be retried: its pending marker lives with the scan's scratch (2 days).
 */
function previousSummaryKey(scanId: string): string {
  return `summary-${scanId}`;
}

/** The burst summary an earlier attempt of this delivery posted (or whose answer it lost), if any. */
async function knownSummary(deps: JobDeps, scanId: string, channel: string): Promise<PostedMessage | null> {
  const { bursts } = deps;
  const saved = await bursts.summary(scanId, channel);
  if (saved.ts && saved.channel) return { channel: saved.channel, ts: saved.ts };
  if (saved.pendingSince === undefined) return null;
  const where = saved.pendingChannel ?? channel;
  const found =
    (await findPostedSafely(deps, where, summaryKey(scanId, channel), saved.pendingSince)) ??
    (await previousVersionSummary(deps, scanId, channel, where, saved.pendingSince));
  if (found) await bursts.summaryPosted(scanId, channel, found);
  return found;
}

/**
 * A summary posted by the previous version is already sent: adopted, not posted again. Its key is
 * every channel's, so the summaries other channels of this scan have recorded are passed over
 * (two channels' summaries can land in one Slack channel).
 */
async function previousVersionSummary(
  deps: JobDeps,
  scanId: string,
  channel: string,
  where: string,
  since: number,
): Promise<PostedMessage | null> {
  const others = new Set<string>();
  for (const other of await deps.outbox.channels(scanId)) {
    if (other === channel) continue;
    const s = await deps.bursts.summary(scanId, other);
    if (s.ts) others.add(s.ts);
  }
  return findPostedSafely(deps, where, previousSummaryKey(scanId), since, undefined, others);
}

async function postSummary(
  deps: JobDeps,
  scanId: string,
  channel: string,
  counts: BurstCounts,
  post: (msg: OutgoingMessage, opts: PostOptions) => Promise<PostedMessage>,
): Promise<PostedMessage> {
  const { bursts } = deps;
  const marker = summaryKey(scanId, channel);
  // What the scan found; redrawn from the thread as replies land (jobs/summary-count.ts).
  const msg = await summaryMessage(deps, scanId, channel, counts);
  const nowSec = Math.floor(deps.now().getTime() / 1000);
  // Marked pending in the channel each send goes to: after a fallback to the default channel, a
  // retry looks for a lost answer there, not in the channel that refused it.
  const posted = await post(msg, {
    findingId: marker,
    beforeSend: (to) => bursts.summaryPending(scanId, channel, nowSec, to),
  });
  await bursts.summaryPosted(scanId, channel, posted, counts.total);
  return posted;
}

interface PostOptions {
  threadTs?: string;
  findingId?: string;
  onceKey?: string;
  lookFirst?: number;
  /** Runs just before each send, with the id of the channel it goes to (a fallback sends again). */
  beforeSend?: (channelId: string) => Promise<void>;
}

interface FindingCtx {
  post: (msg: OutgoingMessage, opts: { threadTs?: string; findingId?: string }) => Promise<PostedMessage>;
  /** The thread a new card goes into (the burst summary's, posted on first use), or none. */
  thread: () => Promise<string | undefined>;
  /** A channel's id (what a lost answer is looked for in). */
  idOf: (channel: string) => Promise<string>;
  target: Target;
  result: DeliverResult;
  pace: () => Promise<void>;
  /** Records the card as it now is in the burst's tally (a reply in its summary's thread counts). */
  record: (card: DeliveredCard) => Promise<void>;
}

/** Delivers one finding and records its card's message, as it now is, in the burst tally. */
async function deliverFinding(
  deps: JobDeps,
  event: Extract<OutboxEvent, { kind: 'finding' }>,
  ctx: FindingCtx,
): Promise<void> {
  const { finding, route, severity } = event;
  const { store } = deps;
  const state = await store.get(finding.id);
  const view: FindingView = {
    finding,
    severity,
    route,
    accountName: deps.config.accounts[finding.accountId]?.name,
    consoleUrl: deps.config.consoleUrl,
    now: deps.now(),
    // A snooze or quarantine made from Slack stays on the message when the finding changes.
    state: {
      status: 'ACTIVE',
      ...snoozedView(deps.now(), state, { status: 'ACTIVE' }),
      ...quarantinedView(state, { status: 'ACTIVE' }),
    },
    unusedRole: deps.config.roles.unusedRole,
  };
  const { message: msg, fingerprint } = findingMessageWithKey(view);
  // Drawn from another id of the card (its first id is closed): the card's own fields stay its
  // first id's, so that id's next listing is still compared with what AWS last said of it.
  const own: Partial<FindingState> = event.via
    ? {}
    : { updatedAt: finding.updatedAt, analyzerArn: finding.analyzerArn, region: finding.region };
  // Reopened (by AWS, or unarchived outside the bot): its SLA reminders start afresh.
  if (state && state.status !== 'ACTIVE') {
    await store.clearReminders(finding.id);
    await store.keep(finding.id);
  }
  // A card from before natural keys learns its key the first time it changes.
  if (state && event.naturalKey && !state.naturalKey) {
    if ((await store.claimNaturalKey(event.naturalKey, finding.id)) === finding.id) {
      await store.set(finding.id, { naturalKey: event.naturalKey });
    }
  }

  if (state?.ts && state.channel) {
    if (state.fingerprint === fingerprint && state.status === 'ACTIVE') {
      if (!event.via) await store.set(finding.id, { updatedAt: finding.updatedAt });
      ctx.result.unchanged++;
      return ctx.record(cardOf(state));
    }
    try {
      await deps.slack.update(state.channel, state.ts, msg);
      await ctx.pace();
      await store.set(finding.id, {
        status: 'ACTIVE',
        fingerprint,
        ...(event.via ? {} : { updatedAt: finding.updatedAt }),
        filterValues: JSON.stringify(filterValuesOf(finding)),
        severity: severity.severity,
        ownerEmail: route.ownerEmail,
      });
      ctx.result.updated++;
      return ctx.record(cardOf({ ...state, severity: severity.severity }));
    } catch (err) {
      // The message was deleted by someone: post a fresh one below.
      if (!(err instanceof SlackError) || err.code !== 'message_not_found') throw err;
    }
  }

  const base: Partial<FindingState> = {
    status: 'ACTIVE',
    routeChannel: route.channel,
    routeRule: route.rule,
    ...(event.via ? {} : { analyzerArn: finding.analyzerArn, region: finding.region }),
    ...(event.naturalKey && !state?.naturalKey ? { naturalKey: event.naturalKey } : {}),
    accountId: finding.accountId,
    findingType: finding.findingType,
    resourceArn: finding.resourceArn,
    resourceType: finding.resourceType,
    filterValues: JSON.stringify(filterValuesOf(finding)),
    severity: severity.severity,
    category: severity.category,
    createdAt: finding.createdAt,
    firstSeen: state?.firstSeen ?? deps.now().toISOString(),
    ownerEmail: route.ownerEmail,
  };
  let posted: PostedMessage | null = null;
  let threadTs: string | undefined;
  if (state?.pendingSince && state.pendingChannel) {
    threadTs = state.pendingThreadTs;
    posted = await findPostedSafely(
      deps,
      state.pendingChannel,
      finding.id,
      Number(state.pendingSince),
      threadTs,
    );
  }
  if (!posted) {
    threadTs = await ctx.thread();
    await store.set(finding.id, {
      ...base,
      // updatedAt stays empty until the ts is saved, so a scan in between still sees a change.
      ...(event.via ? {} : { updatedAt: '' }),
      pendingSince: String(Math.floor(deps.now().getTime() / 1000)),
      pendingChannel: await ctx.idOf(ctx.target.channel),
      pendingThreadTs: threadTs,
    });
    posted = await ctx.post(msg, { threadTs, findingId: finding.id });
    await deps.afterPostHook?.(finding.id);
  }
  const saved: Partial<FindingState> = {
    ...base,
    ...own,
    fingerprint,
    channel: posted.channel,
    ts: posted.ts,
    threadTs,
  };
  // The pending marker goes in the same write that saves the message. The tally's record goes
  // alongside (the reply is in the thread, saved or not; a retry records it once again, which
  // counts once): one round trip per posted card instead of two.
  await Promise.all([
    store.set(finding.id, saved, { clear: PENDING_FIELDS }),
    ctx.record(cardOf({ ...state, ...saved })),
  ]);
  ctx.result.posted++;
}

function cardOf(state: Partial<FindingState>): DeliveredCard {
  return { ts: state.ts, threadTs: state.threadTs, findingType: state.findingType, severity: state.severity };
}

async function deliverClosed(
  deps: JobDeps,
  event: Extract<OutboxEvent, { kind: 'closed' }>,
  ctx: { result: DeliverResult; pace: () => Promise<void> },
): Promise<void> {
  const state = await deps.store.get(event.id);
  if (!state) return;
  if (!state.ts || !state.channel || state.status === event.status) {
    await deps.store.set(event.id, { status: event.status, updatedAt: event.at });
    if (event.status === 'RESOLVED')
      await deps.store.retire(event.id, deps.config.redis.resolvedRetentionDays);
    return;
  }
  const finding = event.finding ?? findingFromState(event.id, state);
  const severity = event.finding
    ? assessSeverity(event.finding, deps.config.severity.overrides)
    : { ...assessSeverity(finding), severity: state.severity as Severity };
  const view = storedFindingView(
    deps,
    { ...finding, status: event.status },
    state,
    {
      status: event.status,
      at: event.at,
      // A role deleted from Slack keeps its Restore button after AWS resolves the finding.
      ...(state.deletedBy && state.deletedAt && state.backupKey
        ? { deleted: { by: state.deletedBy, at: state.deletedAt, backupKey: state.backupKey } }
        : {}),
    },
    severity,
  );
  const { message, fingerprint } = findingMessageWithKey(view);
  try {
    await deps.slack.update(state.channel, state.ts, message);
    await ctx.pace();
  } catch (err) {
    if (!(err instanceof SlackError) || err.code !== 'message_not_found') throw err;
  }
  await deps.store.set(event.id, {
    status: event.status,
    updatedAt: event.at,
    fingerprint,
  });
  // AWS deletes RESOLVED findings 90 days after their last update; the bot's state follows.
  if (event.status === 'RESOLVED') await deps.store.retire(event.id, deps.config.redis.resolvedRetentionDays);
  ctx.result.closed++;
}

/** When AWS has forgotten a finding, its message is closed from what the bot stored. */
function findingFromState(id: string, s: FindingState): Finding {
  const details: Record<FindingType, FindingDetails> = {
    ExternalAccess: { kind: 'externalAccess', isPublic: false, grants: [] },
    InternalAccess: { kind: 'internalAccess', grants: [] },
    UnusedIAMRole: { kind: 'unusedRole' },
    UnusedIAMUserAccessKey: { kind: 'unusedAccessKey', accessKeyId: 'unknown' },
    UnusedIAMUserPassword: { kind: 'unusedPassword' },
    UnusedPermission: { kind: 'unusedPermission', services: [] },
  };
  const findingType = s.findingType as FindingType;
  return {
    id,
    analyzerArn: s.analyzerArn,
    region: s.region,
    accountId: s.accountId,
    resourceArn: s.resourceArn,
    resourceType: s.resourceType,
    findingType,
    status: s.status,
    createdAt: s.createdAt,
    updatedAt: s.updatedAt,
    details: details[findingType] ?? details.ExternalAccess,
  };
}

/**
 * The id of a channel the routing names by `#name`, asked of Slack once and kept (`channel-id:`),
 * so that a post whose answer is lost can be looked for (conversations.history takes ids only),
 * the very first post to the channel included. A name Slack does not list, or a look that fails,
 * is posted to as written: Slack's answer to the post says what is wrong with the channel.
 */
async function channelIdFor(deps: JobDeps, channel: string): Promise<string> {
  const known = await deps.channelIds.resolve(channel);
  if (!known.startsWith('#')) return known;
  try {
    const id = await deps.slack.channelIdByName(known);
    if (id) {
      await deps.channelIds.remember(known, id);
      return id;
    }
    deps.logger.warn({ channel }, 'Slack lists no channel by this name');
  } catch (err) {
    deps.logger.warn({ channel, err: (err as Error).message }, 'could not look up the channel id');
  }
  return channel;
}

async function findPostedSafely(
  deps: JobDeps,
  channel: string,
  marker: string,
  sinceEpochSeconds: number,
  threadTs?: string,
  skip?: ReadonlySet<string>,
): Promise<PostedMessage | null> {
  try {
    return await deps.slack.findPosted(channel, marker, {
      sinceEpochSeconds,
      threadTs,
      ...(skip?.size ? { skip } : {}),
    });
  } catch (err) {
    // Slack still failing: the job's retry looks again (posting now could make a second message).
    if (mayHaveActed(err)) throw err;
    // Cannot look (e.g. a channel name where Slack wants an id): posting again is the lesser harm.
    deps.logger.warn({ channel, marker, err: (err as Error).message }, 'could not check for an earlier post');
    return null;
  }
}

/** Tells the admin channel once per error that a channel cannot take the bot's messages. */
async function reportChannelOnce(deps: JobDeps, channel: string, error: string): Promise<void> {
  await deps.notices.reportOnChange({ about: 'unusable-channel', channel }, error, async () => {
    await deps.slack.post(deps.config.slack.adminChannel, channelFallbackNotice({ channel, error }));
  });
}

/** The channel takes messages again: a later failure is reported anew. */
async function clearChannelNotice(deps: JobDeps, channel: string): Promise<void> {
  await deps.notices.clear({ about: 'unusable-channel', channel });
}
