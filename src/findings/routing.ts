// Decides which channel owns a finding: ordered rules, first match wins, then the default channel.
// Pure apart from the injected tag lookup, which runs only when a rule needs tags, and at most once.
import { type AppConfig, CHANNEL, type RoutingRule } from '../config/schema.ts';
import type { FindingSummary, Route } from './model.ts';

export type RoutedFinding = Pick<
  FindingSummary,
  'resourceArn' | 'resourceType' | 'accountId' | 'region' | 'findingType'
>;

export interface RoutingContext {
  rules: readonly RoutingRule[];
  defaultChannel: string;
  tags: AppConfig['tags'];
  /** The resource's tags; null when they cannot be read for this resource. May throw (access denied). */
  getTags: () => Promise<Record<string, string> | null>;
}

/** How one rule fared, for `access-patrol owners <arn>`. */
export interface RuleVerdict {
  /** 1-based position in `routing`. */
  index: number;
  /** The rule's name, or `rule #n` when it has none. */
  rule: string;
  matched: boolean;
  /** Where the rule sends the finding, when it matched. */
  channel?: string;
  /** Why, e.g. `tag team is 'platform', wanted 'payments'`. */
  detail: string;
  /** One line: `rule 'payments' (#2): no — tag team is 'platform', wanted 'payments'`. */
  text: string;
}

export interface RouteExplanation {
  route: Route;
  /** Every rule in order, including those after the first match. */
  verdicts: RuleVerdict[];
}

export const DEFAULT_ROUTE_REASON = 'no rule matched; default channel';

/** Where the finding's messages go: the first rule whose conditions all hold, else the default channel. */
export async function routeFinding(finding: RoutedFinding, ctx: RoutingContext): Promise<Route> {
  return (await evaluate(finding, ctx, false)).route;
}

/** Every rule with whether it matched and why, plus the route `routeFinding` would choose. */
export async function explainRoute(finding: RoutedFinding, ctx: RoutingContext): Promise<RouteExplanation> {
  return evaluate(finding, ctx, true);
}

/** The `access-patrol owners` text: one line per rule, then the outcome. */
export function formatRouteExplanation({ route, verdicts }: RouteExplanation): string {
  const outcome = `→ ${route.channel} (${route.rule === 'default' ? 'default channel' : `rule '${route.rule}'`})${
    route.ownerEmail ? `, owner ${route.ownerEmail}` : ''
  }`;
  return [...verdicts.map((v) => v.text), outcome].join('\n');
}

type TagsRead = { ok: true; tags: Record<string, string> | null } | { ok: false; error: string };
type Outcome = { matched: true; channel: string; detail: string } | { matched: false; detail: string };

async function evaluate(
  finding: RoutedFinding,
  ctx: RoutingContext,
  all: boolean,
): Promise<RouteExplanation> {
  let tagsRead: Promise<TagsRead> | undefined;
  const readTags = () => {
    tagsRead ??= Promise.resolve()
      .then(() => ctx.getTags())
      .then(
        (tags): TagsRead => ({ ok: true, tags }),
        (err: unknown): TagsRead => ({ ok: false, error: errorText(err) }),
      );
    return tagsRead;
  };

  const verdicts: RuleVerdict[] = [];
  let chosen: Route | undefined;
  for (const [i, rule] of ctx.rules.entries()) {
    const outcome = await evaluateRule(rule, finding, readTags);
    const index = i + 1;
    const label = ruleLabel(rule, index);
    verdicts.push({
      index,
      rule: rule.name ?? `rule #${index}`,
      matched: outcome.matched,
      ...(outcome.matched && { channel: outcome.channel }),
      detail: outcome.detail,
      text: `${label}: ${outcome.matched ? 'yes' : 'no'} — ${outcome.detail}`,
    });
    if (outcome.matched && !chosen) {
      chosen = {
        channel: outcome.channel,
        rule: rule.name ?? `rule #${index}`,
        reason: `${label}: ${outcome.detail}`,
      };
      if (!all) break;
    }
  }
  const route: Route = chosen ?? {
    channel: ctx.defaultChannel,
    rule: 'default',
    reason: DEFAULT_ROUTE_REASON,
  };

  // The owner e-mail comes along whenever tags were read anyway; routing never reads them just for it.
  if (tagsRead) {
    const read = await tagsRead;
    if (!read.ok) route.reason += ` (tags unreadable: ${read.error})`;
    else {
      const email = read.tags?.[ctx.tags.ownerEmailTag]?.trim();
      if (email && /^[^\s@]+@[^\s@]+$/.test(email)) route.ownerEmail = email;
    }
  }
  return { route, verdicts };
}

/**
 * The owners configured on the rule that routed a finding, from the rule label stored with it
 * (`routeRule`: the rule's name, or `rule #n`); none for the default route or a rule since removed.
 */
export function ruleOwners(
  rules: readonly RoutingRule[],
  routeRule: string | undefined,
): { users: string[]; userGroups: string[] } | undefined {
  if (!routeRule || routeRule === 'default') return undefined;
  const byName = rules.find((r) => r.name === routeRule);
  if (byName) return byName.owners;
  const n = /^rule #(\d+)$/.exec(routeRule);
  const rule = n ? rules[Number(n[1]) - 1] : undefined;
  return rule && !rule.name ? rule.owners : undefined;
}

function ruleLabel(rule: RoutingRule, index: number): string {
  return rule.name ? `rule '${rule.name}' (#${index})` : `rule #${index}`;
}

/** All conditions must hold; cheap ones first, so tags are read only when everything else matched. */
async function evaluateRule(
  rule: RoutingRule,
  finding: RoutedFinding,
  readTags: () => Promise<TagsRead>,
): Promise<Outcome> {
  const m = rule.match;
  const held: string[] = [];
  const listed: [string, string | string[] | undefined, string][] = [
    ['accountId', m.accountId, finding.accountId],
    ['region', m.region, finding.region],
    ['resourceType', m.resourceType, finding.resourceType],
    ['findingType', m.findingType, finding.findingType],
  ];
  for (const [field, wanted, actual] of listed) {
    if (wanted === undefined) continue;
    const list = toList(wanted);
    const inList = list.includes(actual);
    const text = `${field} ${actual} is ${inList ? '' : 'not '}in [${list.join(', ')}]`;
    if (!inList) return { matched: false, detail: text };
    held.push(text);
  }
  if (m.resourceArn !== undefined) {
    const globs = toList(m.resourceArn);
    const hit = globs.find((g) => matchesArnGlob(finding.resourceArn, g));
    if (hit === undefined) {
      return {
        matched: false,
        detail: `resourceArn ${finding.resourceArn} matches none of [${globs.join(', ')}]`,
      };
    }
    held.push(`resourceArn matches ${hit}`);
  }

  let channel = rule.channel;
  if (m.tag) {
    const { key, value: glob } = m.tag;
    const read = await readTags();
    if (!read.ok) return { matched: false, detail: `tags unreadable: ${read.error}` };
    if (read.tags === null) return { matched: false, detail: 'tags not readable for this resource' };
    const actual = read.tags[key];
    if (actual === undefined) return { matched: false, detail: `tag ${key} is not set` };
    if (glob !== undefined && !matchesValueGlob(actual, glob)) {
      return { matched: false, detail: `tag ${key} is '${actual}', wanted '${glob}'` };
    }
    let text =
      glob === undefined
        ? `tag ${key} is set ('${actual}')`
        : glob === actual
          ? `tag ${key} is '${actual}'`
          : `tag ${key} is '${actual}', matches '${glob}'`;
    if (channel === undefined) {
      const fromTag = channelFromTag(actual);
      if (!fromTag) {
        return {
          matched: false,
          detail: `tag ${key} is '${actual}', which is not a Slack channel (#name, name or C… id)`,
        };
      }
      channel = fromTag;
      text += `; channel ${fromTag} from the tag`;
    }
    held.push(text);
  }
  // The schema guarantees a channel or a tag; this keeps the type checker honest.
  if (channel === undefined) return { matched: false, detail: 'rule has no channel' };
  return { matched: true, channel, detail: held.join(' and ') };
}

/**
 * A tag value as a channel: `#name`, a channel id, or a bare lowercase name (AWS tag values cannot
 * contain `#`, so `payments-alerts` means `#payments-alerts`). Undefined when it is none of these.
 */
export function channelFromTag(value: string): string | undefined {
  const v = value.trim();
  if (CHANNEL.test(v)) return v;
  const named = `#${v}`;
  return CHANNEL.test(named) ? named : undefined;
}

const globCache = new Map<string, RegExp>();

/**
 * ARN globs: `*` and `?` stay within one segment (never cross `:` or `/`), `**` matches anything,
 * everything else is literal. `arn:aws:iam::*:role/*` matches roles at the root path only;
 * `arn:aws:iam::*:role/**` matches roles at any path.
 */
export function arnGlobToRegExp(glob: string): RegExp {
  return compileGlob(glob, '[^:/]');
}

export function matchesArnGlob(arn: string, glob: string): boolean {
  return arnGlobToRegExp(glob).test(arn);
}

/** Tag value globs: `*` any text, `?` one character, the rest literal. */
export function matchesValueGlob(value: string, glob: string): boolean {
  return compileGlob(glob, '.').test(value);
}

function compileGlob(glob: string, oneChar: string): RegExp {
  const cacheKey = `${oneChar}\u0000${glob}`;
  const cached = globCache.get(cacheKey);
  if (cached) return cached;
  let source = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === '*' && glob[i + 1] === '*') {
      source += '.*';
      while (glob[i + 1] === '*') i++;
    } else if (c === '*') source += `${oneChar}*`;
    else if (c === '?') source += oneChar;
    else source += c.replace(/[.+^${}()|[\]\\/-]/g, '\\$&');
  }
  const re = new RegExp(`^${source}$`, 's');
  if (globCache.size > 1000) globCache.clear();
  globCache.set(cacheKey, re);
  return re;
}

function toList<T>(v: T | T[]): T[] {
  return Array.isArray(v) ? v : [v];
}

function errorText(err: unknown): string {
  const text = err instanceof Error ? err.message || err.name : String(err);
  return text.length > 200 ? `${text.slice(0, 199)}…` : text;
}
