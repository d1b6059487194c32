// The domain model of a finding, independent of the AWS wire shapes (see normalize.ts) and of Slack.

export const FINDING_TYPES = [
  'ExternalAccess',
  'InternalAccess',
  'UnusedIAMRole',
  'UnusedIAMUserAccessKey',
  'UnusedIAMUserPassword',
  'UnusedPermission',
] as const;
export type FindingType = (typeof FINDING_TYPES)[number];

export const FINDING_STATUSES = ['ACTIVE', 'ARCHIVED', 'RESOLVED'] as const;
export type FindingStatus = (typeof FINDING_STATUSES)[number];

/** Analyzer families: external and internal access, and unused access. */
export type AnalyzerKind = 'external' | 'internal' | 'unused';

/** Access granted by a policy: one element of `findingDetails` for external and internal access. */
export interface AccessGrant {
  /** e.g. `{ AWS: '999988887777' }` or `{ AWS: '*' }`. */
  principal: Record<string, string>;
  actions: string[];
  conditions: Record<string, string>;
  /** POLICY, BUCKET_ACL, S3_ACCESS_POINT, ... */
  sources: string[];
  /** Internal access only. */
  principalOwnerAccount?: string;
  accessType?: string; // INTRA_ACCOUNT | INTRA_ORG
  principalType?: string; // IAM_ROLE | IAM_USER
}

export interface UnusedService {
  serviceNamespace: string;
  lastAccessed?: string; // ISO-8601
  actions: { action: string; lastAccessed?: string }[];
}

export type FindingDetails =
  | { kind: 'externalAccess'; isPublic: boolean; grants: AccessGrant[] }
  | { kind: 'internalAccess'; grants: AccessGrant[] }
  | { kind: 'unusedRole'; lastAccessed?: string }
  | { kind: 'unusedAccessKey'; accessKeyId: string; lastAccessed?: string }
  | { kind: 'unusedPassword'; lastAccessed?: string }
  | { kind: 'unusedPermission'; services: UnusedService[] };

/** What ListFindingsV2 returns for one finding: enough to diff, not enough to show. */
export interface FindingSummary {
  id: string;
  analyzerArn: string;
  region: string;
  accountId: string; // resourceOwnerAccount
  resourceArn: string;
  resourceType: string;
  findingType: FindingType;
  status: FindingStatus;
  createdAt: string; // ISO-8601
  updatedAt: string; // ISO-8601
  analyzedAt?: string;
  error?: string;
  /**
   * The service that manages the analyzer that reported it (a service-linked analyzer, such as
   * Security Hub's): AWS keeps such findings read-only, so nothing may archive them from here.
   */
  managedBy?: string;
}

/** A finding with its details (GetFindingV2, all detail pages). */
export interface Finding extends FindingSummary {
  details: FindingDetails;
}

export const SEVERITIES = ['critical', 'high', 'medium', 'low', 'info'] as const;
export type Severity = (typeof SEVERITIES)[number];

/**
 * What kind of exposure a finding is, in the order of how bad it is by default.
 * Severity is derived from the category and can be overridden per category in config.
 */
export const SEVERITY_CATEGORIES = [
  'public-access',
  'cross-account-access',
  'internal-access',
  'unused-role',
  'unused-credential',
  'unused-permission',
] as const;
export type SeverityCategory = (typeof SEVERITY_CATEGORIES)[number];

/** Where a finding's messages go, and why. */
export interface Route {
  channel: string;
  /** Name of the routing rule that matched, or `default`. */
  rule: string;
  /** Human-readable explanation of the match (shown by `access-patrol owners`). */
  reason: string;
  /** Owner e-mail from the owner tag, when the resource carries one. */
  ownerEmail?: string;
}

/** Analyzer as discovered by ListAnalyzers. */
export interface AnalyzerInfo {
  arn: string;
  name: string;
  type: string; // ACCOUNT | ORGANIZATION | ACCOUNT_UNUSED_ACCESS | ...
  kind: AnalyzerKind;
  region: string;
  status: string; // ACTIVE | CREATING | DISABLED | FAILED
  statusReason?: string;
  managedBy?: string;
}

export function analyzerKindOf(type: string): AnalyzerKind {
  if (type.endsWith('_UNUSED_ACCESS')) return 'unused';
  if (type.endsWith('_INTERNAL_ACCESS')) return 'internal';
  return 'external';
}

/** The account id inside an analyzer or resource ARN (`arn:aws:svc:region:acct:...`), if any. */
export function accountOfArn(arn: string): string | undefined {
  const part = arn.split(':')[4];
  return part && /^\d{12}$/.test(part) ? part : undefined;
}
