// Pure reading of IAM policy documents: which actions their Allow statements name, whether one set of
// actions is covered by another (IAM wildcards `*` and `?`, case-insensitive), and merging several
// documents into one for CheckNoNewAccess.
//
// Counting: an action entry is counted once however many statements name it. A wildcard entry such as
// `s3:Get*` or `*` cannot be expanded without the full AWS action catalogue, so it counts as one entry
// and is listed separately; "keeps K of N" compares the generated actions with those N entries.

export interface PolicyActions {
  /** Distinct Allow actions (compared case-insensitively, spelled as first seen), in first-seen order. */
  actions: string[];
  /** Allow statements using NotAction: they grant "everything but", which cannot be counted. */
  notActionStatements: number;
  /** Documents that were not valid JSON policies. */
  unreadable: number;
}

type Statement = Record<string, unknown>;

function statementsOf(doc: unknown): Statement[] {
  if (!doc || typeof doc !== 'object') return [];
  const s = (doc as { Statement?: unknown }).Statement;
  if (Array.isArray(s)) return s.filter((x): x is Statement => !!x && typeof x === 'object');
  return s && typeof s === 'object' ? [s as Statement] : [];
}

const asList = (v: unknown): string[] =>
  typeof v === 'string' ? [v] : Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];

/** The Allow actions of one or more documents (JSON text). */
export function allowedActions(documents: readonly string[]): PolicyActions {
  const seen = new Set<string>();
  const out: PolicyActions = { actions: [], notActionStatements: 0, unreadable: 0 };
  for (const text of documents) {
    let doc: unknown;
    try {
      doc = JSON.parse(text);
    } catch {
      out.unreadable++;
      continue;
    }
    for (const st of statementsOf(doc)) {
      if (st.Effect !== 'Allow') continue;
      if (st.NotAction !== undefined) out.notActionStatements++;
      for (const a of asList(st.Action)) {
        const key = a.trim().toLowerCase();
        if (key && !seen.has(key)) {
          seen.add(key);
          out.actions.push(a.trim());
        }
      }
    }
  }
  return out;
}

export function isWildcard(action: string): boolean {
  return action.includes('*') || action.includes('?');
}

function pattern(action: string): RegExp {
  const body = action
    .toLowerCase()
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  return new RegExp(`^${body}$`);
}

/** True when `action` (a concrete action or a pattern) is granted by one of `grants`. */
export function coveredBy(action: string, grants: readonly string[]): boolean {
  const a = action.toLowerCase();
  return grants.some((g) => g.toLowerCase() === a || (isWildcard(g) && pattern(g).test(a)));
}

export interface ActionComparison {
  /** Distinct actions in the generated policy. */
  generated: number;
  /** Services (prefixes) of those actions. */
  services: number;
  /** Distinct Allow action entries the principal holds today (a wildcard counts once). */
  current: number;
  /** Today's wildcard entries (e.g. `s3:Get*`, `*`). */
  currentWildcards: string[];
  /** Generated actions already granted today: the "kept" count. */
  kept: number;
  /** Generated actions not granted by today's policies (CheckNoNewAccess would fail on them). */
  notCovered: string[];
  notActionStatements: number;
}

export function compareActions(
  generatedDocs: readonly string[],
  currentDocs: readonly string[],
): ActionComparison {
  const gen = allowedActions(generatedDocs);
  const cur = allowedActions(currentDocs);
  const notCovered = gen.actions.filter((a) => !coveredBy(a, cur.actions));
  return {
    generated: gen.actions.length,
    services: new Set(gen.actions.map((a) => a.split(':')[0]!.toLowerCase())).size,
    current: cur.actions.length,
    currentWildcards: cur.actions.filter(isWildcard),
    kept: gen.actions.length - notCovered.length,
    notCovered,
    notActionStatements: cur.notActionStatements,
  };
}

/**
 * One document holding every statement of `documents` (unreadable ones skipped). Sids are dropped:
 * two policies may use the same Sid, which a single document may not.
 */
export function combinePolicies(documents: readonly string[]): string {
  const statements: Statement[] = [];
  for (const text of documents) {
    try {
      for (const st of statementsOf(JSON.parse(text))) {
        const { Sid: _sid, ...rest } = st;
        statements.push(rest);
      }
    } catch {
      // skipped: not JSON
    }
  }
  return JSON.stringify({ Version: '2012-10-17', Statement: statements });
}
