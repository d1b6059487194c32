// The store's indexes never drift from the card hashes: after seeded random sequences of scans
// (new, changed, closed and reopened findings), actions (archive, unarchive, snooze, unsnooze,
// resolve) and expiries, every indexed read answers what a walk of every hash, filtered the same
// way, answers, and the natural-key mapping names exactly the live cards that have a key (and the
// claims whose card is not written yet). Real Redis; the writes are the store calls delivery and
// the action jobs make.
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { SEVERITIES } from '../../src/findings/model.ts';
import { INDEX_VERSION, NO_TIME } from '../../src/store/finding-index.ts';
import { type FindingFilter, type FindingState, FindingStore } from '../../src/store/findings.ts';
import { type Keys, keys } from '../../src/store/keys.ts';
import { REDIS_URL, uniquePrefix, wipePrefix } from '../helpers/runtime.ts';

/** mulberry32: a small seeded generator, so a failure names the seed that reproduces it. */
function rng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n: number) => Math.floor(next() * n);
  const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)]!;
  return { next, int, pick };
}

const TYPES = ['ExternalAccess', 'UnusedIAMRole', 'UnusedPermission', 'InternalAccess'] as const;
const SEVS = [...SEVERITIES, 'odd', undefined] as const;
const ACCOUNTS = ['111111111111', '222222222222', '333333333333'];
const REGIONS = ['eu-west-1', 'us-east-1'];
// Names over 64 bytes live in the side hash of long values; the indexes must read them there too.
const LONG = `#${'a-very-long-team-channel-name-'.repeat(3)}`;
const CHANNELS = ['#team-a', '#team-b', 'C0TEAMC', LONG];
const POSTED_IN = ['C0AAAA', 'C0BBBB', 'C0DEFAULT'];
/**
 * The channel ids delivery learns for #names (`channel-id:<#name>`): '#team-a' is known from the
 * start, '#team-b' is learned part-way (cards written before keep both entries until rewritten).
 */
const CHANNEL_IDS: Record<string, string> = { '#team-a': 'C0AAAA', '#team-b': 'C0BBBB' };
const LEARNED_AT_START = ['#team-a'];
const LEARN_STEP = 20;
const EMAILS = ['ana@example.com', 'Bo@Example.com', `${'x'.repeat(70)}@example.com`, undefined];
const DAY = 86_400_000;
/**
 * Retired cards expire this soon, and every check waits for those retired before it to be gone. A
 * step picks a live card and then writes it: the TTL must outlast one step on a busy machine, or the
 * hash expires in between and the write makes a new, partial card (a race the test does not model).
 */
const TTL_MS = 600;
const NOW = Date.parse('2030-06-01T12:00:00.000Z');
/**
 * Natural keys of new findings: few, so that a key is claimed again while its card lives (a join),
 * after it retired, and after it expired (a new card); two share a bucket.
 */
const NATURAL_KEYS = ['a1b2c3d4e5f60718', 'a1b0000000000001', '0f0f0f0f0f0f0f0f', '9e8d7c6b5a493827'];
const iso = (ms: number) => new Date(ms).toISOString();

let redis: Redis;
let prefix: string;
let store: FindingStore;
let walker: FindingStore;

beforeAll(() => {
  redis = new Redis(REDIS_URL);
});
afterAll(async () => {
  redis.disconnect();
});

const FIELDS = [
  'status',
  'severity',
  'findingType',
  'createdAt',
  'firstSeen',
  'updatedAt',
  'routeChannel',
  'channel',
  'ownerEmail',
  'accountId',
  'region',
  'naturalKey',
] as const;

async function walkAll() {
  const rows = [];
  for await (const batch of store.walk(FIELDS)) rows.push(...batch);
  return rows;
}

type Row = Awaited<ReturnType<typeof walkAll>>[number];

/** The where set a card belongs in (status, severity bucket, type, account, region) and its score. */
function whereOf(k: Keys, x: Row): [string, number] {
  const sev = x.severity && (SEVERITIES as readonly string[]).includes(x.severity) ? x.severity : '~';
  const key = k.findingsWhere(x.status!, sev, x.findingType ?? '', x.accountId ?? '', x.region ?? '');
  return [key, x.createdAt ? Date.parse(x.createdAt) : NO_TIME];
}

async function keysMatching(pattern: string): Promise<string[]> {
  const out: string[] = [];
  for await (const found of redis.scanStream({ match: pattern, count: 1000 }))
    out.push(...(found as string[]));
  return out;
}

/**
 * The where sets hold every card exactly once, in the set of its status, severity, type, account and
 * region, scored by its createdAt, and nothing else: what lets `--account` and `--region` be
 * answered without reading a card.
 */
async function checkWhereSets(k: Keys, rows: Row[], where: string) {
  const expected = rows.map((x) => whereOf(k, x)).map(([key, score], i) => `${key} ${rows[i]!.id} ${score}`);
  const actual: string[] = [];
  for (const key of await keysMatching(`${k.findingsWhere('*', '*', '*', '*', '*').split('*')[0]}*`)) {
    const members = await redis.zrange(key, 0, -1, 'WITHSCORES');
    for (let i = 0; i < members.length; i += 2) actual.push(`${key} ${members[i]} ${members[i + 1]}`);
  }
  expect(actual.sort(), `${where}: where sets`).toEqual(expected.sort());
}

/** What each index read should answer, by a walk of every card. */
async function checkAgainstWalk(r: ReturnType<typeof rng>, seed: number, step: number) {
  const where = `seed ${seed}, step ${step}`;
  const rows = await walkAll();

  // /access findings: random filters, the count and every page.
  for (let q = 0; q < 6; q++) {
    const filter: FindingFilter = {
      status: r.pick(['ACTIVE', 'ACTIVE', 'ARCHIVED', 'RESOLVED']),
      ...(r.next() < 0.4 ? { findingType: r.pick(TYPES) } : {}),
      ...(r.next() < 0.3 ? { severity: r.pick(SEVERITIES) } : {}),
      ...(r.next() < 0.4 ? { accountId: r.pick(ACCOUNTS) } : {}),
      ...(r.next() < 0.4 ? { region: r.pick(REGIONS) } : {}),
      ...(r.next() < 0.3 ? { createdBefore: iso(NOW - r.int(60) * DAY) } : {}),
    };
    const walked = await walker.findingsPage(filter, { offset: 0, limit: 10_000 });
    const indexed = await store.findingsPage(filter, { offset: 0, limit: 10_000 });
    expect(indexed.total, `${where}: count of ${JSON.stringify(filter)}`).toBe(walked.total);
    expect(indexed.items.map((i) => i.id).sort(), `${where}: ${JSON.stringify(filter)}`).toEqual(
      walked.items.map((i) => i.id).sort(),
    );
    // Same order as the walk sorts: severity (unknown first), then createdAt.
    const rank = (s?: string) => SEVERITIES.indexOf(s as never);
    const order = indexed.items.map((i) => [rank(i.severity), i.createdAt ?? ''] as const);
    const sorted = [...order].sort((a, b) => a[0] - b[0] || a[1].localeCompare(b[1]));
    expect(order, `${where}: order`).toEqual(sorted);
    // Pages of 3 put together are the whole list.
    const pages = [];
    for (let offset = 0; offset < indexed.total; offset += 3) {
      const page = await store.findingsPage(filter, { offset, limit: 3 });
      expect(page.total).toBe(indexed.total);
      pages.push(...page.items.map((i) => i.id));
    }
    expect(pages, `${where}: pages`).toEqual(indexed.items.map((i) => i.id));
  }

  // The findings metric.
  const byKey = (c: { status: string; type: string; severity: string; channel: string; count: number }[]) =>
    c.map((x) => `${x.status}|${x.type}|${x.severity}|${x.channel}=${x.count}`).sort();
  expect(byKey(await store.countFindings()), `${where}: counts`).toEqual(byKey(await walker.countFindings()));

  // Owners (the digest's targets).
  const owners = await store.owners();
  const ownerChannels = new Set(rows.map((x) => x.routeChannel ?? x.channel).filter(Boolean));
  const ownerEmails = new Set(rows.map((x) => x.ownerEmail).filter(Boolean));
  expect(owners?.channels.sort(), `${where}: owner channels`).toEqual([...ownerChannels].sort());
  expect(owners?.emails.sort(), `${where}: owner e-mails`).toEqual([...ownerEmails].sort());

  // App Home: ACTIVE cards of some channels and an e-mail; a #name stands for its learned id too.
  const channels = CHANNELS.concat(POSTED_IN).filter(() => r.next() < 0.4);
  const email = r.pick(EMAILS.filter(Boolean))!.toLowerCase();
  const home = await store.digestCandidates({ channels, emails: [email] });
  const k = keys(prefix);
  const learned = await Promise.all(channels.map((c) => redis.get(k.channelId(c))));
  const asked = new Set([...channels, ...learned.filter((c): c is string => !!c)]);
  const homeWalked = rows.filter(
    (x) =>
      x.status === 'ACTIVE' &&
      ((x.routeChannel && asked.has(x.routeChannel)) ||
        (x.channel && asked.has(x.channel)) ||
        x.ownerEmail?.toLowerCase() === email),
  );
  expect(home?.sort(), `${where}: App Home`).toEqual(homeWalked.map((x) => x.id).sort());

  // The digest: every ACTIVE card, and the closed ones closed or first seen since then.
  const since = NOW - r.int(40) * DAY;
  const digest = await store.digestCandidates({ closedSince: new Date(since) });
  const t = (s?: string) => (s ? Date.parse(s) : -2);
  const digestWalked = rows.filter(
    (x) => x.status === 'ACTIVE' || Math.max(t(x.firstSeen), t(x.updatedAt)) >= since,
  );
  expect(digest?.sort(), `${where}: digest`).toEqual(digestWalked.map((x) => x.id).sort());

  // The aging sweep.
  const cutoff = NOW - r.int(40) * DAY;
  const aged = await store.activeCreatedBefore(new Date(cutoff));
  const active = rows.filter((x) => x.status === 'ACTIVE' && x.createdAt);
  expect(aged?.count, `${where}: ACTIVE with createdAt`).toBe(active.length);
  expect(aged?.ids.sort(), `${where}: aging candidates`).toEqual(
    active
      .filter((x) => Date.parse(x.createdAt!) <= cutoff)
      .map((x) => x.id)
      .sort(),
  );

  // Every read above dropped the expired cards first: the where sets are now exactly the cards.
  await checkWhereSets(k, rows, where);
  await checkChannelSets(k, rows, where);
  await checkNaturalKeys(k, rows, where);
}

/** Claims whose card was never written (delivery did not happen yet), by natural key. */
const unwritten = new Map<string, string>();

/** Every natural key -> card id the buckets hold, as `<key> <id>`. */
async function naturalKeyMapping(k: Keys): Promise<string[]> {
  const bucketPrefix = k.naturalKeyBucket('');
  const out: string[] = [];
  for (const bucket of await keysMatching(`${bucketPrefix}*`)) {
    const h = await redis.hgetall(bucket);
    for (const [field, id] of Object.entries(h))
      out.push(`${bucket.slice(bucketPrefix.length)}${field} ${id}`);
  }
  return out.sort();
}

/**
 * The buckets map each live card's key to it, and each claim whose card is not written yet to its
 * id; nothing else (a card that expired took its mapping with it). No string key per card is left.
 */
async function checkNaturalKeys(k: Keys, rows: Row[], where: string) {
  const expected = [
    ...rows.filter((x) => x.naturalKey).map((x) => `${x.naturalKey} ${x.id}`),
    ...[...unwritten].map(([key, id]) => `${key} ${id}`),
  ];
  expect(await naturalKeyMapping(k), `${where}: natural keys`).toEqual(expected.sort());
  expect(await keysMatching(k.legacyNaturalKey('*')), `${where}: natural-key strings`).toEqual([]);
}

/**
 * An ACTIVE card sits in the channel set of the channel it was posted in, and in its route's set
 * only when that route is not a #name whose learned id is the posted channel (then it is in that
 * set at most until its next write, if the id was learned after it). Nothing else is in those sets.
 */
async function checkChannelSets(k: Keys, rows: Row[], where: string) {
  const ids = new Map<string, string | null>();
  for (const name of Object.keys(CHANNEL_IDS)) ids.set(name, await redis.get(k.channelId(name)));
  const required: string[] = [];
  const allowed = new Set<string>();
  for (const x of rows) {
    if (x.status !== 'ACTIVE') continue;
    if (x.channel) {
      required.push(`${x.channel} ${x.id}`);
      allowed.add(`${x.channel} ${x.id}`);
    }
    if (!x.routeChannel) continue;
    allowed.add(`${x.routeChannel} ${x.id}`);
    const redundant = x.channel && (x.routeChannel === x.channel || ids.get(x.routeChannel) === x.channel);
    if (!redundant) required.push(`${x.routeChannel} ${x.id}`);
  }
  const actual: string[] = [];
  const setPrefix = k.activeByChannel('');
  for (const key of await keysMatching(`${setPrefix}*`))
    for (const id of await redis.smembers(key)) actual.push(`${key.slice(setPrefix.length)} ${id}`);
  const have = new Set(actual);
  expect(
    required.filter((e) => !have.has(e)),
    `${where}: channel entries missing`,
  ).toEqual([]);
  expect(
    actual.filter((e) => !allowed.has(e)),
    `${where}: channel entries of no card`,
  ).toEqual([]);
}

/**
 * The natural-key mapping as index versions before 4 kept it: one `nk:<key>` string per key, with
 * its card's TTL while the card is retired, none for a claim whose card is not written yet, gone
 * with an expired card; and not in the retired cards' recorded entries.
 */
async function asLegacyNaturalKeys(k: Keys): Promise<void> {
  const pipe = redis.pipeline();
  for (const entry of await naturalKeyMapping(k)) {
    const [key = '', id = ''] = entry.split(' ');
    const ttl = await redis.pttl(k.finding(id));
    if (ttl === -2 && unwritten.get(key) !== id) continue;
    pipe.set(k.legacyNaturalKey(key), id);
    if (ttl > 0) pipe.pexpire(k.legacyNaturalKey(key), ttl);
  }
  for (const bucket of await keysMatching(`${k.naturalKeyBucket('')}*`)) pipe.del(bucket);
  for (const [id, rec] of Object.entries(await redis.hgetall(k.findingsExpiringEntries()))) {
    const kept = rec.split('\x02').filter((t) => !t.startsWith('n\x01'));
    pipe.hset(k.findingsExpiringEntries(), id, kept.join('\x02'));
  }
  await pipe.exec();
}

/** One random step: what a scan's delivery or an action job writes to the store. */
async function step(r: ReturnType<typeof rng>, ids: string[], retired: Set<string>): Promise<boolean> {
  const roll = r.next();
  const known = (await walkAll()).map((x) => x as Partial<FindingState> & { id: string });
  const any = known.length ? r.pick(known) : undefined;
  const ttl = TTL_MS / DAY; // expiries happen within the test
  if (roll < 0.3 || !any) {
    // A new finding: its natural key claimed (as the scan does), the pending write before the post,
    // then the message reference.
    const id = `f-${ids.length}-${r.int(1e6)}`;
    ids.push(id);
    let naturalKey: string | undefined;
    if (r.next() < 0.6) {
      naturalKey = r.pick(NATURAL_KEYS);
      const k = keys(prefix);
      const holder = await redis.hget(k.naturalKeyBucket(naturalKey), k.naturalKeyField(naturalKey));
      const holderLived = holder ? await redis.exists(k.finding(holder)) : 0;
      const cardId = await store.claimNaturalKey(naturalKey, id);
      if (cardId !== id) {
        // Another id's card: one whose hash was there just before, or a claim whose card is not
        // written yet; never one that had expired, even before any read dropped it from the indexes.
        expect(cardId, `${id} joined`).toBe(holder);
        const unwrittenClaim = unwritten.get(naturalKey) === cardId;
        expect(holderLived === 1 || unwrittenClaim, `${id} joined ${cardId}`).toBe(true);
        return false;
      }
      // Now and then the claim's delivery has not happened yet.
      if (r.next() < 0.1) {
        unwritten.set(naturalKey, id);
        return false;
      }
    }
    const route = r.pick(CHANNELS);
    const base: Partial<FindingState> = {
      status: 'ACTIVE',
      routeChannel: route,
      routeRule: 'rule',
      analyzerArn: 'arn:aws:access-analyzer:eu-west-1:111111111111:analyzer/a',
      region: r.pick(REGIONS),
      ...(r.next() < 0.95 ? { accountId: r.pick(ACCOUNTS) } : {}),
      findingType: r.pick(TYPES),
      resourceArn: 'arn:aws:iam::111111111111:role/r',
      resourceType: 'AWS::IAM::Role',
      ...(r.next() < 0.9 ? { createdAt: iso(NOW - r.int(50) * DAY - r.int(DAY)) } : {}),
      firstSeen: iso(NOW - r.int(20) * DAY),
      ...(r.next() < 0.8 ? { ownerEmail: r.pick(EMAILS) } : {}),
      ...(naturalKey ? { naturalKey } : {}),
    };
    const sev = r.pick(SEVS);
    if (sev) base.severity = sev;
    await store.set(id, { ...base, updatedAt: '', pendingSince: '1', pendingChannel: 'C0AAAA' });
    if (r.next() < 0.9) {
      await store.set(id, {
        ...base,
        updatedAt: iso(NOW - r.int(10) * DAY),
        // Mostly posted where the route named; sometimes elsewhere (a fallback to the default channel).
        channel:
          r.next() < 0.7
            ? (CHANNEL_IDS[route] ?? (route.startsWith('#') ? 'C0DEFAULT' : route))
            : r.pick(POSTED_IN),
        ts: '1.2',
      });
      await store.clearPending(id);
    }
    return false;
  }
  if (roll < 0.45) {
    // Changed: redrawn with a new severity or owner (and reopened when it was closed).
    if (any.status !== 'ACTIVE') {
      await store.clearReminders(any.id);
      await store.keep(any.id);
      retired.delete(any.id);
    }
    await store.set(any.id, {
      status: 'ACTIVE',
      fingerprint: String(r.int(100)),
      updatedAt: iso(NOW - r.int(5) * DAY),
      ...(r.next() < 0.7 ? { severity: r.pick(SEVERITIES) } : {}),
      ...(r.next() < 0.5 ? { ownerEmail: r.pick(EMAILS.filter(Boolean))! } : {}),
      ...(r.next() < 0.3 ? { channel: r.pick(POSTED_IN) } : {}),
      ...(r.next() < 0.15 ? { accountId: r.pick(ACCOUNTS), region: r.pick(REGIONS) } : {}),
    });
    return false;
  }
  if (roll < 0.6) {
    // Left the ACTIVE list: resolved (retired) or archived outside the bot.
    const status = r.next() < 0.6 ? 'RESOLVED' : 'ARCHIVED';
    await store.set(any.id, { status, updatedAt: iso(NOW - r.int(30) * DAY) });
    if (status === 'RESOLVED') {
      await store.retire(any.id, ttl);
      retired.add(any.id);
    }
    return false;
  }
  if (roll < 0.7) {
    // Archive from Slack, or unarchive.
    if (any.status === 'ACTIVE') {
      await store.set(any.id, { status: 'ARCHIVED', archivedBy: 'U1', archiveReason: 'r'.repeat(r.int(90)) });
    } else if (any.status === 'ARCHIVED') {
      await store.clearArchive(any.id);
      await store.clearReminders(any.id);
      await store.set(any.id, { status: 'ACTIVE' });
    }
    return false;
  }
  if (roll < 0.82) {
    // Snooze, unsnooze.
    if (r.next() < 0.5)
      await store.set(any.id, { snoozedUntil: iso(NOW + DAY), snoozedBy: 'U1', snoozeReason: 'later' });
    else await store.clearSnooze(any.id);
    return false;
  }
  if (roll < 0.9) {
    // A role deletion from Slack resolves the card once AWS sees it.
    await store.set(any.id, { deletedBy: 'U2', deletedAt: iso(NOW), backupKey: 'k' });
    await store.set(any.id, { status: 'RESOLVED', updatedAt: iso(NOW - DAY) });
    await store.retire(any.id, ttl);
    retired.add(any.id);
    return false;
  }
  // Time passes: the retired cards' hashes expire.
  await new Promise((res) => setTimeout(res, TTL_MS + 20));
  const expired = retired.size > 0;
  retired.clear();
  return expired;
}

describe('finding indexes', () => {
  it.each([1, 2, 3, 4, 5])(
    'agree with a walk of every card after random scans, actions and expiries (seed %i)',
    async (seed) => {
      prefix = uniquePrefix('fi');
      unwritten.clear();
      const k = keys(prefix);
      store = new FindingStore(redis, k);
      walker = new FindingStore(redis, k, { walkOnly: true });
      expect(await store.indexesReady()).toBe(true);
      const r = rng(seed);
      const ids: string[] = [];
      const retired = new Set<string>();
      const learn = (name: string) => redis.set(k.channelId(name), CHANNEL_IDS[name]!);
      for (const name of LEARNED_AT_START) await learn(name);
      try {
        for (let i = 0; i < 60; i++) {
          if (i === LEARN_STEP) await learn('#team-b');
          await step(r, ids, retired);
          if (i % 6 === 5) {
            // A check reads the indexes and walks the hashes: no hash may expire in between.
            await new Promise((res) => setTimeout(res, TTL_MS + 20));
            retired.clear();
            await checkAgainstWalk(r, seed, i);
          }
        }
        await new Promise((res) => setTimeout(res, TTL_MS + 20));
        await checkAgainstWalk(r, seed, 60);
        // Expired cards left nothing behind: every member of every index is a live card.
        const live = new Set((await walkAll()).map((x) => x.id));
        expect(live.size, 'some retired cards expired').toBeLessThan(ids.length);
        const leftovers: string[] = [];
        for await (const found of redis.scanStream({ match: `${prefix}idx:*`, count: 1000 })) {
          for (const key of found as string[]) {
            const type = await redis.type(key);
            const members =
              type === 'zset'
                ? await redis.zrange(key, 0, -1)
                : type === 'set'
                  ? await redis.smembers(key)
                  : [];
            if (key === k.findingWhereSets()) continue;
            for (const m of members) if (!live.has(m)) leftovers.push(`${key} ${m}`);
          }
        }
        expect(leftovers).toEqual([]);
      } finally {
        await wipePrefix(prefix);
      }
    },
    60_000,
  );

  it('indexes a store written before the indexes once, on the first read, and agrees with a walk', async () => {
    prefix = uniquePrefix('fi');
    unwritten.clear();
    const k = keys(prefix);
    store = new FindingStore(redis, k);
    walker = new FindingStore(redis, k, { walkOnly: true });
    try {
      const r = rng(42);
      const ids: string[] = [];
      for (let i = 0; i < 40; i++) await step(r, ids, new Set());
      // The cards retired in the last steps expire first: a card that expired between the walk and
      // an indexed read would make them disagree for a reason the store does not control.
      await new Promise((res) => setTimeout(res, TTL_MS + 20));
      // As an older version left it: the card hashes without any index, a string per natural key.
      await asLegacyNaturalKeys(k);
      for await (const found of redis.scanStream({ match: `${prefix}idx:*`, count: 1000 })) {
        if ((found as string[]).length) await redis.del(...(found as string[]));
      }
      expect(await redis.exists(k.findingIndexVersion())).toBe(0);
      const listed = await walker.findingsPage({ status: 'ACTIVE' }, { offset: 0, limit: 10_000 });
      expect(await new FindingStore(redis, k).indexesReady()).toBe(true);
      expect(await redis.get(k.findingIndexVersion())).toBe(INDEX_VERSION);
      const indexed = await store.findingsPage({ status: 'ACTIVE' }, { offset: 0, limit: 10_000 });
      expect(indexed.total).toBe(listed.total);
      expect(indexed.total).toBeGreaterThan(0);
      await checkAgainstWalk(r, 42, 0);
    } finally {
      await wipePrefix(prefix);
    }
  });

  it('posts a delivered card under its channel id only, and moves a store that also had it under the #name (version 2)', async () => {
    prefix = uniquePrefix('fi');
    unwritten.clear();
    const k = keys(prefix);
    store = new FindingStore(redis, k);
    walker = new FindingStore(redis, k, { walkOnly: true });
    try {
      for (const [name, id] of Object.entries(CHANNEL_IDS)) await redis.set(k.channelId(name), id);
      const card = {
        status: 'ACTIVE',
        routeChannel: '#team-a',
        findingType: 'UnusedIAMRole',
        accountId: ACCOUNTS[0],
        region: REGIONS[0],
        createdAt: iso(NOW - DAY),
      } as const;
      // Pending (not posted yet): under the routed name.
      await store.set('posted', card);
      expect(await redis.smembers(k.activeByChannel('#team-a'))).toEqual(['posted']);
      // Posted in that channel: under its id alone, and found by the name and by the id.
      await store.set('posted', { ...card, channel: 'C0AAAA', ts: '1.2' });
      expect(await redis.exists(k.activeByChannel('#team-a'))).toBe(0);
      expect(await redis.smembers(k.activeByChannel('C0AAAA'))).toEqual(['posted']);
      expect(await store.digestCandidates({ channels: ['#team-a'] })).toEqual(['posted']);
      expect(await store.digestCandidates({ channels: ['C0AAAA'] })).toEqual(['posted']);
      // Posted elsewhere (the default channel after a fallback): under both.
      await store.set('fallback', { ...card, channel: 'C0DEFAULT', ts: '1.3' });
      expect(await redis.smembers(k.activeByChannel('#team-a'))).toEqual(['fallback']);
      expect(await redis.smembers(k.activeByChannel('C0DEFAULT'))).toEqual(['fallback']);
      expect((await store.digestCandidates({ channels: ['#team-a'] }))?.sort()).toEqual([
        'fallback',
        'posted',
      ]);
      expect(await store.digestCandidates({ channels: ['C0AAAA'] })).toEqual(['posted']);

      // Random cards, then the store as version 2 left it: every ACTIVE card under its routed name too.
      const r = rng(11);
      const ids: string[] = [];
      for (let i = 0; i < 40; i++) await step(r, ids, new Set());
      await new Promise((res) => setTimeout(res, TTL_MS + 20));
      await store.owners();
      // One card surely posted where its route's learned id points, whatever the random steps did
      // (on a loaded machine their retired cards may or may not have expired by now).
      const learnedA = await redis.get(k.channelId('#team-a'));
      expect(learnedA).toBeTruthy();
      await store.set('posted-late', { ...card, channel: learnedA!, ts: '1.4' });
      const rows = await walkAll();
      const learned = new Map<string, string | null>();
      for (const name of Object.keys(CHANNEL_IDS)) learned.set(name, await redis.get(k.channelId(name)));
      const pipe = redis.pipeline();
      for (const x of rows)
        if (x.status === 'ACTIVE' && x.routeChannel) pipe.sadd(k.activeByChannel(x.routeChannel), x.id);
      pipe.set(k.findingIndexVersion(), '2');
      await pipe.exec();
      await asLegacyNaturalKeys(k);
      // Posted (a card not posted yet is rightly under its routed name) in its route's learned channel.
      const redundant = rows.filter(
        (x) =>
          x.status === 'ACTIVE' && x.routeChannel && x.channel && x.channel === learned.get(x.routeChannel),
      );
      expect(redundant.map((x) => x.id)).toContain('posted-late');

      expect(await new FindingStore(redis, k).indexesReady()).toBe(true);
      expect(await redis.get(k.findingIndexVersion())).toBe(INDEX_VERSION);
      for (const x of redundant)
        expect(await redis.sismember(k.activeByChannel(x.routeChannel!), x.id), x.id).toBe(0);
      await checkAgainstWalk(r, 11, 0);
    } finally {
      await wipePrefix(prefix);
    }
  });

  it('moves a store indexed by the first scheme to the current one: same answers, nothing counted twice, old keys gone', async () => {
    prefix = uniquePrefix('fi');
    unwritten.clear();
    const k = keys(prefix);
    store = new FindingStore(redis, k);
    walker = new FindingStore(redis, k, { walkOnly: true });
    try {
      const r = rng(7);
      const ids: string[] = [];
      for (let i = 0; i < 40; i++) await step(r, ids, new Set());
      // The retired cards expire and leave the indexes first: their recorded entries are this scheme's.
      await new Promise((res) => setTimeout(res, TTL_MS + 20));
      await store.owners();
      const rows = await walkAll();
      // As the first scheme left it: cards by status, severity and type, its registry and counters
      // under their old names; the channel, e-mail and closed sets were the same then.
      const p = prefix;
      const pipe = redis.pipeline();
      for (const x of rows) {
        const [, score] = whereOf(k, x);
        const sev = x.severity && (SEVERITIES as readonly string[]).includes(x.severity) ? x.severity : '~';
        const combo = `${x.status}:${sev}:${x.findingType ?? ''}`;
        pipe.zadd(`${p}idx:status:${combo}`, score, x.id);
        pipe.sadd(`${p}idx:status-sets`, combo);
      }
      pipe.rename(k.findingCounts(), `${p}idx:counts`);
      pipe.rename(k.ownerChannels(), `${p}idx:owner-channels`);
      pipe.rename(k.ownerEmails(), `${p}idx:owner-emails`);
      pipe.del(k.findingWhereSets(), k.findingIndexVersion());
      for (const key of await keysMatching(`${p}idx:where:*`)) pipe.del(key);
      await pipe.exec();
      await asLegacyNaturalKeys(k);
      // A card moves to another channel while the older scheme is still in place.
      // Routed to a channel it was not posted in: moved away, it leaves that channel's set (a card
      // posted in its route's channel stays in the posted channel's set, rightly).
      const moved = rows.find(
        (x) =>
          x.status === 'ACTIVE' &&
          x.routeChannel &&
          x.routeChannel !== '#team-b' &&
          x.routeChannel !== x.channel,
      )!;
      expect(await redis.sismember(k.activeByChannel(moved.routeChannel!), moved.id)).toBe(1);
      await store.set(moved.id, { routeChannel: '#team-b' });
      // What the card holds now, should it still be under its old route.
      const held = async () =>
        JSON.stringify({
          moved,
          hash: await redis.hgetall(k.finding(moved.id)),
          long: await redis.hgetall(k.findingLong(moved.id)),
          ttl: await redis.pttl(k.finding(moved.id)),
        });
      expect(await redis.sismember(k.activeByChannel(moved.routeChannel!), moved.id), await held()).toBe(0);

      expect(await new FindingStore(redis, k).indexesReady()).toBe(true);
      expect(await redis.get(k.findingIndexVersion())).toBe(INDEX_VERSION);
      expect(await keysMatching(`${p}idx:status:*`)).toEqual([]);
      for (const old of ['status-sets', 'counts', 'owner-channels', 'owner-emails'])
        expect(await redis.exists(`${p}idx:${old}`), old).toBe(0);
      await checkAgainstWalk(r, 7, 0);
    } finally {
      await wipePrefix(prefix);
    }
  });
});

describe('natural-key mapping', () => {
  const card = (naturalKey: string): Partial<FindingState> => ({
    status: 'ACTIVE',
    routeChannel: '#team-a',
    findingType: 'UnusedIAMRole',
    accountId: ACCOUNTS[0],
    region: REGIONS[0],
    createdAt: iso(NOW - DAY),
    naturalKey,
  });
  const sleep = (ms: number) => new Promise((res) => setTimeout(res, ms));
  const LIVE = 'a1b2c3d4e5f60718';
  const RETIRED = 'a1b0000000000001';
  const PENDING = '0f0f0f0f0f0f0f0f';
  const DEAD = '9e8d7c6b5a493827';
  let k: Keys;

  beforeEach(() => {
    prefix = uniquePrefix('fi');
    unwritten.clear();
    k = keys(prefix);
    store = new FindingStore(redis, k);
  });
  afterEach(async () => {
    await wipePrefix(prefix);
  });

  const mapped = (key: string) => redis.hget(k.naturalKeyBucket(key), k.naturalKeyField(key));

  it('makes one card of two claims at once, and names it to a later claim before its hash is written', async () => {
    const [a, b] = await Promise.all([
      store.claimNaturalKey(LIVE, 'id-a'),
      store.claimNaturalKey(LIVE, 'id-b'),
    ]);
    expect(a).toBe(b);
    expect(['id-a', 'id-b']).toContain(a);
    // One field of a bucket hash, no string key.
    expect(await redis.hgetall(k.naturalKeyBucket(LIVE))).toEqual({ [k.naturalKeyField(LIVE)]: a });
    expect(await keysMatching(`${prefix}nk:*`)).toEqual([]);
    // Not delivered yet: an indexed read (which drops what expired) keeps it.
    await store.owners();
    expect(await store.claimNaturalKey(LIVE, 'id-c')).toBe(a);
    // Delivery writes the card with its key; a key of the same bucket is another field.
    await store.set(a, card(LIVE));
    expect(await store.claimNaturalKey(LIVE, 'id-c')).toBe(a);
    expect(await store.claimNaturalKey(RETIRED, 'id-d')).toBe('id-d');
    expect(k.naturalKeyBucket(RETIRED)).toBe(k.naturalKeyBucket(LIVE));
    expect(await redis.hlen(k.naturalKeyBucket(LIVE))).toBe(2);
  });

  it("lets a retired card's key go with its hash: joined while retired, a new card after it expired, even before an indexed read dropped it", async () => {
    await store.claimNaturalKey(LIVE, 'old');
    await store.set('old', card(LIVE));
    await store.set('old', { status: 'RESOLVED' });
    await store.retire('old', 300 / DAY);
    // Retired but not expired: a new id of the problem joins it, as it always did.
    expect(await store.claimNaturalKey(LIVE, 'joins')).toBe('old');
    await sleep(350);
    // Expired; no indexed read since, so the mapping still names it: the claim does not join it.
    expect(await redis.exists(k.finding('old'))).toBe(0);
    expect(await mapped(LIVE)).toBe('old');
    expect(await store.claimNaturalKey(LIVE, 'new')).toBe('new');
    expect(await mapped(LIVE)).toBe('new');
    // The expired card's other entries went with it.
    expect(await redis.zscore(k.findingsExpiring(), 'old')).toBeNull();
    expect(await redis.hexists(k.findingsExpiringEntries(), 'old')).toBe(0);
    expect(await store.countFindings()).toEqual([]);
    expect(await store.claimNaturalKey(LIVE, 'later')).toBe('new');

    // Expired and dropped by an indexed read: no mapping left.
    await store.claimNaturalKey(RETIRED, 'gone');
    await store.set('gone', { ...card(RETIRED), status: 'RESOLVED' });
    await store.retire('gone', 300 / DAY);
    await sleep(350);
    await store.owners();
    expect(await mapped(RETIRED)).toBeNull();

    // Reopened before it expired: kept, with its key, past the time it would have expired.
    await store.claimNaturalKey(PENDING, 'back');
    await store.set('back', { ...card(PENDING), status: 'RESOLVED' });
    await store.retire('back', 300 / DAY);
    await store.set('back', { status: 'ACTIVE' });
    await store.keep('back');
    await sleep(350);
    await store.owners();
    expect(await store.claimNaturalKey(PENDING, 'other')).toBe('back');
  });

  /**
   * A version 3 store: a live card, a retired one, a claim not delivered yet and the string of a
   * card whose hash has just expired, each as `nk:<key>`; the retired card's recorded entries
   * without the mapping.
   */
  async function versionThreeStore() {
    await store.claimNaturalKey(LIVE, 'live');
    await store.set('live', card(LIVE));
    await store.claimNaturalKey(RETIRED, 'retired');
    await store.set('retired', { ...card(RETIRED), status: 'RESOLVED' });
    await store.retire('retired', 800 / DAY);
    await store.claimNaturalKey(PENDING, 'pending');
    unwritten.set(PENDING, 'pending');
    await asLegacyNaturalKeys(k);
    await redis.set(k.legacyNaturalKey(DEAD), 'dead', 'PX', 60_000);
    await redis.set(k.findingIndexVersion(), '3');
    expect((await keysMatching(`${prefix}nk:*`)).sort()).toEqual(
      [LIVE, RETIRED, PENDING, DEAD].map((key) => k.legacyNaturalKey(key)).sort(),
    );
    expect(await redis.pttl(k.legacyNaturalKey(RETIRED))).toBeGreaterThan(0);
    expect(await redis.pttl(k.legacyNaturalKey(PENDING))).toBe(-1);
    expect(await keysMatching(`${k.naturalKeyBucket('')}*`)).toEqual([]);
  }

  it('moves the strings of a version 3 store into the buckets on start: found, joined, and gone with a retired card', async () => {
    await versionThreeStore();
    const started = new FindingStore(redis, k);
    expect(await started.indexesReady()).toBe(true);
    expect(await redis.get(k.findingIndexVersion())).toBe(INDEX_VERSION);
    expect(await keysMatching(`${prefix}nk:*`)).toEqual([]);
    // The string of a card that expired is dropped; a claim not delivered yet is kept.
    expect(await naturalKeyMapping(k)).toEqual(
      [`${LIVE} live`, `${RETIRED} retired`, `${PENDING} pending`].sort(),
    );
    expect(await started.claimNaturalKey(LIVE, 'second')).toBe('live');
    expect(await started.claimNaturalKey(PENDING, 'second')).toBe('pending');
    expect(await started.claimNaturalKey(DEAD, 'newcomer')).toBe('newcomer');
    expect(await started.claimNaturalKey(RETIRED, 'joins')).toBe('retired');
    // The retired card expires; the next indexed read drops its mapping with its other entries.
    await sleep(850);
    expect(await mapped(RETIRED)).toBe('retired');
    await started.owners();
    expect(await mapped(RETIRED)).toBeNull();
    expect(await started.claimNaturalKey(RETIRED, 'fresh')).toBe('fresh');
  });

  it('reads the string of a version 3 store in a claim made before the rebuild moved it', async () => {
    await versionThreeStore();
    // This version's claims start before its rebuild (which the first indexed read makes) is done.
    expect(await store.claimNaturalKey(LIVE, 'second')).toBe('live');
    expect(await store.claimNaturalKey(PENDING, 'second')).toBe('pending');
    expect(await store.claimNaturalKey(DEAD, 'newcomer')).toBe('newcomer');
    expect(await store.claimNaturalKey(RETIRED, 'joins')).toBe('retired');
    expect(await keysMatching(`${prefix}nk:*`)).toEqual([]);
    // The retired card's recorded entries now name its mapping: it goes when the card expires.
    await sleep(850);
    expect(await new FindingStore(redis, k).indexesReady()).toBe(true);
    await store.owners();
    expect(await mapped(RETIRED)).toBeNull();
    expect(await store.claimNaturalKey(RETIRED, 'fresh')).toBe('fresh');
    expect(await naturalKeyMapping(k)).toEqual(
      [`${LIVE} live`, `${PENDING} pending`, `${DEAD} newcomer`, `${RETIRED} fresh`].sort(),
    );
  });
});
