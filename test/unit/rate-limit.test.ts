import { describe, expect, it } from 'vitest';
import { createRequestPacer, type PacingClock, TokenBucket } from '../../src/aws/rate-limit.ts';

/** A clock that moves only when someone sleeps on it; records every sleep. */
function fakeClock(): PacingClock & { t: number; sleeps: number[]; advance(ms: number): void } {
  const clock = {
    t: 0,
    sleeps: [] as number[],
    now: () => clock.t,
    sleep: async (ms: number) => {
      clock.sleeps.push(ms);
    },
    advance: (ms: number) => {
      clock.t += ms;
    },
  };
  return clock;
}

describe('TokenBucket', () => {
  it('lets a full burst through at once, then spaces requests 1/perSecond apart', async () => {
    const clock = fakeClock();
    const bucket = new TokenBucket({ perSecond: 10, burst: 3 }, clock);
    const waits: number[] = [];
    for (let i = 0; i < 6; i++) waits.push(await bucket.take());
    // Reserved back to back at t=0: the 4th is due after one refill (100 ms), the 5th after two, ...
    expect(waits).toEqual([0, 0, 0, 100, 200, 300]);
    expect(clock.sleeps).toEqual([100, 200, 300]);
  });

  it('refills with time, never above its size', async () => {
    const clock = fakeClock();
    const bucket = new TokenBucket({ perSecond: 2, burst: 2 }, clock);
    expect([await bucket.take(), await bucket.take()]).toEqual([0, 0]);
    clock.advance(500); // one token back
    expect(await bucket.take()).toBe(0);
    expect(await bucket.take()).toBe(500);
    clock.advance(60_000); // a long quiet period refills to the size (2), not 120
    expect([await bucket.take(), await bucket.take(), await bucket.take()]).toEqual([0, 0, 500]);
  });

  it('paces a sustained load at exactly perSecond', async () => {
    const clock = fakeClock();
    const bucket = new TokenBucket({ perSecond: 10 }, clock); // burst defaults to the rate
    let last = 0;
    for (let i = 0; i < 110; i++) {
      const wait = bucket.reserve();
      // The request leaves when its token is due; the clock moves there (a caller that waited).
      clock.advance(wait);
      last = clock.t;
    }
    // 10 at once, then 100 more at 10/s: the last leaves 10 s after the start.
    expect(last).toBe(10_000);
  });

  it('defaults the burst to the rate and is at least one request', async () => {
    expect(new TokenBucket({ perSecond: 7 }).size).toBe(7);
    expect(new TokenBucket({ perSecond: 0.5 }).size).toBe(1);
    expect(() => new TokenBucket({ perSecond: 0 })).toThrow(/perSecond > 0/);
  });
});

describe('createRequestPacer', () => {
  it('keeps one bucket per service and region', async () => {
    const clock = fakeClock();
    const pacer = createRequestPacer({ accessAnalyzer: { perSecond: 1, burst: 1 } }, clock);
    expect(await pacer.take('accessAnalyzer', 'eu-west-1')).toBe(0);
    expect(await pacer.take('accessAnalyzer', 'us-east-1')).toBe(0); // another region: its own bucket
    expect(await pacer.take('accessAnalyzer', 'eu-west-1')).toBe(1000);
    expect(clock.sleeps).toEqual([1000]);
  });

  it('does not pace a service without a rate, or with rate 0', async () => {
    const clock = fakeClock();
    const pacer = createRequestPacer({ accessAnalyzer: { perSecond: 0 } }, clock);
    for (let i = 0; i < 50; i++) {
      expect(await pacer.take('accessAnalyzer', 'eu-west-1')).toBe(0);
      expect(await pacer.take('tagging', 'eu-west-1')).toBe(0);
    }
    expect(clock.sleeps).toEqual([]);
  });
});
