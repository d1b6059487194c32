// The policy generation request store on real Redis: each account's FIFO (order, positions, one entry
// per request), its one generation slot, the requests' lifetimes and the daily-quota starts.
import { Redis } from 'ioredis';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { keys } from '../../src/store/keys.ts';
import { type PolicyRequestState, PolicyRequestStore } from '../../src/store/policy-requests.ts';
import { REDIS_URL, uniquePrefix, wipePrefix } from '../helpers/runtime.ts';

const PROD = '111111111111';
const STAGING = '222222222222';
const DAY_MS = 86_400_000;
const WEEK_MS = 7 * DAY_MS;
const SLOT_MS = 90 * 60_000;

let redis: Redis;
let k: ReturnType<typeof keys>;
let store: PolicyRequestStore;
const prefixes: string[] = [];

function request(requestId: string, extra: Partial<PolicyRequestState> = {}): PolicyRequestState {
  return {
    requestId,
    principalArn: `arn:aws:iam::${extra.accountId ?? PROD}:role/${requestId}`,
    accountId: PROD,
    days: 30,
    regions: 'all',
    userId: 'U0ALICE',
    requestTs: requestId,
    status: 'queued',
    ...extra,
  };
}

beforeAll(() => {
  redis = new Redis(REDIS_URL);
});
beforeEach(() => {
  const prefix = uniquePrefix('preq');
  prefixes.push(prefix);
  k = keys(prefix);
  store = new PolicyRequestStore(redis, k);
});
afterAll(async () => {
  for (const p of prefixes) await wipePrefix(p);
  await redis.quit();
});

describe('the account FIFO', () => {
  it('keeps requests in the order they came and reports each one’s place, per account', async () => {
    expect(await store.enqueue(request('R-a'))).toBe(0);
    expect(await store.enqueue(request('R-b'))).toBe(1);
    expect(await store.enqueue(request('R-other', { accountId: STAGING }))).toBe(0);
    expect(await store.enqueue(request('R-c'))).toBe(2);

    expect(await store.waiting(PROD)).toEqual(['R-a', 'R-b', 'R-c']);
    expect(await store.waiting(STAGING)).toEqual(['R-other']);
    expect(await redis.lrange(k.policyQueue(PROD), 0, -1)).toEqual(['R-a', 'R-b', 'R-c']);
    expect(await store.get('R-b')).toEqual(request('R-b'));
  });

  it('queues a request that arrives twice once, keeping the first record and its place', async () => {
    await store.enqueue(request('R-a'));
    await store.enqueue(request('R-b', { anchor: { channel: 'C0FIRST' } }));

    expect(await store.enqueue(request('R-b', { anchor: { channel: 'C0SECOND' } }))).toBe(1);

    expect(await store.waiting(PROD)).toEqual(['R-a', 'R-b']);
    expect((await store.get('R-b'))?.anchor).toEqual({ channel: 'C0FIRST' });
  });

  it('moves the others up when the head leaves, and does not queue an ended request again', async () => {
    for (const id of ['R-a', 'R-b', 'R-c']) await store.enqueue(request(id));
    expect(await store.claim(PROD, SLOT_MS)).toBe('R-a');

    await store.release(PROD, 'R-a');

    expect(await store.enqueue(request('R-c'))).toBe(1);
    expect(await store.enqueue(request('R-a'))).toBe(-1);
    expect(await store.waiting(PROD)).toEqual(['R-b', 'R-c']);
  });
});

describe('the account slot', () => {
  it('goes to the head of the FIFO, to one claim, and only while it is free', async () => {
    expect(await store.claim(PROD, SLOT_MS)).toBeNull();
    await store.enqueue(request('R-a'));
    await store.enqueue(request('R-b'));

    const claims = await Promise.all(Array.from({ length: 6 }, () => store.claim(PROD, SLOT_MS)));

    expect(claims.filter((c) => c !== null)).toEqual(['R-a']);
    expect(await store.holder(PROD)).toBe('R-a');
    expect(await store.holder(STAGING)).toBeNull();
  });

  it('is freed only by its holder; a request that does not hold it just leaves the FIFO', async () => {
    for (const id of ['R-a', 'R-b', 'R-c']) await store.enqueue(request(id));
    await store.claim(PROD, SLOT_MS);

    await store.release(PROD, 'R-b');
    expect(await store.holder(PROD)).toBe('R-a');
    expect(await store.waiting(PROD)).toEqual(['R-a', 'R-c']);

    await store.release(PROD, 'R-a');
    expect(await store.holder(PROD)).toBeNull();
    expect(await store.claim(PROD, SLOT_MS)).toBe('R-c');
  });
});

describe('ending a request', () => {
  it('marks it done, drops it, and gives its slot to the next request in one step', async () => {
    for (const id of ['R-a', 'R-b', 'R-c']) await store.enqueue(request(id));
    await store.claim(PROD, SLOT_MS);

    const outcome = await store.finish({ ...request('R-a'), status: 'running', resultPosted: true }, SLOT_MS);

    expect(outcome).toEqual({ ended: true, next: 'R-b' });
    expect(await store.get('R-a')).toMatchObject({ status: 'done', resultPosted: true });
    expect(await store.holder(PROD)).toBe('R-b');
    expect(await store.waiting(PROD)).toEqual(['R-b', 'R-c']);
    expect(await redis.pttl(k.policyActive(PROD))).toBeGreaterThan(SLOT_MS - 60_000);
    expect(await redis.pttl(k.policyRequest('R-a'))).toBeGreaterThan(WEEK_MS - 60_000);
  });

  it('hands the slot on once when two jobs end the same request at the same time', async () => {
    for (const id of ['R-a', 'R-b', 'R-c']) await store.enqueue(request(id));
    await store.claim(PROD, SLOT_MS);

    const outcomes = await Promise.all(
      Array.from({ length: 4 }, () => store.finish({ ...request('R-a'), status: 'running' }, SLOT_MS)),
    );

    expect(outcomes.filter((o) => o.ended)).toHaveLength(1);
    expect(outcomes.map((o) => o.next).filter((n) => n !== null)).toEqual(['R-b']);
    expect(await store.holder(PROD)).toBe('R-b');
    expect(await store.waiting(PROD)).toEqual(['R-b', 'R-c']);
  });

  it('leaves the next holder’s slot alone when an ended request is ended again', async () => {
    for (const id of ['R-a', 'R-b']) await store.enqueue(request(id));
    await store.claim(PROD, SLOT_MS);
    await store.finish(request('R-a'), SLOT_MS);

    expect(await store.finish({ ...request('R-a'), status: 'running' }, SLOT_MS)).toEqual({
      ended: false,
      next: null,
    });
    expect(await store.holder(PROD)).toBe('R-b');
    expect(await store.waiting(PROD)).toEqual(['R-b']);
    expect((await store.get('R-a'))?.status).toBe('done');
  });

  it('frees the slot of an ended request still holding it and gives it to the next one', async () => {
    // What an interrupted end of an earlier version leaves: done, yet at the head and holding the slot.
    for (const id of ['R-a', 'R-b']) await store.enqueue(request(id));
    await store.claim(PROD, SLOT_MS);
    await redis.set(k.policyRequest('R-a'), JSON.stringify({ ...request('R-a'), status: 'done' }));

    expect(await store.finish(request('R-a'), SLOT_MS)).toEqual({ ended: false, next: 'R-b' });
    expect(await store.waiting(PROD)).toEqual(['R-b']);
  });

  it('keeps an ended request ended when a job holding an older copy saves it', async () => {
    await store.enqueue(request('R-a'));
    await store.finish(request('R-a'), SLOT_MS);

    expect(await store.save({ ...request('R-a'), status: 'running', polls: 3 })).toBe(false);
    expect(await store.get('R-a')).toMatchObject({ status: 'done' });
    expect((await store.get('R-a'))?.polls).toBeUndefined();
  });

  it('renews the slot only for the request holding it', async () => {
    for (const id of ['R-a', 'R-b']) await store.enqueue(request(id));
    await store.claim(PROD, 10_000);

    expect(await store.renewSlot(PROD, 'R-b', SLOT_MS)).toBe(false);
    expect(await redis.pttl(k.policyActive(PROD))).toBeLessThanOrEqual(10_000);
    expect(await store.renewSlot(PROD, 'R-a', SLOT_MS)).toBe(true);
    expect(await redis.pttl(k.policyActive(PROD))).toBeGreaterThan(SLOT_MS - 60_000);
  });
});

describe('lifetimes', () => {
  it('keeps a request a week from its last write and the slot for the time it was given', async () => {
    await store.enqueue(request('R-a'));
    const queued = await redis.pttl(k.policyRequest('R-a'));
    expect(queued).toBeGreaterThan(WEEK_MS - 60_000);
    expect(queued).toBeLessThanOrEqual(WEEK_MS);

    await redis.pexpire(k.policyRequest('R-a'), 1_000);
    await store.save({ ...request('R-a'), status: 'running', awsJobId: 'job-1' });
    expect(await redis.pttl(k.policyRequest('R-a'))).toBeGreaterThan(WEEK_MS - 60_000);
    expect(await store.get('R-a')).toMatchObject({ status: 'running', awsJobId: 'job-1' });

    await store.claim(PROD, SLOT_MS);
    const slot = await redis.pttl(k.policyActive(PROD));
    expect(slot).toBeGreaterThan(SLOT_MS - 60_000);
    expect(slot).toBeLessThanOrEqual(SLOT_MS);
  });

  it('lets the slot lapse when its holder is not heard from, so the head can claim it again', async () => {
    await store.enqueue(request('R-a'));
    await store.claim(PROD, 50);

    await expect.poll(() => store.holder(PROD), { timeout: 2_000, interval: 20 }).toBeNull();
    expect(await store.claim(PROD, SLOT_MS)).toBe('R-a');
  });

  it('counts the starts of the last 24 hours and keeps them two days', async () => {
    const now = new Date('2026-03-02T12:00:00Z');
    await store.recordStart(PROD, 'R-old', new Date(now.getTime() - 25 * 3600_000));
    await store.recordStart(PROD, 'R-b', new Date(now.getTime() - 3600_000));
    await store.recordStart(PROD, 'R-a', new Date(now.getTime() - 2 * 3600_000));
    await store.recordStart(STAGING, 'R-other', now);

    expect(await store.recentStarts(PROD, now)).toEqual([
      now.getTime() - 2 * 3600_000,
      now.getTime() - 3600_000,
    ]);
    expect(await redis.zrange(k.policyStarts(PROD), 0, -1)).toEqual(['R-a', 'R-b']);
    const ttl = await redis.pttl(k.policyStarts(PROD));
    expect(ttl).toBeGreaterThan(2 * DAY_MS - 60_000);
    expect(ttl).toBeLessThanOrEqual(2 * DAY_MS);
  });
});
