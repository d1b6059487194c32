// Access Analyzer's request rate, per region, as a token bucket: `burst` requests at once, refilled
// at `perSecond`.

export interface AwsRateLimit {
  perSecond: number;
  /** Bucket size; default `perSecond` (at least 1). */
  burst?: number;
}

/** Takes a token from the region's bucket; the seconds to wait when there is none. */
export function tokenBuckets(limit: () => AwsRateLimit | undefined): (region: string) => number | undefined {
  const buckets = new Map<string, { tokens: number; at: number }>();
  return (region) => {
    const rate = limit();
    if (!rate || !(rate.perSecond > 0)) return undefined;
    const size = Math.max(1, rate.burst ?? rate.perSecond);
    const now = performance.now();
    const b = buckets.get(region) ?? { tokens: size, at: now };
    b.tokens = Math.min(size, b.tokens + ((now - b.at) / 1000) * rate.perSecond);
    b.at = now;
    buckets.set(region, b);
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return undefined;
    }
    return Math.max(1, Math.ceil((1 - b.tokens) / rate.perSecond));
  };
}
