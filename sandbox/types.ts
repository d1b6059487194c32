// The in-memory organisation served by the AWS sandbox (sandbox/aws.ts). Everything here is live:
// the server reads it on every request, so tests and the demo change findings between scans by
// mutating it (or through FindingStore's helpers).
/** One element of GetFindingV2 `findingDetails` as JSON on the wire (timestamps as ISO-8601 strings). */
export type WireDetail = Record<string, unknown>;

export interface SandboxAccount {
  id: string;
  name: string;
}

export interface SandboxAnalyzer {
  arn: string;
  name: string;
  /** ACCOUNT | ORGANIZATION | ACCOUNT_UNUSED_ACCESS | ORGANIZATION_UNUSED_ACCESS | *_INTERNAL_ACCESS */
  type: string;
  region: string;
  /** The account that owns the analyzer (the delegated administrator for organisation analyzers). */
  account: string;
  createdAt: string;
  status: 'ACTIVE' | 'CREATING' | 'DISABLED' | 'FAILED';
  /** statusReason.code, e.g. SERVICE_LINKED_ROLE_CREATION_FAILED. */
  statusReason?: string;
  /** Service principal of a service-linked analyzer, e.g. securityhubv2.amazonaws.com. */
  managedBy?: string;
  lastResourceAnalyzed?: string;
  lastResourceAnalyzedAt?: string;
  tags?: Record<string, string>;
  /** GetAnalyzer only (ListAnalyzers omits it), e.g. `{ unusedAccess: { unusedAccessAge: 90 } }`. */
  configuration?: Record<string, unknown>;
  /** Archive rules (CreateArchiveRule): they archive new matching findings, ApplyArchiveRule existing ones. */
  archiveRules?: SandboxArchiveRule[];
}

export interface SandboxArchiveRule {
  ruleName: string;
  filter: Record<string, { eq?: string[]; neq?: string[]; contains?: string[]; exists?: boolean }>;
  createdAt: string;
  updatedAt: string;
}

export interface SandboxFinding {
  id: string;
  analyzerArn: string;
  resource: string;
  resourceType: string;
  resourceOwnerAccount: string;
  findingType: string;
  status: 'ACTIVE' | 'ARCHIVED' | 'RESOLVED';
  createdAt: string;
  updatedAt: string;
  analyzedAt: string;
  /** e.g. ACCESS_DENIED; such findings carry no details. */
  error?: string;
  /** findingDetails elements; when absent, SandboxData.detailsFor generates them. */
  details?: WireDetail[];
}

export interface SandboxTag {
  Key: string;
  Value: string;
}

export interface SandboxRole {
  account: string;
  name: string;
  path?: string;
  roleId?: string;
  createDate: string;
  description?: string;
  /** A policy document; served URL-encoded as IAM does. */
  assumeRolePolicyDocument?: Record<string, unknown>;
  maxSessionDuration?: number;
  tags?: Record<string, string>;
  lastUsed?: { date?: string; region?: string };
  permissionsBoundaryArn?: string;
  /** ARNs of attached managed policies, in ListAttachedRolePolicies order. */
  attachedPolicies?: string[];
  /** Inline policies by name, in ListRolePolicies order; documents are served URL-encoded. */
  inlinePolicies?: Record<string, Record<string, unknown>>;
}

/** An instance profile: its own entity in IAM, holding at most one role (by name, same account). */
export interface SandboxInstanceProfile {
  account: string;
  name: string;
  path?: string;
  instanceProfileId?: string;
  createDate: string;
  roles: string[];
}

export interface SandboxUser {
  account: string;
  name: string;
  path?: string;
  userId?: string;
  createDate: string;
  passwordLastUsed?: string;
  tags?: Record<string, string>;
  /** ARNs of attached managed policies (ListAttachedUserPolicies). */
  attachedPolicies?: string[];
  /** Inline policies by name (ListUserPolicies, GetUserPolicy). */
  inlinePolicies?: Record<string, Record<string, unknown>>;
  /** Names of the IAM groups the user is in (same account; ListGroupsForUser). */
  groups?: string[];
  /** Access keys (ListAccessKeys, UpdateAccessKey); when set, its unused-key findings follow them. */
  accessKeys?: SandboxAccessKey[];
  /**
   * The console password (GetLoginProfile ...): null for none. When set (null included), the user's
   * unused-password findings follow it.
   */
  loginProfile?: { createDate: string; passwordResetRequired: boolean } | null;
}

export interface SandboxAccessKey {
  id: string;
  status: 'Active' | 'Inactive';
  createDate: string;
  /** When the key last signed a request (GetAccessKeyLastUsed); absent: never. */
  lastUsed?: { date: string; service: string; region: string };
}

/** An S3 bucket's Block Public Access settings (S3 PublicAccessBlockConfiguration). */
export interface SandboxPublicAccessBlock {
  BlockPublicAcls: boolean;
  IgnorePublicAcls: boolean;
  BlockPublicPolicy: boolean;
  RestrictPublicBuckets: boolean;
}

/** An S3 bucket the S3 stand-in knows; its public findings follow its Block Public Access settings. */
export interface SandboxBucket {
  account: string;
  region: string;
  /** null (or absent): no configuration (GetPublicAccessBlock answers NoSuchPublicAccessBlockConfiguration). */
  publicAccessBlock?: SandboxPublicAccessBlock | null;
}

/** An IAM group and its policies (the user side of policy generation's comparison). */
export interface SandboxGroup {
  account: string;
  name: string;
  attachedPolicies?: string[];
  inlinePolicies?: Record<string, Record<string, unknown>>;
}

/** One policy generation (StartPolicyGeneration), as sandbox/aws/policy-tools.ts keeps it. */
export interface SandboxPolicyGeneration {
  jobId: string;
  account: string;
  principalArn: string;
  clientToken?: string;
  status: 'IN_PROGRESS' | 'SUCCEEDED' | 'FAILED' | 'CANCELED';
  startedOn: string;
  completedOn?: string;
  /** GetGeneratedPolicy calls answered so far. */
  polls: number;
  jobError?: { code: string; message: string };
  trails: Record<string, unknown>[];
  startTime: string;
  endTime: string;
}

/** How the sandbox's policy generation behaves. */
export interface SandboxPolicyTools {
  /** GetGeneratedPolicy answers IN_PROGRESS this many times before the outcome. Default 3. */
  pollsUntilDone?: number;
  /** Generations per account in 24 hours before 402 ServiceQuotaExceeded. Default 50. */
  dailyQuota?: number;
  /** Principals whose generation FAILS with this jobError. */
  failPrincipals?: Record<string, { code: string; message: string }>;
  /** Actions CloudTrail saw per principal ARN; default: every other action of its inline policies. */
  activity?: Record<string, string[]>;
  /** generatedPolicyResult.properties.isComplete; default true. */
  isComplete?: boolean;
}

/** A non-IAM resource, for the Resource Groups Tagging API. */
export interface SandboxResource {
  account: string;
  /** Omitted for global ARNs such as S3 buckets: found from every region. */
  region?: string;
  tags: Record<string, string>;
}

export interface SandboxData {
  /** The account of the base (non-assumed) credentials: the delegated administrator. */
  callerAccount: string;
  /** Name of the principal behind the base credentials (GetCallerIdentity). */
  callerUserName?: string;
  accounts: SandboxAccount[];
  regions: string[];
  analyzers: SandboxAnalyzer[];
  findings: FindingStore;
  roles: SandboxRole[];
  users: SandboxUser[];
  /** Instance profiles (ListInstanceProfilesForRole, AddRoleToInstanceProfile, ...). */
  instanceProfiles?: SandboxInstanceProfile[];
  /** Tags of non-IAM resources by ARN (Resource Groups Tagging API). */
  resources: Record<string, SandboxResource>;
  /** S3 buckets by name (GetPublicAccessBlock, PutPublicAccessBlock, DeletePublicAccessBlock). */
  buckets?: Record<string, SandboxBucket>;
  /**
   * Account-level Block Public Access by account id (S3 control; applies to every bucket of the
   * account). Absent or null: none (GetPublicAccessBlock answers NoSuchPublicAccessBlockConfiguration).
   */
  accountPublicAccessBlocks?: Record<string, SandboxPublicAccessBlock | null>;
  /** The role AssumeRole accepts in member accounts; ExternalId must match when set. */
  memberRole?: { name: string; externalId?: string };
  /**
   * When true, IAM and tagging reads see only the account of the credentials (member resources need
   * the assumed member role). When false (default), a read falls back to any account.
   */
  strictAccounts?: boolean;
  /** Details for findings stored without `details` (bulk data generates them from the id). */
  detailsFor?: (finding: SandboxFinding) => WireDetail[];
  /** Roles/users/resources not in the lists above, made up on demand (bulk data). */
  lookupRole?: (account: string, name: string) => SandboxRole | undefined;
  lookupUser?: (account: string, name: string) => SandboxUser | undefined;
  lookupResource?: (arn: string) => SandboxResource | undefined;
  /** Customer and AWS managed policy documents by ARN (GetPolicy, GetPolicyVersion). */
  managedPolicies?: Record<string, Record<string, unknown>>;
  /** IAM groups (ListGroupsForUser and the group policy reads). */
  groups?: SandboxGroup[];
  /** Policy generation behaviour (sandbox/aws/policy-tools.ts). */
  policyTools?: SandboxPolicyTools;
  /** Every policy generation started, live (tests cancel or inspect them). */
  policyGenerations?: SandboxPolicyGeneration[];
  /**
   * Finding recommendations by finding id, live (sandbox/aws/recommendations.ts): what
   * GetFindingRecommendation answers and what GenerateFindingRecommendation does next. Tests put a
   * record here to start from a given state; absent ones behave as the sandbox's own.
   */
  recommendations?: Record<string, SandboxRecommendationRecord>;
}

/** A recommended step as GetFindingRecommendation answers it. */
export interface WireRecommendedStep {
  unusedPermissionsRecommendedStep: {
    recommendedAction: 'CREATE_POLICY' | 'DETACH_POLICY';
    existingPolicyId?: string;
    recommendedPolicy?: string;
    policyUpdatedAt?: string;
  };
}

/** A recommendation AWS holds for a finding. */
export interface SandboxRecommendation {
  startedAt: string;
  /** Set when it is done; the sandbox sets it at the first answer after the IN_PROGRESS polls. */
  completedAt?: string;
  /** First-page GETs still answered IN_PROGRESS (Infinity: never done). */
  inProgressPolls: number;
  /** What it ends as; absent: the sandbox's own (FAILED for principals AWS does not support). */
  status?: 'SUCCEEDED' | 'FAILED';
  /** The error of a FAILED one; absent: the sandbox's own. */
  error?: { code: string; message: string };
  /** The steps of a SUCCEEDED one; absent: the sandbox's own for the role. */
  steps?: WireRecommendedStep[];
  /** At most this many steps per page whatever maxResults asks (AWS may answer fewer). */
  pageSize?: number;
}

export interface SandboxRecommendationRecord {
  /** What GetFindingRecommendation answers; absent: ResourceNotFoundException (none generated). */
  current?: SandboxRecommendation;
  /**
   * What GenerateFindingRecommendation does next (every time): refuse with `fault`, or replace
   * `current` with a new recommendation whose given fields are these (the others the sandbox's own:
   * started now, IN_PROGRESS for the sandbox's number of polls).
   */
  onGenerate?: { fault: { status: number; code: string; message: string } } | Partial<SandboxRecommendation>;
}

/**
 * Findings indexed by analyzer ARN (array order = ListFindingsV2 order) and by id.
 * Mutating a finding object in place (status, updatedAt) is seen by the next request too.
 */
export class FindingStore {
  private readonly byAnalyzer = new Map<string, SandboxFinding[]>();
  private readonly byId = new Map<string, SandboxFinding>();

  constructor(findings: Iterable<SandboxFinding> = []) {
    for (const f of findings) this.add(f);
  }

  get size(): number {
    return this.byId.size;
  }

  /** Adds a finding at the end of its analyzer's list; replaces one with the same id. */
  add(f: SandboxFinding): SandboxFinding {
    if (this.byId.has(f.id)) this.remove(f.id);
    let list = this.byAnalyzer.get(f.analyzerArn);
    if (!list) {
      list = [];
      this.byAnalyzer.set(f.analyzerArn, list);
    }
    list.push(f);
    this.byId.set(f.id, f);
    return f;
  }

  get(id: string): SandboxFinding | undefined {
    return this.byId.get(id);
  }

  /** Changes fields of a finding (e.g. `{ status: 'RESOLVED', updatedAt }`); throws if unknown. */
  update(id: string, patch: Partial<Omit<SandboxFinding, 'id' | 'analyzerArn'>>): SandboxFinding {
    const f = this.byId.get(id);
    if (!f) throw new Error(`sandbox: no finding ${id}`);
    Object.assign(f, patch);
    return f;
  }

  /** Deletes a finding (AWS deletes RESOLVED findings after 90 days, and error findings vanish). */
  remove(id: string): boolean {
    const f = this.byId.get(id);
    if (!f) return false;
    this.byId.delete(id);
    const list = this.byAnalyzer.get(f.analyzerArn);
    if (list) {
      const i = list.indexOf(f);
      if (i >= 0) list.splice(i, 1);
    }
    return true;
  }

  forAnalyzer(analyzerArn: string): readonly SandboxFinding[] {
    return this.byAnalyzer.get(analyzerArn) ?? [];
  }

  all(): IterableIterator<SandboxFinding> {
    return this.byId.values();
  }
}
