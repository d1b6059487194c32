// The stores that own a scan's, delivery's, the notices', the aging sweep's and the App Home's Redis
// state, against real Redis: the keys each writes (names are stored state: an upgrade must find
// them), their values and TTLs.
import { formatISO } from 'date-fns';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { assessSeverity } from '../../src/findings/severity.ts';
import { ServiceLinkedAnalyzers } from '../../src/store/analyzers.ts';
import { BurstStore } from '../../src/store/bursts.ts';
import { ChannelIdStore } from '../../src/store/channels.ts';
import { DIGEST_SNAPSHOT_TTL_SECONDS, DigestStore } from '../../src/store/digests.ts';
import { type FindingState, FindingStore, MAX_PIECES, PENDING_FIELDS } from '../../src/store/findings.ts';
import { IntentStore } from '../../src/store/intents.ts';
import { type Keys, keys, SCAN_SCRATCH_TTL_SECONDS } from '../../src/store/keys.ts';
import { NOTICE_OK, NoticeStore } from '../../src/store/notices.ts';
import { DIGEST_CLAIM_TTL_SECONDS, JOB_POST_TTL_SECONDS, OnceStore } from '../../src/store/once.ts';
import { Outbox, type OutboxEvent } from '../../src/store/outbox.ts';
import { type LastScan, ScanStore } from '../../src/store/scans.ts';
import { SlackRequestStore } from '../../src/store/slack-requests.ts';
import { ViewerCache } from '../../src/store/viewers.ts';
import { shortHash } from '../../src/util/hash.ts';
import { F_NOW, makeAnalyzer, makeFinding, makeFindingState, makeRoute } from '../factories/finding.ts';
import { REDIS_URL, uniquePrefix, wipePrefix } from '../helpers/runtime.ts';

const ARN = 'arn:aws:access-analyzer:eu-west-1:111111111111:analyzer/org-external';
const AID = shortHash(ARN, 16);

let redis: Redis;
let p: string;
let k: Keys;
const prefixes: string[] = [];

beforeAll(() => {
  redis = new Redis(REDIS_URL);
});
beforeEach(() => {
  p = uniquePrefix('stores');
  prefixes.push(p);
  k = keys(p);
});
afterAll(async () => {
  for (const x of prefixes) await wipePrefix(x);
  await redis.quit();
});

/** Every key under the test's prefix, without it. */
async function stored(): Promise<string[]> {
  return (await redis.keys(`${p}*`)).map((key) => key.slice(p.length)).sort();
}

async function ttl(key: string): Promise<number> {
  return redis.ttl(`${p}${key}`);
}

describe('ScanStore', () => {
  it('replaces the active set only when a listing completes, and expires what a scan leaves behind', async () => {
    const scans = new ScanStore(redis, k);
    await redis.sadd(`${p}analyzer:${AID}:active`, 'f-old', 'f-kept');
    const listing = scans.listing('s1', ARN);
    await listing.begin();
    await listing.addSeen(['f-kept', 'f-new']);

    expect(await stored()).toEqual([`analyzer:${AID}:active`, `analyzer:${AID}:seen:s1`]);
    expect(await ttl(`analyzer:${AID}:seen:s1`)).toBe(SCAN_SCRATCH_TTL_SECONDS);
    expect(await listing.notSeen()).toEqual(['f-old']);

    await listing.complete(true);
    expect(await stored()).toEqual([`analyzer:${AID}:active`]);
    expect((await redis.smembers(`${p}analyzer:${AID}:active`)).sort()).toEqual(['f-kept', 'f-new']);
  });

  it('keeps the previous active set when a listing is abandoned, and drops it when a complete listing found none', async () => {
    const scans = new ScanStore(redis, k);
    await redis.sadd(`${p}analyzer:${AID}:active`, 'f-1');
    const denied = scans.listing('s2', ARN);
    await denied.begin();
    await denied.addSeen(['f-2']);
    await denied.abandon();
    expect(await stored()).toEqual([`analyzer:${AID}:active`]);
    expect(await redis.smembers(`${p}analyzer:${AID}:active`)).toEqual(['f-1']);

    const empty = scans.listing('s3', ARN);
    await empty.begin();
    await empty.complete(false);
    expect(await stored()).toEqual([]);
  });

  it('restarts a retried listing from nothing seen, while what an earlier attempt queued stays queued', async () => {
    const scans = new ScanStore(redis, k);
    const first = scans.listing('s4', ARN);
    await first.begin();
    await first.addSeen(['f-1', 'f-2']);
    await first.markQueued(['f-1']);
    expect(await ttl(`scan:s4:queued:${AID}`)).toBe(SCAN_SCRATCH_TTL_SECONDS);

    const retry = scans.listing('s4', ARN);
    await retry.begin();
    expect(await stored()).toEqual([`scan:s4:queued:${AID}`]);
    expect(await retry.queued(['f-1', 'f-2'])).toEqual([true, false]);
    expect(await retry.queued([])).toEqual([]);
    expect(await scans.listing('s5', ARN).queued(['f-1'])).toEqual([false]);
  });

  it('keeps the last finalized scan under last-scan, without expiry, for /access status', async () => {
    const scans = new ScanStore(redis, k);
    expect(await scans.lastScan()).toBeNull();
    const counts = { pages: 0, active: 0, new: 0, changed: 0, closed: 0, joined: 0, detailCalls: 0 };
    const record: LastScan = {
      scanId: 's6',
      at: '2025-03-01T12:00:00.000Z',
      analyzers: [
        {
          analyzerArn: ARN,
          name: 'org-external',
          region: 'eu-west-1',
          ok: true,
          ...counts,
          active: 3,
          pages: 1,
        },
        {
          analyzerArn: `${ARN}2`,
          region: 'eu-west-1',
          ok: false,
          failed: true,
          attempts: 3,
          error: 'throttled',
          ...counts,
        },
      ],
      failedAnalyzers: 1,
    };
    await scans.saveLastScan(record);

    expect(await stored()).toEqual(['last-scan']);
    expect(await ttl('last-scan')).toBe(-1);
    expect(await scans.lastScan()).toEqual(record);
  });
});

describe('NoticeStore', () => {
  it('reports a problem once, again only when it changes, and its end once', async () => {
    const notices = new NoticeStore(redis, k);
    const reports: { id: string; previous: string | null }[] = [];
    const report = async (c: { id: string; previous: string | null }) => {
      reports.push(c);
    };
    const subject = { about: 'listing-denied', region: 'eu-west-1' } as const;

    expect(await notices.reportOnChange(subject, NOTICE_OK, report)).toBe(false);
    expect(await notices.reportOnChange(subject, 'denied:AccessDenied', report)).toBe(true);
    expect(await notices.reportOnChange(subject, 'denied:AccessDenied', report)).toBe(false);
    expect(await redis.get(`${p}notice:denied:eu-west-1`)).toBe('denied:AccessDenied');
    expect(await notices.reportOnChange(subject, NOTICE_OK, report)).toBe(true);
    expect(await notices.reportOnChange(subject, NOTICE_OK, report)).toBe(false);

    expect(reports).toEqual([
      { id: 'denied:eu-west-1', previous: null },
      { id: 'denied:eu-west-1', previous: 'denied:AccessDenied' },
    ]);
    expect(await stored()).toEqual(['notice:denied:eu-west-1']);
    expect(await ttl('notice:denied:eu-west-1')).toBe(-1);
  });

  it('records nothing when the report fails, so the retry reports again', async () => {
    const notices = new NoticeStore(redis, k);
    const subject = { about: 'scan-failed', analyzerArn: ARN } as const;
    await expect(
      notices.reportOnChange(subject, 'failed', async () => {
        throw new Error('outbox unavailable');
      }),
    ).rejects.toThrow('outbox unavailable');
    expect(await stored()).toEqual([]);

    const again: string[] = [];
    await notices.reportOnChange(subject, 'failed', async ({ id }) => {
      again.push(id);
    });
    expect(again).toEqual([`scan-failed:${shortHash(ARN)}`]);
  });

  it('keeps every notice under the key name earlier versions used', async () => {
    const notices = new NoticeStore(redis, k);
    const h = shortHash(ARN);
    const subjects = [
      [{ about: 'listing-denied', region: 'us-east-1' }, 'denied:us-east-1'],
      [{ about: 'analyzer-denied', analyzerArn: ARN }, `denied:${h}`],
      [{ about: 'analyzer-not-active', analyzerArn: ARN }, `analyzer:${h}`],
      [{ about: 'missing-analyzers', region: 'us-east-1' }, 'missing:us-east-1'],
      [{ about: 'unused-coverage' }, 'unused-coverage'],
      [{ about: 'unused-duplicates' }, 'unused-duplicates'],
      [{ about: 'scan-failed', analyzerArn: ARN }, `scan-failed:${h}`],
      [{ about: 'unusable-channel', channel: '#payments' }, 'channel:#payments'],
    ] as const;
    for (const [subject] of subjects) await notices.reportOnChange(subject, 'problem', async () => {});
    expect(await stored()).toEqual(subjects.map(([, id]) => `notice:${id}`).sort());

    await notices.clear({ about: 'unusable-channel', channel: '#payments' });
    expect(await stored()).not.toContain('notice:channel:#payments');
    const told: string[] = [];
    await notices.reportOnChange(
      { about: 'unusable-channel', channel: '#payments' },
      'problem',
      async ({ id }) => {
        told.push(id);
      },
    );
    expect(told).toEqual(['channel:#payments']);
  });
});

describe('Outbox', () => {
  it('keeps events per scan and channel in order until each is popped, and expires them', async () => {
    const outbox = new Outbox(redis, k);
    const finding = makeFinding();
    const closed = {
      kind: 'closed',
      id: 'f-9',
      status: 'RESOLVED',
      at: '2025-03-01T00:00:00Z',
      finding: null,
    } as const;
    await outbox.push('s1', '#payments', [
      { kind: 'finding', finding, route: makeRoute(), severity: assessSeverity(finding) },
    ]);
    await outbox.push('s1', '#payments', [closed]);
    await outbox.push('s1', 'C0ADMIN', [{ kind: 'notice', key: 'missing:eu-west-1', text: 'x', blocks: [] }]);
    await outbox.push('s1', '#empty', []);

    expect(await stored()).toEqual(['outbox:s1:#payments', 'outbox:s1:C0ADMIN', 'scan:s1:channels']);
    for (const key of await stored()) expect(await ttl(key)).toBe(SCAN_SCRATCH_TTL_SECONDS);
    expect(await outbox.channels('s1')).toEqual(['#payments', 'C0ADMIN']);
    expect((await outbox.head('s1', '#payments'))?.kind).toBe('finding');
    await outbox.pop('s1', '#payments');
    expect(await outbox.head('s1', '#payments')).toEqual(closed);
    await outbox.pop('s1', '#payments');
    expect(await outbox.head('s1', '#payments')).toBeNull();
  });

  it('holds an intent in one step: takes it when free, extends it for its own job, names another holder', async () => {
    const intents = new IntentStore(redis, k);
    const key = `${p}intent:deliver:#payments`;
    const first = { jobId: 'deliver-s1-aaaa', userId: 's1', at: '2025-03-01T00:00:00.000Z' };
    expect(await intents.hold('deliver:#payments', first, 5_000)).toEqual({ held: true, renewed: false });
    expect(JSON.parse((await redis.get(key))!)).toEqual(first);
    expect(await redis.pttl(key)).toBeLessThanOrEqual(5_000);
    // The same job again (after a paced pause): extended, its holder record left as it was.
    const again = { ...first, at: '2025-03-01T00:00:09.000Z' };
    expect(await intents.hold('deliver:#payments', again, 60_000)).toEqual({ held: true, renewed: true });
    expect(await redis.pttl(key)).toBeGreaterThan(5_000);
    expect(JSON.parse((await redis.get(key))!)).toEqual(first);
    // Another scan's delivery is told who holds the channel, and changes nothing.
    const other = { jobId: 'deliver-s2-aaaa', userId: 's2', at: '2025-03-01T00:00:10.000Z' };
    expect(await intents.hold('deliver:#payments', other, 60_000)).toEqual({ held: false, holder: first });
    expect(JSON.parse((await redis.get(key))!)).toEqual(first);
    // Released: the next one takes it.
    await intents.release('deliver:#payments', first.jobId, 0);
    expect(await intents.hold('deliver:#payments', other, 60_000)).toEqual({ held: true, renewed: false });
    expect(JSON.parse((await redis.get(key))!)).toEqual(other);
  });

  it('lists the channels with the most events first, so that their deliveries are queued first', async () => {
    const outbox = new Outbox(redis, k);
    const note = (n: number): OutboxEvent => ({ kind: 'notice', key: `n${n}`, text: 'x', blocks: [] });
    await outbox.push('s3', '#one', [note(1)]);
    await outbox.push('s3', '#three', [note(1), note(2), note(3)]);
    await outbox.push('s3', '#two-b', [note(1), note(2)]);
    await outbox.push('s3', '#two-a', [note(1), note(2)]);
    expect(await outbox.channelsLongestFirst('s3')).toEqual(['#three', '#two-a', '#two-b', '#one']);
    await outbox.pop('s3', '#three');
    await outbox.pop('s3', '#three');
    expect(await outbox.channelsLongestFirst('s3')).toEqual(['#two-a', '#two-b', '#one', '#three']);
  });

  it('pops the handled event and reads the next in one step, until the list is gone', async () => {
    const outbox = new Outbox(redis, k);
    const notice = (key: string): OutboxEvent => ({ kind: 'notice', key, text: key, blocks: [] });
    await outbox.push('s1', 'C0ADMIN', [notice('a'), notice('b')]);

    expect(await outbox.head('s1', 'C0ADMIN')).toEqual(notice('a'));
    expect(await outbox.popAndHead('s1', 'C0ADMIN')).toEqual(notice('b'));
    expect(await redis.lrange(k.outbox('s1', 'C0ADMIN'), 0, -1)).toEqual([JSON.stringify(notice('b'))]);
    expect(await outbox.popAndHead('s1', 'C0ADMIN')).toBeNull();
    expect(await redis.exists(k.outbox('s1', 'C0ADMIN'))).toBe(0);
  });
});

describe('FindingStore writes', () => {
  const card = (i: number, over: Partial<FindingState> = {}): Partial<FindingState> => ({
    status: 'ACTIVE',
    routeChannel: '#payments',
    analyzerArn: ARN,
    accountId: i % 2 ? '111111111111' : '222222222222',
    region: 'eu-west-1',
    findingType: 'ExternalAccess',
    severity: 'high',
    createdAt: `2025-01-0${i + 1}T00:00:00.000Z`,
    resourceArn: `arn:aws:s3:::bucket-${i}`,
    ...over,
  });

  it('writes many cards in one call as set writes each: same hashes, same index answers', async () => {
    const one = new FindingStore(redis, k);
    for (let i = 0; i < 3; i++) await one.set(`f-${i}`, card(i));
    const byOne = await Promise.all([0, 1, 2].map((i) => redis.hgetall(k.finding(`f-${i}`))));
    const onePage = await one.findingsPage({ accountId: '111111111111' }, { offset: 0, limit: 10 });

    const other = keys(uniquePrefix('stores'));
    prefixes.push(other.finding('').slice(0, -'finding:'.length));
    const many = new FindingStore(redis, other);
    await many.setMany([0, 1, 2].map((i) => [`f-${i}`, card(i)] as const));

    expect(await Promise.all([0, 1, 2].map((i) => redis.hgetall(other.finding(`f-${i}`))))).toEqual(byOne);
    expect(await redis.hgetall(other.analyzers())).toEqual({ [AID]: ARN });
    const manyPage = await many.findingsPage({ accountId: '111111111111' }, { offset: 0, limit: 10 });
    expect(manyPage.total).toBe(1);
    expect(manyPage.items.map((x) => x.id)).toEqual(onePage.items.map((x) => x.id));
  });

  it('deletes the fields it is told to clear in the same write', async () => {
    const store = new FindingStore(redis, k);
    await store.set('f-1', { ...card(1), pendingSince: '1700000000', pendingChannel: 'C0PAY' });
    await store.set('f-1', { channel: 'C0PAY', ts: '1.2' }, { clear: PENDING_FIELDS });

    const saved = await store.get('f-1');
    expect(saved).toMatchObject({ channel: 'C0PAY', ts: '1.2', routeChannel: '#payments' });
    expect(saved?.pendingSince).toBeUndefined();
    expect(saved?.pendingChannel).toBeUndefined();
  });

  it('keeps a long value the indexes do not read in the card hash, in pieces, and no side hash', async () => {
    const store = new FindingStore(redis, k);
    // 3 grants' principals and a condition: over 64 bytes, as half the external-access cards are.
    const filterValues = JSON.stringify({
      isPublic: ['false'],
      'principal.AWS': ['arn:aws:iam::900000012345:root', 'arn:aws:iam::900000054321:root'],
      'condition.aws:SourceIp': ['203.0.113.0/24'],
    });
    const resourceArn = `arn:aws:s3:::exports-${'é'.repeat(60)}`;
    await store.set('f-1', card(1, { filterValues, resourceArn }));

    expect(await redis.exists(k.findingLong('f-1'))).toBe(0);
    expect(await redis.object('ENCODING', k.finding('f-1'))).toBe('listpack');
    const h = await redis.hgetall(k.finding('f-1'));
    for (const v of Object.values(h)) expect(Buffer.byteLength(v)).toBeLessThanOrEqual(64);
    expect(Object.keys(h)).toContain('fv.1');
    expect(await store.get('f-1')).toMatchObject({ filterValues, resourceArn });
    const [row] = await store.rows(['f-1'], ['filterValues', 'resourceArn']);
    expect(row).toEqual({ id: 'f-1', status: 'ACTIVE', filterValues, resourceArn });
    const [rule] = await store.ruleCandidates({ findingType: 'ExternalAccess' });
    expect(rule?.filterValues).toEqual(JSON.parse(filterValues));

    // A shorter value leaves no piece of the longer one behind.
    await store.set('f-1', { filterValues: '{}' });
    expect(Object.keys(await redis.hgetall(k.finding('f-1'))).filter((f) => f.startsWith('fv'))).toEqual([
      'fv',
    ]);
    expect((await store.get('f-1'))?.filterValues).toBe('{}');
  });

  it('stores the category and the filter values in a shorter form and reads them back as written', async () => {
    const store = new FindingStore(redis, k);
    const filterValues = JSON.stringify({ isPublic: ['true'], 'principal.AWS': ['*'] });
    await store.set('f-1', card(1, { category: 'unused-permission', filterValues }));
    expect(await redis.hmget(k.finding('f-1'), 'cg', 'fv')).toEqual(['6', '~P\x1ftrue\x1epAWS\x1f*']);
    expect(await store.get('f-1')).toMatchObject({ category: 'unused-permission', filterValues });
    expect(await store.rows(['f-1'], ['category', 'filterValues'])).toEqual([
      { id: 'f-1', status: 'ACTIVE', category: 'unused-permission', filterValues },
    ]);
    // What the short form cannot say is kept as it is.
    const odd = JSON.stringify({ other: ['x'] });
    await store.set('f-2', card(2, { category: 'some-new-category' as never, filterValues: odd }));
    expect(await redis.hmget(k.finding('f-2'), 'cg', 'fv')).toEqual(['some-new-category', odd]);
    expect(await store.get('f-2')).toMatchObject({ filterValues: odd });
  });

  it('stores times as epoch milliseconds and Slack ts as 16 digits, reads them back as written, and reads cards written before', async () => {
    const store = new FindingStore(redis, k);
    const times = {
      createdAt: '2025-01-02T00:00:00.000Z',
      firstSeen: '2025-01-03T04:05:06.789Z',
      updatedAt: '2025-01-04T00:00:00.000Z',
      channel: 'C0PAY',
      ts: '1733155448.123456',
      threadTs: '1733155400.000100',
    };
    await store.set('f-1', card(1, times));
    expect(await redis.hmget(k.finding('f-1'), 'cr', 'fs', 'up', 'ts', 'tt')).toEqual([
      '1735776000000',
      '1735877106789',
      '1735948800000',
      '1733155448123456',
      '1733155400000100',
    ]);
    expect(await redis.object('ENCODING', k.finding('f-1'))).toBe('listpack');
    expect(await store.get('f-1')).toMatchObject(times);
    const { channel: _, ...read } = times;
    expect(await store.rows(['f-1'], ['createdAt', 'firstSeen', 'updatedAt', 'ts', 'threadTs'])).toEqual([
      { id: 'f-1', status: 'ACTIVE', ...read },
    ]);
    expect((await store.getMany(['f-1']))[0]).toMatchObject({ updatedAt: times.updatedAt });

    // What would not read back exactly is kept as written.
    const odd = { createdAt: '2025-01-02T00:00:00Z', updatedAt: '', ts: '1.2', threadTs: '1733155400.1' };
    await store.set('f-2', card(2, odd));
    expect(await redis.hmget(k.finding('f-2'), 'cr', 'up', 'ts', 'tt')).toEqual([
      odd.createdAt,
      '',
      odd.ts,
      odd.threadTs,
    ]);
    expect(await store.get('f-2')).toMatchObject({
      createdAt: odd.createdAt,
      ts: '1.2',
      threadTs: odd.threadTs,
    });

    // A card an earlier version wrote (ISO strings, ts with its dot) reads the same, and the indexes
    // order and filter both forms alike.
    await store.set('f-3', card(3));
    await redis.hset(k.finding('f-3'), { cr: '2025-01-03T00:00:00.000Z', up: times.updatedAt, ts: times.ts });
    await store.set('f-3', { severity: 'critical' });
    expect(await store.get('f-3')).toMatchObject({ createdAt: '2025-01-03T00:00:00.000Z', ts: times.ts });
    expect((await store.getMany(['f-3']))[0]).toMatchObject({ updatedAt: times.updatedAt });
    const where = (i: number) =>
      k.findingsWhere(
        'ACTIVE',
        i === 3 ? 'critical' : 'high',
        'ExternalAccess',
        i % 2 ? '111111111111' : '222222222222',
        'eu-west-1',
      );
    expect(await redis.zscore(where(1), 'f-1')).toBe(String(Date.parse(times.createdAt)));
    expect(await redis.zscore(where(3), 'f-3')).toBe(String(Date.parse('2025-01-03T00:00:00.000Z')));
    const before = await store.findingsPage(
      { createdBefore: '2025-01-02T12:00:00.000Z' },
      { offset: 0, limit: 10 },
    );
    expect(before.items.map((x) => x.id)).toEqual(['f-1', 'f-2']);
    const all = await store.findingsPage({}, { offset: 0, limit: 10 });
    expect(all.items.map((x) => [x.id, x.createdAt, x.ts])).toEqual([
      ['f-3', '2025-01-03T00:00:00.000Z', times.ts],
      ['f-1', times.createdAt, times.ts],
      ['f-2', odd.createdAt, odd.ts],
    ]);
    // A closed card is listed by the later of firstSeen and updatedAt, in either form.
    await store.set('f-1', { status: 'RESOLVED', updatedAt: '2025-02-01T00:00:00.000Z' });
    await redis.hset(k.finding('f-3'), 'fs', '2025-02-10T00:00:00.000Z');
    await store.set('f-3', { status: 'ARCHIVED' });
    expect(await store.digestCandidates({ closedSince: new Date('2025-01-20T00:00:00.000Z') })).toEqual(
      expect.arrayContaining(['f-1', 'f-3']),
    );
    expect(await redis.zrange(k.closedFindings(), 0, -1, 'WITHSCORES')).toEqual([
      'f-1',
      String(Date.parse('2025-02-01T00:00:00.000Z')),
      'f-3',
      String(Date.parse('2025-02-10T00:00:00.000Z')),
    ]);
  });

  it('keeps a value too long for its pieces in the side hash, and moves it back when it shrinks', async () => {
    const store = new FindingStore(redis, k);
    const reason = 'r'.repeat(64 * MAX_PIECES + 1);
    await store.set('f-1', card(1, { archiveReason: 'x'.repeat(100) }));
    await store.set('f-1', { archiveReason: reason });
    expect(await redis.hgetall(k.findingLong('f-1'))).toEqual({ ar: reason });
    expect(Object.keys(await redis.hgetall(k.finding('f-1'))).filter((f) => f.startsWith('ar'))).toEqual([]);
    expect((await store.get('f-1'))?.archiveReason).toBe(reason);

    await store.set('f-1', { archiveReason: 'y'.repeat(100) });
    expect(await redis.exists(k.findingLong('f-1'))).toBe(0);
    expect((await store.get('f-1'))?.archiveReason).toBe('y'.repeat(100));
    // Clearing the archive deletes every piece.
    await store.clearArchive('f-1');
    expect(Object.keys(await redis.hgetall(k.finding('f-1'))).filter((f) => f.startsWith('ar'))).toEqual([]);
    expect((await store.get('f-1'))?.archiveReason).toBeUndefined();
  });
});

describe('BurstStore', () => {
  it('counts new cards per channel by type and severity, and keeps the ten worst, worst first', async () => {
    const bursts = new BurstStore(redis, k);
    const findings = Array.from({ length: 12 }, (_, i) =>
      makeFinding({ id: `f-${i}`, createdAt: `2025-02-${String(10 + i).padStart(2, '0')}T00:00:00Z` }),
    );
    const unused = makeFinding({
      id: 'f-unused',
      findingType: 'UnusedIAMRole',
      details: { kind: 'unusedRole' },
      createdAt: '2025-01-01T00:00:00Z',
    });
    const all = [...findings, unused];
    for (const f of all) {
      await bursts.recordNew('s1', '#payments', { finding: f, severity: assessSeverity(f) });
    }

    const bySeverity: Record<string, number> = {};
    for (const f of all) {
      const sev = assessSeverity(f).severity;
      bySeverity[sev] = (bySeverity[sev] ?? 0) + 1;
    }
    expect(await bursts.counts('s1', '#payments')).toEqual({
      total: 13,
      byType: { ExternalAccess: 12, UnusedIAMRole: 1 },
      bySeverity,
    });
    expect(await bursts.counts('s1', '#other')).toEqual({ total: 0, byType: {}, bySeverity: {} });

    // Lower rank is worse; within a rank the older finding first.
    const score = (f: (typeof all)[number]) => assessSeverity(f).rank * 1e13 + Date.parse(f.createdAt);
    const expected = [...all].sort((a, b) => score(a) - score(b)).slice(0, 10);
    expect((await bursts.worst('s1', '#payments')).map((w) => w.finding.id)).toEqual(
      expected.map((f) => f.id),
    );
    expect(await redis.zcard(`${p}scan:s1:worst:#payments`)).toBe(10);
    expect(await stored()).toEqual(['scan:s1:burst:#payments', 'scan:s1:worst:#payments']);
    expect(await ttl('scan:s1:burst:#payments')).toBe(SCAN_SCRATCH_TTL_SECONDS);
    expect(await ttl('scan:s1:worst:#payments')).toBe(SCAN_SCRATCH_TTL_SECONDS);
  });

  it('records the summary as pending before its post, then where it went', async () => {
    const bursts = new BurstStore(redis, k);
    expect(await bursts.summary('s1', '#payments')).toEqual({});
    await bursts.summaryPending('s1', '#payments', 1_740_830_400, 'C0PAYMENTS');
    expect(await redis.hgetall(`${p}scan:s1:summary:#payments`)).toEqual({
      pendingSince: '1740830400',
      pendingChannel: 'C0PAYMENTS',
    });
    expect(await ttl('scan:s1:summary:#payments')).toBe(SCAN_SCRATCH_TTL_SECONDS);
    expect(await bursts.summary('s1', '#payments')).toEqual({
      pendingSince: 1_740_830_400,
      pendingChannel: 'C0PAYMENTS',
    });

    await bursts.summaryPosted('s1', '#payments', { channel: 'C0PAYMENTS', ts: '1740830400.000100' });
    expect(await bursts.summary('s1', '#payments')).toEqual({
      channel: 'C0PAYMENTS',
      ts: '1740830400.000100',
      pendingSince: 1_740_830_400,
      pendingChannel: 'C0PAYMENTS',
    });
    expect(await ttl('scan:s1:summary:#payments')).toBe(SCAN_SCRATCH_TTL_SECONDS);
  });
});

describe('ChannelIdStore', () => {
  it('remembers the id Slack gave a #name, permanently, and resolves names it learned', async () => {
    const channels = new ChannelIdStore(redis, k);
    await channels.remember('#payments', 'C0PAYMENTS');
    await channels.remember('C0OTHER', 'C0OTHER');

    expect(await stored()).toEqual(['channel-id:#payments']);
    expect(await ttl('channel-id:#payments')).toBe(-1);
    expect(await channels.resolve('#payments')).toBe('C0PAYMENTS');
    expect(await channels.resolve('#unknown')).toBe('#unknown');
    expect(await channels.resolve('C0PAYMENTS')).toBe('C0PAYMENTS');
    expect(await channels.idsOf(['#unknown', '#payments'])).toEqual([null, 'C0PAYMENTS']);
    expect(await channels.idsOf([])).toEqual([]);
  });
});

describe('OnceStore', () => {
  const posted = { channel: 'C0PAYMENTS', ts: '1740830400.000200' };

  it('claims a job step for 7 days, records where it was posted, and tells a retry where that was', async () => {
    const once = new OnceStore(redis, k);
    const key = `${p}job-post:archive-f-1-17:receipt`;
    let sends = 0;
    const first = await once.run({ kind: 'job-post', onceKey: 'archive-f-1-17:receipt' }, F_NOW, async () => {
      sends++;
      expect(await redis.get(key)).toBe(`claimed ${formatISO(F_NOW)}`);
      return posted;
    });
    expect(first).toEqual({ by: 'this-attempt', sent: posted });
    expect(await redis.get(key)).toBe('sent C0PAYMENTS 1740830400.000200');
    expect(await redis.ttl(key)).toBe(JOB_POST_TTL_SECONDS);

    const retry = await once.run({ kind: 'job-post', onceKey: 'archive-f-1-17:receipt' }, F_NOW, async () => {
      sends++;
      return posted;
    });
    expect(retry).toEqual({ by: 'earlier-attempt', sent: posted });
    expect(sends).toBe(1);
  });

  it('drops the claim when the send fails, so the retry sends', async () => {
    const once = new OnceStore(redis, k);
    const subject = { kind: 'job-post', onceKey: 'rescan-f-2-18:receipt' } as const;
    await expect(
      once.run(subject, F_NOW, async () => {
        throw new Error('ratelimited');
      }),
    ).rejects.toThrow('ratelimited');
    expect(await stored()).toEqual([]);
    expect(await once.run(subject, F_NOW, async () => posted)).toEqual({ by: 'this-attempt', sent: posted });
  });

  it('loses the record, not the message, when the attempt stops after sending: the retry does not send again', async () => {
    const once = new OnceStore(redis, k);
    const subject = { kind: 'digest', ownerKey: 'ch-C0PAYMENTS', week: '2025-W09' } as const;
    await expect(
      once.run(
        subject,
        F_NOW,
        async () => posted,
        () => {
          throw new Error('worker died');
        },
      ),
    ).rejects.toThrow('worker died');
    const key = `${p}digest:ch-C0PAYMENTS:2025-W09`;
    expect(await redis.get(key)).toBe(`claimed ${formatISO(F_NOW)}`);
    expect(await redis.ttl(key)).toBe(DIGEST_CLAIM_TTL_SECONDS);

    let sent = false;
    const retry = await once.run(subject, F_NOW, async () => {
      sent = true;
      return posted;
    });
    expect(retry).toEqual({ by: 'earlier-attempt', sent: null });
    expect(sent).toBe(false);
  });

  it('keeps the claim when there was nothing to send to, until it is released', async () => {
    const once = new OnceStore(redis, k);
    const a = { kind: 'digest', ownerKey: 'user-abc', week: '2025-W09' } as const;
    const b = { kind: 'digest', ownerKey: 'user-def', week: '2025-W09' } as const;
    expect(await once.run(a, F_NOW, async () => null)).toEqual({ by: 'this-attempt', sent: null });
    expect(await once.run(b, F_NOW, async () => null)).toEqual({ by: 'this-attempt', sent: null });
    expect(await stored()).toEqual(['digest:user-abc:2025-W09', 'digest:user-def:2025-W09']);
    expect(await once.run(a, F_NOW, async () => posted)).toEqual({ by: 'earlier-attempt', sent: null });

    await once.release(a, b);
    expect(await stored()).toEqual([]);
    expect(await once.run(a, F_NOW, async () => posted)).toEqual({ by: 'this-attempt', sent: posted });
  });
});

describe('ServiceLinkedAnalyzers', () => {
  it('records which analyzers another service manages, and answers a click with it', async () => {
    const linked = new ServiceLinkedAnalyzers(redis, k);
    const sl = makeAnalyzer({ arn: `${ARN}-sl`, managedBy: 'securityhub.amazonaws.com' });
    await linked.record([makeAnalyzer({ arn: ARN }), sl]);

    expect(await stored()).toEqual(['analyzers:service-linked']);
    expect(await redis.hgetall(`${p}analyzers:service-linked`)).toEqual({
      [`${ARN}-sl`]: 'securityhub.amazonaws.com',
    });
    expect(await linked.all()).toEqual(new Set([`${ARN}-sl`]));
    expect(await linked.ref(`${ARN}-sl`, 'us-east-1')).toEqual({
      arn: `${ARN}-sl`,
      region: 'us-east-1',
      managedBy: 'securityhub.amazonaws.com',
    });
    expect(await linked.ref(ARN, 'eu-west-1')).toEqual({ arn: ARN, region: 'eu-west-1' });
  });
});

describe('DigestStore', () => {
  it("keeps an owner's week counts for 35 days, for the next week's trend", async () => {
    const digests = new DigestStore(redis, k);
    const counts = { open: 4, overdue: 1, new: 2, resolved: 3, archived: 0 };
    expect(await digests.snapshot('ch-C0PAYMENTS', '2025-W09')).toBeUndefined();
    await digests.saveSnapshot('ch-C0PAYMENTS', '2025-W09', counts);

    expect(await stored()).toEqual(['digest-snapshot:ch-C0PAYMENTS:2025-W09']);
    expect(await redis.hgetall(`${p}digest-snapshot:ch-C0PAYMENTS:2025-W09`)).toEqual({
      open: '4',
      overdue: '1',
      new: '2',
      resolved: '3',
      archived: '0',
    });
    expect(await ttl('digest-snapshot:ch-C0PAYMENTS:2025-W09')).toBe(DIGEST_SNAPSHOT_TTL_SECONDS);
    expect(await digests.snapshot('ch-C0PAYMENTS', '2025-W09')).toEqual(counts);
  });

  it('replaces the last digest of an owner, and reports each unknown e-mail once until forgotten', async () => {
    const digests = new DigestStore(redis, k);
    const last = { week: '2025-W09', at: F_NOW.toISOString(), channel: 'C0PAY', ts: '1.2', text: 'Weekly' };
    await digests.saveLast('ch-C0PAY', { ...last, week: '2025-W08' });
    await digests.saveLast('ch-C0PAY', last);
    expect(JSON.parse((await redis.get(`${p}digest-last:ch-C0PAY`))!)).toEqual(last);
    expect(await ttl('digest-last:ch-C0PAY')).toBe(-1);

    expect(await digests.rememberUnknownEmail('gone@example.com')).toBe(true);
    expect(await digests.rememberUnknownEmail('gone@example.com')).toBe(false);
    expect(await redis.smembers(`${p}digest-unknown-emails`)).toEqual(['gone@example.com']);
    await digests.forgetUnknownEmails(['gone@example.com']);
    expect(await digests.rememberUnknownEmail('gone@example.com')).toBe(true);
    expect(await stored()).toEqual(['digest-last:ch-C0PAY', 'digest-unknown-emails']);
  });
});

describe('DigestStore.latestLast', () => {
  it("reads the most recent of several owners' last digests, and nothing when none got one", async () => {
    const digests = new DigestStore(redis, k);
    const at = (day: string) => ({
      week: '2025-W09',
      at: `2025-03-0${day}T09:00:00.000Z`,
      channel: 'C',
      ts: day,
      text: day,
    });
    expect(await digests.latestLast(['ch-C0PAY', 'user-a@example.com'])).toBeUndefined();
    expect(await digests.latestLast([])).toBeUndefined();
    await digests.saveLast('ch-C0PAY', at('3'));
    await digests.saveLast('user-a@example.com', at('4'));
    await digests.saveLast('ch-C0OTHER', at('5'));
    expect(await digests.latestLast(['ch-C0PAY', 'user-a@example.com', 'ch-C0NONE'])).toEqual(at('4'));
  });
});

describe('ViewerCache', () => {
  it("keeps a person's e-mail and channels under user-channels:<user> for five minutes", async () => {
    const viewers = new ViewerCache(redis, k);
    expect(await viewers.get('U0ALICE')).toBeNull();
    const viewer = { email: 'alice@example.com', channels: ['C0PAY', '#team-x'] };
    await viewers.save('U0ALICE', viewer);
    expect(await stored()).toEqual(['user-channels:U0ALICE']);
    expect(await ttl('user-channels:U0ALICE')).toBe(300);
    expect(await viewers.get('U0ALICE')).toEqual(viewer);
  });
});

describe('FindingStore aging claims', () => {
  it('claims a reminder only while the card is ACTIVE and its last reminder is the one read, and undoes only its own claim', async () => {
    const store = new FindingStore(redis, k);
    await store.set('f-1', makeFindingState({ status: 'ACTIVE' }));
    const t1 = '2025-03-01T09:00:00.000Z';
    const t2 = '2025-03-08T09:00:00.000Z';
    expect(await store.claimReminder('f-1', '', t1)).toBe(1);
    // A second sweep that read the card before the first claim loses.
    expect(await store.claimReminder('f-1', '', t1)).toBeNull();
    expect(await store.claimReminder('f-1', t1, t2)).toBe(2);
    // Undoing the first claim is refused: the last reminder is no longer it.
    await store.unclaimReminder('f-1', t1, '');
    expect(await store.get('f-1')).toMatchObject({ reminders: '2', lastReminderAt: t2 });
    await store.unclaimReminder('f-1', t2, t1);
    expect(await store.get('f-1')).toMatchObject({ reminders: '1', lastReminderAt: t1 });
    await store.set('f-1', { status: 'ARCHIVED' });
    expect(await store.claimReminder('f-1', t1, t2)).toBeNull();
  });

  it('takes the escalation marker once, keeps it a year, and lets a failed post drop it', async () => {
    const store = new FindingStore(redis, k);
    expect(await store.isEscalated('f-1')).toBe(false);
    expect(await store.claimEscalation('f-1', F_NOW.toISOString())).toBe(true);
    expect(await store.claimEscalation('f-1', F_NOW.toISOString())).toBe(false);
    expect(await store.isEscalated('f-1')).toBe(true);
    expect(await redis.get(`${p}notice:aging-escalated:f-1`)).toBe(F_NOW.toISOString());
    expect(await ttl('notice:aging-escalated:f-1')).toBe(365 * 86_400);
    await store.releaseEscalation('f-1');
    expect(await store.isEscalated('f-1')).toBe(false);
    expect(await store.claimEscalation('f-1', F_NOW.toISOString())).toBe(true);
  });
});

describe('SlackRequestStore', () => {
  it('claims a request body once for as long as it is told', async () => {
    const requests = new SlackRequestStore(redis, k);
    expect(await requests.claim('abc123', 360)).toBe(true);
    expect(await requests.claim('abc123', 360)).toBe(false);
    expect(await stored()).toEqual(['slack-request:abc123']);
    expect(await ttl('slack-request:abc123')).toBe(360);
  });
});
