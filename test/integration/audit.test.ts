import { Writable } from 'node:stream';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditExport } from '../../src/audit-export.ts';
import { AuditLog, type AuditLogOptions } from '../../src/store/audit.ts';
import { keys } from '../../src/store/keys.ts';
import { REDIS_URL, uniquePrefix, wipePrefix } from '../helpers/runtime.ts';

const DAY = 24 * 3600 * 1000;
let redis: Redis;
const prefixes: string[] = [];

function auditLog(opts: Partial<AuditLogOptions> = {}) {
  const prefix = uniquePrefix('audit');
  prefixes.push(prefix);
  const k = keys(prefix);
  return { k, audit: new AuditLog(redis, k, { retentionDays: 400, maxEntries: 1_000_000, ...opts }) };
}

/** A Writable that keeps what it gets, counting write calls; small highWaterMark to exercise drain. */
function sink() {
  const chunks: string[] = [];
  const out = new Writable({
    highWaterMark: 1024,
    write(chunk, _enc, cb) {
      chunks.push(String(chunk));
      setImmediate(cb);
    },
  });
  return { out, chunks, text: () => chunks.join('') };
}

beforeAll(() => {
  redis = new Redis(REDIS_URL);
});
afterAll(async () => {
  for (const p of prefixes) await wipePrefix(p);
  await redis.quit();
});

describe('AuditLog', () => {
  it('records flat fields and reads them back newest first, filtered by finding and user', async () => {
    const { audit, k } = auditLog();
    await audit.record({
      at: '2025-01-01T00:00:00.000Z',
      actor: 'U1',
      action: 'archive',
      outcome: 'requested',
      findingId: 'f1',
    });
    await audit.record({
      actor: 'system',
      action: 'archive',
      outcome: 'succeeded',
      findingId: 'f1',
      requestId: 'r1',
    });
    await audit.record({
      actor: 'U2',
      action: 'delete-role',
      outcome: 'refused',
      findingId: 'f2',
      detail: 'not an admin',
    });
    await audit.record({
      actor: 'U1',
      action: 'rescan',
      outcome: 'failed',
      findingId: 'f2',
      resourceArn: 'arn:aws:iam::111111111111:role/x',
      accountId: '111111111111',
      region: 'eu-west-1',
      error: 'AccessDenied',
    });

    const [, fields] = ((await redis.xrange(k.audit(), '-', '+', 'COUNT', 1)) as [string, string[]][])[0]!;
    expect(fields).toEqual([
      'at',
      '2025-01-01T00:00:00.000Z',
      'actor',
      'U1',
      'action',
      'archive',
      'outcome',
      'requested',
      'findingId',
      'f1',
    ]);

    const all = await audit.query();
    expect(all.map((e) => `${e.actor} ${e.action} ${e.outcome}`)).toEqual([
      'U1 rescan failed',
      'U2 delete-role refused',
      'system archive succeeded',
      'U1 archive requested',
    ]);
    expect(all[0]).toMatchObject({
      resourceArn: 'arn:aws:iam::111111111111:role/x',
      accountId: '111111111111',
      region: 'eu-west-1',
      error: 'AccessDenied',
    });
    expect(all[0]?.id).toMatch(/^\d+-\d+$/);
    expect(all[2]?.at).toMatch(/^\d{4}-\d\d-\d\dT/);

    expect((await audit.query({ findingId: 'f1' })).map((e) => e.outcome)).toEqual([
      'succeeded',
      'requested',
    ]);
    expect((await audit.query({ user: 'U1' })).map((e) => e.action)).toEqual(['rescan', 'archive']);
    expect((await audit.query({ user: 'U1', findingId: 'f2' })).map((e) => e.action)).toEqual(['rescan']);
    expect((await audit.query({ last: 2 })).map((e) => e.action)).toEqual(['rescan', 'delete-role']);
    expect(await audit.query({ since: new Date(Date.now() + 60_000) })).toEqual([]);
  });

  it('finds matches across query batches but stops after examining maxScan entries', async () => {
    const { audit } = auditLog({ maxScan: 450 });
    await audit.record({ actor: 'UOLD', action: 'archive', outcome: 'succeeded' });
    for (let i = 0; i < 400; i++) await audit.record({ actor: 'U1', action: 'rescan', outcome: 'succeeded' });
    await audit.record({ actor: 'U2', action: 'archive', outcome: 'requested', findingId: 'fx' });
    expect((await audit.query({ user: 'UOLD' })).length).toBe(1);
    expect((await audit.query({ last: 1000 })).length).toBe(402);

    const { audit: small } = auditLog({ maxScan: 100 });
    await small.record({ actor: 'UOLD', action: 'archive', outcome: 'succeeded' });
    for (let i = 0; i < 150; i++) await small.record({ actor: 'U1', action: 'rescan', outcome: 'succeeded' });
    expect(await small.query({ user: 'UOLD' })).toEqual([]);
  });

  it('exports 1,200 entries as JSON Lines in batches, oldest first, and --since filters', async () => {
    const { audit, k } = auditLog();
    const day = (d: string) => Date.parse(`${d}T00:00:00Z`);
    // Entries with ids in the past, written directly: 600 on 2025-03-01, 600 on 2025-03-02.
    const pipe = redis.pipeline();
    for (let i = 0; i < 1200; i++) {
      const ms = (i < 600 ? day('2025-03-01') : day('2025-03-02')) + i;
      pipe.xadd(
        k.audit(),
        `${ms}-0`,
        'at',
        new Date(ms).toISOString(),
        'actor',
        `U${i}`,
        'action',
        'archive',
        'outcome',
        'succeeded',
      );
    }
    await pipe.exec();

    const xrange = redis.xrange.bind(redis);
    const calls: unknown[][] = [];
    const spy = (...args: unknown[]) => {
      calls.push(args);
      return (xrange as (...a: unknown[]) => unknown)(...args);
    };
    (redis as unknown as { xrange: typeof spy }).xrange = spy;
    try {
      const all = sink();
      expect(await audit.exportJsonLines(all.out, undefined)).toBe(1200);
      const lines = all.text().trimEnd().split('\n');
      expect(lines).toHaveLength(1200);
      const first = JSON.parse(lines[0]!);
      expect(first).toEqual({
        id: `${day('2025-03-01')}-0`,
        at: '2025-03-01T00:00:00.000Z',
        actor: 'U0',
        action: 'archive',
        outcome: 'succeeded',
      });
      expect(JSON.parse(lines[1199]!).actor).toBe('U1199');
      // Three reads of at most 500, each starting after the previous batch's last id.
      expect(calls.map((c) => c.slice(1))).toEqual([
        ['-', '+', 'COUNT', 500],
        [`(${day('2025-03-01') + 499}-0`, '+', 'COUNT', 500],
        [`(${day('2025-03-02') + 999}-0`, '+', 'COUNT', 500],
      ]);
      expect(all.chunks).toHaveLength(3);
    } finally {
      delete (redis as unknown as { xrange?: unknown }).xrange;
    }

    const out = sink();
    const err = sink();
    expect(await auditExport(['--since', '2025-03-02'], { audit, out: out.out, err: err.out })).toBe(0);
    const since = out.text().trimEnd().split('\n');
    expect(since).toHaveLength(600);
    expect(JSON.parse(since[0]!).actor).toBe('U600');
    expect(err.text()).toBe('exported 600 audit entries since 2025-03-02\n');
  });

  it('trims entries older than retentionDays when it records', async () => {
    const now = Date.now();
    const { audit, k } = auditLog({ retentionDays: 30, now: () => now });
    const pipe = redis.pipeline();
    const old = now - 31 * DAY;
    for (let i = 0; i < 300; i++)
      pipe.xadd(
        k.audit(),
        `${old + i}-0`,
        'at',
        'x',
        'actor',
        'UOLD',
        'action',
        'archive',
        'outcome',
        'succeeded',
      );
    pipe.xadd(
      k.audit(),
      `${now - 29 * DAY}-0`,
      'at',
      'x',
      'actor',
      'UKEEP',
      'action',
      'archive',
      'outcome',
      'succeeded',
    );
    await pipe.exec();
    expect(await redis.xlen(k.audit())).toBe(301);

    await audit.record({ actor: 'UNEW', action: 'scan', outcome: 'requested' });
    // MINID ~ drops whole stream nodes (100 entries each by default): every old node here.
    expect((await audit.query({ last: 1000 })).map((e) => e.actor)).toEqual(['UNEW', 'UKEEP']);
  });

  it('caps the stream at about maxEntries', async () => {
    const { audit, k } = auditLog({ maxEntries: 1000 });
    const pipe = redis.pipeline();
    for (let i = 0; i < 1500; i++)
      pipe.xadd(k.audit(), '*', 'actor', 'U1', 'action', 'archive', 'outcome', 'succeeded');
    await pipe.exec();
    await audit.record({ actor: 'U2', action: 'archive', outcome: 'succeeded' });
    const len = await redis.xlen(k.audit());
    expect(len).toBeGreaterThanOrEqual(1000);
    expect(len).toBeLessThan(1200);
  });
});

describe('auditExport', () => {
  const run = async (args: string[]) => {
    const out = sink();
    const err = sink();
    const audit = { exportJsonLines: async () => 0 };
    const code = await auditExport(args, { audit, out: out.out, err: err.out });
    return { code, out: out.text(), err: err.text() };
  };

  it.each([
    ['--since', '2025-02-30'],
    ['--since', '31/01/2025'],
    ['--since'],
    ['--sinse=2025-01-01'],
    ['--since=yesterday'],
  ])('rejects %j with exit 2 and the usage', async (...args) => {
    const r = await run(args);
    expect(r.code).toBe(2);
    expect(r.out).toBe('');
    expect(r.err).toMatch(
      /^access-patrol audit export: .+\nusage: access-patrol audit export \[--since YYYY-MM-DD\]\n$/,
    );
  });

  it('explains a bad date', async () => {
    expect((await run(['--since', '2025-02-30'])).err).toContain(
      '--since wants a date as YYYY-MM-DD (UTC), got "2025-02-30"',
    );
  });

  it('reports a failed export with exit 1', async () => {
    const err = sink();
    const audit = {
      exportJsonLines: async () => {
        throw new Error('Connection is closed.');
      },
    };
    expect(await auditExport([], { audit, out: sink().out, err: err.out })).toBe(1);
    expect(err.text()).toBe('access-patrol audit export failed: Connection is closed.\n');
  });
});
