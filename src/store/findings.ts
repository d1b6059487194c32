// Finding state and message references in Redis: one small hash per finding.
import type { Redis } from 'ioredis';
import type { FindingStatus } from '../findings/model.ts';
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
  /** Owner e-mail from the resource's `tags.ownerEmailTag` tag, when routing read the tags (digest DMs). */
  ownerEmail?: string;
  /** Natural key of the card (src/findings/natural-key.ts): later ids with this key join the card. */
  naturalKey?: string;
  /**
   * Status of the card's first id, kept only once other ids joined the card (then the card's
   * `status` is ACTIVE while any of its ids is, and this one may differ).
   */
  ownStatus?: FindingStatus;
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
  ownerEmail: 'oe',
  naturalKey: 'nk',
  ownStatus: 'ms',
};

/** Hash field names, for jobs that read or update a few fields atomically (jobs/aging.ts). */
export const FINDING_FIELDS: Readonly<typeof FIELDS> = FIELDS;

/**
 * Redis keeps a hash in its compact listpack encoding only while every value is at most 64 bytes
 * (hash-max-listpack-value); one longer value turns the whole hash into a hashtable at about three
 * times the memory. So the analyzer ARN is stored as a short id (resolved through one small
 * `analyzers` hash), and any other value longer than 64 bytes (a long resource ARN, an archive
 * reason, a backup key) goes into a side hash that only such findings have.
 */
const LISTPACK_VALUE_MAX = 64;

function toHash(state: Partial<FindingState>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(state)) {
    if (v !== undefined) out[FIELDS[k as keyof FindingState]] = v;
  }
  return out;
}

function fromHash(h: Record<string, string>): FindingState | null {
  if (!h.st) return null;
  const out: Record<string, string> = {};
  for (const [k, f] of Object.entries(FIELDS)) {
    const v = h[f];
    if (v !== undefined && v !== '') out[k] = v;
  }
  return out as unknown as FindingState;
}

export class FindingStore {
  private readonly analyzerArns = new Map<string, string>();

  constructor(
    private readonly redis: Redis,
    private readonly k: Keys,
  ) {}

  async get(id: string): Promise<FindingState | null> {
    const res =
      (await this.redis.pipeline().hgetall(this.k.finding(id)).hgetall(this.k.findingLong(id)).exec()) ?? [];
    for (const [err] of res) if (err) throw err;
    const h = { ...(res[0]?.[1] as Record<string, string>), ...(res[1]?.[1] as Record<string, string>) };
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
      const [status, updatedAt, own] = card as (string | null)[];
      if (status) {
        return {
          kind: 'card',
          cardId: id,
          status: (own ?? status) as FindingStatus,
          cardStatus: status as FindingStatus,
          updatedAt: updatedAt ?? '',
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
   * no card had the key (SET NX, so two analyzer jobs seeing the same problem at once make one card).
   */
  async claimNaturalKey(naturalKey: string, id: string): Promise<string> {
    const key = this.k.naturalKey(naturalKey);
    const claimed = await this.redis.set(key, id, 'NX');
    if (claimed === 'OK') return id;
    return (await this.redis.get(key)) ?? id;
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

  async set(id: string, state: Partial<FindingState>): Promise<void> {
    const h = toHash(state);
    if (Object.keys(h).length === 0) return;
    const multi = this.redis.multi();
    if (state.analyzerArn) {
      const aid = analyzerId(state.analyzerArn);
      h[FIELDS.analyzerArn] = aid;
      this.registerAnalyzer(multi, aid, state.analyzerArn);
    }
    const short: Record<string, string> = {};
    const long: Record<string, string> = {};
    for (const [f, v] of Object.entries(h)) {
      if (Buffer.byteLength(v) > LISTPACK_VALUE_MAX) long[f] = v;
      else short[f] = v;
    }
    // A field lives in exactly one of the two hashes.
    if (Object.keys(short).length) {
      multi.hset(this.k.finding(id), short);
      multi.hdel(this.k.findingLong(id), ...Object.keys(short));
    }
    if (Object.keys(long).length) {
      multi.hset(this.k.findingLong(id), long);
      multi.hdel(this.k.finding(id), ...Object.keys(long));
    }
    // A finding that is active (again) is kept until it closes.
    if (state.status === 'ACTIVE') multi.persist(this.k.finding(id)).persist(this.k.findingLong(id));
    await multi.exec();
  }

  /** Lets a closed card's state expire (its message stays in Slack as it is), with its ids and key. */
  async retire(id: string, days: number): Promise<void> {
    const seconds = days * 86_400;
    const [naturalKey, members] = await Promise.all([
      this.redis.hget(this.k.finding(id), FIELDS.naturalKey),
      this.redis.smembers(this.k.cardMembers(id)),
    ]);
    const multi = this.redis
      .multi()
      .expire(this.k.finding(id), seconds)
      .expire(this.k.findingLong(id), seconds)
      .expire(this.k.cardMembers(id), seconds);
    if (naturalKey) multi.expire(this.k.naturalKey(naturalKey), seconds);
    for (const m of members) multi.expire(this.k.member(m), seconds);
    await multi.exec();
  }

  /** A card that became ACTIVE again is kept until it closes, with its ids and key. */
  async keep(id: string): Promise<void> {
    const [naturalKey, members] = await Promise.all([
      this.redis.hget(this.k.finding(id), FIELDS.naturalKey),
      this.redis.smembers(this.k.cardMembers(id)),
    ]);
    const multi = this.redis
      .multi()
      .persist(this.k.finding(id))
      .persist(this.k.findingLong(id))
      .persist(this.k.cardMembers(id));
    if (naturalKey) multi.persist(this.k.naturalKey(naturalKey));
    for (const m of members) multi.persist(this.k.member(m));
    await multi.exec();
  }

  private async del(id: string, ...fields: string[]): Promise<void> {
    await this.redis
      .multi()
      .hdel(this.k.finding(id), ...fields)
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

  async clearDeleted(id: string): Promise<void> {
    await this.del(id, FIELDS.deletedBy, FIELDS.deletedAt, FIELDS.backupKey);
  }

  async clearSnooze(id: string): Promise<void> {
    await this.del(id, FIELDS.snoozedUntil, FIELDS.snoozedBy, FIELDS.snoozeReason);
  }

  async clearPending(id: string): Promise<void> {
    await this.redis.hdel(
      this.k.finding(id),
      FIELDS.pendingSince,
      FIELDS.pendingChannel,
      FIELDS.pendingThreadTs,
    );
  }
}

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

const LONG_SUFFIX = ':long';

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
] as const;

/**
 * Walks every finding hash (SCAN, batches of 500, one pipelined HMGET per batch) and returns those
 * matching, at most `limit`. Reads only; meant for an occasional person's query, not a hot path.
 */
export async function listFindings(
  redis: Redis,
  k: Keys,
  filter: FindingFilter,
  limit = 5000,
): Promise<{ items: ListedFinding[]; truncated: boolean }> {
  const items: ListedFinding[] = [];
  const prefix = k.finding('');
  let cursor = '0';
  do {
    const [next, batch] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500);
    cursor = next;
    if (batch.length === 0) continue;
    const pipe = redis.pipeline();
    const findingKeys = batch.filter((key) => !key.endsWith(LONG_SUFFIX));
    for (const key of findingKeys) pipe.hmget(key, ...LIST_FIELDS.map((f) => FIELDS[f]));
    const rows = (await pipe.exec()) ?? [];
    const first = items.length;
    rows.forEach(([err, v], i) => {
      if (err) throw err;
      const vals = v as (string | null)[];
      const row = Object.fromEntries(LIST_FIELDS.map((f, j) => [f, vals[j] ?? undefined])) as Record<
        string,
        string | undefined
      >;
      if (!row.status) return;
      if (filter.findingType && row.findingType !== filter.findingType) return;
      if (filter.accountId && row.accountId !== filter.accountId) return;
      if (filter.region && row.region !== filter.region) return;
      if (filter.severity && row.severity !== filter.severity) return;
      if (filter.status && row.status !== filter.status) return;
      if (filter.createdBefore && !(row.createdAt && row.createdAt < filter.createdBefore)) return;
      items.push({ ...(row as unknown as ListedFinding), id: findingKeys[i]!.slice(prefix.length) });
    });
    // Values over 64 bytes (a long resource ARN, channel name or rule name) live in the side hash.
    const missing = items.slice(first).filter((it) => !it.resourceArn || !it.routeChannel || !it.routeRule);
    if (missing.length) {
      const p2 = redis.pipeline();
      for (const it of missing)
        p2.hmget(k.findingLong(it.id), FIELDS.resourceArn, FIELDS.routeChannel, FIELDS.routeRule);
      const longs = (await p2.exec()) ?? [];
      missing.forEach((it, j) => {
        const [arn, route, rule] = (longs[j]?.[1] as (string | null)[] | undefined) ?? [];
        it.resourceArn ||= arn ?? '';
        if (!it.routeChannel && route) it.routeChannel = route;
        if (!it.routeRule && rule) it.routeRule = rule;
      });
    }
    if (items.length >= limit) return { items: items.slice(0, limit), truncated: true };
  } while (cursor !== '0');
  return { items, truncated: false };
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

/** Finding cards by status, type, severity and owner channel (SCAN in batches of 500, one HMGET each). */
export async function countFindings(redis: Redis, k: Keys): Promise<FindingCount[]> {
  const counts = new Map<string, FindingCount>();
  const prefix = k.finding('');
  const fields = [FIELDS.status, FIELDS.findingType, FIELDS.severity, FIELDS.routeChannel];
  let cursor = '0';
  do {
    const [next, batch] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500);
    cursor = next;
    const findingKeys = batch.filter((key) => !key.slice(prefix.length).includes(':'));
    if (findingKeys.length === 0) continue;
    const pipe = redis.pipeline();
    for (const key of findingKeys) pipe.hmget(key, ...fields);
    for (const [err, v] of (await pipe.exec()) ?? []) {
      if (err) throw err;
      const [status, type, severity, channel] = v as (string | null)[];
      if (!status) continue;
      const row = { status, type: type ?? '', severity: severity ?? '', channel: channel ?? '' };
      const id = `${row.status}\u0000${row.type}\u0000${row.severity}\u0000${row.channel}`;
      const hit = counts.get(id);
      if (hit) hit.count++;
      else counts.set(id, { ...row, count: 1 });
    }
  } while (cursor !== '0');
  return [...counts.values()];
}
