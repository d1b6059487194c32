// Access Analyzer policy tools, which belong to no analyzer: least-privilege policy generation from
// CloudTrail, ValidatePolicy, CheckNoNewAccess and CheckNoPublicAccess, plus what an IAM role or user
// holds today (attached managed policies' default versions and inline policies). Every call runs in the
// principal's account (through the member role, as other gateways do) and in one region.
import {
  CancelPolicyGenerationCommand,
  CheckNoNewAccessCommand,
  CheckNoPublicAccessCommand,
  GetGeneratedPolicyCommand,
  StartPolicyGenerationCommand,
  ValidatePolicyCommand,
  type ValidatePolicyFinding,
} from '@aws-sdk/client-accessanalyzer';
import {
  GetGroupPolicyCommand,
  GetPolicyCommand,
  GetPolicyVersionCommand,
  GetUserPolicyCommand,
  ListAttachedGroupPoliciesCommand,
  ListAttachedUserPoliciesCommand,
  ListGroupPoliciesCommand,
  ListGroupsForUserCommand,
  ListUserPoliciesCommand,
} from '@aws-sdk/client-iam';
import type { AwsClients } from './clients.ts';
import { AwsError, toAwsError } from './errors.ts';
import type { IamGateway } from './iam.ts';
import { iamNameOf } from './tags.ts';

export type PolicyType =
  | 'IDENTITY_POLICY'
  | 'RESOURCE_POLICY'
  | 'SERVICE_CONTROL_POLICY'
  | 'RESOURCE_CONTROL_POLICY';

/** CheckNoPublicAccess `resourceType` values (AccessCheckResourceType). */
export const PUBLIC_ACCESS_RESOURCE_TYPES = [
  'AWS::S3::Bucket',
  'AWS::S3::AccessPoint',
  'AWS::S3::Glacier',
  'AWS::S3Express::DirectoryBucket',
  'AWS::S3Express::AccessPoint',
  'AWS::S3Outposts::Bucket',
  'AWS::S3Outposts::AccessPoint',
  'AWS::S3Tables::Table',
  'AWS::S3Tables::TableBucket',
  'AWS::KMS::Key',
  'AWS::SecretsManager::Secret',
  'AWS::SNS::Topic',
  'AWS::SQS::Queue',
  'AWS::Lambda::Function',
  'AWS::DynamoDB::Table',
  'AWS::DynamoDB::Stream',
  'AWS::EFS::FileSystem',
  'AWS::OpenSearchService::Domain',
  'AWS::Kinesis::Stream',
  'AWS::Kinesis::StreamConsumer',
  'AWS::IAM::AssumeRolePolicyDocument',
  'AWS::ApiGateway::RestApi',
  'AWS::CodeArtifact::Domain',
  'AWS::Backup::BackupVault',
  'AWS::CloudTrail::Dashboard',
  'AWS::CloudTrail::EventDataStore',
] as const;
export type PublicAccessResourceType = (typeof PUBLIC_ACCESS_RESOURCE_TYPES)[number];

/** ValidatePolicy `validatePolicyResourceType` values: resource-specific checks of a resource policy. */
export const VALIDATE_RESOURCE_TYPES = [
  'AWS::S3::Bucket',
  'AWS::S3::AccessPoint',
  'AWS::S3::MultiRegionAccessPoint',
  'AWS::S3ObjectLambda::AccessPoint',
  'AWS::IAM::AssumeRolePolicyDocument',
  'AWS::DynamoDB::Table',
] as const;

export interface TrailSpec {
  cloudTrailArn: string;
  /** Regions of the trail to read; absent with `allRegions: true` for every region. */
  regions?: string[];
  allRegions?: boolean;
}

export interface StartGenerationInput {
  accountId: string;
  region: string;
  principalArn: string;
  trails: TrailSpec[];
  /** The service role Access Analyzer assumes to read the trail. */
  accessRoleArn: string;
  startTime: Date;
  endTime?: Date;
  /** Makes a retried start the same request. */
  clientToken: string;
}

export type GenerationStatus = 'IN_PROGRESS' | 'SUCCEEDED' | 'FAILED' | 'CANCELED';

export interface GeneratedPolicyResult {
  status: GenerationStatus;
  startedOn?: Date;
  completedOn?: Date;
  /** jobError of a FAILED generation, e.g. AUTHORIZATION_ERROR. */
  error?: { code: string; message: string };
  /** False when CloudTrail did not cover the whole requested range (or some regions). */
  isComplete?: boolean;
  /** The generated policy documents (JSON text); more than one when a single one would be too large. */
  policies: string[];
}

export interface PolicyFinding {
  findingType: 'ERROR' | 'SECURITY_WARNING' | 'WARNING' | 'SUGGESTION';
  issueCode: string;
  details: string;
  learnMoreLink: string;
  /** How many places in the document it was found at. */
  locations: number;
}

export interface CheckResult {
  result: 'PASS' | 'FAIL';
  message: string;
  reasons: { description: string; statementIndex?: number; statementId?: string }[];
}

export interface PrincipalPolicies {
  principalArn: string;
  kind: 'role' | 'user';
  /**
   * Managed policies with their default version's document; `error` when it could not be read.
   * `via` names the group a user holds it through.
   */
  attached: { arn: string; name: string; document?: string; error?: string; via?: string }[];
  inline: { name: string; document: string; via?: string }[];
}

export interface PolicyGateway {
  /** StartPolicyGeneration; returns the AWS job id. Conflict (one at a time) and quota are AwsErrors. */
  startGeneration(input: StartGenerationInput): Promise<string>;
  getGeneratedPolicy(accountId: string, region: string, jobId: string): Promise<GeneratedPolicyResult>;
  cancelGeneration(accountId: string, region: string, jobId: string): Promise<void>;
  /** Every page of ValidatePolicy findings. */
  validatePolicy(input: {
    accountId?: string;
    region: string;
    document: string;
    policyType: PolicyType;
    validatePolicyResourceType?: string;
  }): Promise<PolicyFinding[]>;
  checkNoNewAccess(input: {
    accountId?: string;
    region: string;
    newDocument: string;
    existingDocument: string;
    policyType: 'IDENTITY_POLICY' | 'RESOURCE_POLICY';
  }): Promise<CheckResult>;
  checkNoPublicAccess(input: {
    accountId?: string;
    region: string;
    document: string;
    resourceType: PublicAccessResourceType;
  }): Promise<CheckResult>;
  /** What a role or user holds today; null when it no longer exists. */
  principalPolicies(principalArn: string): Promise<PrincipalPolicies | null>;
}

/** `arn:aws:iam::123456789012:role/x` → `{ accountId, kind: 'role', name: 'x' }`; null for anything else. */
export function parsePrincipalArn(
  arn: string,
): { accountId: string; kind: 'role' | 'user'; name: string } | null {
  const m = /^arn:aws[-a-z]*:iam::(\d{12}):(role|user)\/\S+$/.exec(arn);
  if (!m) return null;
  return { accountId: m[1]!, kind: m[2] as 'role' | 'user', name: iamNameOf(arn) };
}

/** AWS error codes mapped to a plain explanation of what they mean for policy generation. */
function policyError(err: unknown, operation: string, accountId: string | undefined): AwsError {
  const e = toAwsError(err, operation);
  const status = (err as { $metadata?: { httpStatusCode?: number } })?.$metadata?.httpStatusCode;
  const where = accountId ? ` in account ${accountId}` : '';
  if (e.kind === 'conflict' || status === 409) {
    return new AwsError(
      'conflict',
      operation,
      e.code,
      `another policy generation is running${where} (AWS runs one at a time per account): ${e.message}`,
      e.retryAfterSeconds,
    );
  }
  if (e.kind === 'quota' || status === 402) {
    return new AwsError(
      'quota',
      operation,
      e.code,
      `the daily limit of policy generations${where} is reached (canceled ones count): ${e.message}`,
      e.retryAfterSeconds,
    );
  }
  return e;
}

/** IAM returns policy documents URL-encoded (RFC 3986). */
function decodeDocument(encoded: string): string {
  try {
    return decodeURIComponent(encoded);
  } catch {
    return encoded;
  }
}

export function createPolicyGateway(
  clients: Pick<AwsClients, 'accessAnalyzerIn' | 'accessAnalyzer' | 'iam'>,
  iam: Pick<IamGateway, 'inspectRole'>,
): PolicyGateway {
  const aa = (region: string, accountId: string | undefined) =>
    accountId ? clients.accessAnalyzerIn(region, accountId) : clients.accessAnalyzer(region);

  const check = (out: {
    result?: string;
    message?: string;
    reasons?: { description?: string; statementIndex?: number; statementId?: string }[];
  }): CheckResult => ({
    result: out.result === 'PASS' ? 'PASS' : 'FAIL',
    message: out.message ?? '',
    reasons: (out.reasons ?? []).map((r) => ({
      description: r.description ?? '',
      ...(r.statementIndex !== undefined ? { statementIndex: r.statementIndex } : {}),
      ...(r.statementId ? { statementId: r.statementId } : {}),
    })),
  });

  /** Default version of a managed policy; an unreadable one is reported, not fatal. */
  const managedDocument = async (
    accountId: string,
    arn: string,
  ): Promise<{ document?: string; error?: string }> => {
    const client = clients.iam(accountId);
    try {
      const { Policy } = await client.send(new GetPolicyCommand({ PolicyArn: arn }));
      const versionId = Policy?.DefaultVersionId;
      if (!versionId) return { error: 'no default version' };
      const { PolicyVersion } = await client.send(
        new GetPolicyVersionCommand({ PolicyArn: arn, VersionId: versionId }),
      );
      return PolicyVersion?.Document
        ? { document: decodeDocument(PolicyVersion.Document) }
        : { error: 'empty document' };
    } catch (err) {
      const e = toAwsError(err, 'IAM.GetPolicyVersion');
      if (e.kind === 'throttled' || e.kind === 'unavailable') throw e;
      return { error: `${e.code}: ${e.message}` };
    }
  };

  /** Follows Marker/IsTruncated over every page of an IAM list. */
  const allPages = async <T>(
    fetch: (marker: string | undefined) => Promise<{ IsTruncated?: boolean; Marker?: string; items?: T[] }>,
  ): Promise<T[]> => {
    const all: T[] = [];
    let marker: string | undefined;
    do {
      const out = await fetch(marker);
      all.push(...(out.items ?? []));
      marker = out.IsTruncated ? out.Marker : undefined;
    } while (marker);
    return all;
  };
  const withMarker = (marker: string | undefined) => (marker ? { Marker: marker } : {});

  /** A user's own policies and those of every group it is in (which it holds as well). */
  const userPolicies = async (accountId: string, userName: string) => {
    const client = clients.iam(accountId);
    const attached: PrincipalPolicies['attached'] = [];
    const inline: PrincipalPolicies['inline'] = [];
    const readInline = async (
      names: string[],
      get: (name: string) => Promise<string | undefined>,
      via?: string,
    ) => {
      for (const name of names) {
        try {
          const doc = await get(name);
          inline.push({ name, document: decodeDocument(doc ?? ''), ...(via ? { via } : {}) });
        } catch (err) {
          if (toAwsError(err, 'IAM.GetPolicy').kind !== 'not-found') throw err;
        }
      }
    };
    const own = await allPages((m) =>
      client
        .send(new ListAttachedUserPoliciesCommand({ UserName: userName, ...withMarker(m) }))
        .then((o) => ({ ...o, items: o.AttachedPolicies })),
    );
    attached.push(...own.map((p) => ({ arn: p.PolicyArn ?? '', name: p.PolicyName ?? '' })));
    const ownNames = await allPages((m) =>
      client
        .send(new ListUserPoliciesCommand({ UserName: userName, ...withMarker(m) }))
        .then((o) => ({ ...o, items: o.PolicyNames })),
    );
    await readInline(
      ownNames,
      async (name) =>
        (await client.send(new GetUserPolicyCommand({ UserName: userName, PolicyName: name })))
          .PolicyDocument,
    );
    const groups = await allPages((m) =>
      client
        .send(new ListGroupsForUserCommand({ UserName: userName, ...withMarker(m) }))
        .then((o) => ({ ...o, items: o.Groups })),
    );
    for (const g of groups) {
      const GroupName = g.GroupName ?? '';
      const via = `group ${GroupName}`;
      const groupAttached = await allPages((m) =>
        client
          .send(new ListAttachedGroupPoliciesCommand({ GroupName, ...withMarker(m) }))
          .then((o) => ({ ...o, items: o.AttachedPolicies })),
      );
      attached.push(...groupAttached.map((p) => ({ arn: p.PolicyArn ?? '', name: p.PolicyName ?? '', via })));
      const groupNames = await allPages((m) =>
        client
          .send(new ListGroupPoliciesCommand({ GroupName, ...withMarker(m) }))
          .then((o) => ({ ...o, items: o.PolicyNames })),
      );
      await readInline(
        groupNames,
        async (name) =>
          (await client.send(new GetGroupPolicyCommand({ GroupName, PolicyName: name }))).PolicyDocument,
        via,
      );
    }
    return { attached, inline };
  };

  return {
    async startGeneration(input) {
      try {
        const out = await aa(input.region, input.accountId).send(
          new StartPolicyGenerationCommand({
            policyGenerationDetails: { principalArn: input.principalArn },
            cloudTrailDetails: {
              trails: input.trails.map((t) => ({
                cloudTrailArn: t.cloudTrailArn,
                ...(t.regions ? { regions: t.regions } : {}),
                ...(t.allRegions !== undefined ? { allRegions: t.allRegions } : {}),
              })),
              accessRole: input.accessRoleArn,
              startTime: input.startTime,
              ...(input.endTime ? { endTime: input.endTime } : {}),
            },
            clientToken: input.clientToken,
          }),
        );
        if (!out.jobId) {
          throw new AwsError(
            'unavailable',
            'AccessAnalyzer.StartPolicyGeneration',
            'EmptyResponse',
            'no job id',
          );
        }
        return out.jobId;
      } catch (err) {
        throw policyError(err, 'AccessAnalyzer.StartPolicyGeneration', input.accountId);
      }
    },

    async getGeneratedPolicy(accountId, region, jobId) {
      try {
        const out = await aa(region, accountId).send(new GetGeneratedPolicyCommand({ jobId }));
        const d = out.jobDetails;
        const result: GeneratedPolicyResult = {
          status: (d?.status ?? 'IN_PROGRESS') as GenerationStatus,
          policies: (out.generatedPolicyResult?.generatedPolicies ?? [])
            .map((p) => p.policy ?? '')
            .filter((p) => p !== ''),
        };
        if (d?.startedOn) result.startedOn = d.startedOn;
        if (d?.completedOn) result.completedOn = d.completedOn;
        if (d?.jobError)
          result.error = { code: d.jobError.code ?? 'UNKNOWN', message: d.jobError.message ?? '' };
        const complete = out.generatedPolicyResult?.properties?.isComplete;
        if (complete !== undefined) result.isComplete = complete;
        return result;
      } catch (err) {
        throw policyError(err, 'AccessAnalyzer.GetGeneratedPolicy', accountId);
      }
    },

    async cancelGeneration(accountId, region, jobId) {
      await aa(region, accountId)
        .send(new CancelPolicyGenerationCommand({ jobId }))
        .catch((err: unknown) => {
          throw policyError(err, 'AccessAnalyzer.CancelPolicyGeneration', accountId);
        });
    },

    async validatePolicy(input) {
      const client = aa(input.region, input.accountId);
      const findings: PolicyFinding[] = [];
      let nextToken: string | undefined;
      do {
        const out = await client
          .send(
            new ValidatePolicyCommand({
              policyDocument: input.document,
              policyType: input.policyType,
              ...(input.validatePolicyResourceType
                ? { validatePolicyResourceType: input.validatePolicyResourceType as never }
                : {}),
              ...(nextToken ? { nextToken } : {}),
            }),
          )
          .catch((err: unknown) => {
            throw policyError(err, 'AccessAnalyzer.ValidatePolicy', input.accountId);
          });
        for (const f of out.findings ?? []) findings.push(toFinding(f));
        nextToken = out.nextToken || undefined;
      } while (nextToken);
      return findings;
    },

    async checkNoNewAccess(input) {
      const out = await aa(input.region, input.accountId)
        .send(
          new CheckNoNewAccessCommand({
            newPolicyDocument: input.newDocument,
            existingPolicyDocument: input.existingDocument,
            policyType: input.policyType,
          }),
        )
        .catch((err: unknown) => {
          throw policyError(err, 'AccessAnalyzer.CheckNoNewAccess', input.accountId);
        });
      return check(out);
    },

    async checkNoPublicAccess(input) {
      const out = await aa(input.region, input.accountId)
        .send(
          new CheckNoPublicAccessCommand({
            policyDocument: input.document,
            resourceType: input.resourceType as never,
          }),
        )
        .catch((err: unknown) => {
          throw policyError(err, 'AccessAnalyzer.CheckNoPublicAccess', input.accountId);
        });
      return check(out);
    },

    async principalPolicies(principalArn) {
      const p = parsePrincipalArn(principalArn);
      if (!p)
        throw new AwsError(
          'invalid',
          'IAM.principalPolicies',
          'InvalidArn',
          `${principalArn} is not an IAM role or user ARN`,
        );
      let attached: { arn: string; name: string; via?: string }[];
      let inline: PrincipalPolicies['inline'];
      try {
        if (p.kind === 'role') {
          const role = await iam.inspectRole(p.accountId, p.name);
          if (!role) return null;
          attached = role.attachedPolicies;
          inline = role.inlinePolicies;
        } else {
          ({ attached, inline } = await userPolicies(p.accountId, p.name));
        }
      } catch (err) {
        const e = toAwsError(err, p.kind === 'role' ? 'IAM.GetRole' : 'IAM.ListUserPolicies');
        if (e.kind === 'not-found') return null;
        throw e;
      }
      const withDocs: PrincipalPolicies['attached'] = [];
      for (const a of attached) withDocs.push({ ...a, ...(await managedDocument(p.accountId, a.arn)) });
      return { principalArn, kind: p.kind, attached: withDocs, inline };
    },
  };
}

function toFinding(f: ValidatePolicyFinding): PolicyFinding {
  return {
    findingType: (f.findingType ?? 'WARNING') as PolicyFinding['findingType'],
    issueCode: f.issueCode ?? '',
    details: f.findingDetails ?? '',
    learnMoreLink: f.learnMoreLink ?? '',
    locations: f.locations?.length ?? 0,
  };
}
