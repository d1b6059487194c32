// The audit log: one Redis stream entry per thing someone asked the bot to do and how it ended.
// Bounded by count (MAXLEN ~) and age (MINID ~) on every write; read in batches, never all at once.
import type { Writable } from 'node:stream';
import type { Redis } from 'ioredis';
import type { Keys } from './keys.ts';

export type AuditOutcome = 'requested' | 'succeeded' | 'failed' | 'refused' | 'stale';

export interface AuditEntry {
  /** ISO time of the event. */
  at: string;
  /** Slack user id, or 'system' for the bot's own work. */
  actor: string;
  action: string;
  outcome: AuditOutcome;
  findingId?: string;
  resourceArn?: string;
  accountId?: string;
  region?: string;
  detail?: string;
  error?: string;
  requestId?: string;
}

/** An entry as read back, with its stream id (`<ms>-<seq>`, unique and increasing). */
export type StoredAuditEntry = AuditEntry & { id: string };

export interface AuditQuery {
  findingId?: string;
  /** Actor (Slack user id or 'system'). */
  user?: string;
  /** How many matching entries to return, newest first; default 20, at most 1000. */
  last?: number;
  since?: Date;
  /** A further test an entry must pass (who may read it); asked only for entries the filters kept. */
  keep?: (entry: StoredAuditEntry) => boolean | Promise<boolean>;
}

export interface AuditLogOptions {
  retentionDays: number;
  maxEntries: number;
  now?: () => number;
  /** Entries a query examines at most before it stops looking; default 10,000. */
  maxScan?: number;
}

const FIELDS = [
  'at',
  'actor',
  'action',
  'outcome',
  'findingId',
  'resourceArn',
  'accountId',
  'region',
  'detail',
  'error',
  'requestId',
] as const satisfies readonly (keyof AuditEntry)[];

const QUERY_BATCH = 200;
const EXPORT_BATCH = 500;
const DAY_MS = 24 * 3600 * 1000;

type RawEntry = [id: string, fields: string[]];

export class AuditLog {
  private readonly now: () => number;
  private readonly maxScan: number;

  constructor(
    private readonly redis: Redis,
    private readonly k: Keys,
    private readonly opts: AuditLogOptions,
  ) {
    this.now = opts.now ?? Date.now;
    this.maxScan = opts.maxScan ?? 10_000;
  }

  /** Appends an entry (`at` defaults to now) and trims by count and age; returns the stream id. */
  async record(entry: Omit<AuditEntry, 'at'> & { at?: string }): Promise<string> {
    const now = this.now();
    const flat: string[] = [];
    for (const f of FIELDS) {
      const v = f === 'at' ? (entry.at ?? new Date(now).toISOString()) : entry[f];
      if (v !== undefined && v !== '') flat.push(f, v);
    }
    const key = this.k.audit();
    const cutoff = Math.max(0, now - this.opts.retentionDays * DAY_MS);
    // One XADD can trim by one strategy only; the age trim follows in the same round trip.
    const res = await this.redis
      .multi()
      .xadd(key, 'MAXLEN', '~', this.opts.maxEntries, '*', ...flat)
      .xtrim(key, 'MINID', '~', `${cutoff}-0`)
      .exec();
    const [err, id] = res?.[0] ?? [new Error('audit write was discarded'), null];
    if (err) throw err;
    return id as string;
  }

  /** Matching entries, newest first; examines at most `maxScan` entries. */
  async query(q: AuditQuery = {}): Promise<StoredAuditEntry[]> {
    const want = Math.min(Math.max(q.last ?? 20, 1), 1000);
    const min = q.since ? `${q.since.getTime()}-0` : '-';
    const out: StoredAuditEntry[] = [];
    let max = '+';
    let examined = 0;
    while (out.length < want && examined < this.maxScan) {
      const count = Math.min(QUERY_BATCH, this.maxScan - examined);
      const batch = (await this.redis.xrevrange(this.k.audit(), max, min, 'COUNT', count)) as RawEntry[];
      for (const raw of batch) {
        const e = toEntry(raw);
        if (
          (q.user === undefined || e.actor === q.user) &&
          (q.findingId === undefined || e.findingId === q.findingId) &&
          (q.keep === undefined || (await q.keep(e)))
        ) {
          out.push(e);
          if (out.length === want) break;
        }
      }
      examined += batch.length;
      const lastId = batch.at(-1)?.[0];
      if (batch.length < count || lastId === undefined) break;
      max = `(${lastId}`;
    }
    return out;
  }

  /**
   * Entries whose `at` is `since` or later that `keep` accepts, newest first. Reads back from the
   * newest entry in batches and stops at the first older one (the digest's week), or after `maxScan`.
   */
  async since(since: Date, keep: (e: StoredAuditEntry) => boolean): Promise<StoredAuditEntry[]> {
    const stop = since.toISOString();
    const out: StoredAuditEntry[] = [];
    let max = '+';
    let examined = 0;
    while (examined < this.maxScan) {
      const batch = (await this.redis.xrevrange(
        this.k.audit(),
        max,
        '-',
        'COUNT',
        QUERY_BATCH,
      )) as RawEntry[];
      for (const raw of batch) {
        const e = toEntry(raw);
        if (e.at < stop) return out;
        if (keep(e)) out.push(e);
      }
      examined += batch.length;
      const lastId = batch.at(-1)?.[0];
      if (batch.length < QUERY_BATCH || lastId === undefined) break;
      max = `(${lastId}`;
    }
    return out;
  }

  /** Writes every entry (from `since`, oldest first) as one JSON object per line; returns how many. */
  async exportJsonLines(out: Writable, since?: Date): Promise<number> {
    let min = since ? `${since.getTime()}-0` : '-';
    let written = 0;
    for (;;) {
      const batch = (await this.redis.xrange(this.k.audit(), min, '+', 'COUNT', EXPORT_BATCH)) as RawEntry[];
      if (batch.length === 0) break;
      const text = batch.map((raw) => `${JSON.stringify(toEntry(raw))}\n`).join('');
      if (!out.write(text)) await drained(out);
      written += batch.length;
      const lastId = batch.at(-1)?.[0];
      if (batch.length < EXPORT_BATCH || lastId === undefined) break;
      min = `(${lastId}`;
    }
    return written;
  }
}

function toEntry([id, fields]: RawEntry): StoredAuditEntry {
  const e: Record<string, string> = { id };
  for (let i = 0; i + 1 < fields.length; i += 2) e[fields[i]!] = fields[i + 1]!;
  return e as unknown as StoredAuditEntry;
}

function drained(out: Writable): Promise<void> {
  return new Promise((resolve, reject) => {
    const done = (err?: Error) => {
      out.off('drain', onDrain);
      out.off('error', done);
      out.off('close', onClose);
      if (err) reject(err);
      else resolve();
    };
    const onDrain = () => done();
    const onClose = () => done(new Error('output closed before the export finished'));
    out.once('drain', onDrain);
    out.once('error', done);
    out.once('close', onClose);
  });
}
