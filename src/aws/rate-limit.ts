// Client-side pacing of AWS requests: one token bucket per service and region, shared by every
// client of that service in the region (all accounts, all analyzer jobs of this process), so the bot
// stays under a request rate instead of learning it from 429 ThrottlingException answers.
//
// A request reserves a token at once and waits until its token is due: requests leave in the order
// they asked, spaced 1/perSecond apart once the burst is spent, with no polling.

export interface RateLimit {
  /** Requests per second the bucket refills; 0 turns pacing off. */
  perSecond: number;
  /** Requests allowed at once after a quiet period (the bucket's size); default `perSecond`, at least 1. */
  burst?: number;
}

export interface PacingClock {
  now(): number;
  sleep(ms: number): Promise<void>;
}

const realClock: PacingClock = {
  now: () => performance.now(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
};

export class TokenBucket {
  readonly perSecond: number;
  readonly size: number;
  private tokens: number;
  private at: number;

  constructor(
    limit: RateLimit,
    private readonly clock: PacingClock = realClock,
  ) {
    if (!(limit.perSecond > 0)) throw new Error('a token bucket needs perSecond > 0');
    this.perSecond = limit.perSecond;
    this.size = Math.max(1, limit.burst ?? limit.perSecond);
    this.tokens = this.size;
    this.at = clock.now();
  }

  /**
   * Reserves the next token; resolves when it is due. Returns the milliseconds waited (0 when a
   * token was there).
   */
  async take(): Promise<number> {
    const wait = this.reserve();
    if (wait > 0) await this.clock.sleep(wait);
    return wait;
  }

  /** Takes a token, possibly one not refilled yet, and says how long until it is (ms). */
  reserve(): number {
    const now = this.clock.now();
    this.tokens = Math.min(this.size, this.tokens + ((now - this.at) / 1000) * this.perSecond);
    this.at = now;
    this.tokens -= 1;
    return this.tokens >= 0 ? 0 : Math.ceil((-this.tokens / this.perSecond) * 1000);
  }
}

/** The service names pacing is configured by (src/config `aws.rateLimits`). */
export type PacedService = 'accessAnalyzer' | 'tagging' | 'iam';

export interface RequestPacer {
  /** Waits for a token of the service in the region; resolves at once when that service is not paced. */
  take(service: PacedService, region: string): Promise<number>;
}

export function createRequestPacer(
  limits: Partial<Record<PacedService, RateLimit | undefined>>,
  clock: PacingClock = realClock,
): RequestPacer {
  const buckets = new Map<string, TokenBucket>();
  return {
    async take(service, region) {
      const limit = limits[service];
      if (!limit || !(limit.perSecond > 0)) return 0;
      const key = `${service}|${region}`;
      let bucket = buckets.get(key);
      if (!bucket) {
        bucket = new TokenBucket(limit, clock);
        buckets.set(key, bucket);
      }
      return bucket.take();
    },
  };
}
