// What Access Analyzer does after a change to a resource it reports on: it analyzes the resource
// again, resolves the findings whose access is gone (archived ones too) and reports access that is
// back. The stand-in does it at the change for the state it models (a bucket's Block Public Access,
// a user's access keys and password, a role's trust policy); findings on resources it does not model
// are left as the data says. Written from the service's documented behaviour, not from the bot's code.
import type { SandboxData, SandboxFinding } from '../types.ts';

/** Findings this stand-in resolved itself, per data set: only those come back when access returns. */
const resolvedHere = new WeakMap<SandboxData, Set<string>>();

const asList = (v: unknown): string[] =>
  Array.isArray(v) ? v.map(String) : v === undefined ? [] : [String(v)];

const accountOf = (v: string) =>
  /^(\d{12})$/.exec(v)?.[1] ?? /^arn:aws[\w-]*:iam::(\d{12}):root$/.exec(v)?.[1];
const samePrincipal = (a: string, b: string) =>
  a === b || (accountOf(a) !== undefined && accountOf(a) === accountOf(b));

function externalPrincipals(f: SandboxFinding): [string, string][] {
  return (f.details ?? []).flatMap((d) => {
    const p = (d.externalAccessDetails as { principal?: Record<string, string> } | undefined)?.principal;
    return p ? Object.entries(p) : [];
  });
}

/** Whether the access the finding reports is still there; undefined when the stand-in does not model it. */
function stillGranted(data: SandboxData, f: SandboxFinding): boolean | undefined {
  const name = f.resource.split(':').pop()!.split('/').pop()!;
  if (f.findingType === 'ExternalAccess' && f.resourceType === 'AWS::S3::Bucket') {
    const bucket = data.buckets?.[f.resource.replace(/^arn:aws[\w-]*:s3:::/, '')];
    if (!bucket) return undefined;
    const isPublic = (f.details ?? []).some(
      (d) => (d.externalAccessDetails as { isPublic?: boolean } | undefined)?.isPublic,
    );
    if (!isPublic) return undefined;
    const b = bucket.publicAccessBlock;
    const acct = data.accountPublicAccessBlocks?.[bucket.account];
    // RestrictPublicBuckets stops public policy access, IgnorePublicAcls public ACL grants; S3 applies
    // the more restrictive of the bucket's and the account's setting.
    const on = (k: 'RestrictPublicBuckets' | 'IgnorePublicAcls') => Boolean(b?.[k] || acct?.[k]);
    return !(on('RestrictPublicBuckets') && on('IgnorePublicAcls'));
  }
  if (f.findingType === 'ExternalAccess' && f.resourceType === 'AWS::IAM::Role') {
    const role = data.roles.find((r) => r.account === f.resourceOwnerAccount && r.name === name);
    const doc = role?.assumeRolePolicyDocument;
    if (!doc) return role ? false : undefined;
    const external = externalPrincipals(f);
    const statements = Array.isArray(doc.Statement) ? doc.Statement : [doc.Statement];
    return (statements as Record<string, unknown>[]).some((st) => {
      if (st?.Effect !== 'Allow') return false;
      if (st.Principal === '*') return external.some(([, v]) => v === '*');
      return Object.entries((st.Principal ?? {}) as Record<string, unknown>).some(([k, v]) =>
        asList(v).some((value) => external.some(([ek, ev]) => ek === k && samePrincipal(value, ev))),
      );
    });
  }
  const user = data.users.find((u) => u.account === f.resourceOwnerAccount && u.name === name);
  if (f.findingType === 'UnusedIAMUserAccessKey') {
    if (!user?.accessKeys) return undefined;
    const keyId = (f.details ?? [])
      .map((d) => (d.unusedIamUserAccessKeyDetails as { accessKeyId?: string } | undefined)?.accessKeyId)
      .find(Boolean);
    return user.accessKeys.some((k) => k.id === keyId && k.status === 'Active');
  }
  if (f.findingType === 'UnusedIAMUserPassword') {
    if (!user || user.loginProfile === undefined) return undefined;
    return user.loginProfile !== null;
  }
  return undefined;
}

/** Analyzes `resourceArn` again after a change; returns the ids whose status changed. */
export function reanalyze(data: SandboxData, resourceArn: string, now = new Date()): string[] {
  let mine = resolvedHere.get(data);
  if (!mine) {
    mine = new Set();
    resolvedHere.set(data, mine);
  }
  const changed: string[] = [];
  for (const f of data.findings.all()) {
    if (f.resource !== resourceArn) continue;
    const granted = stillGranted(data, f);
    if (granted === false && f.status !== 'RESOLVED') {
      f.status = 'RESOLVED';
      f.updatedAt = now.toISOString();
      mine.add(f.id);
      changed.push(f.id);
    } else if (granted === true && f.status === 'RESOLVED' && mine.has(f.id)) {
      f.status = 'ACTIVE';
      f.updatedAt = now.toISOString();
      mine.delete(f.id);
      changed.push(f.id);
    }
  }
  return changed;
}
