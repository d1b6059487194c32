// What a scan keeps between its jobs: per analyzer, the ids listed so far by this scan (`seen`), the
// ids ACTIVE at the last complete listing (`active`) and the ids already queued for delivery (so a
// retried attempt queues each once); and the record of the last finalized scan for `/access status`.
import type { Redis } from 'ioredis';
import { type Keys, SCAN_SCRATCH_TTL_SECONDS } from './keys.ts';

/** One analyzer's outcome in a scan (the scan-analyzer job's result), as `/access status` reads it back. */
export interface AnalyzerScanResult {
  analyzerArn: string;
  /** The analyzer's name (absent only when a failed job's data could not be read back). */
  name?: string;
  region: string;
  ok: boolean;
  error?: string;
  /** Set when the job failed after every retry (throttled, AWS unavailable, ...): nothing was checked. */
  failed?: boolean;
  /** Attempts made, when the job failed. */
  attempts?: number;
  pages: number;
  active: number;
  new: number;
  changed: number;
  closed: number;
  /** Ids new to the bot that joined the card of another id with the same natural key. */
  joined: number;
  detailCalls: number;
}

/** The last finalized scan: every analyzer, failed ones included. */
export interface LastScan {
  scanId: string;
  at: string;
  analyzers: AnalyzerScanResult[];
  failedAnalyzers: number;
}

export class ScanStore {
  constructor(
    private readonly redis: Redis,
    private readonly k: Keys,
  ) {}

  /** The listing of one analyzer within one scan. */
  listing(scanId: string, analyzerArn: string): AnalyzerListing {
    return new AnalyzerListing(this.redis, this.k, scanId, analyzerArn);
  }

  async saveLastScan(scan: LastScan): Promise<void> {
    await this.redis.set(this.k.lastScan(), JSON.stringify(scan));
  }

  async lastScan(): Promise<LastScan | null> {
    const raw = await this.redis.get(this.k.lastScan());
    return raw ? (JSON.parse(raw) as LastScan) : null;
  }
}

/**
 * `analyzer:<id>:seen:<scanId>` fills page by page and replaces `analyzer:<id>:active` only when the
 * listing completes, so a listing that failed half way resolves nothing.
 */
export class AnalyzerListing {
  private readonly seenKey: string;
  private readonly activeKey: string;
  private readonly queuedKey: string;

  constructor(
    private readonly redis: Redis,
    k: Keys,
    scanId: string,
    analyzerArn: string,
  ) {
    this.seenKey = k.analyzerSeen(analyzerArn, scanId);
    this.activeKey = k.analyzerActive(analyzerArn);
    this.queuedKey = k.scanQueued(scanId, analyzerArn);
  }

  /** Starts (or, for a retried attempt, restarts) the listing from nothing seen. */
  async begin(): Promise<void> {
    await this.redis.del(this.seenKey);
  }

  async addSeen(ids: readonly string[]): Promise<void> {
    await this.addToScratch(this.seenKey, ids);
  }

  /** Adds ids to one of the scan's scratch sets, which lives SCAN_SCRATCH_TTL_SECONDS from then. */
  private async addToScratch(key: string, ids: readonly string[]): Promise<void> {
    if (ids.length === 0) return;
    await this.redis
      .multi()
      .sadd(key, ...ids)
      .expire(key, SCAN_SCRATCH_TTL_SECONDS)
      .exec();
  }

  /** For each id, whether an attempt of this scan already queued it for delivery. */
  async queued(ids: readonly string[]): Promise<boolean[]> {
    if (ids.length === 0) return [];
    return (await this.redis.smismember(this.queuedKey, ...ids)).map((v) => v === 1);
  }

  async markQueued(ids: readonly string[]): Promise<void> {
    await this.addToScratch(this.queuedKey, ids);
  }

  /** Ids ACTIVE at the last complete listing that this listing has not returned. */
  async notSeen(): Promise<string[]> {
    return this.redis.sdiff(this.activeKey, this.seenKey);
  }

  /** A listing that cannot complete (access denied): the previous active set stays. */
  async abandon(): Promise<void> {
    await this.redis.del(this.seenKey);
  }

  /** The complete listing becomes the active set (none at all when it listed no finding). */
  async complete(listedAny: boolean): Promise<void> {
    if (listedAny) await this.redis.rename(this.seenKey, this.activeKey);
    else await this.redis.del(this.activeKey, this.seenKey);
  }
}
