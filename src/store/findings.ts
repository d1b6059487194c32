// Finding state and message references in Redis: one small hash per finding.
import type { Redis } from 'ioredis';
import { type FindingStatus, SEVERITIES, type Severity, type SeverityCategory } from '../findings/model.ts';
import { FindingIndexScripts, INDEX_VERSION, SEVERITY_BUCKETS } from './finding-index.ts';
import { analyzerId, type Keys } from './keys.ts';

/** What the bot remembers about a finding between scans (kept under 1 KB: no details, no blocks). */
export interface FindingState {
  /** Last status the bot showed. */
  status: FindingStatus;
  /** AWS updatedAt at the time the message was last made current. */
  updatedAt: string;
  /** Hash of what the message shows; equal hash = no chat.update needed. */
  fingerprint: string;
  /** Where the message is: channel id as Slack returned it, and message ts. */
  channel?: string;
  ts?: string;
  /** Parent ts when the message is a reply in a burst summary's thread. */
  threadTs?: string;
  /** Channel the routing rules chose (may differ from `channel` after a fallback), and the rule's name. */
  routeChannel: string;
  routeRule?: string;
  analyzerArn: string;
  region: string;
  accountId: string;
  findingType: string;
  resourceArn: string;
  resourceType: string;
  severity: string;
  createdAt: string;
  firstSeen: string;
  /** Archive made from Slack: who, why, until when (YYYY-MM-DD). */
  archivedBy?: string;
  archiveReason?: string;
  archiveUntil?: string;
  /** Role deleted from Slack: who, when, and the Redis key of its backup. */
  deletedBy?: string;
  deletedAt?: string;
  backupKey?: string;
  /** Set just before chat.postMessage, cleared when the ts is saved: see deliver.ts. */
  pendingSince?: string;
  pendingChannel?: string;
  pendingThreadTs?: string;
  /** Severity category (src/findings/model.ts SEVERITY_CATEGORIES), for SLAs: see jobs/aging.ts. */
  category?: string;
  /** Aging reminders: ISO time of the last one, how many so far, and a snooze end (ISO). */
  lastReminderAt?: string;
  reminders?: string;
  snoozedUntil?: string;
  /** Snooze made from Slack: who (user id) and why. */
  snoozedBy?: string;
  snoozeReason?: string;
  /** Role quarantined from Slack: who, until when (YYYY-MM-DD), and the Redis key of what it saved. */
  quarantinedBy?: string;
  quarantinedUntil?: string;
  quarantineBackupKey?: string;
  /** Owner e-mail from the resource's `tags.ownerEmailTag` tag, when routing read the tags (digest DMs). */
  ownerEmail?: string;
  /** Natural key of the card (src/findings/natural-key.ts): later ids with this key join the card. */
  naturalKey?: string;
  /**
   * Status of the card's first id, kept only once other ids joined the card (then the card's
   * `status` is ACTIVE while any of its ids is, and this one may differ).
   */
  ownStatus?: FindingStatus;
  /**
   * JSON of the values an archive rule's filter matches in the finding's details (principal.*,
   * condition.*, isPublic: src/findings/archive-rule.ts), so a rule's matches are counted from the store.
   */
  filterValues?: string;
}

const FIELDS: Record<keyof FindingState, string> = {
  status: 'st',
  updatedAt: 'up',
  fingerprint: 'fp',
  channel: 'ch',
  ts: 'ts',
  threadTs: 'tt',
  routeChannel: 'rc',
  routeRule: 'ru',
  analyzerArn: 'an',
  region: 'rg',
  accountId: 'ac',
  findingType: 'ty',
  resourceArn: 'rs',
  resourceType: 'rt',
  severity: 'sv',
  createdAt: 'cr',
  firstSeen: 'fs',
  archivedBy: 'ab',
  archiveReason: 'ar',
  archiveUntil: 'au',
  deletedBy: 'db',
  deletedAt: 'da',
  backupKey: 'bk',
  pendingSince: 'ps',
  pendingChannel: 'pc',
  pendingThreadTs: 'pt',
  category: 'cg',
  lastReminderAt: 'lr',
  reminders: 'rn',
  snoozedUntil: 'sz',
  snoozedBy: 'zb',
  snoozeReason: 'zr',
  quarantinedBy: 'qb',
  quarantinedUntil: 'qu',
  quarantineBackupKey: 'qk',
  ownerEmail: 'oe',
  naturalKey: 'nk',
  ownStatus: 'ms',
  filterValues: 'fv',
};

/** Hash field names (tests that leave a hash half written read them). */
export const FINDING_FIELDS: Readonly<typeof FIELDS> = FIELDS;

/**
 * Redis keeps a hash in its compact listpack encoding only while every value is at most 64 bytes
 * (hash-max-listpack-value); one longer value turns the whole hash into a hashtable at about three
 * times the memory. So the analyzer ARN is stored as a short id (resolved through one small
 * `analyzers` hash), and any other value longer than 64 bytes (a long resource ARN, an archive
 * reason, a backup key) goes into a side hash that only such findings have.
 */
const LISTPACK_VALUE_MAX = 64;

/**
 * Values the index scripts never read (the detail values an archive rule filters on, a long resource
 * ARN, a reason, a backup key) are kept in the card's own hash instead, cut into pieces of at most
 * 64 bytes under `<field>`, `<field>.1`, `<field>.2`…: a side hash costs about 380 bytes of its own
 * and half of the external-access cards needed one. Longer than `MAX_PIECES` pieces, a value still
 * goes to the side hash.
 */
const PIECED: ReadonlySet<keyof FindingState> = new Set<keyof FindingState>([
  'resourceArn',
  'filterValues',
  'routeRule',
  'archiveReason',
  'snoozeReason',
  'backupKey',
  'quarantineBackupKey',
]);
export const MAX_PIECES = 8;
const PIECED_CODES = [...PIECED].map((f) => FIELDS[f]);

/** The hash field of piece `n` (0: the field itself). */
function pieceName(code: string, n: number): string {
  return n === 0 ? code : `${code}.${n}`;
}

/** Cuts `v` into pieces of at most LISTPACK_VALUE_MAX bytes, never inside a character. */
function cutPieces(v: string): string[] {
  const out: string[] = [];
  let cur = '';
  let bytes = 0;
  for (const ch of v) {
    const b = Buffer.byteLength(ch);
    if (bytes + b > LISTPACK_VALUE_MAX) {
      out.push(cur);
      cur = '';
      bytes = 0;
    }
    cur += ch;
    bytes += b;
  }
  if (cur || out.length === 0) out.push(cur);
  return out;
}

/** A hash as read (HGETALL) with the pieces of each value put back together. */
function joinPieces(h: Record<string, string>): Record<string, string> {
  for (const code of PIECED_CODES) {
    if (h[pieceName(code, 1)] === undefined) continue;
    let v = h[code] ?? '';
    for (let n = 1; n < MAX_PIECES; n++) {
      const piece = h[pieceName(code, n)];
      if (piece === undefined) break;
      v += piece;
    }
    for (let n = 1; n < MAX_PIECES; n++) delete h[pieceName(code, n)];
    h[code] = v;
  }
  return h;
}

/** Hash fields to delete for these fields: each, and every piece a pieced value may have. */
function withPieces(codes: readonly string[]): string[] {
  const out: string[] = [];
  for (const c of codes) {
    out.push(c);
    if (PIECED_CODES.includes(c)) for (let n = 1; n < MAX_PIECES; n++) out.push(pieceName(c, n));
  }
  return out;
}

/**
 * Stored codes of the severity categories (one digit, which Redis keeps as a small integer). Frozen:
 * stored cards carry them, so a new category gets the next digit and none is ever reused.
 */
const CATEGORY_CODES: Readonly<Record<SeverityCategory, string>> = {
  'public-access': '1',
  'cross-account-access': '2',
  'internal-access': '3',
  'unused-role': '4',
  'unused-credential': '5',
  'unused-permission': '6',
};
const CATEGORY_OF_CODE = new Map(Object.entries(CATEGORY_CODES).map(([c, code]) => [code, c]));

/**
 * Filter values (JSON of `{ key: values[] }`, src/findings/archive-rule.ts) stored shorter: `~`, then
 * per key its short name and values joined by \x1f, keys joined by \x1e; the keys an archive rule's
 * filter has (`isPublic`, `principal.*`, `condition.*`) lose their long names. Anything else (or
 * a value holding those separators) is stored as the JSON it is.
 */
const FV_MARK = '~';
const FV_KEY = '\x1e';
const FV_VALUE = '\x1f';

function packFilterValues(json: string): string {
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch {
    return json;
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) return json;
  const parts: string[] = [];
  for (const [key, values] of Object.entries(parsed as Record<string, unknown>)) {
    if (!Array.isArray(values) || values.some((v) => typeof v !== 'string')) return json;
    const short =
      key === 'isPublic'
        ? 'P'
        : key.startsWith('principal.')
          ? `p${key.slice('principal.'.length)}`
          : key.startsWith('condition.')
            ? `c${key.slice('condition.'.length)}`
            : undefined;
    const all = [short ?? '', ...(values as string[])];
    if (short === undefined || all.some((x) => x.includes(FV_KEY) || x.includes(FV_VALUE))) return json;
    parts.push(all.join(FV_VALUE));
  }
  return FV_MARK + parts.join(FV_KEY);
}

function unpackFilterValues(stored: string): string {
  if (!stored.startsWith(FV_MARK)) return stored;
  const out: Record<string, string[]> = {};
  const body = stored.slice(FV_MARK.length);
  for (const part of body ? body.split(FV_KEY) : []) {
    const [short = '', ...values] = part.split(FV_VALUE);
    const key =
      short === 'P'
        ? 'isPublic'
        : short.startsWith('p')
          ? `principal.${short.slice(1)}`
          : `condition.${short.slice(1)}`;
    out[key] = values;
  }
  return JSON.stringify(out);
}

/**
 * Times stored as integers, which a listpack keeps in 9 bytes instead of a 24-character string:
 * ISO times (createdAt, firstSeen, updatedAt) as epoch milliseconds, when `toISOString` of those
 * gives back exactly the value; Slack message ts (`1733155448.123456`) as their 16 digits without
 * the dot. Any other value is stored as it is, and read either way (cards written before keep their
 * ISO strings until rewritten; the bot writes no digits-only value into these fields otherwise).
 * The index scripts read the times too (`iso_ms` in src/store/finding-index.ts).
 */
const ISO_TIME_CODES: ReadonlySet<string> = new Set([FIELDS.createdAt, FIELDS.firstSeen, FIELDS.updatedAt]);
const SLACK_TS_CODES: ReadonlySet<string> = new Set([FIELDS.ts, FIELDS.threadTs]);
const SLACK_TS = /^\d{10}\.\d{6}$/;
const PACKED_TS = /^\d{16}$/;
const PACKED_MS = /^-?\d+$/;

function packIsoTime(v: string): string {
  const ms = Date.parse(v);
  if (Number.isNaN(ms)) return v;
  return new Date(ms).toISOString() === v ? String(ms) : v;
}

function unpackIsoTime(v: string): string {
  if (!PACKED_MS.test(v)) return v;
  const d = new Date(Number(v));
  return Number.isNaN(d.getTime()) ? v : d.toISOString();
}

/** A value as stored, for the fields stored in a shorter form. */
function packValue(code: string, v: string): string {
  if (code === FIELDS.category) return CATEGORY_CODES[v as SeverityCategory] ?? v;
  if (code === FIELDS.filterValues) return packFilterValues(v);
  if (ISO_TIME_CODES.has(code)) return packIsoTime(v);
  if (SLACK_TS_CODES.has(code)) return SLACK_TS.test(v) ? v.replace('.', '') : v;
  return v;
}

/** A stored value as the store's callers know it. */
function unpackValue(code: string, v: string): string {
  if (code === FIELDS.category) return CATEGORY_OF_CODE.get(v) ?? v;
  if (code === FIELDS.filterValues) return unpackFilterValues(v);
  if (ISO_TIME_CODES.has(code)) return unpackIsoTime(v);
  if (SLACK_TS_CODES.has(code)) return PACKED_TS.test(v) ? `${v.slice(0, 10)}.${v.slice(10)}` : v;
  return v;
}

function toHash(state: Partial<FindingState>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(state)) {
    const code = FIELDS[k as keyof FindingState];
    if (v !== undefined) out[code] = packValue(code, v);
  }
  return out;
}

function fromHash(h: Record<string, string>): FindingState | null {
  if (!h.st) return null;
  const out: Record<string, string> = {};
  for (const [k, f] of Object.entries(FIELDS)) {
    const v = h[f];
    if (v !== undefined && v !== '') out[k] = unpackValue(f, v);
  }
  return out as unknown as FindingState;
}

/** Escalation markers are kept this long (a finding open a year gets one more escalation). */
const ESCALATION_MARKER_TTL_SECONDS = 365 * 86_400;

/**
 * Compare-and-set claim of one aging reminder: only while the card is ACTIVE and its last reminder is
 * still the one the caller read; returns the new reminder count, or -1 when someone else won.
 */
const CLAIM_REMINDER = `
if redis.call('HGET', KEYS[1], ARGV[1]) ~= 'ACTIVE' then return -1 end
if (redis.call('HGET', KEYS[1], ARGV[2]) or '') ~= ARGV[4] then return -1 end
redis.call('HSET', KEYS[1], ARGV[2], ARGV[5])
return redis.call('HINCRBY', KEYS[1], ARGV[3], 1)`;
/** Undoes our own claim (only if `lastReminderAt` is still ours). */
const UNCLAIM_REMINDER = `
if redis.call('HGET', KEYS[1], ARGV[1]) ~= ARGV[3] then return 0 end
if ARGV[4] == '' then redis.call('HDEL', KEYS[1], ARGV[1]) else redis.call('HSET', KEYS[1], ARGV[1], ARGV[4]) end
redis.call('HINCRBY', KEYS[1], ARGV[2], -1)
return 1`;

export interface FindingStoreOptions {
  /**
   * Answer every read by walking all finding hashes, as before the indexes (the benchmark's
   * before/after figure). Writes keep the indexes either way.
   */
  walkOnly?: boolean;
}

export class FindingStore {
  private readonly analyzerArns = new Map<string, string>();
  private readonly index: FindingIndexScripts;
  private indexed = false;
  private building: Promise<boolean> | undefined;

  constructor(
    private readonly redis: Redis,
    private readonly k: Keys,
    private readonly opts: FindingStoreOptions = {},
  ) {
    this.index = new FindingIndexScripts(redis, k, {
      status: FIELDS.status,
      severity: FIELDS.severity,
      findingType: FIELDS.findingType,
      createdAt: FIELDS.createdAt,
      firstSeen: FIELDS.firstSeen,
      updatedAt: FIELDS.updatedAt,
      routeChannel: FIELDS.routeChannel,
      channel: FIELDS.channel,
      ownerEmail: FIELDS.ownerEmail,
      accountId: FIELDS.accountId,
      region: FIELDS.region,
      naturalKey: FIELDS.naturalKey,
    });
  }

  async get(id: string): Promise<FindingState | null> {
    const res =
      (await this.redis.pipeline().hgetall(this.k.finding(id)).hgetall(this.k.findingLong(id)).exec()) ?? [];
    for (const [err] of res) if (err) throw err;
    const h = {
      ...joinPieces(res[0]?.[1] as Record<string, string>),
      ...(res[1]?.[1] as Record<string, string>),
    };
    if (h.an && !h.an.startsWith('arn:')) h.an = await this.analyzerArn(h.an);
    return fromHash(h);
  }

  private async analyzerArn(id: string): Promise<string> {
    let arn = this.analyzerArns.get(id);
    if (!arn) {
      arn = (await this.redis.hget(this.k.analyzers(), id)) ?? '';
      if (arn) this.analyzerArns.set(id, arn);
    }
    return arn;
  }

  /**
   * What the bot knows of many listed finding ids in one round trip (the per-page diff): for each,
   * its own status and AWS updatedAt, and the card it belongs to (itself for a card's first id).
   */
  async getMany(ids: string[]): Promise<(ListedIdState | null)[]> {
    if (ids.length === 0) return [];
    const pipe = this.redis.pipeline();
    for (const id of ids) {
      pipe.hmget(this.k.finding(id), FIELDS.status, FIELDS.updatedAt, FIELDS.ownStatus);
      pipe.hmget(this.k.member(id), MEMBER.status, MEMBER.updatedAt, MEMBER.cardId);
    }
    const res = (await pipe.exec()) ?? [];
    return ids.map((id, i) => {
      const [e1, card] = res[2 * i] ?? [];
      const [e2, member] = res[2 * i + 1] ?? [];
      if (e1) throw e1;
      if (e2) throw e2;
      const [status, stored, own] = card as (string | null)[];
      const updatedAt = stored ? unpackValue(FIELDS.updatedAt, stored) : '';
      if (status) {
        return {
          kind: 'card',
          cardId: id,
          status: (own ?? status) as FindingStatus,
          cardStatus: status as FindingStatus,
          updatedAt,
        };
      }
      const [mStatus, mUpdated, cardId] = member as (string | null)[];
      if (mStatus && cardId) {
        return { kind: 'member', cardId, status: mStatus as FindingStatus, updatedAt: mUpdated ?? '' };
      }
      return null;
    });
  }

  // --- Cards with more than one id ---------------------------------------------------------------

  /**
   * Claims a natural key for a new id: returns the id of the key's card, which is `id` itself when
   * no card had the key (set only when absent, in one script, so two analyzer jobs seeing the same
   * problem at once make one card; the claiming card's hash may not be written yet). A key whose
   * card has expired since it was retired is taken over, not joined (src/store/finding-index.ts).
   */
  async claimNaturalKey(naturalKey: string, id: string): Promise<string> {
    return this.index.claim(naturalKey, id);
  }

  /**
   * Records that `member.id` reports the same problem as card `cardId`. The first join also writes
   * the card's first id's own status (`ownStatus`), which from then on may differ from the card's.
   */
  async joinCard(cardId: string, member: CardMemberInput): Promise<void> {
    const aid = analyzerId(member.analyzerArn);
    const [ownStatus, cardStatus] = await this.redis.hmget(
      this.k.finding(cardId),
      FIELDS.ownStatus,
      FIELDS.status,
    );
    const multi = this.redis.multi();
    this.registerAnalyzer(multi, aid, member.analyzerArn);
    multi.hset(this.k.member(member.id), {
      [MEMBER.status]: member.status,
      [MEMBER.updatedAt]: member.updatedAt,
      [MEMBER.analyzer]: aid,
      [MEMBER.region]: member.region,
      [MEMBER.cardId]: cardId,
    });
    multi.sadd(this.k.cardMembers(cardId), member.id);
    // A card being created in this very scan has no status yet: its first id is ACTIVE.
    if (!ownStatus) multi.hset(this.k.finding(cardId), FIELDS.ownStatus, cardStatus ?? 'ACTIVE');
    await multi.exec();
  }

  /** A joined id's own status (and AWS updatedAt) as the last listing saw it. */
  async setMember(id: string, fields: { status?: FindingStatus; updatedAt?: string }): Promise<void> {
    const h: Record<string, string> = {};
    if (fields.status) h[MEMBER.status] = fields.status;
    if (fields.updatedAt !== undefined) h[MEMBER.updatedAt] = fields.updatedAt;
    if (Object.keys(h).length) await this.redis.hset(this.k.member(id), h);
  }

  /** The status of one id of a card: the first id's (`ownStatus`) or a joined id's. */
  async setIdStatus(cardId: string, id: string, status: FindingStatus): Promise<void> {
    if (id === cardId) {
      const multi = await this.redis.exists(this.k.cardMembers(cardId));
      if (multi) await this.redis.hset(this.k.finding(cardId), FIELDS.ownStatus, status);
      return;
    }
    await this.setMember(id, { status });
  }

  /**
   * The card of any finding id a person names (`/access show`, `archive`, ...): the card it is the
   * first id of, or the card it joined. Null when the bot knows neither.
   */
  async getCard(id: string): Promise<{ cardId: string; state: FindingState } | null> {
    const cardId = await this.cardIdOf(id);
    const state = cardId ? await this.get(cardId) : null;
    return cardId && state ? { cardId, state } : null;
  }

  /** The card an id belongs to: itself when it is a card's first id, its card when it joined one. */
  async cardIdOf(id: string): Promise<string | null> {
    const [isCard, cardId] = await Promise.all([
      this.redis.hexists(this.k.finding(id), FIELDS.status),
      this.redis.hget(this.k.member(id), MEMBER.cardId),
    ]);
    if (isCard) return id;
    return cardId ?? null;
  }

  /**
   * Every id of a card, its first id first: where each lives (analyzer, region), its own status,
   * and whether its analyzer was ACTIVE at the last listing of its region (unknown counts as live).
   */
  async cardMembers(cardId: string, card?: FindingState | null): Promise<CardMember[]> {
    const state = card === undefined ? await this.get(cardId) : card;
    if (!state) return [];
    const ids = (await this.redis.smembers(this.k.cardMembers(cardId))).sort();
    const members: CardMember[] = [
      {
        id: cardId,
        analyzerArn: state.analyzerArn,
        region: state.region,
        status: state.ownStatus ?? state.status,
        live: true,
        first: true,
      },
    ];
    if (ids.length) {
      const pipe = this.redis.pipeline();
      for (const id of ids) pipe.hmget(this.k.member(id), MEMBER.status, MEMBER.analyzer, MEMBER.region);
      const rows = (await pipe.exec()) ?? [];
      for (const [i, id] of ids.entries()) {
        const [err, v] = rows[i] ?? [];
        if (err) throw err;
        const [status, aid, region] = v as (string | null)[];
        if (!status || !aid) continue;
        members.push({
          id,
          analyzerArn: await this.analyzerArn(aid),
          region: region ?? '',
          status: status as FindingStatus,
          live: true,
          first: false,
        });
      }
    }
    const aids = members.map((m) => analyzerId(m.analyzerArn));
    const statuses = await this.redis.hmget(this.k.analyzerStatus(), ...aids);
    members.forEach((m, i) => {
      const s = statuses[i];
      m.live = !s || s === 'ACTIVE';
    });
    return members;
  }

  /**
   * Records the analyzers ListAnalyzers returned for a region; analyzers the bot knew in that region
   * that were not listed are recorded as GONE. A joined id of a non-live analyzer neither keeps its
   * card open nor is acted through (a former delegated administrator's analyzers become DISABLED).
   */
  async setAnalyzerStatuses(region: string, listed: { arn: string; status: string }[]): Promise<void> {
    const known = await this.redis.hgetall(this.k.analyzers());
    const h: Record<string, string> = {};
    for (const [aid, arn] of Object.entries(known)) {
      if (arn.split(':')[3] === region) h[aid] = 'GONE';
    }
    for (const a of listed) h[analyzerId(a.arn)] = a.status;
    if (Object.keys(h).length) await this.redis.hset(this.k.analyzerStatus(), h);
  }

  private registerAnalyzer(multi: ReturnType<Redis['multi']>, aid: string, arn: string): void {
    if (this.analyzerArns.get(aid) !== arn) {
      multi.hset(this.k.analyzers(), aid, arn);
      this.analyzerArns.set(aid, arn);
    }
  }

  /** Writes fields of a card; its index entries move in the same script (src/store/finding-index.ts). */
  /**
   * Writes fields of a card. `clear` deletes fields in the same script (one round trip), as
   * delivery does with the pending marker when it saves the posted message.
   */
  async set(
    id: string,
    state: Partial<FindingState>,
    opts: { clear?: readonly (keyof FindingState)[] } = {},
  ): Promise<void> {
    const write = this.writeOf(state);
    const clear = withPieces((opts.clear ?? []).map((f) => FIELDS[f]));
    if (!write) {
      if (clear.length) await this.redis.hdel(this.k.finding(id), ...clear);
      return;
    }
    await this.index.write(this.redis, id, { ...write, clear: [...write.clear, ...clear] });
    if (write.analyzer) this.analyzerArns.set(write.analyzer.id, write.analyzer.arn);
  }

  /**
   * `set` for many cards in one round trip (a pipeline of the same write scripts, in order): for
   * loading many cards at once, such as an organisation-sized store for the benchmark.
   */
  async setMany(cards: readonly (readonly [id: string, state: Partial<FindingState>])[]): Promise<void> {
    const pipe = this.redis.pipeline();
    const learned: { id: string; arn: string }[] = [];
    for (const [id, state] of cards) {
      const write = this.writeOf(state);
      if (!write) continue;
      void this.index.write(pipe, id, write);
      if (write.analyzer) {
        learned.push(write.analyzer);
        this.analyzerArns.set(write.analyzer.id, write.analyzer.arn);
      }
    }
    try {
      await execOrThrow(pipe);
    } catch (err) {
      for (const a of learned) this.analyzerArns.delete(a.id);
      throw err;
    }
  }

  /** The write script's input for a `set`: fields split by size, and the analyzer ARN when new here. */
  private writeOf(state: Partial<FindingState>) {
    const h = toHash(state);
    if (Object.keys(h).length === 0) return undefined;
    let analyzer: { id: string; arn: string } | undefined;
    if (state.analyzerArn) {
      const aid = analyzerId(state.analyzerArn);
      h[FIELDS.analyzerArn] = aid;
      if (this.analyzerArns.get(aid) !== state.analyzerArn) analyzer = { id: aid, arn: state.analyzerArn };
    }
    const short: Record<string, string> = {};
    const long: Record<string, string> = {};
    // Pieces a shorter value no longer has (they are deleted in the same script).
    const clear: string[] = [];
    for (const [f, v] of Object.entries(h)) {
      const pieces = PIECED_CODES.includes(f) ? cutPieces(v) : [v];
      if (pieces.length === 1 && Buffer.byteLength(v) <= LISTPACK_VALUE_MAX) short[f] = v;
      else if (pieces.length === 1 || pieces.length > MAX_PIECES) long[f] = v;
      else
        pieces.forEach((piece, n) => {
          short[pieceName(f, n)] = piece;
        });
      if (PIECED_CODES.includes(f)) {
        const kept = f in long ? 1 : pieces.length;
        for (let n = kept; n < MAX_PIECES; n++) clear.push(pieceName(f, n));
      }
    }
    // A field lives in exactly one of the two hashes; a finding that is active (again) is kept until it closes.
    return { short, long, clear, persist: state.status === 'ACTIVE', analyzer };
  }

  /**
   * Lets a closed card's state expire (its message stays in Slack as it is), with its ids. Its
   * index entries, the natural-key mapping among them, go when the hash does (the next indexed read
   * drops them, and a claim of the key takes it over).
   */
  async retire(id: string, days: number): Promise<void> {
    const ms = Math.max(1, Math.round(days * 86_400_000));
    const members = await this.redis.smembers(this.k.cardMembers(id));
    const multi = this.redis
      .multi()
      .pexpire(this.k.finding(id), ms)
      .pexpire(this.k.findingLong(id), ms)
      .pexpire(this.k.cardMembers(id), ms);
    for (const m of members) multi.pexpire(this.k.member(m), ms);
    void this.index.retire(multi, id, Date.now() + ms);
    await execOrThrow(multi);
  }

  /** A card that became ACTIVE again is kept until it closes, with its ids (and so its key). */
  async keep(id: string): Promise<void> {
    const members = await this.redis.smembers(this.k.cardMembers(id));
    const multi = this.redis
      .multi()
      .persist(this.k.finding(id))
      .persist(this.k.findingLong(id))
      .persist(this.k.cardMembers(id));
    for (const m of members) multi.persist(this.k.member(m));
    void this.index.keep(multi, id);
    await execOrThrow(multi);
  }

  // --- Reads over many cards: the one full walk, and indexed queries ----------------------------

  /**
   * Every card, in batches (SCAN in pages of `batch`, one pipelined HMGET of the card hash and its
   * side hash per page). The one full walk: the index rebuild, and checks of the indexes.
   */
  async *walk<F extends keyof FindingState>(
    fields: readonly F[],
    batch = 500,
  ): AsyncGenerator<FindingRow<F>[]> {
    const prefix = this.k.finding('');
    const longSuffix = this.k.findingLong('').slice(prefix.length);
    let cursor = '0';
    do {
      const [next, found] = await this.redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', batch);
      cursor = next;
      const ids = found.filter((key) => !key.endsWith(longSuffix)).map((key) => key.slice(prefix.length));
      if (ids.length) yield await this.rows(ids, fields);
    } while (cursor !== '0');
  }

  /**
   * Cards by id (one pipelined HMGET of each card hash and its side hash), in the order asked;
   * ids that are no card (no status) are left out. `analyzerArn` is not resolved here.
   */
  async rows<F extends keyof FindingState>(
    ids: readonly string[],
    fields: readonly F[],
  ): Promise<FindingRow<F>[]> {
    const names = fields.includes('status' as F) ? fields : [...fields, 'status' as F];
    const codes = names.map((f) => FIELDS[f]);
    // The pieces after the first of pieced fields, read after the fields themselves.
    const pieced = names.filter((f) => PIECED.has(f));
    const pieceCodes = pieced.flatMap((f) =>
      Array.from({ length: MAX_PIECES - 1 }, (_, n) => pieceName(FIELDS[f], n + 1)),
    );
    const out: FindingRow<F>[] = [];
    for (let i = 0; i < ids.length; i += 1000) {
      const chunk = ids.slice(i, i + 1000);
      const pipe = this.redis.pipeline();
      for (const id of chunk)
        pipe.hmget(this.k.finding(id), ...codes, ...pieceCodes).hmget(this.k.findingLong(id), ...codes);
      const res = (await pipe.exec()) ?? [];
      chunk.forEach((id, n) => {
        const [e1, short] = res[2 * n] ?? [];
        const [e2, long] = res[2 * n + 1] ?? [];
        if (e1 || e2) throw e1 ?? e2;
        const main = short as (string | null)[];
        const row: Record<string, string> = { id };
        names.forEach((f, j) => {
          let v = main[j];
          const p = pieced.indexOf(f);
          if (v && p >= 0) {
            for (let q = 0; q < MAX_PIECES - 1; q++) {
              const piece = main[codes.length + p * (MAX_PIECES - 1) + q];
              if (!piece) break;
              v += piece;
            }
          }
          v = v || (long as (string | null)[])[j];
          if (v) row[f] = unpackValue(codes[j]!, v);
        });
        if (row.status) out.push(row as FindingRow<F>);
      });
    }
    return out;
  }

  /**
   * True when the indexes are complete. A store from before them (no version marker) is indexed
   * once, here, by whichever process asks first (`start` asks at once); a lock keeps the others,
   * and this process's other reads, walking meanwhile (docs/upgrading.md).
   */
  async indexesReady(): Promise<boolean> {
    if (this.opts.walkOnly) return false;
    if (this.indexed) return true;
    if ((await this.redis.get(this.k.findingIndexVersion())) === INDEX_VERSION) {
      this.indexed = true;
      return true;
    }
    // Reads that come while this process rebuilds walk, as another process's reads do.
    if (this.building) return false;
    this.building = this.rebuildIndexes().finally(() => {
      this.building = undefined;
    });
    return this.building;
  }

  /**
   * Indexes every card from its hash as it is (idempotent: a card already indexed is left as it
   * is), then records the index version. Returns false when another process holds the rebuild.
   */
  async rebuildIndexes(): Promise<boolean> {
    const lock = this.k.findingIndexRebuild();
    const token = `${process.pid}-${Date.now()}`;
    if ((await this.redis.set(lock, token, 'EX', 600, 'NX')) !== 'OK') return false;
    try {
      const prefix = this.k.finding('');
      const longSuffix = this.k.findingLong('').slice(prefix.length);
      let cursor = '0';
      do {
        const [next, found] = await this.redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
        cursor = next;
        const ids = found.filter((key) => !key.endsWith(longSuffix)).map((key) => key.slice(prefix.length));
        if (!ids.length) continue;
        const pipe = this.redis.pipeline();
        for (const id of ids) void this.index.reindex(pipe, id);
        for (const [err] of (await pipe.exec()) ?? []) if (err) throw err;
      } while (cursor !== '0');
      await this.moveLegacyNaturalKeys();
      await this.redis.set(this.k.findingIndexVersion(), INDEX_VERSION);
      this.indexed = true;
      await this.dropRetiredIndexes();
      return true;
    } finally {
      if ((await this.redis.get(lock)) === token) await this.redis.del(lock);
    }
  }

  /**
   * Moves the `nk:<key>` strings of index versions up to 3 into the natural-key buckets, after the
   * cards were indexed (which wrote the mapping of every card that has its key, and recorded it with
   * a retiring card's entries). A string whose card expired is dropped; a claim whose card is not
   * written yet moves as it is.
   */
  private async moveLegacyNaturalKeys(): Promise<void> {
    const prefix = this.k.legacyNaturalKey('');
    let cursor = '0';
    do {
      const [next, found] = await this.redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
      cursor = next;
      if (!found.length) continue;
      const pipe = this.redis.pipeline();
      for (const key of found) void this.index.moveLegacyKey(pipe, key.slice(prefix.length));
      for (const [err] of (await pipe.exec()) ?? []) if (err) throw err;
    } while (cursor !== '0');
  }

  /** Deletes what an earlier index scheme kept and the current one does not read. */
  private async dropRetiredIndexes(): Promise<void> {
    const retired = this.k.retiredIndexKeys();
    await this.redis.del(...retired.keys);
    for (const pattern of retired.patterns) {
      let cursor = '0';
      do {
        const [next, found] = await this.redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
        cursor = next;
        if (found.length) await this.redis.del(...found);
      } while (cursor !== '0');
    }
  }

  /**
   * One page of `/access findings`: the cards matching `filter`, worst first then oldest, and how
   * many match. From the indexes, the page alone is read; `keep` (a reader who may see only some
   * cards) makes it read the listed fields of every match to count what is kept.
   */
  async findingsPage(
    filter: FindingFilter,
    page: { offset: number; limit: number; keep?: (f: ListedFinding) => Promise<boolean> },
  ): Promise<{ items: ListedFinding[]; total: number }> {
    const keepAll = async (items: ListedFinding[]) => {
      if (!page.keep) return items;
      const kept = await Promise.all(items.map((f) => page.keep!(f)));
      return items.filter((_, i) => kept[i]);
    };
    if (!(await this.indexesReady())) {
      const all: ListedFinding[] = [];
      for await (const rows of this.walk(LIST_FIELDS)) {
        for (const row of rows) if (matchesFilter(row, filter)) all.push(row as ListedFinding);
      }
      const items = (await keepAll(all)).sort(listedOrder);
      return { items: items.slice(page.offset, page.offset + page.limit), total: items.length };
    }
    const createdBeforeMs = filter.createdBefore ? Date.parse(filter.createdBefore) : undefined;
    const query = {
      status: filter.status ?? 'ACTIVE',
      severities: filter.severity ? [filter.severity] : SEVERITY_BUCKETS,
      type: filter.findingType,
      accountId: filter.accountId,
      region: filter.region,
      ...(createdBeforeMs !== undefined && !Number.isNaN(createdBeforeMs) ? { createdBeforeMs } : {}),
    };
    if (!page.keep) {
      const { total, ids } = await this.index.page({ ...query, offset: page.offset, limit: page.limit });
      return { items: (await this.rows(ids, LIST_FIELDS)) as ListedFinding[], total };
    }
    const { ids } = await this.index.page({ ...query, offset: 0, limit: -1 });
    const items = await keepAll((await this.rows(ids, LIST_FIELDS)) as ListedFinding[]);
    return { items: items.slice(page.offset, page.offset + page.limit), total: items.length };
  }

  /**
   * Cards of one status (ACTIVE by default) and finding type (and owner account), with what an archive rule matches on and
   * the analyzer of their first id: from the status/type index, then one pipelined read of those
   * cards (a walk only while the store is not indexed yet).
   */
  async ruleCandidates(q: {
    findingType: string;
    accountId?: string;
    status?: FindingStatus;
  }): Promise<RuleCandidate[]> {
    const status = q.status ?? 'ACTIVE';
    const fields = [
      'status',
      'ownStatus',
      'findingType',
      'resourceArn',
      'resourceType',
      'accountId',
      'analyzerArn',
      'region',
      'filterValues',
    ] as const;
    let rows: FindingRow<(typeof fields)[number]>[] = [];
    if (await this.indexesReady()) {
      await this.index.prune();
      const { ids } = await this.index.page({
        status,
        severities: SEVERITY_BUCKETS,
        type: q.findingType,
        accountId: q.accountId,
        offset: 0,
        limit: -1,
      });
      rows = await this.rows(ids, fields);
    } else {
      for await (const chunk of this.walk(fields)) {
        for (const r of chunk) if (r.status === status && r.findingType === q.findingType) rows.push(r);
      }
    }
    rows = rows.filter(
      (r) =>
        r.status === status &&
        r.findingType === q.findingType &&
        (!q.accountId || r.accountId === q.accountId),
    );
    const members = await this.findingIdsOf(rows);
    const out: RuleCandidate[] = [];
    for (const [i, r] of rows.entries()) {
      let filterValues: Record<string, string[]> | undefined;
      try {
        filterValues = r.filterValues ? (JSON.parse(r.filterValues) as Record<string, string[]>) : undefined;
      } catch {
        filterValues = undefined;
      }
      const aid = r.analyzerArn ?? '';
      out.push({
        id: r.id,
        ownStatus: (r.ownStatus ?? r.status) as FindingStatus,
        findingType: r.findingType ?? '',
        resourceArn: r.resourceArn ?? '',
        resourceType: r.resourceType ?? '',
        accountId: r.accountId ?? '',
        analyzerArn: aid.startsWith('arn:') ? aid : await this.analyzerArn(aid),
        region: r.region ?? '',
        members: members[i]!,
        ...(filterValues ? { filterValues } : {}),
      });
    }
    return out;
  }

  /**
   * Every finding id of each card (its first id first): own status, analyzer, region and whether
   * the analyzer is live, read in two pipelines (the cards' member sets, then the members' hashes).
   */
  private async findingIdsOf(
    cards: readonly FindingRow<'status' | 'ownStatus' | 'analyzerArn' | 'region'>[],
  ): Promise<RuleFinding[][]> {
    const sets = this.redis.pipeline();
    for (const c of cards) sets.smembers(this.k.cardMembers(c.id));
    const setRes = cards.length ? ((await sets.exec()) ?? []) : [];
    const joined = cards.map((_, i) => {
      const [err, ids] = setRes[i] ?? [];
      if (err) throw err;
      return ((ids as string[] | undefined) ?? []).filter((id) => id !== cards[i]!.id).sort();
    });
    const all = joined.flat();
    const hashes = this.redis.pipeline();
    for (const id of all) hashes.hmget(this.k.member(id), MEMBER.status, MEMBER.analyzer, MEMBER.region);
    const hashRes = all.length ? ((await hashes.exec()) ?? []) : [];
    const memberRow = new Map<string, (string | null)[]>();
    all.forEach((id, i) => {
      const [err, v] = hashRes[i] ?? [];
      if (err) throw err;
      memberRow.set(id, v as (string | null)[]);
    });
    const out: RuleFinding[][] = [];
    for (const [i, c] of cards.entries()) {
      const aid = c.analyzerArn ?? '';
      const list: RuleFinding[] = [
        {
          id: c.id,
          status: (c.ownStatus ?? c.status) as FindingStatus,
          analyzerArn: aid.startsWith('arn:') ? aid : await this.analyzerArn(aid),
          region: c.region ?? '',
          live: true,
        },
      ];
      for (const id of joined[i]!) {
        const [st, an, rg] = memberRow.get(id) ?? [];
        if (!st || !an) continue;
        list.push({
          id,
          status: st as FindingStatus,
          analyzerArn: an.startsWith('arn:') ? an : await this.analyzerArn(an),
          region: rg ?? '',
          live: true,
        });
      }
      out.push(list);
    }
    const arns = [...new Set(out.flat().map((m) => m.analyzerArn))];
    if (arns.length) {
      const statuses = await this.redis.hmget(this.k.analyzerStatus(), ...arns.map(analyzerId));
      const live = new Map(arns.map((a, i) => [a, !statuses[i] || statuses[i] === 'ACTIVE']));
      for (const m of out.flat()) m.live = live.get(m.analyzerArn) ?? true;
    }
    return out;
  }

  /** Every card matching `filter`, in `/access findings` order, at most `limit`. */
  async listFindings(
    filter: FindingFilter,
    limit = 5000,
  ): Promise<{ items: ListedFinding[]; truncated: boolean }> {
    const { items, total } = await this.findingsPage(filter, { offset: 0, limit });
    return { items, truncated: total > limit };
  }

  /**
   * ACTIVE cards: how many have a createdAt, and those created at or before `createdAtMost` (the
   * aging sweep's candidates). Null while the store is not indexed yet.
   */
  async activeCreatedBefore(createdAtMost: Date): Promise<{ count: number; ids: string[] } | null> {
    if (!(await this.indexesReady())) return null;
    return this.index.activeAged(createdAtMost.getTime());
  }

  /**
   * Candidates for what the digest and the App Home show: ACTIVE cards (all, or those routed to or
   * posted in these channels, a `#name` standing for its learned id too, and those of these owner
   * e-mails), cards closed or first seen since `closedSince`, and `ids`.
   * A superset: callers filter the rows as before. Null while the store is not indexed yet.
   */
  async digestCandidates(q: {
    channels?: readonly string[];
    emails?: readonly string[];
    closedSince?: Date;
    ids?: readonly string[];
  }): Promise<string[] | null> {
    if (!(await this.indexesReady())) return null;
    await this.index.prune();
    const out = new Set<string>(q.ids ?? []);
    if (q.channels || q.emails) {
      const sets = [
        ...(await this.channelKeys(q.channels ?? [])).map((c) => this.k.activeByChannel(c)),
        ...(await this.emailKeys(q.emails ?? [])).map((e) => this.k.activeByEmail(e)),
      ];
      if (sets.length) for (const id of await this.redis.sunion(...sets)) out.add(id);
    } else {
      const { ids } = await this.index.page({
        status: 'ACTIVE',
        severities: SEVERITY_BUCKETS,
        offset: 0,
        limit: -1,
      });
      for (const id of ids) out.add(id);
    }
    if (q.closedSince) {
      for (const id of await this.redis.zrangebyscore(
        this.k.closedFindings(),
        q.closedSince.getTime(),
        '+inf',
      ))
        out.add(id);
    }
    return [...out];
  }

  /**
   * The channel index names to read for these channels: each as given, and for a `#name` the id
   * learned for it too. A card posted in the channel its route named is indexed under the posted
   * id only (src/store/finding-index.ts), so asking by the name must read the id's set.
   */
  private async channelKeys(channels: readonly string[]): Promise<string[]> {
    const out = new Set(channels);
    const names = [...out].filter((c) => c.startsWith('#'));
    if (names.length) {
      const ids = await this.redis.mget(...names.map((n) => this.k.channelId(n)));
      for (const id of ids) if (id) out.add(id);
    }
    return [...out];
  }

  /**
   * The index names of the owner e-mails equal to these when lower-cased. The scripts lower-case
   * ASCII letters only; an address with other letters is matched against every stored address.
   */
  private async emailKeys(emails: readonly string[]): Promise<string[]> {
    const out = new Set<string>();
    const other = emails.filter((e) => [...e].some((c) => c.charCodeAt(0) > 0x7f));
    for (const e of emails) out.add(asciiLower(e));
    if (other.length) {
      const wanted = new Set(other.map((e) => e.toLowerCase()));
      for (const raw of await this.redis.hkeys(this.k.ownerEmails()))
        if (wanted.has(raw.toLowerCase())) out.add(asciiLower(raw));
    }
    return [...out];
  }

  /** Every owner channel and owner e-mail (as stored) that has at least one card. Null while not indexed. */
  async owners(): Promise<{ channels: string[]; emails: string[] } | null> {
    if (!(await this.indexesReady())) return null;
    await this.index.prune();
    const [channels, emails] = await Promise.all([
      this.redis.hkeys(this.k.ownerChannels()),
      this.redis.hkeys(this.k.ownerEmails()),
    ]);
    return { channels, emails };
  }

  /** Finding cards by status, type, severity and owner channel (a counter the writes keep). */
  async countFindings(): Promise<FindingCount[]> {
    if (!(await this.indexesReady())) {
      const counts = new Map<string, FindingCount>();
      for await (const rows of this.walk(['status', 'findingType', 'severity', 'routeChannel'])) {
        for (const r of rows) {
          const row = {
            status: r.status as string,
            type: r.findingType ?? '',
            severity: r.severity ?? '',
            channel: r.routeChannel ?? '',
          };
          const key = `${row.status}\u0000${row.type}\u0000${row.severity}\u0000${row.channel}`;
          const hit = counts.get(key);
          if (hit) hit.count++;
          else counts.set(key, { ...row, count: 1 });
        }
      }
      return [...counts.values()];
    }
    await this.index.prune();
    const h = await this.redis.hgetall(this.k.findingCounts());
    return Object.entries(h)
      .map(([key, n]) => {
        const [status = '', type = '', severity = '', channel = ''] = key.split('\u0000');
        return { status, type, severity, channel, count: Number(n) };
      })
      .filter((r) => r.count > 0);
  }

  private async del(id: string, ...fields: string[]): Promise<void> {
    await this.redis
      .multi()
      .hdel(this.k.finding(id), ...withPieces(fields))
      .hdel(this.k.findingLong(id), ...fields)
      .exec();
  }

  async clearArchive(id: string): Promise<void> {
    await this.del(id, FIELDS.archivedBy, FIELDS.archiveReason, FIELDS.archiveUntil);
  }

  /**
   * A finding that becomes ACTIVE again (unarchived, archive expired, reopened by AWS) starts its
   * reminders and escalation afresh: the reminder count, the last reminder and the escalation marker go.
   */
  async clearReminders(id: string): Promise<void> {
    await this.redis
      .multi()
      .hdel(this.k.finding(id), FIELDS.lastReminderAt, FIELDS.reminders)
      .del(this.k.agingEscalated(id))
      .exec();
  }

  /**
   * Claims the next aging reminder of a card (jobs/aging.ts): sets `lastReminderAt` to `at` and counts
   * one more reminder, only while the card is ACTIVE and `lastReminderAt` is still `previous` (''
   * for none). The new reminder count, or null when another sweep claimed it first.
   */
  async claimReminder(id: string, previous: string, at: string): Promise<number | null> {
    const n = Number(
      await this.redis.eval(
        CLAIM_REMINDER,
        1,
        this.k.finding(id),
        FIELDS.status,
        FIELDS.lastReminderAt,
        FIELDS.reminders,
        previous,
        at,
      ),
    );
    return n < 0 ? null : n;
  }

  /** Undoes a reminder claim made at `at` (a failed post), if it is still ours. */
  async unclaimReminder(id: string, at: string, previous: string): Promise<void> {
    await this.redis.eval(
      UNCLAIM_REMINDER,
      1,
      this.k.finding(id),
      FIELDS.lastReminderAt,
      FIELDS.reminders,
      at,
      previous,
    );
  }

  /**
   * Takes the card's escalation marker (`notice:aging-escalated:<id>`) before the escalation is
   * posted; false when it is taken already (the escalation was posted, or is being).
   */
  async claimEscalation(id: string, at: string): Promise<boolean> {
    const took = await this.redis.set(
      this.k.agingEscalated(id),
      at,
      'EX',
      ESCALATION_MARKER_TTL_SECONDS,
      'NX',
    );
    return took === 'OK';
  }

  /** Drops the escalation marker after a failed post, so the next sweep escalates again. */
  async releaseEscalation(id: string): Promise<void> {
    await this.redis.del(this.k.agingEscalated(id));
  }

  async isEscalated(id: string): Promise<boolean> {
    return (await this.redis.exists(this.k.agingEscalated(id))) === 1;
  }

  async clearDeleted(id: string): Promise<void> {
    await this.del(id, FIELDS.deletedBy, FIELDS.deletedAt, FIELDS.backupKey);
  }

  async clearQuarantine(id: string): Promise<void> {
    await this.del(id, FIELDS.quarantinedBy, FIELDS.quarantinedUntil, FIELDS.quarantineBackupKey);
  }

  async clearSnooze(id: string): Promise<void> {
    await this.del(id, FIELDS.snoozedUntil, FIELDS.snoozedBy, FIELDS.snoozeReason);
  }

  async clearPending(id: string): Promise<void> {
    await this.redis.hdel(this.k.finding(id), ...PENDING_FIELDS.map((f) => FIELDS[f]));
  }
}

/** The marker of a post in flight (set before the post, cleared when its message is saved). */
export const PENDING_FIELDS = ['pendingSince', 'pendingChannel', 'pendingThreadTs'] as const;

/** Field names of a joined id's hash (`member:<id>`). */
const MEMBER = { status: 'st', updatedAt: 'up', analyzer: 'an', region: 'rg', cardId: 'cd' } as const;

/** One listed id as the per-page diff sees it. */
export interface ListedIdState {
  /** `card`: the first id of its card (the card hash is keyed by it); `member`: it joined a card. */
  kind: 'card' | 'member';
  cardId: string;
  /** This id's own status (ACTIVE while AWS lists it as such) and AWS updatedAt. */
  status: FindingStatus;
  updatedAt: string;
  /** The card's status (for a first id): ACTIVE while any of the card's ids is. */
  cardStatus?: FindingStatus;
}

export interface CardMemberInput {
  id: string;
  analyzerArn: string;
  region: string;
  status: FindingStatus;
  updatedAt: string;
}

/** One finding id of a card. */
export interface CardMember {
  id: string;
  analyzerArn: string;
  region: string;
  status: FindingStatus;
  /** Its analyzer was ACTIVE at the last listing (or has not been listed since the bot knew it). */
  live: boolean;
  /** The card's first id (the one its buttons, audit entries and commands name). */
  first: boolean;
}

/** What `/access findings` filters on. */
/** An ACTIVE card as an archive rule sees it (FindingStore.ruleCandidates). */
export interface RuleCandidate {
  id: string;
  /** The status of the card's first id (the one its analyzer holds). */
  ownStatus: FindingStatus;
  findingType: string;
  resourceArn: string;
  resourceType: string;
  accountId: string;
  analyzerArn: string;
  region: string;
  /** Every finding id of the card (the first id first), each where its analyzer holds it. */
  members: RuleFinding[];
  filterValues?: Record<string, string[]>;
}

/** One finding id of a card, as an archive rule in its analyzer sees it. */
export interface RuleFinding {
  id: string;
  /** This id's own status (what its analyzer last listed). */
  status: FindingStatus;
  analyzerArn: string;
  region: string;
  /** Its analyzer was ACTIVE at the last listing (or has not been listed since the bot knew it). */
  live: boolean;
}

export interface FindingFilter {
  findingType?: string;
  accountId?: string;
  region?: string;
  severity?: string;
  status?: string;
  /** createdAt before this instant. */
  createdBefore?: string;
}

export type ListedFinding = Pick<
  FindingState,
  | 'status'
  | 'findingType'
  | 'severity'
  | 'accountId'
  | 'region'
  | 'resourceArn'
  | 'createdAt'
  | 'channel'
  | 'ts'
  | 'routeChannel'
  | 'routeRule'
> & { id: string };

const LIST_FIELDS = [
  'status',
  'findingType',
  'severity',
  'accountId',
  'region',
  'resourceArn',
  'createdAt',
  'channel',
  'ts',
  'routeChannel',
  'routeRule',
] as const satisfies readonly (keyof FindingState)[];

/** `/access findings` order: severity (unknown first, as indexOf puts it), then createdAt. */
function listedOrder(a: ListedFinding, b: ListedFinding): number {
  return (
    SEVERITIES.indexOf(a.severity as Severity) - SEVERITIES.indexOf(b.severity as Severity) ||
    (a.createdAt ?? '').localeCompare(b.createdAt ?? '')
  );
}

function matchesFilter(row: FindingRow<(typeof LIST_FIELDS)[number]>, filter: FindingFilter): boolean {
  if (filter.findingType && row.findingType !== filter.findingType) return false;
  if (filter.accountId && row.accountId !== filter.accountId) return false;
  if (filter.region && row.region !== filter.region) return false;
  if (filter.severity && row.severity !== filter.severity) return false;
  if (filter.status && row.status !== filter.status) return false;
  if (filter.createdBefore && !(row.createdAt && row.createdAt < filter.createdBefore)) return false;
  return true;
}

/** One row of `countFindings`: how many finding cards share these values. */
export interface FindingCount {
  status: string;
  type: string;
  severity: string;
  /** The owner channel routing chose (`routeChannel`). */
  channel: string;
  count: number;
}

/** One card as a read returns it: its id and the fields asked for that it has (never ''). */
export type FindingRow<F extends keyof FindingState> = { id: string } & { [K in F]?: FindingState[K] };

/** `execOrThrow`: a MULTI whose command failed (a script error) fails the write. */
async function execOrThrow(multi: ReturnType<Redis['multi']>): Promise<void> {
  for (const [err] of (await multi.exec()) ?? []) if (err) throw err;
}

/** Lower-cases ASCII letters only, as the index scripts do (Lua's string.lower). */
export function asciiLower(s: string): string {
  return s.replace(/[A-Z]/g, (c) => c.toLowerCase());
}
