// What the AWS page of `npm run try` shows and changes in the AWS sandbox's live data: analyzers per
// region, findings with their status, IAM roles with everything a backup must bring back, and S3
// buckets with their public access. The changes are the ones a person would make in AWS, followed by
// what IAM Access Analyzer then does: making a bucket public creates an ACTIVE finding, removing the
// grant resolves it, using an unused role resolves its unused-role finding.
import { randomUUID } from 'node:crypto';
import type { SandboxAnalyzer, SandboxData, SandboxFinding, SandboxRole } from './types.ts';

export interface ConsoleAnalyzer {
  arn: string;
  name: string;
  type: string;
  status: string;
  statusReason?: string;
  managedBy?: string;
}

export interface ConsoleFinding {
  id: string;
  region: string;
  analyzer: string;
  findingType: string;
  resource: string;
  resourceType: string;
  account: string;
  status: SandboxFinding['status'];
  updatedAt: string;
}

export interface ConsoleRole {
  account: string;
  name: string;
  arn: string;
  roleId: string;
  createDate: string;
  lastUsed?: string;
  /** Everything a restore must bring back, as JSON (no id, creation date or last use: IAM sets those). */
  definition: string;
}

export interface ConsoleBucket {
  arn: string;
  name: string;
  account: string;
  /** An ACTIVE finding says it is public (from any external access analyzer). */
  public: boolean;
}

export interface ConsoleState {
  regions: { region: string; analyzers: ConsoleAnalyzer[] }[];
  findings: ConsoleFinding[];
  roles: ConsoleRole[];
  buckets: ConsoleBucket[];
}

const EXTERNAL_TYPES = new Set(['ACCOUNT', 'ORGANIZATION']);
/** The analyzer kinds a person can add, by the name the page shows. */
export const ANALYZER_KINDS = {
  external: { type: 'ORGANIZATION', name: 'org-external' },
  internal: { type: 'ORGANIZATION_INTERNAL_ACCESS', name: 'org-internal' },
  unused: { type: 'ORGANIZATION_UNUSED_ACCESS', name: 'org-unused' },
} as const;
export type AnalyzerKind = keyof typeof ANALYZER_KINDS;

const bucketName = (arn: string) => arn.replace(/^arn:aws:s3:::/, '');
const isPublicFinding = (f: SandboxFinding) =>
  (f.details ?? []).some(
    (d) => (d.externalAccessDetails as { isPublic?: boolean } | undefined)?.isPublic === true,
  );

export function roleArn(r: SandboxRole): string {
  return `arn:aws:iam::${r.account}:role${r.path ?? '/'}${r.name}`;
}

/** The role as IAM would describe it, minus what IAM assigns itself (id, dates, last use). */
export function roleDefinition(data: SandboxData, r: SandboxRole): Record<string, unknown> {
  return {
    path: r.path ?? '/',
    name: r.name,
    description: r.description ?? null,
    maxSessionDuration: r.maxSessionDuration ?? 3600,
    permissionsBoundaryArn: r.permissionsBoundaryArn ?? null,
    assumeRolePolicyDocument: r.assumeRolePolicyDocument ?? null,
    tags: Object.fromEntries(Object.entries(r.tags ?? {}).sort(([a], [b]) => a.localeCompare(b))),
    attachedPolicies: [...(r.attachedPolicies ?? [])].sort(),
    inlinePolicies: Object.fromEntries(
      Object.entries(r.inlinePolicies ?? {}).sort(([a], [b]) => a.localeCompare(b)),
    ),
    instanceProfiles: (data.instanceProfiles ?? [])
      .filter((ip) => ip.account === r.account && ip.roles.includes(r.name))
      .map((ip) => ip.name)
      .sort(),
  };
}

export function consoleState(data: SandboxData): ConsoleState {
  const analyzerOf = new Map(data.analyzers.map((a) => [a.arn, a]));
  const findings = [...data.findings.all()].map((f): ConsoleFinding => {
    const a = analyzerOf.get(f.analyzerArn);
    return {
      id: f.id,
      region: a?.region ?? '',
      analyzer: a?.name ?? f.analyzerArn,
      findingType: f.findingType,
      resource: f.resource,
      resourceType: f.resourceType,
      account: f.resourceOwnerAccount,
      status: f.status,
      updatedAt: f.updatedAt,
    };
  });
  const bucketArns = new Set<string>();
  for (const arn of Object.keys(data.resources)) if (arn.startsWith('arn:aws:s3:::')) bucketArns.add(arn);
  for (const f of data.findings.all()) if (f.resourceType === 'AWS::S3::Bucket') bucketArns.add(f.resource);
  const buckets = [...bucketArns].sort().map(
    (arn): ConsoleBucket => ({
      arn,
      name: bucketName(arn),
      account:
        data.resources[arn]?.account ??
        [...data.findings.all()].find((f) => f.resource === arn)?.resourceOwnerAccount ??
        '',
      public: [...data.findings.all()].some(
        (f) =>
          f.resource === arn &&
          f.status === 'ACTIVE' &&
          EXTERNAL_TYPES.has(analyzerOf.get(f.analyzerArn)?.type ?? '') &&
          !analyzerOf.get(f.analyzerArn)?.managedBy &&
          isPublicFinding(f),
      ),
    }),
  );
  return {
    regions: data.regions.map((region) => ({
      region,
      analyzers: data.analyzers
        .filter((a) => a.region === region)
        .map((a) => ({
          arn: a.arn,
          name: a.name,
          type: a.type,
          status: a.status,
          ...(a.statusReason && { statusReason: a.statusReason }),
          ...(a.managedBy && { managedBy: a.managedBy }),
        })),
    })),
    findings,
    roles: data.roles.map((r) => ({
      account: r.account,
      name: r.name,
      arn: roleArn(r),
      roleId: r.roleId ?? '(assigned by IAM)',
      createDate: r.createDate,
      ...(r.lastUsed?.date && { lastUsed: r.lastUsed.date }),
      definition: JSON.stringify(roleDefinition(data, r), null, 2),
    })),
    buckets,
  };
}

/** The external access analyzer that reports on a bucket (its region's, the first ACTIVE one). */
function externalAnalyzer(data: SandboxData): SandboxAnalyzer {
  const a = data.analyzers.find((x) => EXTERNAL_TYPES.has(x.type) && x.status === 'ACTIVE' && !x.managedBy);
  if (!a) throw new Error('no ACTIVE external access analyzer: add one first');
  return a;
}

/**
 * A bucket policy now grants s3:GetObject to everyone; Access Analyzer reports it as a new ACTIVE
 * public finding. Returns the finding id (the existing one when the bucket is already public).
 */
export function makeBucketPublic(data: SandboxData, arn: string, now = new Date()): string {
  if (!arn.startsWith('arn:aws:s3:::')) throw new Error(`not a bucket ARN: ${arn}`);
  const analyzer = externalAnalyzer(data);
  const open = [...data.findings.all()].find(
    (f) =>
      f.resource === arn && f.analyzerArn === analyzer.arn && f.status === 'ACTIVE' && isPublicFinding(f),
  );
  if (open) return open.id;
  const at = now.toISOString();
  const account = data.resources[arn]?.account ?? data.accounts[1]?.id ?? data.callerAccount;
  data.resources[arn] ??= { account, tags: {} };
  const finding = data.findings.add({
    id: randomUUID(),
    analyzerArn: analyzer.arn,
    resource: arn,
    resourceType: 'AWS::S3::Bucket',
    resourceOwnerAccount: account,
    findingType: 'ExternalAccess',
    status: 'ACTIVE',
    createdAt: at,
    updatedAt: at,
    analyzedAt: at,
    details: [
      {
        externalAccessDetails: {
          action: ['s3:GetObject'],
          condition: {},
          isPublic: true,
          principal: { AWS: '*' },
          sources: [{ type: 'POLICY' }],
          resourceControlPolicyRestriction: 'NOT_APPLICABLE',
        },
      },
    ],
  });
  return finding.id;
}

/** The public grant is removed: Access Analyzer resolves the bucket's public findings (archived ones too). */
export function removePublicGrant(data: SandboxData, arn: string, now = new Date()): string[] {
  const resolved: string[] = [];
  for (const f of data.findings.all()) {
    if (f.resource !== arn || f.status === 'RESOLVED' || !isPublicFinding(f)) continue;
    f.status = 'RESOLVED';
    f.updatedAt = now.toISOString();
    resolved.push(f.id);
  }
  return resolved;
}

/** Someone uses the role now: its last use moves, and its unused-role findings are resolved. */
export function useRoleNow(data: SandboxData, account: string, name: string, now = new Date()): string[] {
  const role = data.roles.find((r) => r.account === account && r.name === name);
  if (!role) throw new Error(`no role ${name} in account ${account}`);
  role.lastUsed = { date: now.toISOString(), region: role.lastUsed?.region ?? data.regions[0] };
  const arn = roleArn(role);
  const resolved: string[] = [];
  for (const f of data.findings.all()) {
    if (f.resource !== arn || f.findingType !== 'UnusedIAMRole' || f.status === 'RESOLVED') continue;
    f.status = 'RESOLVED';
    f.updatedAt = now.toISOString();
    resolved.push(f.id);
  }
  return resolved;
}

/** Creates an ACTIVE organisation analyzer of a kind in a region (once; a second add changes nothing). */
export function addAnalyzer(data: SandboxData, region: string, kind: AnalyzerKind, now = new Date()): string {
  if (!data.regions.includes(region)) throw new Error(`unknown region ${region}`);
  const spec = ANALYZER_KINDS[kind];
  if (!spec) throw new Error(`unknown analyzer kind ${kind}`);
  const existing = data.analyzers.find((a) => a.region === region && a.type === spec.type && !a.managedBy);
  if (existing) return existing.arn;
  const arn = `arn:aws:access-analyzer:${region}:${data.callerAccount}:analyzer/${spec.name}`;
  data.analyzers.push({
    arn,
    name: spec.name,
    type: spec.type,
    region,
    account: data.callerAccount,
    createdAt: now.toISOString(),
    status: 'ACTIVE',
    tags: {},
    ...(kind === 'unused' && { configuration: { unusedAccess: { unusedAccessAge: 90 } } }),
  });
  return arn;
}
