// The pure parser for the `/access` slash command: Slack's command text in, a typed command or an
// error that says exactly what was wrong out. No I/O; `now` is passed in so date checks are testable.
//
// Error strings mark names and echoed input with backticks. Echoed input has its own backticks
// replaced by a look-alike (ˋ), so the backticks in an error always pair up and a renderer can show
// the marked parts as code (see blocks/help.ts).
import { isVerb, USAGE, VERB_HELP, VERBS, type Verb } from '../../../blocks/verbs.ts';
import {
  DEFAULT_POLICY_DAYS,
  MAX_ARCHIVE_DAYS,
  MAX_POLICY_DAYS,
  MAX_REASON_LENGTH,
  SNOOZE_DAYS,
  type SnoozeDays,
} from '../../findings/limits.ts';
import {
  FINDING_TYPES,
  type FindingStatus,
  type FindingType,
  SEVERITIES,
  type Severity,
} from '../../findings/model.ts';

/** A Slack user named in `--user`: a mention Slack resolved to an id, or a plain `@name`. */
export type UserRef = { kind: 'id'; id: string; name?: string } | { kind: 'name'; name: string };

export type Command =
  | { verb: 'help'; topic?: Verb }
  | {
      verb: 'findings';
      type?: FindingType;
      /** A 12-digit account id or a configured account name; resolved by the handler. */
      account?: string;
      region?: string;
      severity?: Severity;
      /** Only findings older than this many days (hours become fractions: `12h` is 0.5). */
      olderThanDays?: number;
      status?: FindingStatus;
      /** 1-based; defaults to 1. */
      page: number;
    }
  | { verb: 'show'; findingId: string }
  | { verb: 'scan'; region?: string }
  | {
      verb: 'archive';
      findingId: string;
      reason: string;
      /** YYYY-MM-DD (UTC), after today and at most MAX_ARCHIVE_DAYS ahead. */
      until?: string;
    }
  | { verb: 'unarchive'; findingId: string }
  | { verb: 'rescan'; findingId: string }
  | {
      verb: 'owners';
      arn: string;
      /** The 12-digit account that owns the resource, for ARNs that carry none (S3 buckets). */
      accountId?: string;
    }
  | { verb: 'audit'; findingId?: string; user?: UserRef /** 1..200, defaults to 20. */; last: number }
  | { verb: 'status' }
  | {
      verb: 'generate-policy';
      principalArn: string;
      /** Days of CloudTrail activity to analyze, 1..90, defaults to 30. */
      days: number;
      /** True when `--days` was typed; otherwise the configured default applies. */
      daysGiven?: boolean;
      trailArn?: string;
      /** Regions of the trail to analyze; defaults to `all`. */
      regions: 'all' | string[];
    }
  | { verb: 'validate' }
  | { verb: 'digest' }
  | { verb: 'snooze'; findingId: string; days: SnoozeDays; reason: string }
  | { verb: 'rules' };

export { isVerb, USAGE, VERB_HELP, VERBS, type Verb };

export type ParseResult = { ok: true; command: Command } | { ok: false; verb?: Verb; error: string };

/** The longest command text parsed (a reason is at most 500 characters; ARNs and flags fit easily). */
export const MAX_COMMAND_LENGTH = 4000;
export const DEFAULT_PAGE = 1;
export const DEFAULT_AUDIT_LAST = 20;
export const MAX_AUDIT_LAST = 200;

/** Short names people type for finding types, besides the AWS names (any case). */
export const FINDING_TYPE_ALIASES: Record<string, FindingType> = {
  external: 'ExternalAccess',
  internal: 'InternalAccess',
  'unused-role': 'UnusedIAMRole',
  'unused-key': 'UnusedIAMUserAccessKey',
  'unused-password': 'UnusedIAMUserPassword',
  'unused-permission': 'UnusedPermission',
};

const FLAGS: Record<Verb, readonly string[]> = {
  help: [],
  findings: ['type', 'account', 'region', 'severity', 'older-than', 'status', 'page'],
  show: [],
  scan: [],
  archive: ['reason', 'until'],
  unarchive: [],
  rescan: [],
  owners: ['account'],
  audit: ['finding', 'user', 'last'],
  status: [],
  'generate-policy': ['days', 'trail', 'regions'],
  validate: [],
  digest: [],
  snooze: ['days', 'reason'],
  rules: [],
};

/** Positional arguments per verb: how many are required, and what they are called. */
const ARGS: Record<Verb, { required: number; names: readonly string[] }> = {
  help: { required: 0, names: ['command'] },
  findings: { required: 0, names: [] },
  show: { required: 1, names: ['finding id'] },
  scan: { required: 0, names: ['region'] },
  archive: { required: 1, names: ['finding id'] },
  unarchive: { required: 1, names: ['finding id'] },
  rescan: { required: 1, names: ['finding id'] },
  owners: { required: 1, names: ['resource ARN'] },
  audit: { required: 0, names: [] },
  status: { required: 0, names: [] },
  'generate-policy': { required: 1, names: ['role or user ARN'] },
  validate: { required: 0, names: [] },
  digest: { required: 0, names: [] },
  snooze: { required: 1, names: ['finding id'] },
  rules: { required: 0, names: [] },
};

class CommandError extends Error {}

function fail(message: string): never {
  throw new CommandError(message);
}

/** User input shown inside an error: one short code span that cannot be closed early. */
export function echo(s: string, max = 60): string {
  const one = s.replace(/\s+/g, ' ').replace(/`/g, '\u02CB');
  const cut = one.length > max ? `${one.slice(0, max - 1)}…` : one;
  return cut === '' ? 'nothing' : `\`${cut}\``;
}

// ---------------------------------------------------------------------------------------------------
// Tokenizer

type Token =
  | { kind: 'arg'; value: string }
  /** `inline` is the value after `=` in `--flag=value` (possibly empty). */
  | { kind: 'flag'; name: string; raw: string; inline?: string };

const DOUBLE_QUOTES = '"\u201C\u201D\u201E';
const SINGLE_QUOTES = "'\u2018\u2019";
/** `--`, and the en and em dashes that smart punctuation turns `--` into. */
const FLAG_PREFIX = /^(?:--|\u2014|\u2013)/;
const WS = /\s/;

/** Slack escapes `& < >` in command text; mentions arrive as real `<@U…>` markup either way. */
function decodeEntities(s: string): string {
  return s.replace(/&(amp|lt|gt);/g, (_m, e: string) => (e === 'amp' ? '&' : e === 'lt' ? '<' : '>'));
}

function quoteFamily(c: string | undefined): string | undefined {
  if (c === undefined) return undefined;
  if (DOUBLE_QUOTES.includes(c)) return DOUBLE_QUOTES;
  if (SINGLE_QUOTES.includes(c)) return SINGLE_QUOTES;
  return undefined;
}

/**
 * Read a quoted string whose opening quote is at `open`. It ends at the first quote of the same
 * family (straight or smart) that is followed by whitespace or the end, so an apostrophe inside
 * (`'it's fine'`) does not end it. Returns the value and the index after the closing quote.
 */
function readQuoted(text: string, open: number): { value: string; end: number } {
  const family = quoteFamily(text[open])!;
  for (let j = open + 1; j < text.length; j++) {
    const next = text[j + 1];
    if (family.includes(text[j]!) && (next === undefined || WS.test(next))) {
      return { value: text.slice(open + 1, j), end: j + 1 };
    }
  }
  fail(`unterminated quote: ${echo(text.slice(open), 40)} has no closing ${text[open]}`);
}

export function tokenize(input: string): Token[] {
  const text = decodeEntities(input);
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    if (WS.test(text[i]!)) {
      i++;
      continue;
    }
    if (quoteFamily(text[i]) !== undefined) {
      const q = readQuoted(text, i);
      tokens.push({ kind: 'arg', value: q.value });
      i = q.end;
      continue;
    }
    let j = i;
    while (j < text.length && !WS.test(text[j]!)) j++;
    const word = text.slice(i, j);
    const prefix = FLAG_PREFIX.exec(word);
    if (!prefix) {
      tokens.push({ kind: 'arg', value: word });
      i = j;
      continue;
    }
    const eq = word.indexOf('=');
    if (eq === -1) {
      tokens.push({ kind: 'flag', name: word.slice(prefix[0].length).toLowerCase(), raw: word });
      i = j;
      continue;
    }
    const raw = word.slice(0, eq);
    const name = raw.slice(prefix[0].length).toLowerCase();
    const valueStart = i + eq + 1;
    if (quoteFamily(text[valueStart]) !== undefined) {
      const q = readQuoted(text, valueStart);
      tokens.push({ kind: 'flag', name, raw, inline: q.value });
      i = q.end;
    } else {
      tokens.push({ kind: 'flag', name, raw, inline: word.slice(eq + 1) });
      i = j;
    }
  }
  return tokens;
}

// ---------------------------------------------------------------------------------------------------
// Suggestions

/** Optimal string alignment distance: Levenshtein plus adjacent transpositions (`fidnings`). */
export function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) =>
    Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      const row = d[i]!;
      const prev = d[i - 1]!;
      let v = Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        v = Math.min(v, d[i - 2]![j - 2]! + 1);
      }
      row[j] = v;
    }
  }
  return d[a.length]![b.length]!;
}

/** The closest candidate, if it is close enough to be a typo (or the only one `word` starts). */
export function nearest(word: string, candidates: readonly string[]): string | undefined {
  const w = word.toLowerCase();
  if (w.length >= 3) {
    const prefixed = candidates.filter((c) => c.startsWith(w));
    if (prefixed.length === 1) return prefixed[0];
  }
  const limit = w.length <= 4 ? 1 : 2;
  let best: string | undefined;
  let bestDistance = Number.POSITIVE_INFINITY;
  for (const c of candidates) {
    const dist = editDistance(w, c);
    if (dist < bestDistance) {
      best = c;
      bestDistance = dist;
    }
  }
  return bestDistance <= limit ? best : undefined;
}

function unknownCommand(word: string): string {
  const guess = nearest(word, VERBS);
  return guess === undefined
    ? `unknown command ${echo(word)}; try \`/access help\` for the list of commands`
    : `unknown command ${echo(word)}; did you mean \`${guess}\`?`;
}

// ---------------------------------------------------------------------------------------------------
// Value checks

const FINDING_ID = /^[A-Za-z0-9-]{1,64}$/;
const REGION = /^[a-z]{2}(-[a-z]+)+-\d$/;
const PRINCIPAL_ARN = /^arn:aws[-a-z]*:iam::\d{12}:(role|user)\/\S+$/;
const TRAIL_ARN = /^arn:aws[-a-z]*:cloudtrail:[a-z]{2}(-[a-z]+)+-\d:\d{12}:trail\/\S+$/;
const MENTION = /^<@([UW][A-Z0-9]{2,})(?:\|([^>]*))?>$/;
const AT_NAME = /^@([\p{L}\p{N}._-]{1,80})$/u;
const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const DURATION = /^(\d{1,5})([dwh])$/i;
const WHOLE = /^\d{1,9}$/;

function findingId(value: string, what = 'finding id'): string {
  if (!FINDING_ID.test(value)) {
    fail(`${what} must be letters, digits and dashes, at most 64 characters (got ${echo(value)})`);
  }
  return value;
}

function region(value: string, what: string): string {
  const r = value.toLowerCase();
  if (!REGION.test(r)) fail(`${what} must be an AWS region like eu-west-1 (got ${echo(value)})`);
  return r;
}

function oneOf<T extends string>(flag: string, value: string, allowed: readonly T[]): T {
  const v = value.toLowerCase();
  const found = allowed.find((a) => a.toLowerCase() === v);
  if (found === undefined) fail(`${flag} must be one of ${allowed.join(', ')} (got ${echo(value)})`);
  return found;
}

function findingType(value: string): FindingType {
  const v = value.toLowerCase();
  const found = FINDING_TYPE_ALIASES[v] ?? FINDING_TYPES.find((t) => t.toLowerCase() === v);
  if (found === undefined) {
    fail(`--type must be one of ${Object.keys(FINDING_TYPE_ALIASES).join(', ')} (got ${echo(value)})`);
  }
  return found;
}

function wholeNumber(flag: string, value: string, min: number, max?: number): number {
  const n = WHOLE.test(value) ? Number(value) : Number.NaN;
  if (Number.isNaN(n) || n < min || (max !== undefined && n > max)) {
    const range = max === undefined ? `a whole number from ${min}` : `a whole number from ${min} to ${max}`;
    fail(`${flag} must be ${range} (got ${echo(value)})`);
  }
  return n;
}

function olderThan(value: string): number {
  const m = DURATION.exec(value);
  const n = m ? Number(m[1]) : 0;
  if (!m || n < 1) fail(`--older-than must be a duration like 30d, 2w or 12h (got ${echo(value)})`);
  const unit = m[2]!.toLowerCase();
  return unit === 'd' ? n : unit === 'w' ? n * 7 : n / 24;
}

function isoDay(d: Date): string {
  return d.toISOString().slice(0, 10);
}

const DAY_MS = 86_400_000;

/** A real calendar date after today (UTC) and at most MAX_ARCHIVE_DAYS ahead. */
function untilDate(value: string, now: Date): string {
  const m = ISO_DATE.exec(value);
  const bad = `--until must be a real date as YYYY-MM-DD, like 2027-03-01 (got ${echo(value)})`;
  if (!m) fail(bad);
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const date = new Date(Date.UTC(y, mo - 1, d));
  if (date.getUTCFullYear() !== y || date.getUTCMonth() !== mo - 1 || date.getUTCDate() !== d) fail(bad);
  const today = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate());
  if (date.getTime() <= today) {
    fail(`--until must be after today, ${isoDay(new Date(today))} (got ${echo(value)})`);
  }
  const latest = today + MAX_ARCHIVE_DAYS * DAY_MS;
  if (date.getTime() > latest) {
    fail(
      `--until must be at most ${MAX_ARCHIVE_DAYS} days ahead, ${isoDay(new Date(latest))} at the latest (got ${echo(value)})`,
    );
  }
  return value;
}

function user(value: string): UserRef {
  const mention = MENTION.exec(value);
  if (mention) {
    const name = mention[2];
    return name === undefined || name === ''
      ? { kind: 'id', id: mention[1]! }
      : { kind: 'id', id: mention[1]!, name };
  }
  const at = AT_NAME.exec(value);
  if (at) return { kind: 'name', name: at[1]! };
  fail(`--user must be a Slack user like @alice (got ${echo(value)})`);
}

function regions(value: string): 'all' | string[] {
  if (value.toLowerCase() === 'all') return 'all';
  const expected = '--regions must be all or AWS regions separated by commas, like eu-west-1,us-east-1';
  const list = value.split(',').map((r) => r.trim().toLowerCase());
  for (const r of list) {
    if (r === '') fail(`${expected} (got ${echo(value)})`);
    if (!REGION.test(r)) fail(`${expected} (${echo(r)} is not a region)`);
  }
  return [...new Set(list)];
}

// ---------------------------------------------------------------------------------------------------
// Parser

interface Parsed {
  args: string[];
  flags: Map<string, string>;
}

function collect(verb: Verb, tokens: readonly Token[]): Parsed {
  const allowed = FLAGS[verb];
  const args: string[] = [];
  const flags = new Map<string, string>();
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]!;
    if (t.kind === 'arg') {
      args.push(t.value);
      continue;
    }
    if (!allowed.includes(t.name)) {
      if (allowed.length === 0) fail(`\`${verb}\` takes no flags (got ${echo(t.raw)})`);
      const guess = nearest(t.name, allowed);
      const hint = guess === undefined ? ' valid' : ` did you mean \`--${guess}\`? Valid`;
      fail(
        `unknown flag ${echo(t.raw)} for \`${verb}\`;${hint} flags: ${allowed.map((f) => `--${f}`).join(', ')}`,
      );
    }
    if (flags.has(t.name)) fail(`--${t.name} given twice`);
    let value = t.inline;
    if (value === undefined) {
      const next = tokens[i + 1];
      if (next?.kind === 'arg') {
        value = next.value;
        i++;
      }
    }
    if (value === undefined || value.trim() === '') fail(`--${t.name} needs a value`);
    flags.set(t.name, value.trim());
  }
  return { args, flags };
}

function checkArity(verb: Verb, args: readonly string[]): void {
  const spec = ARGS[verb];
  if (args.length < spec.required) fail(`\`${verb}\` needs a ${spec.names[args.length]}`);
  if (args.length > spec.names.length) {
    const extra = args[spec.names.length]!;
    let takes: string;
    if (spec.names.length === 0) takes = 'no arguments';
    else if (spec.required === 0) takes = `at most one argument (${spec.names.join(', ')})`;
    else takes = `one argument (${spec.names.join(', ')})`;
    const hint = FLAGS[verb].includes('reason') ? ' (put a reason with spaces in quotes: --reason "…")' : '';
    fail(`\`${verb}\` takes ${takes}; unexpected ${echo(extra)}${hint}`);
  }
}

function build(verb: Verb, { args, flags }: Parsed, now: Date): Command {
  const arg = args[0];
  switch (verb) {
    case 'help': {
      if (arg === undefined) return { verb };
      const topic = arg.toLowerCase();
      if (isVerb(topic)) return { verb, topic };
      const guess = nearest(topic, VERBS);
      return fail(
        guess === undefined
          ? `no command ${echo(arg)} to explain; commands: ${VERBS.join(', ')}`
          : `no command ${echo(arg)} to explain; did you mean \`${guess}\`?`,
      );
    }
    case 'findings': {
      const c: Extract<Command, { verb: 'findings' }> = { verb, page: DEFAULT_PAGE };
      const type = flags.get('type');
      if (type !== undefined) c.type = findingType(type);
      const account = flags.get('account');
      if (account !== undefined) c.account = account;
      const r = flags.get('region');
      if (r !== undefined) c.region = region(r, '--region');
      const severity = flags.get('severity');
      if (severity !== undefined) c.severity = oneOf('--severity', severity, SEVERITIES);
      const older = flags.get('older-than');
      if (older !== undefined) c.olderThanDays = olderThan(older);
      const status = flags.get('status');
      if (status !== undefined) {
        c.status = oneOf('--status', status, [
          'active',
          'archived',
          'resolved',
        ]).toUpperCase() as FindingStatus;
      }
      const page = flags.get('page');
      if (page !== undefined) c.page = wholeNumber('--page', page, 1);
      return c;
    }
    case 'show':
    case 'unarchive':
    case 'rescan':
      return { verb, findingId: findingId(arg!) };
    case 'scan':
      return arg === undefined ? { verb } : { verb, region: region(arg, 'region') };
    case 'archive': {
      const id = findingId(arg!);
      const reason = flags.get('reason');
      if (reason === undefined) fail('`archive` needs --reason "why this access is acceptable"');
      if (reason.length > MAX_REASON_LENGTH) {
        fail(`--reason must be at most ${MAX_REASON_LENGTH} characters (got ${reason.length})`);
      }
      const c: Extract<Command, { verb: 'archive' }> = { verb, findingId: id, reason };
      const until = flags.get('until');
      if (until !== undefined) c.until = untilDate(until, now);
      return c;
    }
    case 'owners': {
      if (!arg!.startsWith('arn:')) fail(`\`owners\` needs an ARN starting with arn: (got ${echo(arg!)})`);
      const account = flags.get('account');
      if (account === undefined) return { verb, arn: arg! };
      if (!/^\d{12}$/.test(account))
        fail(`--account must be a 12-digit AWS account id (got ${echo(account)})`);
      return { verb, arn: arg!, accountId: account };
    }
    case 'audit': {
      const c: Extract<Command, { verb: 'audit' }> = { verb, last: DEFAULT_AUDIT_LAST };
      const f = flags.get('finding');
      if (f !== undefined) c.findingId = findingId(f, '--finding');
      const u = flags.get('user');
      if (u !== undefined) c.user = user(u);
      const last = flags.get('last');
      if (last !== undefined) c.last = wholeNumber('--last', last, 1, MAX_AUDIT_LAST);
      return c;
    }
    case 'generate-policy': {
      if (!PRINCIPAL_ARN.test(arg!)) {
        fail(
          `\`generate-policy\` needs an IAM role or user ARN like arn:aws:iam::123456789012:role/name (got ${echo(arg!)})`,
        );
      }
      const c: Extract<Command, { verb: 'generate-policy' }> = {
        verb,
        principalArn: arg!,
        days: DEFAULT_POLICY_DAYS,
        regions: 'all',
      };
      const days = flags.get('days');
      if (days !== undefined) {
        c.days = wholeNumber('--days', days, 1, MAX_POLICY_DAYS);
        c.daysGiven = true;
      }
      const trail = flags.get('trail');
      if (trail !== undefined) {
        if (!TRAIL_ARN.test(trail)) {
          fail(
            `--trail must be a CloudTrail trail ARN like arn:aws:cloudtrail:eu-west-1:123456789012:trail/name (got ${echo(trail)})`,
          );
        }
        c.trailArn = trail;
      }
      const r = flags.get('regions');
      if (r !== undefined) c.regions = regions(r);
      return c;
    }
    case 'status':
    case 'validate':
    case 'digest':
    case 'rules':
      return { verb };
    case 'snooze': {
      const id = findingId(arg!);
      const days = flags.get('days');
      if (days === undefined) fail('`snooze` needs --days 1, 7 or 30');
      const n = SNOOZE_DAYS.find((d) => String(d) === days);
      if (n === undefined) fail(`--days must be 1, 7 or 30 (got ${echo(days)})`);
      const reason = flags.get('reason');
      if (reason === undefined) fail('`snooze` needs --reason "why the reminders can wait"');
      if (reason.length > MAX_REASON_LENGTH) {
        fail(`--reason must be at most ${MAX_REASON_LENGTH} characters (got ${reason.length})`);
      }
      return { verb, findingId: id, days: n, reason };
    }
  }
}

/**
 * Parse the text after `/access`. Empty text means `help`. Verbs and flag names are
 * case-insensitive; `--flag value` and `--flag=value` both work; values with spaces are quoted with
 * straight or smart quotes.
 */
export function parseCommand(text: string, now: Date): ParseResult {
  const first = decodeEntities(text.slice(0, 100)).trim().split(/\s+/)[0]?.toLowerCase() ?? '';
  const known = isVerb(first) ? first : undefined;
  if (text.length > MAX_COMMAND_LENGTH) {
    // No command needs more; spelling suggestions on a huge word would cost seconds.
    const error = `a command is at most ${MAX_COMMAND_LENGTH} characters (this one has ${text.length})`;
    return known === undefined ? { ok: false, error } : { ok: false, verb: known, error };
  }
  try {
    const tokens = tokenize(text);
    const head = tokens[0];
    if (head === undefined) return { ok: true, command: { verb: 'help' } };
    if (head.kind !== 'arg')
      fail(`start with a command, not a flag (got ${echo(head.raw)}); try \`/access help\``);
    const verb = head.value.toLowerCase();
    if (!isVerb(verb)) fail(unknownCommand(head.value));
    const parsed = collect(verb, tokens.slice(1));
    checkArity(verb, parsed.args);
    return { ok: true, command: build(verb, parsed, now) };
  } catch (e) {
    if (!(e instanceof CommandError)) throw e;
    return known === undefined
      ? { ok: false, error: e.message }
      : { ok: false, verb: known, error: e.message };
  }
}
