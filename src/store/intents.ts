// One job per intent: a person's request (archive this card, rescan it, restore this backup) is
// held while its job runs, so a second click (which Slack sends with its own action_ts and
// trigger_id) or a second submission adds no second job, AWS call, reply or audit entry. A delivery
// to a channel is an intent too (`deliver:<channel>`): two scans that overlap deliver to a channel
// one after the other (jobs/deliver.ts).
import type { Redis } from 'ioredis';
import type { Keys } from './keys.ts';

/** Who holds an intent: the job doing it, who asked and when. */
export interface IntentHolder {
  jobId: string;
  /** The Slack user who asked; for a delivery to a channel, the scan it delivers. */
  userId: string;
  at: string;
}

export type IntentClaim = { claimed: true } | { claimed: false; holder: IntentHolder | null };

// Sets the intent to expire in ARGV[2] ms, only while job ARGV[1] holds it (an expired and re-claimed
// one stays). Renewing extends its lifetime; releasing lets it linger, so that the second click of a
// double click that arrives after a fast job finished is still the same request.
const EXPIRE_IF_HELD = `
local v = redis.call('GET', KEYS[1])
if not v then return 0 end
local ok, h = pcall(cjson.decode, v)
if ok and h.jobId == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0
`;

// Takes the intent when nobody holds it, or extends it when this job already does; else returns
// who holds it. One round trip where claim, read and renew take three (a delivery taking its
// channel back after every paced pause).
const HOLD = `
local v = redis.call('GET', KEYS[1])
if not v then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[3])
  return {1}
end
local ok, h = pcall(cjson.decode, v)
if ok and type(h) == 'table' and h.jobId == ARGV[2] then
  redis.call('PEXPIRE', KEYS[1], ARGV[3])
  return {2}
end
return {0, v}
`;

export type IntentHold = { held: true; renewed: boolean } | { held: false; holder: IntentHolder | null };

/** How far apart two clicks on the same thing count as one double click. */
export const DOUBLE_CLICK_MS = 2_000;

export class IntentStore {
  constructor(
    private readonly redis: Redis,
    private readonly k: Keys,
  ) {}

  /** SET NX with a lifetime: the safety net when a job never reports back. */
  async claim(intent: string, holder: IntentHolder, ttlMs: number): Promise<IntentClaim> {
    const key = this.k.intent(intent);
    const ok = await this.redis.set(key, JSON.stringify(holder), 'PX', ttlMs, 'NX');
    if (ok === 'OK') return { claimed: true };
    const raw = await this.redis.get(key);
    let current: IntentHolder | null = null;
    try {
      current = raw ? (JSON.parse(raw) as IntentHolder) : null;
    } catch {
      current = null;
    }
    return { claimed: false, holder: current };
  }

  /**
   * Claims the intent for `holder.jobId`, or keeps it `ttlMs` longer when that job holds it already
   * (`renewed`); otherwise says who holds it.
   */
  async hold(intent: string, holder: IntentHolder, ttlMs: number): Promise<IntentHold> {
    const res = (await this.redis.eval(
      HOLD,
      1,
      this.k.intent(intent),
      JSON.stringify(holder),
      holder.jobId,
      String(ttlMs),
    )) as [number, string?];
    if (res[0] === 1) return { held: true, renewed: false };
    if (res[0] === 2) return { held: true, renewed: true };
    let current: IntentHolder | null = null;
    try {
      current = res[1] ? (JSON.parse(res[1]) as IntentHolder) : null;
    } catch {
      current = null;
    }
    return { held: false, holder: current };
  }

  /**
   * Keeps the intent `ttlMs` longer while `jobId` holds it (a long job renews it as it works, so
   * that it outlives the job's process only by `ttlMs`); false when it no longer does.
   */
  async renew(intent: string, jobId: string, ttlMs: number): Promise<boolean> {
    return (await this.redis.eval(EXPIRE_IF_HELD, 1, this.k.intent(intent), jobId, String(ttlMs))) === 1;
  }

  /** Ends the intent when its job (or the last of its follow-ups) is done (after DOUBLE_CLICK_MS). */
  async release(intent: string, jobId: string, lingerMs = DOUBLE_CLICK_MS): Promise<boolean> {
    return (await this.redis.eval(EXPIRE_IF_HELD, 1, this.k.intent(intent), jobId, String(lingerMs))) === 1;
  }
}
