// The indexes FindingStore keeps over the finding cards (docs/architecture.md, "Indexes"). Every write
// to a card's hash runs in one Lua script that reads the card's indexed fields before and after the
// write and moves its index entries accordingly, so an index never drifts from the hashes: there is
// no moment at which a card is written and its index is not. Retired cards are listed with the time
// their hash expires and the entries to drop then; every indexed read first drops those that expired.
//
// The scripts name their keys from the prefixes in src/store/keys.ts (`indexPrefixes` and the idx
// keys), passed in as arguments: the key names still live in one place.
import type { Redis } from 'ioredis';
import { SEVERITIES } from '../findings/model.ts';
import { type Keys, NATURAL_KEY_BUCKET_CHARS } from './keys.ts';

/**
 * Bump when what the scripts index changes: stores on another version are indexed again. Version
 * 4 keeps the natural-key mapping (`nks:*`) with the cards' entries, moving the `nk:*` strings.
 */
export const INDEX_VERSION = '4';

/** Severity buckets in `/access findings` order: unknown severities first (indexOf is -1), then worst first. */
export const SEVERITY_BUCKETS = ['~', ...SEVERITIES] as const;

/** Stored score of a card without createdAt (and below it, one whose createdAt does not parse). */
export const NO_TIME = -2;
export const BAD_TIME = -1;

/** Hash field names the scripts read (FindingStore's FIELDS for these properties). */
export interface IndexedFieldNames {
  status: string;
  severity: string;
  findingType: string;
  createdAt: string;
  firstSeen: string;
  updatedAt: string;
  routeChannel: string;
  channel: string;
  ownerEmail: string;
  accountId: string;
  region: string;
  naturalKey: string;
}

function preamble(f: IndexedFieldNames): string {
  return `
local C = {
  fp = ARGV[1], wp = ARGV[2], acp = ARGV[3], aep = ARGV[4], closed = ARGV[5], reg = ARGV[6],
  och = ARGV[7], oem = ARGV[8], counts = ARGV[9], exp = ARGV[10], expe = ARGV[11],
  now = tonumber(ARGV[13]), ls = ARGV[14], cid = ARGV[15], nkp = ARGV[16],
}
local KNOWN = {}
for s in string.gmatch(ARGV[12], '[^,]+') do KNOWN[s] = true end
local NAMES = { '${f.status}', '${f.severity}', '${f.findingType}', '${f.createdAt}', '${f.firstSeen}',
  '${f.updatedAt}', '${f.routeChannel}', '${f.channel}', '${f.ownerEmail}', '${f.accountId}', '${f.region}',
  '${f.naturalKey}' }
local PROPS = { 'st', 'sv', 'ty', 'cr', 'fs', 'up', 'rc', 'ch', 'oe', 'ac', 'rg', 'nk' }
local S1, S2 = '\\1', '\\2'

local function days_from_civil(y, m, d)
  if m <= 2 then y = y - 1 end
  local era = math.floor(y / 400)
  local yoe = y - era * 400
  local mp = (m + 9) % 12
  local doy = math.floor((153 * mp + 2) / 5) + d - 1
  local doe = yoe * 365 + math.floor(yoe / 4) - math.floor(yoe / 100) + doy
  return era * 146097 + doe - 719468
end

-- A time as FindingStore stores it: epoch milliseconds (what it writes for an ISO time that reads
-- back exactly), or ISO 8601 as Date.parse reads what AWS and toISOString write:
-- YYYY-MM-DDTHH:MM:SS(.sss)(Z|+HH:MM) (cards written before, and times that are not exact).
local function iso_ms(s)
  if not s then return ${NO_TIME} end
  if string.match(s, '^%-?%d+$') then return tonumber(s) end
  local y, mo, d, rest = string.match(s, '^(%d%d%d%d)%-(%d%d)%-(%d%d)(.*)$')
  if not y then return ${BAD_TIME} end
  local hh, mi, ss, ms, off = 0, 0, 0, 0, 0
  if rest ~= '' then
    local a, b, c, frac, tz = string.match(rest, '^T(%d%d):(%d%d):(%d%d)%.?(%d*)(.*)$')
    if not a then return ${BAD_TIME} end
    hh, mi, ss = tonumber(a), tonumber(b), tonumber(c)
    if frac ~= '' then ms = tonumber(string.sub(frac .. '000', 1, 3)) end
    if tz ~= 'Z' and tz ~= '' then
      local sign, th, tm = string.match(tz, '^([%+%-])(%d%d):?(%d%d)$')
      if not sign then return ${BAD_TIME} end
      off = (tonumber(th) * 60 + tonumber(tm)) * 60000
      if sign == '-' then off = -off end
    end
  end
  return days_from_civil(tonumber(y), tonumber(mo), tonumber(d)) * 86400000
    + hh * 3600000 + mi * 60000 + ss * 1000 + ms - off
end

local function fmt(n) return string.format('%.0f', n) end

-- A card's indexed fields, from its hash and its side hash of long values ('' counts as absent).
local function read(id)
  local a = redis.call('HMGET', C.fp .. id, unpack(NAMES))
  local b = redis.call('HMGET', C.fp .. id .. C.ls, unpack(NAMES))
  local h = {}
  for i, p in ipairs(PROPS) do
    local v = a[i]
    if not v or v == '' then v = b[i] end
    if v and v ~= '' then h[p] = v end
  end
  return h
end

-- The where set's name after the prefix: status, severity bucket, type, account, region.
local function where_set(h)
  local sev = h.sv
  if not sev or not KNOWN[sev] then sev = '~' end
  return h.st .. ':' .. sev .. ':' .. (h.ty or '') .. ':' .. (h.ac or '') .. ':' .. (h.rg or '')
end

-- A delivered card's routed #name needs no channel entry of its own when the id learned for that
-- name is the channel it was posted in: a reader asking by the name reads the id's set too
-- (FindingStore.digestCandidates). Only a card posted elsewhere (a fallback) or routed to a name
-- whose id is not learned yet keeps both.
local function route_entry(h)
  if not h.rc then return false end
  if not h.ch then return true end
  if h.rc == h.ch then return false end
  if string.sub(h.rc, 1, 1) ~= '#' then return true end
  return redis.call('GET', C.cid .. h.rc) ~= h.ch
end

-- The natural-key mapping of a card's key: its bucket hash and field (src/store/keys.ts).
local function nk_at(nk)
  return C.nkp .. string.sub(nk, 1, ${NATURAL_KEY_BUCKET_CHARS}), string.sub(nk, ${NATURAL_KEY_BUCKET_CHARS + 1})
end

local function nk_token(h)
  if not h.st or not h.nk then return nil end
  local key, field = nk_at(h.nk)
  return 'n' .. S1 .. key .. S1 .. field
end

-- Every index entry a card has: kind (z sorted set, s set, c counter, n natural-key mapping) S1 key
-- [S1 field] -> score.
local function tokens(h)
  local t = {}
  if not h.st then return t end
  local nt = nk_token(h)
  if nt then t[nt] = '1' end
  t['z' .. S1 .. C.wp .. where_set(h)] = fmt(iso_ms(h.cr))
  if h.st == 'ACTIVE' then
    if route_entry(h) then t['s' .. S1 .. C.acp .. h.rc] = '1' end
    if h.ch then t['s' .. S1 .. C.acp .. h.ch] = '1' end
    if h.oe then t['s' .. S1 .. C.aep .. string.lower(h.oe)] = '1' end
  else
    t['z' .. S1 .. C.closed] = fmt(math.max(iso_ms(h.fs), iso_ms(h.up)))
  end
  local owner = h.rc or h.ch
  if owner then t['c' .. S1 .. C.och .. S1 .. owner] = '1' end
  if h.oe then t['c' .. S1 .. C.oem .. S1 .. h.oe] = '1' end
  t['c' .. S1 .. C.counts .. S1 .. h.st .. '\\0' .. (h.ty or '') .. '\\0' .. (h.sv or '') .. '\\0' .. (h.rc or '')] = '1'
  return t
end

local function split(tok)
  local rest = string.sub(tok, 3)
  local i = string.find(rest, S1, 1, true)
  if not i then return string.sub(tok, 1, 1), rest, nil end
  return string.sub(tok, 1, 1), string.sub(rest, 1, i - 1), string.sub(rest, i + 1)
end

local function add(tok, v, id, fresh)
  local kind, key, field = split(tok)
  if kind == 'z' then
    redis.call('ZADD', key, v, id)
    if fresh and string.sub(key, 1, #C.wp) == C.wp then redis.call('SADD', C.reg, string.sub(key, #C.wp + 1)) end
  elseif kind == 's' then
    redis.call('SADD', key, id)
  elseif kind == 'n' then
    -- The claim (FindingStore.claimNaturalKey) set it already; a key another card holds stays its.
    redis.call('HSETNX', key, field, id)
  elseif fresh then
    redis.call('HINCRBY', key, field, 1)
  end
end

local function remove(tok, id)
  local kind, key, field = split(tok)
  if kind == 'z' then redis.call('ZREM', key, id)
  elseif kind == 's' then redis.call('SREM', key, id)
  elseif kind == 'n' then
    if redis.call('HGET', key, field) == id then redis.call('HDEL', key, field) end
  elseif redis.call('HINCRBY', key, field, -1) <= 0 then redis.call('HDEL', key, field) end
end

local function apply(old, new, id)
  for tok in pairs(old) do if new[tok] == nil then remove(tok, id) end end
  for tok, v in pairs(new) do if old[tok] ~= v then add(tok, v, id, old[tok] == nil) end end
end

-- The entries a card has now. Its where-set entry is the record that it is indexed; a card without
-- one (new, or indexed by an older scheme) has only the set entries it is really a member of, so a
-- write that moves it still drops them, and no counter.
local function indexed_tokens(id)
  local h = read(id)
  if not h.st then return {}, h end
  local t = tokens(h)
  -- The natural-key mapping is the card's when the bucket names it (a store indexed before version
  -- 4 has none yet; a key claimed by another card is that card's).
  local nt = nk_token(h)
  local nk_mine = false
  if nt then
    t[nt] = nil
    local key, field = nk_at(h.nk)
    nk_mine = redis.call('HGET', key, field) == id
  end
  -- The route entry depends on the learned channel id, which may have been learned (or changed)
  -- since the card was written: whether the card has it is read, not assumed.
  if h.st == 'ACTIVE' and h.rc then
    local tok = 's' .. S1 .. C.acp .. h.rc
    if redis.call('SISMEMBER', C.acp .. h.rc, id) == 1 then t[tok] = '1' else t[tok] = nil end
  end
  local have = t
  if not redis.call('ZSCORE', C.wp .. where_set(h), id) then
    have = {}
    for tok, v in pairs(t) do
      local kind, key = split(tok)
      if kind == 's' then
        if redis.call('SISMEMBER', key, id) == 1 then have[tok] = v end
      elseif kind == 'z' then
        if redis.call('ZSCORE', key, id) then have[tok] = v end
      end
    end
  end
  if nk_mine then have[nt] = '1' end
  return have, h
end

local function record_if_expiring(id, t)
  if redis.call('ZSCORE', C.exp, id) then
    local parts = {}
    for tok in pairs(t) do parts[#parts + 1] = tok end
    redis.call('HSET', C.expe, id, table.concat(parts, S2))
  end
end

-- Drops the entries of a card whose hash has expired.
local function forget(id)
  local rec = redis.call('HGET', C.expe, id)
  if rec then
    for tok in string.gmatch(rec, '[^' .. S2 .. ']+') do remove(tok, id) end
    redis.call('HDEL', C.expe, id)
  end
  redis.call('ZREM', C.exp, id)
end

local function prune(limit)
  local ids = redis.call('ZRANGEBYSCORE', C.exp, '-inf', fmt(C.now), 'LIMIT', 0, limit)
  local n = 0
  for _, id in ipairs(ids) do
    if redis.call('EXISTS', C.fp .. id) == 0 then
      forget(id)
      n = n + 1
    else
      local ttl = redis.call('PTTL', C.fp .. id)
      if ttl < 0 then
        redis.call('ZREM', C.exp, id)
        redis.call('HDEL', C.expe, id)
      else
        redis.call('ZADD', C.exp, fmt(C.now + ttl), id)
      end
    end
  end
  return n
end

-- A card gone for good: its hash is gone while it is listed as retiring (expired, and no indexed
-- read has dropped it yet). A card whose hash is not written yet (a claim whose delivery is still to
-- come) was never retired.
local function expired_card(cid)
  return redis.call('EXISTS', C.fp .. cid) == 0 and redis.call('ZSCORE', C.exp, cid) ~= false
end

-- A natural key's string from before version 4 (\`nk:<key>\`), moved into its bucket field (absent
-- here). A string with a TTL whose card hash is gone expired with its card and is dropped; one whose
-- card exists, or has no TTL (a claim whose delivery is still to come), moves. The card id, or false.
local function adopt_legacy(bucket, field, legacy)
  local cid = redis.call('GET', legacy)
  if not cid then return false end
  local ttl = redis.call('PTTL', legacy)
  redis.call('DEL', legacy)
  local exists = redis.call('EXISTS', C.fp .. cid) == 1
  if not exists and ttl >= 0 then return false end
  redis.call('HSET', bucket, field, cid)
  -- A retiring card's recorded entries now name the mapping, so that it goes with the card.
  if exists then record_if_expiring(cid, (indexed_tokens(cid))) end
  return cid
end
`;
}

/**
 * The write: KEYS finding, long, analyzers; after the context, id, persist, analyzer id + ARN, the
 * short fields, the long fields, then fields to delete from both hashes (each group: count, items).
 */
const WRITE = `
local id = ARGV[17]
if redis.call('EXISTS', KEYS[1]) == 0 then forget(id) end
local old = indexed_tokens(id)
if ARGV[19] ~= '' then redis.call('HSET', KEYS[3], ARGV[19], ARGV[20]) end
local i = 21
for pass = 1, 2 do
  local n = tonumber(ARGV[i])
  i = i + 1
  if n > 0 then
    local into, other = KEYS[pass], KEYS[3 - pass]
    local kv, fields = {}, {}
    for j = 0, n - 1 do
      kv[#kv + 1] = ARGV[i + 2 * j]
      kv[#kv + 1] = ARGV[i + 2 * j + 1]
      fields[#fields + 1] = ARGV[i + 2 * j]
    end
    redis.call('HSET', into, unpack(kv))
    redis.call('HDEL', other, unpack(fields))
    i = i + 2 * n
  end
end
local nclear = tonumber(ARGV[i] or '0')
if nclear > 0 then
  local fields = {}
  for j = 1, nclear do fields[j] = ARGV[i + j] end
  redis.call('HDEL', KEYS[1], unpack(fields))
  redis.call('HDEL', KEYS[2], unpack(fields))
end
if ARGV[18] == '1' then
  redis.call('PERSIST', KEYS[1])
  redis.call('PERSIST', KEYS[2])
  redis.call('ZREM', C.exp, id)
  redis.call('HDEL', C.expe, id)
end
local new = tokens(read(id))
apply(old, new, id)
record_if_expiring(id, new)
return 1
`;

/** A card was given a TTL (retired): KEYS finding; id, expiry time (ms). */
const RETIRE = `
local id = ARGV[17]
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
local t = indexed_tokens(id)
redis.call('ZADD', C.exp, ARGV[18], id)
record_if_expiring(id, t)
return 1
`;

/** A card is kept again (no TTL): KEYS finding; id. */
const KEEP = `
redis.call('ZREM', C.exp, ARGV[17])
redis.call('HDEL', C.expe, ARGV[17])
return 1
`;

/** Indexes one card from its hash as it is (the one-off rebuild): KEYS finding; id. */
const REINDEX = `
local id = ARGV[17]
local old, h = indexed_tokens(id)
local new = tokens(h)
apply(old, new, id)
local ttl = redis.call('PTTL', KEYS[1])
if ttl > 0 and h.st then redis.call('ZADD', C.exp, fmt(C.now + ttl), id) end
record_if_expiring(id, new)
return 1
`;

/**
 * Claims a natural key (SET NX semantics): KEYS bucket, legacy string; id, field. Returns the id of
 * the key's card: the caller's id when no card had it. The string a version before 4 kept is read
 * when the bucket has no field (a claim made while the rebuild has not moved it yet).
 */
const CLAIM = `
local id, field = ARGV[17], ARGV[18]
local cur = redis.call('HGET', KEYS[1], field)
if not cur then cur = adopt_legacy(KEYS[1], field, KEYS[2]) end
if cur then
  if not expired_card(cur) then return cur end
  -- The key's card expired (its mapping goes with it at the next indexed read, which has not come
  -- yet): its entries are dropped now, and the key starts a new card.
  forget(cur)
end
redis.call('HSET', KEYS[1], field, id)
return id
`;

/** Moves one string of a version before 4 into its bucket (the rebuild): KEYS bucket, legacy; field. */
const MOVE_LEGACY_KEY = `
if redis.call('HEXISTS', KEYS[1], ARGV[17]) == 1 then
  redis.call('DEL', KEYS[2])
  return 0
end
if adopt_legacy(KEYS[1], ARGV[17], KEYS[2]) then return 1 end
return 0
`;

/** Drops what expired: KEYS expiring. */
const PRUNE = `return prune(tonumber(ARGV[17]))`;

const PAGE = `
-- KEYS where-sets; status, severity buckets (in order), type, account, region, min and max score,
-- offset, limit (-1: all). Returns the number of matches, then the ids of the window, in
-- /access findings order: severity bucket, then createdAt, then id. Every filter names where sets
-- (status, severity, type, account and region are in their names): no card hash is read.
prune(200)
local status, typ, account, region = ARGV[17], ARGV[19], ARGV[20], ARGV[21]
local lo, hi = ARGV[22], ARGV[23]
local wstart = tonumber(ARGV[24])
local limit = tonumber(ARGV[25])
local wend = wstart + limit
if limit < 0 then wend = math.huge end
local order, want = {}, {}
for b in string.gmatch(ARGV[18], '[^,]+') do order[#order + 1] = b; want[b] = {} end
for _, m in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  local st, sev, ty, ac, rg = string.match(m, '^([^:]*):([^:]*):([^:]*):([^:]*):(.*)$')
  if st == status and want[sev] and (typ == '' or ty == typ) and (account == '' or ac == account)
    and (region == '' or rg == region) then
    local list = want[sev]
    list[#list + 1] = C.wp .. m
  end
end
local function before(a, b) return a[1] < b[1] or (a[1] == b[1] and a[2] < b[2]) end
local total, out = 0, {}
for _, b in ipairs(order) do
  local ks, counts, cnt = want[b], {}, 0
  for i, k in ipairs(ks) do
    counts[i] = redis.call('ZCOUNT', k, lo, hi)
    cnt = cnt + counts[i]
  end
  if cnt > 0 and total + cnt > wstart and total < wend then
    local need = math.min(wend, total + cnt) - total
    local rows = {}
    for i, k in ipairs(ks) do
      if counts[i] > 0 then
        local r = redis.call('ZRANGEBYSCORE', k, lo, hi, 'WITHSCORES', 'LIMIT', 0, math.min(counts[i], need))
        for j = 1, #r, 2 do rows[#rows + 1] = { tonumber(r[j + 1]), r[j] } end
      end
    end
    table.sort(rows, before)
    for j = 1, math.min(#rows, need) do
      if total + j - 1 >= wstart then out[#out + 1] = rows[j][2] end
    end
  end
  total = total + cnt
end
local res = { total }
for _, id in ipairs(out) do res[#res + 1] = id end
return res
`;

/** ACTIVE cards with createdAt, and those created at or before a time: KEYS where-sets; max score. */
const ACTIVE_AGED = `
prune(200)
local count, ids = 0, {}
for _, m in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  if string.sub(m, 1, 7) == 'ACTIVE:' then
    local k = C.wp .. m
    count = count + redis.call('ZCOUNT', k, '(${BAD_TIME - 1}', '+inf')
    for _, id in ipairs(redis.call('ZRANGEBYSCORE', k, '(${BAD_TIME - 1}', ARGV[17])) do ids[#ids + 1] = id end
  end
end
local res = { count }
for _, id in ipairs(ids) do res[#res + 1] = id end
return res
`;

type ScriptRunner = (...args: (string | number)[]) => Promise<unknown>;
const NAMES = {
  write: 'apFindingWrite',
  retire: 'apFindingRetire',
  keep: 'apFindingKeep',
  reindex: 'apFindingReindex',
  prune: 'apFindingPrune',
  page: 'apFindingPage',
  activeAged: 'apFindingActiveAged',
  claim: 'apFindingClaimNaturalKey',
  moveLegacyKey: 'apFindingMoveLegacyNaturalKey',
} as const;

/** The scripts, defined on a connection (ioredis sends EVALSHA, loading the script when Redis lacks it). */
export class FindingIndexScripts {
  constructor(
    private readonly redis: Redis,
    private readonly k: Keys,
    fields: IndexedFieldNames,
  ) {
    const pre = preamble(fields);
    const define = (name: string, keys: number, body: string) => {
      if (!(name in redis)) redis.defineCommand(name, { numberOfKeys: keys, lua: pre + body });
    };
    define(NAMES.write, 3, WRITE);
    define(NAMES.retire, 1, RETIRE);
    define(NAMES.keep, 1, KEEP);
    define(NAMES.reindex, 1, REINDEX);
    define(NAMES.prune, 1, PRUNE);
    define(NAMES.page, 1, PAGE);
    define(NAMES.activeAged, 1, ACTIVE_AGED);
    define(NAMES.claim, 2, CLAIM);
    define(NAMES.moveLegacyKey, 2, MOVE_LEGACY_KEY);
  }

  /** ARGV[1..16]: where the indexes live, the known severities and the time. */
  context(now = Date.now()): string[] {
    const k = this.k;
    const p = k.indexPrefixes();
    return [
      p.finding,
      p.where,
      p.activeChannel,
      p.activeEmail,
      k.closedFindings(),
      k.findingWhereSets(),
      k.ownerChannels(),
      k.ownerEmails(),
      k.findingCounts(),
      k.findingsExpiring(),
      k.findingsExpiringEntries(),
      SEVERITIES.join(','),
      String(now),
      k.findingLong('').slice(k.finding('').length),
      k.channelId(''),
      p.naturalKeys,
    ];
  }

  private run(target: Redis | ReturnType<Redis['pipeline']>, name: string): ScriptRunner {
    return (target as unknown as Record<string, ScriptRunner>)[name]!.bind(target);
  }

  /** Writes fields of a card (short and long hash) and moves its index entries, in one script. */
  write(
    target: Redis | ReturnType<Redis['pipeline']>,
    id: string,
    opts: {
      short: Record<string, string>;
      long: Record<string, string>;
      persist: boolean;
      analyzer?: { id: string; arn: string };
      /** Fields to delete (from both hashes) in the same script. */
      clear?: readonly string[];
    },
  ): Promise<unknown> {
    const flat = (h: Record<string, string>) => [String(Object.keys(h).length), ...Object.entries(h).flat()];
    return this.run(target, NAMES.write)(
      this.k.finding(id),
      this.k.findingLong(id),
      this.k.analyzers(),
      ...this.context(),
      id,
      opts.persist ? '1' : '0',
      opts.analyzer?.id ?? '',
      opts.analyzer?.arn ?? '',
      ...flat(opts.short),
      ...flat(opts.long),
      String(opts.clear?.length ?? 0),
      ...(opts.clear ?? []),
    );
  }

  retire(target: Redis | ReturnType<Redis['pipeline']>, id: string, expiresAtMs: number): Promise<unknown> {
    return this.run(target, NAMES.retire)(this.k.finding(id), ...this.context(), id, String(expiresAtMs));
  }

  keep(target: Redis | ReturnType<Redis['pipeline']>, id: string): Promise<unknown> {
    return this.run(target, NAMES.keep)(this.k.finding(id), ...this.context(), id);
  }

  reindex(target: Redis | ReturnType<Redis['pipeline']>, id: string): Promise<unknown> {
    return this.run(target, NAMES.reindex)(this.k.finding(id), ...this.context(), id);
  }

  /** The id of the natural key's card, which is `id` when no live card had the key (it is `id`'s now). */
  async claim(naturalKey: string, id: string): Promise<string> {
    return String(
      await this.run(this.redis, NAMES.claim)(
        this.k.naturalKeyBucket(naturalKey),
        this.k.legacyNaturalKey(naturalKey),
        ...this.context(),
        id,
        this.k.naturalKeyField(naturalKey),
      ),
    );
  }

  /** Moves the `nk:<key>` string of a version before 4 into its bucket (or drops it: see the script). */
  moveLegacyKey(target: Redis | ReturnType<Redis['pipeline']>, naturalKey: string): Promise<unknown> {
    return this.run(target, NAMES.moveLegacyKey)(
      this.k.naturalKeyBucket(naturalKey),
      this.k.legacyNaturalKey(naturalKey),
      ...this.context(),
      this.k.naturalKeyField(naturalKey),
    );
  }

  async prune(limit = 1000): Promise<number> {
    return Number(
      await this.run(this.redis, NAMES.prune)(this.k.findingsExpiring(), ...this.context(), String(limit)),
    );
  }

  async page(q: {
    status: string;
    severities: readonly string[];
    type?: string;
    accountId?: string;
    region?: string;
    /** Exclusive upper bound on createdAt (ms); cards without one never match it. */
    createdBeforeMs?: number;
    offset: number;
    limit: number;
  }): Promise<{ total: number; ids: string[] }> {
    const [lo, hi] =
      q.createdBeforeMs === undefined ? ['-inf', '+inf'] : [`(${BAD_TIME}`, `(${q.createdBeforeMs}`];
    const res = (await this.run(this.redis, NAMES.page)(
      this.k.findingWhereSets(),
      ...this.context(),
      q.status,
      q.severities.join(','),
      q.type ?? '',
      q.accountId ?? '',
      q.region ?? '',
      lo,
      hi,
      String(q.offset),
      String(q.limit),
    )) as [number, ...string[]];
    const [total, ...ids] = res;
    return { total: Number(total), ids };
  }

  /** ACTIVE cards with a createdAt: how many, and the ids of those created at or before `maxMs`. */
  async activeAged(maxMs: number): Promise<{ count: number; ids: string[] }> {
    const [count, ...ids] = (await this.run(this.redis, NAMES.activeAged)(
      this.k.findingWhereSets(),
      ...this.context(),
      String(maxMs),
    )) as [number, ...string[]];
    return { count: Number(count), ids };
  }
}
