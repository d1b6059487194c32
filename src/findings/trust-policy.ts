// Removing a finding's external principals from a role's trust policy (pure). A statement that keeps
// other principals keeps them; one left with none is dropped; a policy left with no statement at all
// denies the removed principals instead (IAM refuses a trust policy without a statement).
import type { AccessGrant } from './model.ts';

type Statement = Record<string, unknown>;

/** `123456789012` and `arn:aws:iam::123456789012:root` name the same principal. */
function samePrincipal(a: string, b: string): boolean {
  if (a === b) return true;
  const account = (v: string) =>
    /^(\d{12})$/.exec(v)?.[1] ?? /^arn:aws[\w-]*:iam::(\d{12}):root$/.exec(v)?.[1];
  const x = account(a);
  return x !== undefined && x === account(b);
}

const asList = (v: unknown): string[] =>
  Array.isArray(v) ? v.map(String) : v === undefined ? [] : [String(v)];

export interface TrustPolicyChange {
  /** The new document (JSON text), or null when it would be the same. */
  document: string | null;
  /** The principals taken out, as `key: value`. */
  removed: string[];
}

export function withoutPrincipals(documentText: string, grants: readonly AccessGrant[]): TrustPolicyChange {
  const doc = JSON.parse(documentText) as Record<string, unknown>;
  const external = grants.flatMap((g) => Object.entries(g.principal));
  const statements: Statement[] = Array.isArray(doc.Statement)
    ? (doc.Statement as Statement[])
    : doc.Statement && typeof doc.Statement === 'object'
      ? [doc.Statement as Statement]
      : [];
  const removed: string[] = [];
  const kept: Statement[] = [];
  const removedByKey: Record<string, string[]> = {};
  const note = (key: string, value: string) => {
    removedByKey[key] = [...(removedByKey[key] ?? []), value];
  };
  for (const st of statements) {
    if (st.Effect !== 'Allow' || st.Principal === undefined) {
      kept.push(st);
      continue;
    }
    if (st.Principal === '*') {
      if (external.some(([, v]) => v === '*')) {
        removed.push('*');
        note('AWS', '*');
        continue;
      }
      kept.push(st);
      continue;
    }
    const principal = st.Principal as Record<string, unknown>;
    const next: Record<string, string | string[]> = {};
    for (const [key, value] of Object.entries(principal)) {
      const values = asList(value);
      const left = values.filter((v) => {
        const hit = external.some(([k, e]) => k === key && samePrincipal(v, e));
        if (hit) {
          removed.push(`${key}: ${v}`);
          note(key, v);
        }
        return !hit;
      });
      if (left.length === values.length) next[key] = value as string | string[];
      else if (left.length > 0) next[key] = Array.isArray(value) || left.length > 1 ? left : left[0]!;
    }
    if (Object.keys(next).length > 0) kept.push({ ...st, Principal: next });
  }
  if (removed.length === 0) return { document: null, removed };
  const denied = Object.fromEntries(
    Object.entries(removedByKey).map(([k, v]) => [k, v.length === 1 ? v[0]! : [...new Set(v)]]),
  );
  const finalStatements =
    kept.length > 0 ? kept : [{ Effect: 'Deny', Principal: denied, Action: 'sts:AssumeRole' }];
  return { document: JSON.stringify({ ...doc, Statement: finalStatements }), removed };
}
