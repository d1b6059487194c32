// The natural key of a finding: what makes two finding ids the same real problem. Each analyzer
// reports a problem under its own finding id (two unused-access analyzers, an account and an
// organisation analyzer, or a new delegated administrator's analyzers, which AWS says create "new
// instances of the same findings"), so the bot keeps one card per key, not per id. Pure; no I/O.
import { createHash } from 'node:crypto';
import type { AccessGrant, Finding } from './model.ts';

/** Sorted, so that the order AWS lists principals, actions or conditions in does not matter. */
function canonical(value: unknown): unknown {
  if (Array.isArray(value)) return [...value].map(canonical).sort(compareJson);
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value as Record<string, unknown>)
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
        .map(([k, v]) => [k, canonical(v)]),
    );
  }
  return value;
}

function compareJson(a: unknown, b: unknown): number {
  const x = JSON.stringify(a);
  const y = JSON.stringify(b);
  return x < y ? -1 : x > y ? 1 : 0;
}

/** Who gets which access under which conditions: what tells one access finding on a resource from another. */
function grantKey(g: AccessGrant): unknown {
  return { principal: g.principal, actions: g.actions, conditions: g.conditions };
}

/**
 * The parts that identify the problem, whichever analyzer reported it:
 * - every type: finding type, resource owner account, resource ARN (never the region or analyzer:
 *   unused access is not regional, and an account and an organisation analyzer see one resource);
 * - unused access key: the access key id (a user has up to two keys, each its own finding);
 * - external and internal access: the principals, actions and conditions granted (AWS makes one
 *   finding per distinct grant on a resource), not the sources, which may differ in wording;
 * - unused role, password and permissions: nothing more (AWS reports unused permissions as one
 *   finding per role or user, one detail per service namespace, and those details change as the
 *   principal uses or stops using services, so they must not split the card).
 */
export function naturalKeyParts(f: Pick<Finding, 'findingType' | 'accountId' | 'resourceArn' | 'details'>) {
  const base = { type: f.findingType, account: f.accountId, resource: f.resourceArn };
  const d = f.details;
  switch (d.kind) {
    case 'unusedAccessKey':
      return { ...base, accessKeyId: d.accessKeyId };
    case 'externalAccess':
    case 'internalAccess':
      return { ...base, grants: d.grants.map(grantKey) };
    default:
      return base;
  }
}

/** The key as a short, stable hash (16 hex characters; fits Redis's compact encodings). */
export function naturalKeyOf(
  f: Pick<Finding, 'findingType' | 'accountId' | 'resourceArn' | 'details'>,
): string {
  return createHash('sha256')
    .update(JSON.stringify(canonical(naturalKeyParts(f))))
    .digest('hex')
    .slice(0, 16);
}
