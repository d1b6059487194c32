// What a channel's burst summary is made of: the scan counts each new card per channel (totals by
// type and severity, and the 10 worst), and delivery records the one summary message it posted.
// Delivery also records each card that lands in the summary's thread, so the summary counts what
// its thread holds. All three are per-scan scratch (`scan:<scanId>:burst|worst|summary:<channel>`, 2-day TTL).
import type { Redis } from 'ioredis';
import type { Finding } from '../findings/model.ts';
import type { Assessed } from '../findings/severity.ts';
import { type Keys, SCAN_SCRATCH_TTL_SECONDS } from './keys.ts';

/** How many of the worst new findings a summary lists. */
export const BURST_WORST_KEPT = 10;

/** Field prefix of a card recorded in the summary's thread. */
const IN_THREAD = 'in:';

export interface BurstCounts {
  /** New cards for the channel in this scan. */
  total: number;
  byType: Record<string, number>;
  bySeverity: Record<string, number>;
}

export interface BurstItem {
  finding: Finding;
  severity: Assessed;
}

/** The summary message of a burst: its ts once posted, and the pending marker while it is posted. */
export interface BurstSummaryRecord {
  channel?: string;
  ts?: string;
  /** Epoch seconds when the post started (for the crash-recovery history read). */
  pendingSince?: number;
  /** The channel id the post went to. */
  pendingChannel?: string;
}

/**
 * recordNew in one step. KEYS: the stats hash, the worst set. ARGV: type field, severity field, score,
 * item JSON, worst kept, TTL seconds. pcall, as a MULTI runs each command whatever the others did
 * (a score that is not a number leaves the counts counted).
 */
const RECORD_NEW = `redis.pcall('HINCRBY', KEYS[1], 'new', 1)
redis.pcall('HINCRBY', KEYS[1], ARGV[1], 1)
redis.pcall('HINCRBY', KEYS[1], ARGV[2], 1)
redis.pcall('EXPIRE', KEYS[1], ARGV[6])
redis.pcall('ZADD', KEYS[2], ARGV[3], ARGV[4])
redis.pcall('ZREMRANGEBYRANK', KEYS[2], ARGV[5], -1)
redis.pcall('EXPIRE', KEYS[2], ARGV[6])
return 1`;
const RECORD_NEW_NAME = 'apBurstRecordNew';

type RecordNewScript = (stats: string, worst: string, ...argv: (string | number)[]) => Promise<unknown>;

export class BurstStore {
  constructor(
    private readonly redis: Redis,
    private readonly k: Keys,
  ) {
    // A script, not a MULTI: ioredis copies every script defined on the connection (BullMQ's too)
    // into each MULTI it builds, which cost more than the commands themselves, once per new card.
    if (!(RECORD_NEW_NAME in redis))
      redis.defineCommand(RECORD_NEW_NAME, { numberOfKeys: 2, lua: RECORD_NEW });
  }

  /** Counts a new card for `channel`, and keeps it if it is among the worst so far (one script). */
  async recordNew(scanId: string, channel: string, item: BurstItem): Promise<void> {
    // Lower rank is worse; older first within a rank.
    const score = item.severity.rank * 1e13 + Date.parse(item.finding.createdAt);
    const run = (this.redis as unknown as Record<string, RecordNewScript>)[RECORD_NEW_NAME]!;
    await run.call(
      this.redis,
      this.k.burstStats(scanId, channel),
      this.k.burstWorst(scanId, channel),
      `type:${item.finding.findingType}`,
      `sev:${item.severity.severity}`,
      score,
      JSON.stringify(item),
      BURST_WORST_KEPT,
      SCAN_SCRATCH_TTL_SECONDS,
    );
  }

  /** The channel's new-card counts in this scan (all zero when it had none). */
  async counts(scanId: string, channel: string): Promise<BurstCounts> {
    const stats = await this.redis.hgetall(this.k.burstStats(scanId, channel));
    const counts = (prefix: string) =>
      Object.fromEntries(
        Object.entries(stats)
          .filter(([k]) => k.startsWith(prefix))
          .map(([k, v]) => [k.slice(prefix.length), Number(v)]),
      );
    return { total: Number(stats.new ?? 0), byType: counts('type:'), bySeverity: counts('sev:') };
  }

  /** The worst new findings of the channel in this scan, worst first. */
  async worst(scanId: string, channel: string): Promise<BurstItem[]> {
    return (await this.redis.zrange(this.k.burstWorst(scanId, channel), 0, BURST_WORST_KEPT - 1)).map(
      (raw) => JSON.parse(raw) as BurstItem,
    );
  }

  async summary(scanId: string, channel: string): Promise<BurstSummaryRecord> {
    const h = await this.redis.hgetall(this.k.summary(scanId, channel));
    return {
      ...(h.channel ? { channel: h.channel } : {}),
      ...(h.ts ? { ts: h.ts } : {}),
      ...(h.pendingSince ? { pendingSince: Number(h.pendingSince) } : {}),
      ...(h.pendingChannel ? { pendingChannel: h.pendingChannel } : {}),
    };
  }

  /** Marks the summary as being posted, before the post (a retry then looks for it first). */
  async summaryPending(scanId: string, channel: string, since: number, postedTo: string): Promise<void> {
    const key = this.k.summary(scanId, channel);
    await this.redis
      .multi()
      .hset(key, { pendingSince: String(since), pendingChannel: postedTo })
      .expire(key, SCAN_SCRATCH_TTL_SECONDS)
      .exec();
  }

  /** Records where the summary was posted (or found after a crash). */
  async summaryPosted(
    scanId: string,
    channel: string,
    posted: { channel: string; ts: string },
    shown?: number,
  ): Promise<void> {
    await this.redis.hset(this.k.summary(scanId, channel), {
      channel: posted.channel,
      ts: posted.ts,
      ...(shown !== undefined ? { shown: String(shown) } : {}),
    });
  }

  /**
   * Records a card that landed in the summary's thread (`in:<finding id>` = type and severity).
   * Returns whether it was new to the thread.
   */
  async recordInThread(
    scanId: string,
    channel: string,
    card: { findingId: string; findingType: string; severity: string },
  ): Promise<boolean> {
    const added = await this.redis.hset(
      this.k.summary(scanId, channel),
      `${IN_THREAD}${card.findingId}`,
      `${card.findingType}|${card.severity}`,
    );
    return added > 0;
  }

  /** What the summary's thread holds, by type and severity, and the total its message shows. */
  async thread(scanId: string, channel: string): Promise<{ counts: BurstCounts; shown?: number }> {
    const saved = await this.redis.hgetall(this.k.summary(scanId, channel));
    const counts: BurstCounts = { total: 0, byType: {}, bySeverity: {} };
    for (const [k, v] of Object.entries(saved)) {
      if (!k.startsWith(IN_THREAD)) continue;
      const [type = '', severity = ''] = v.split('|');
      counts.total++;
      counts.byType[type] = (counts.byType[type] ?? 0) + 1;
      counts.bySeverity[severity] = (counts.bySeverity[severity] ?? 0) + 1;
    }
    return { counts, ...(saved.shown !== undefined ? { shown: Number(saved.shown) } : {}) };
  }

  /** Records the total the summary message now shows. */
  async setShown(scanId: string, channel: string, shown: number): Promise<void> {
    await this.redis.hset(this.k.summary(scanId, channel), 'shown', String(shown));
  }
}
