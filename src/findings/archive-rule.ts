// Archive rules made from a finding ("Archive similar"): the filter AWS's archive rules take, built
// from the finding's criteria, and the predicate that filter means, evaluated on stored cards the way
// Access Analyzer evaluates it (eq: one of the values; neq: none of them; contains: a value holds one
// of the strings; exists: the key has a value). Pure; no I/O.
import type { Finding, FindingType } from './model.ts';

export interface Criterion {
  eq?: string[];
  neq?: string[];
  contains?: string[];
  exists?: boolean;
}
export type ArchiveFilter = Record<string, Criterion>;

/** Values per list in one criterion (the API model: 1 to 20). */
export const MAX_CRITERION_VALUES = 20;
/** Archive rule names: the API model's pattern, 1 to 255 characters. */
export const RULE_NAME_PATTERN = /^[A-Za-z][A-Za-z0-9_.-]{0,254}$/;
/** Keys ListFindingsV2 takes that AWS refuses in an archive rule. */
export const NOT_IN_ARCHIVE_RULES: readonly string[] = ['status', 'id'];

/** Principal keys of the filter (IAM User Guide, "IAM Access Analyzer filter keys"). */
const PRINCIPAL_KEYS = new Set(['AWS', 'Federated']);
/** Condition keys the filter knows. */
const CONDITION_KEYS = new Set([
  'aws:PrincipalArn',
  'aws:PrincipalOrgID',
  'aws:PrincipalOrgPaths',
  'aws:SourceIp',
  'aws:SourceVpc',
  'aws:UserId',
  'kms:CallerAccount',
  'cognito-identity.amazonaws.com:aud',
  'graph.facebook.com:app_id',
  'accounts.google.com:aud',
  'www.amazon.com:app_id',
]);

const UNUSED_TYPES: readonly FindingType[] = [
  'UnusedIAMRole',
  'UnusedIAMUserAccessKey',
  'UnusedIAMUserPassword',
  'UnusedPermission',
];

/**
 * The detail values the filter can match on (principal.*, condition.*, isPublic), from every grant of
 * an access finding; empty for unused access. Stored with the card so a rule's matches can be counted
 * from the store.
 */
export function filterValuesOf(f: Pick<Finding, 'details'>): Record<string, string[]> {
  const out: Record<string, Set<string>> = {};
  const add = (key: string, v: string) => {
    const s = out[key] ?? new Set<string>();
    s.add(v);
    out[key] = s;
  };
  const d = f.details;
  if (d.kind !== 'externalAccess' && d.kind !== 'internalAccess') return {};
  if (d.kind === 'externalAccess') add('isPublic', String(d.isPublic));
  for (const g of d.grants) {
    for (const [k, v] of Object.entries(g.principal)) add(`principal.${k}`, v);
    for (const [k, v] of Object.entries(g.conditions)) add(`condition.${k}`, v);
  }
  return Object.fromEntries(Object.entries(out).map(([k, s]) => [k, [...s].sort()]));
}

/** A card as the matcher sees it: its summary fields and its stored detail values. */
export interface RuleSubject {
  findingType: string;
  resourceArn: string;
  resourceType: string;
  accountId: string;
  filterValues?: Record<string, string[]>;
}

export interface SimilarRule {
  filter: ArchiveFilter;
  /** Criteria of the finding the filter cannot express, in words (shown in the modal). */
  left: string[];
}

/**
 * The rule that archives findings like this one: the same resource type and owner account, the same
 * finding type for unused access (AWS filters by finding type only there), and for external and
 * internal access the same principals and conditions (the keys the filter has).
 */
export function similarRule(
  f: Pick<RuleSubject, 'findingType' | 'resourceType' | 'accountId' | 'filterValues'>,
): SimilarRule {
  const filter: ArchiveFilter = {
    resourceType: { eq: [f.resourceType] },
    resourceOwnerAccount: { eq: [f.accountId] },
  };
  const left: string[] = [];
  if ((UNUSED_TYPES as readonly string[]).includes(f.findingType))
    filter.findingType = { eq: [f.findingType] };
  for (const [key, values] of Object.entries(f.filterValues ?? {})) {
    const [group, ...rest] = key.split('.');
    const name = rest.join('.');
    const known =
      key === 'isPublic' ||
      (group === 'principal' && PRINCIPAL_KEYS.has(name)) ||
      (group === 'condition' && CONDITION_KEYS.has(name));
    if (!known) {
      left.push(`${key} (not an archive rule filter key)`);
      continue;
    }
    if (values.length === 0) continue;
    if (values.length > MAX_CRITERION_VALUES) {
      left.push(`${key} (${values.length} values; a criterion takes at most ${MAX_CRITERION_VALUES})`);
      continue;
    }
    filter[key] = { eq: [...values] };
  }
  return { filter, left };
}

/**
 * Why no rule "like this finding" can be made from it, or undefined. An access finding's rule is
 * narrowed by its principals and conditions; with none (AWS gave no details: an error finding, or
 * details that could not be read) it would be only the resource type and account, and archive every
 * finding of that type in the account, now and later.
 */
export function similarRuleProblem(
  f: Pick<RuleSubject, 'findingType' | 'resourceType' | 'accountId' | 'filterValues'>,
): string | undefined {
  if (f.findingType !== 'ExternalAccess' && f.findingType !== 'InternalAccess') return undefined;
  const narrowing = Object.entries(f.filterValues ?? {}).some(
    ([k, v]) => (k.startsWith('principal.') || k.startsWith('condition.')) && v.length > 0,
  );
  if (narrowing) return undefined;
  return `AWS gives no principals or conditions for this finding (GetFindingV2 has no details for it), so the rule would be only its resource type ${f.resourceType} and account ${f.accountId}, and would archive every ${f.findingType} finding on such resources there, now and later. Archive this finding on its own, or make a narrower rule in the AWS console.`;
}

/** Why AWS would refuse this filter in an archive rule, or undefined when it would not. */
export function archiveFilterProblem(filter: ArchiveFilter): string | undefined {
  const keys = Object.keys(filter);
  if (keys.length === 0) return 'an archive rule needs at least one criterion';
  for (const key of keys) {
    if (NOT_IN_ARCHIVE_RULES.includes(key)) return `archive rules cannot filter on \`${key}\``;
    const c = filter[key]!;
    const ops = (['eq', 'neq', 'contains'] as const).filter((op) => c[op] !== undefined);
    if (ops.length === 0 && c.exists === undefined) return `\`${key}\` has no eq, neq, contains or exists`;
    for (const op of ops) {
      const n = c[op]!.length;
      if (n < 1 || n > MAX_CRITERION_VALUES)
        return `\`${key}\` ${op} takes 1 to ${MAX_CRITERION_VALUES} values (got ${n})`;
    }
  }
  return undefined;
}

/** Why a rule name is not one AWS takes, or undefined. */
export function ruleNameProblem(name: string): string | undefined {
  if (RULE_NAME_PATTERN.test(name)) return undefined;
  return 'a rule name starts with a letter and has only letters, digits, `.`, `_` and `-` (at most 255)';
}

/** Filter keys a card's summary fields answer (the rest come from its stored detail values). */
const SUMMARY_KEYS = new Set(['resource', 'resourceType', 'resourceOwnerAccount', 'findingType']);

/** The values a card has for one filter key. */
function valuesOf(s: RuleSubject, key: string): string[] {
  switch (key) {
    case 'resource':
      return [s.resourceArn];
    case 'resourceType':
      return [s.resourceType];
    case 'resourceOwnerAccount':
      return [s.accountId];
    case 'findingType':
      return [s.findingType];
    default:
      return s.filterValues?.[key] ?? [];
  }
}

/**
 * Whether one criterion holds for the values a finding has under its key, as Access Analyzer
 * evaluates filters (ListFindingsV2 and archive rules alike): eq, one of the values; neq, none of
 * them; contains, a value holds one of the strings; exists, the key has a value. The sandbox's
 * Access Analyzer evaluates its filters with this too, so the two cannot drift apart.
 */
export function criterionHolds(c: Criterion, values: readonly string[]): boolean {
  if (c.eq && !values.some((v) => c.eq!.includes(v))) return false;
  if (c.neq && values.some((v) => c.neq!.includes(v))) return false;
  if (c.contains && !values.some((v) => c.contains!.some((x) => v.includes(x)))) return false;
  if (c.exists !== undefined && values.length > 0 !== c.exists) return false;
  return true;
}

/** Whether the filter matches the card, as AWS evaluates archive rules. */
export function filterMatches(filter: ArchiveFilter, s: RuleSubject): boolean {
  return Object.entries(filter).every(([key, c]) => criterionHolds(c, valuesOf(s, key)));
}

/** The finding type a filter restricts to (eq of one type), if it does. */
export function filterTypes(filter: ArchiveFilter): string[] | undefined {
  return filter.findingType?.eq;
}

/** An analyzer an archive rule belongs to: rules are named by analyzer name, applied by ARN. */
export interface RuleAnalyzerRef {
  arn: string;
  name: string;
  region: string;
}

/** The analyzer an ARN names (`…:analyzer/<name>`). */
export function analyzerOfArn(arn: string, region: string): RuleAnalyzerRef {
  const at = arn.indexOf(':analyzer/');
  return { arn, region, name: at < 0 ? arn : arn.slice(at + ':analyzer/'.length) };
}

export type SimilarCard = Pick<RuleSubject, 'findingType' | 'resourceType' | 'accountId' | 'filterValues'>;

/** A stored ACTIVE card as a rule's preview counts it: its summary, detail values and every finding id. */
export interface PreviewCandidate extends RuleSubject {
  id: string;
  members: readonly PreviewFinding[];
}

/** One finding id of a card: an archive rule in its analyzer archives it while it is ACTIVE there. */
export interface PreviewFinding {
  id: string;
  status: string;
  analyzerArn: string;
  region: string;
  /** Its analyzer was ACTIVE at the last listing (a DISABLED or gone one archives nothing). */
  live: boolean;
}

export interface SimilarPreview<C extends PreviewCandidate = PreviewCandidate> {
  filter: ArchiveFilter;
  left: string[];
  /** The cards the rule matches that have an ACTIVE finding it would archive. */
  matched: C[];
  /**
   * The distinct ACTIVE findings the rule would archive today: every id of every matched card in a
   * live analyzer the bot may write to (one card reported by two analyzers is two findings).
   */
  findings: PreviewFinding[];
  /**
   * ACTIVE cards stored before the bot kept their detail values that match everything else: the
   * rule may archive them too (each learns its values the next time it changes).
   */
  uncounted: number;
  /** The analyzers that hold them, the card's own first: where the rule is created and applied. */
  analyzers: RuleAnalyzerRef[];
}

/**
 * What a rule made from this card would archive today: the ACTIVE findings of the stored cards (of
 * its type and account) it matches, each counted once under its own id, and the analyzers holding
 * them. Service-linked analyzers are read-only and not live ones archive nothing: left out.
 */
export function previewSimilar<C extends PreviewCandidate>(
  card: SimilarCard,
  own: { analyzerArn: string; region: string },
  candidates: readonly C[],
  serviceLinked: ReadonlySet<string>,
): SimilarPreview<C> {
  const { filter, left } = similarRule(card);
  const archivable = (m: PreviewFinding) =>
    m.status === 'ACTIVE' && m.live && !serviceLinked.has(m.analyzerArn);
  const live = candidates.filter((c) => c.members.some(archivable));
  const matched = live.filter((c) => filterMatches(filter, c));
  const findings = new Map<string, PreviewFinding>();
  for (const c of matched) for (const m of c.members) if (archivable(m)) findings.set(m.id, m);
  const detailKeys = Object.keys(filter).filter((k) => !SUMMARY_KEYS.has(k));
  const summaryOnly = Object.fromEntries(Object.entries(filter).filter(([k]) => SUMMARY_KEYS.has(k)));
  const uncounted =
    detailKeys.length === 0
      ? 0
      : live.filter((c) => c.filterValues === undefined && filterMatches(summaryOnly, c)).length;
  const analyzers = new Map<string, RuleAnalyzerRef>([
    [own.analyzerArn, analyzerOfArn(own.analyzerArn, own.region)],
  ]);
  for (const m of findings.values()) {
    if (!analyzers.has(m.analyzerArn)) analyzers.set(m.analyzerArn, analyzerOfArn(m.analyzerArn, m.region));
  }
  return {
    filter,
    left,
    matched,
    findings: [...findings.values()],
    uncounted,
    analyzers: [...analyzers.values()],
  };
}
