// Policy generation requests in Redis: one FIFO per account whose head holds the account's one
// generation slot (AWS runs one generation at a time per account), each request's progress, and the
// account's recent starts for the daily quota. Every step that reads and changes the FIFO or the slot
// is one Lua script, so two workers can never start two generations in one account, and two jobs
// ending the same request hand the slot on once.
import type { Redis } from 'ioredis';
import type { PolicyRequestData } from '../queue/payloads.ts';
import type { Keys } from './keys.ts';

/** A request as kept in Redis while it waits, runs and reports. */
export interface PolicyRequestState extends PolicyRequestData {
  status: 'queued' | 'conflict' | 'running' | 'done';
  awsJobId?: string;
  /** When StartPolicyGeneration answered. */
  startedAt?: string;
  /** Where the progress note and the result go: the finding's thread, or the channel (then its thread). */
  anchor?: { channel: string; threadTs?: string };
  progressTs?: string;
  polls?: number;
  /** When the first Conflict was met (retries stop after maxWaitMinutes). */
  conflictSince?: string;
  /** The attempt number of the next start (conflict retries count up). */
  startAttempt?: number;
  resultPosted?: boolean;
}

/** Requests are kept a week after they were made (ListPolicyGenerations also keeps 7 days). */
export const POLICY_REQUEST_TTL_SECONDS = 7 * 24 * 3600;
const DAY_MS = 86_400_000;
/** The starts of the last day count against the quota; the set outlives its newest entry by a day. */
const STARTS_TTL_MS = 2 * DAY_MS;

/** Adds the request once (SET NX) at the tail of the FIFO; returns its index (0 = head), -1 if not in it. */
const ENQUEUE = `
if redis.call('SET', KEYS[1], ARGV[2], 'NX', 'EX', ARGV[3]) then
  redis.call('RPUSH', KEYS[2], ARGV[1])
end
local pos = redis.call('LPOS', KEYS[2], ARGV[1])
if pos then return pos end
return -1`;

/** The slot goes to the FIFO head when nobody holds it; returns the head, or nil when busy or empty. */
const CLAIM = `
if redis.call('EXISTS', KEYS[1]) == 1 then return false end
local head = redis.call('LINDEX', KEYS[2], 0)
if not head then return false end
redis.call('SET', KEYS[1], head, 'PX', ARGV[1])
return head`;

/** Drops the request from the FIFO and frees the slot if it held it (compare-and-delete). */
const RELEASE = `
redis.call('LREM', KEYS[2], 0, ARGV[1])
if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) end
return 1`;

/** Extends the slot's lifetime, only while this request holds it. */
const RENEW = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0`;

/** A request that ended stays ended: a job holding an older copy cannot bring it back. */
const SAVE = `
local cur = redis.call('GET', KEYS[1])
if cur then
  local ok, r = pcall(cjson.decode, cur)
  if ok and type(r) == 'table' and r.status == 'done' then return 0 end
end
redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2])
return 1`;

/**
 * Ends a request in one step: records it as done (unless it already is), drops it from the FIFO,
 * frees the slot if it held it, and gives the slot to the new head when it is free. Returns
 * {1 if this call ended it, the head it gave the slot to or ''}. One script, so no job can stop
 * between marking a request done and freeing its slot, and two jobs ending the same request
 * concurrently give the slot to the next request once.
 */
const FINISH = `
local ended = 0
local cur = redis.call('GET', KEYS[1])
local done = false
if cur then
  local ok, r = pcall(cjson.decode, cur)
  done = ok and type(r) == 'table' and r.status == 'done'
end
if not done then
  redis.call('SET', KEYS[1], ARGV[2], 'EX', ARGV[3])
  ended = 1
end
redis.call('LREM', KEYS[2], 0, ARGV[1])
if redis.call('GET', KEYS[3]) == ARGV[1] then redis.call('DEL', KEYS[3]) end
if redis.call('EXISTS', KEYS[3]) == 1 then return {ended, ''} end
local head = redis.call('LINDEX', KEYS[2], 0)
if not head then return {ended, ''} end
redis.call('SET', KEYS[3], head, 'PX', ARGV[4])
return {ended, head}`;

export interface FinishOutcome {
  /** This call ended the request (false: it had ended already). */
  ended: boolean;
  /** The request that now holds the account's slot because of this call, if any. */
  next: string | null;
}

export class PolicyRequestStore {
  constructor(
    private readonly redis: Redis,
    private readonly k: Keys,
  ) {}

  async get(requestId: string): Promise<PolicyRequestState | null> {
    const raw = await this.redis.get(this.k.policyRequest(requestId));
    return raw ? (JSON.parse(raw) as PolicyRequestState) : null;
  }

  /** Writes the request's progress; refused (false) once the request has ended. */
  async save(req: PolicyRequestState): Promise<boolean> {
    const saved = await this.redis.eval(
      SAVE,
      1,
      this.k.policyRequest(req.requestId),
      JSON.stringify(req),
      String(POLICY_REQUEST_TTL_SECONDS),
    );
    return saved === 1;
  }

  /**
   * Records a new request and puts it at the tail of its account's FIFO, once: the same request again
   * changes nothing. Returns its place in the FIFO (0 = head, the one holding or next to hold the
   * slot), or -1 when it is no longer in it (it already ended).
   */
  async enqueue(req: PolicyRequestState): Promise<number> {
    return Number(
      await this.redis.eval(
        ENQUEUE,
        2,
        this.k.policyRequest(req.requestId),
        this.k.policyQueue(req.accountId),
        req.requestId,
        JSON.stringify(req),
        String(POLICY_REQUEST_TTL_SECONDS),
      ),
    );
  }

  /** The request holding the account's slot, if any. */
  holder(accountId: string): Promise<string | null> {
    return this.redis.get(this.k.policyActive(accountId));
  }

  /** The account's FIFO, oldest first. */
  waiting(accountId: string): Promise<string[]> {
    return this.redis.lrange(this.k.policyQueue(accountId), 0, -1);
  }

  /** Gives the free slot to the FIFO head for `slotTtlMs`; returns the head, or null (busy or empty). */
  async claim(accountId: string, slotTtlMs: number): Promise<string | null> {
    const head = await this.redis.eval(
      CLAIM,
      2,
      this.k.policyActive(accountId),
      this.k.policyQueue(accountId),
      String(slotTtlMs),
    );
    return typeof head === 'string' ? head : null;
  }

  /** Drops the request from the FIFO, and frees the slot if it holds it. */
  async release(accountId: string, requestId: string): Promise<void> {
    await this.redis.eval(
      RELEASE,
      2,
      this.k.policyActive(accountId),
      this.k.policyQueue(accountId),
      requestId,
    );
  }

  /** Keeps the slot for `slotTtlMs` more while `requestId` holds it; false when it does not. */
  async renewSlot(accountId: string, requestId: string, slotTtlMs: number): Promise<boolean> {
    return (
      (await this.redis.eval(RENEW, 1, this.k.policyActive(accountId), requestId, String(slotTtlMs))) === 1
    );
  }

  /**
   * The request ended (any outcome): saved as done, out of the FIFO, its slot freed and given to the
   * next request, all at once. Safe to call again or concurrently for the same request.
   */
  async finish(req: PolicyRequestState, slotTtlMs: number): Promise<FinishOutcome> {
    const [ended, next] = (await this.redis.eval(
      FINISH,
      3,
      this.k.policyRequest(req.requestId),
      this.k.policyQueue(req.accountId),
      this.k.policyActive(req.accountId),
      req.requestId,
      JSON.stringify({ ...req, status: 'done' }),
      String(POLICY_REQUEST_TTL_SECONDS),
      String(slotTtlMs),
    )) as [number, string];
    return { ended: ended === 1, next: next || null };
  }

  /** Start times (ms, oldest first) of the account's generations in the 24 hours before `now`. */
  async recentStarts(accountId: string, now: Date): Promise<number[]> {
    const key = this.k.policyStarts(accountId);
    await this.redis.zremrangebyscore(key, '-inf', String(now.getTime() - DAY_MS));
    const scored = await this.redis.zrange(key, 0, -1, 'WITHSCORES');
    return scored.filter((_, i) => i % 2 === 1).map(Number);
  }

  /** Counts a generation the bot started against the account's daily quota. */
  async recordStart(accountId: string, requestId: string, at: Date): Promise<void> {
    const key = this.k.policyStarts(accountId);
    await this.redis.multi().zadd(key, at.getTime(), requestId).pexpire(key, STARTS_TTL_MS).exec();
  }
}
