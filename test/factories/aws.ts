// Factories for AWS responses shaped as the SDK returns them (Dates, union members), with overrides.
// JSON.stringify turns the Dates into ISO-8601, so the same objects serve as REST-JSON reply bodies.
import type {
  AnalyzerSummary,
  ExternalAccessDetails,
  FindingDetails,
  FindingSummaryV2,
  GetFindingV2Response,
  InternalAccessDetails,
  UnusedIamUserAccessKeyDetails,
  UnusedPermissionDetails,
} from '@aws-sdk/client-accessanalyzer';

export const REGION = 'eu-west-1';
export const CALLER_ACCOUNT = '111122223333';
export const MEMBER_ACCOUNT = '444455556666';
export const ANALYZER_ARN = `arn:aws:access-analyzer:${REGION}:${CALLER_ACCOUNT}:analyzer/org-external`;
export const FAKE_CREDENTIALS = {
  accessKeyId: 'AKIAIOSFODNN7EXAMPLE',
  secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
};

let seq = 0;
const nextId = () => `5f3c1a2e-0000-4000-8000-${String(++seq).padStart(12, '0')}`;

export function analyzerSummary(overrides: Partial<AnalyzerSummary> = {}): AnalyzerSummary {
  const name = overrides.name ?? 'org-external';
  return {
    arn: `arn:aws:access-analyzer:${REGION}:${CALLER_ACCOUNT}:analyzer/${name}`,
    name,
    type: 'ORGANIZATION',
    createdAt: new Date('2024-03-01T09:00:00.000Z'),
    lastResourceAnalyzed: `arn:aws:s3:::logs-${CALLER_ACCOUNT}`,
    lastResourceAnalyzedAt: new Date('2025-01-10T08:00:00.000Z'),
    status: 'ACTIVE',
    tags: {},
    ...overrides,
  };
}

export function findingSummaryV2(overrides: Partial<FindingSummaryV2> = {}): FindingSummaryV2 {
  return {
    id: nextId(),
    resource: 'arn:aws:s3:::acme-public-assets',
    resourceType: 'AWS::S3::Bucket',
    resourceOwnerAccount: MEMBER_ACCOUNT,
    status: 'ACTIVE',
    findingType: 'ExternalAccess',
    createdAt: new Date('2025-01-02T03:04:05.000Z'),
    updatedAt: new Date('2025-01-03T03:04:05.000Z'),
    analyzedAt: new Date('2025-01-03T03:00:00.000Z'),
    ...overrides,
  };
}

export function getFindingV2Output(overrides: Partial<GetFindingV2Response> = {}): GetFindingV2Response {
  return {
    ...findingSummaryV2(),
    findingDetails: [externalAccessDetail()],
    ...overrides,
  };
}

export function externalAccessDetail(overrides: Partial<ExternalAccessDetails> = {}): FindingDetails {
  return {
    externalAccessDetails: {
      action: ['s3:GetObject', 's3:ListBucket'],
      condition: {},
      isPublic: false,
      principal: { AWS: '999988887777' },
      sources: [{ type: 'POLICY' }],
      resourceControlPolicyRestriction: 'NOT_APPLICABLE',
      ...overrides,
    },
  };
}

export function internalAccessDetail(overrides: Partial<InternalAccessDetails> = {}): FindingDetails {
  return {
    internalAccessDetails: {
      action: ['s3:GetObject'],
      condition: {},
      principal: { AWS: `arn:aws:iam::${MEMBER_ACCOUNT}:role/etl-reader` },
      principalOwnerAccount: MEMBER_ACCOUNT,
      accessType: 'INTRA_ORG',
      principalType: 'IAM_ROLE',
      sources: [{ type: 'POLICY' }],
      resourceControlPolicyRestriction: 'NOT_APPLICABLE',
      serviceControlPolicyRestriction: 'NOT_APPLICABLE',
      ...overrides,
    },
  };
}

export function unusedRoleDetail(lastAccessed?: Date): FindingDetails {
  return { unusedIamRoleDetails: lastAccessed ? { lastAccessed } : {} };
}

export function unusedAccessKeyDetail(
  overrides: Partial<UnusedIamUserAccessKeyDetails> = {},
): FindingDetails {
  return {
    unusedIamUserAccessKeyDetails: {
      accessKeyId: 'AKIAI44QH8DHBEXAMPLE',
      lastAccessed: new Date('2024-06-01T12:00:00.000Z'),
      ...overrides,
    },
  };
}

export function unusedPasswordDetail(lastAccessed?: Date): FindingDetails {
  return { unusedIamUserPasswordDetails: lastAccessed ? { lastAccessed } : {} };
}

export function unusedPermissionDetail(overrides: Partial<UnusedPermissionDetails> = {}): FindingDetails {
  return {
    unusedPermissionDetails: {
      serviceNamespace: 's3',
      lastAccessed: new Date('2024-05-01T00:00:00.000Z'),
      actions: [
        { action: 's3:PutObject', lastAccessed: new Date('2024-05-01T00:00:00.000Z') },
        { action: 's3:DeleteObject' },
      ],
      ...overrides,
    },
  };
}

/** A REST-JSON error reply for nock: `[status, body, headers]`. */
export function restJsonError(
  status: number,
  code: string,
  message: string,
  headers: Record<string, string> = {},
): [number, { message: string }, Record<string, string>] {
  return [status, { message }, { 'x-amzn-ErrorType': code, ...headers }];
}

// ---- awsQuery (IAM, STS) XML replies ----

const IAM_NS = 'https://iam.amazonaws.com/doc/2010-05-08/';
const STS_NS = 'https://sts.amazonaws.com/doc/2011-06-15/';

const tagsXml = (tags: Record<string, string>) =>
  Object.entries(tags)
    .map(([k, v]) => `<member><Key>${k}</Key><Value>${v}</Value></member>`)
    .join('');

export function getRoleXml(
  roleName: string,
  accountId: string,
  tags: Record<string, string>,
  path = '/',
): string {
  return `<GetRoleResponse xmlns="${IAM_NS}">
  <GetRoleResult>
    <Role>
      <Path>${path}</Path>
      <RoleName>${roleName}</RoleName>
      <RoleId>AROADBQP57FF2AEXAMPLE</RoleId>
      <Arn>arn:aws:iam::${accountId}:role${path}${roleName}</Arn>
      <CreateDate>2023-04-10T09:00:00Z</CreateDate>
      <AssumeRolePolicyDocument>%7B%7D</AssumeRolePolicyDocument>
      <Tags>${tagsXml(tags)}</Tags>
      <RoleLastUsed/>
    </Role>
  </GetRoleResult>
  <ResponseMetadata><RequestId>df37e965-9967-11e1-a4c3-270EXAMPLE04</RequestId></ResponseMetadata>
</GetRoleResponse>`;
}

export function listUserTagsXml(tags: Record<string, string>, marker?: string): string {
  return `<ListUserTagsResponse xmlns="${IAM_NS}">
  <ListUserTagsResult>
    <Tags>${tagsXml(tags)}</Tags>
    <IsTruncated>${marker ? 'true' : 'false'}</IsTruncated>${marker ? `\n    <Marker>${marker}</Marker>` : ''}
  </ListUserTagsResult>
  <ResponseMetadata><RequestId>7a62c49f-347e-4fc4-9331-6e8eEXAMPLE</RequestId></ResponseMetadata>
</ListUserTagsResponse>`;
}

/** The error envelope IAM and STS use. */
export function awsQueryErrorXml(code: string, message: string, type = 'Sender'): string {
  return `<ErrorResponse xmlns="${IAM_NS}">
  <Error><Type>${type}</Type><Code>${code}</Code><Message>${message}</Message></Error>
  <RequestId>4c5f8e0a-EXAMPLE</RequestId>
</ErrorResponse>`;
}

export function getCallerIdentityXml(accountId = CALLER_ACCOUNT): string {
  return `<GetCallerIdentityResponse xmlns="${STS_NS}">
  <GetCallerIdentityResult>
    <Arn>arn:aws:sts::${accountId}:assumed-role/access-patrol/i-0abc</Arn>
    <UserId>AROACKCEVSQ6C2EXAMPLE:i-0abc</UserId>
    <Account>${accountId}</Account>
  </GetCallerIdentityResult>
  <ResponseMetadata><RequestId>01234567-89ab-cdef-0123-456789abcdef</RequestId></ResponseMetadata>
</GetCallerIdentityResponse>`;
}

export function assumeRoleXml(
  roleArn: string,
  expiration: Date,
  accessKeyId = 'ASIAMEMBEREXAMPLE001',
): string {
  return `<AssumeRoleResponse xmlns="${STS_NS}">
  <AssumeRoleResult>
    <AssumedRoleUser>
      <Arn>${roleArn.replace(':iam::', ':sts::').replace(':role/', ':assumed-role/')}/access-patrol</Arn>
      <AssumedRoleId>AROA3XFRBF535PLBIFPI4:access-patrol</AssumedRoleId>
    </AssumedRoleUser>
    <Credentials>
      <AccessKeyId>${accessKeyId}</AccessKeyId>
      <SecretAccessKey>memberSecretKeyEXAMPLE</SecretAccessKey>
      <SessionToken>FwoGZXIvYXdzEXAMPLESESSIONTOKEN</SessionToken>
      <Expiration>${expiration.toISOString()}</Expiration>
    </Credentials>
    <PackedPolicySize>6</PackedPolicySize>
  </AssumeRoleResult>
  <ResponseMetadata><RequestId>c6104cbe-af31-11e0-8154-cbc7ccf896c7</RequestId></ResponseMetadata>
</AssumeRoleResponse>`;
}

/** Resource Groups Tagging API GetResources reply (JSON 1.1). */
export function getResourcesOutput(arn: string, tags: Record<string, string> | null) {
  return {
    PaginationToken: '',
    ResourceTagMappingList:
      tags === null
        ? []
        : [{ ResourceARN: arn, Tags: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })) }],
  };
}

// ---- IAM role lifecycle (awsQuery) replies ----

const iamMetadata =
  '<ResponseMetadata><RequestId>7a62c49f-347e-4fc4-9331-6e8eEXAMPLE</RequestId></ResponseMetadata>';
const paging = (marker?: string) =>
  `<IsTruncated>${marker ? 'true' : 'false'}</IsTruncated>${marker ? `<Marker>${marker}</Marker>` : ''}`;

/** `<OpResponse><OpResult>inner</OpResult>…`; with `inner` undefined, no Result element (void operations). */
export function iamResponseXml(action: string, inner?: string): string {
  const result = inner === undefined ? '' : `<${action}Result>${inner}</${action}Result>`;
  return `<${action}Response xmlns="${IAM_NS}">${result}${iamMetadata}</${action}Response>`;
}

export interface RoleXmlOptions {
  roleName: string;
  accountId?: string;
  path?: string;
  trust?: Record<string, unknown>;
  description?: string;
  maxSessionDuration?: number;
  permissionsBoundaryArn?: string;
  tags?: Record<string, string>;
  lastUsed?: { date: string; region: string };
}

export const EC2_TRUST = {
  Version: '2012-10-17',
  Statement: [{ Effect: 'Allow', Principal: { Service: 'ec2.amazonaws.com' }, Action: 'sts:AssumeRole' }],
};

/** GetRole with the full role: trust policy URL-encoded as IAM sends it, boundary, last use. */
export function getRoleDetailXml(o: RoleXmlOptions): string {
  const path = o.path ?? '/';
  const accountId = o.accountId ?? CALLER_ACCOUNT;
  let role =
    `<Path>${path}</Path><RoleName>${o.roleName}</RoleName><RoleId>AROADBQP57FF2AEXAMPLE</RoleId>` +
    `<Arn>arn:aws:iam::${accountId}:role${path}${o.roleName}</Arn><CreateDate>2023-04-10T09:00:00Z</CreateDate>` +
    `<AssumeRolePolicyDocument>${encodeURIComponent(JSON.stringify(o.trust ?? EC2_TRUST))}</AssumeRolePolicyDocument>`;
  if (o.description !== undefined) role += `<Description>${o.description}</Description>`;
  role += `<MaxSessionDuration>${o.maxSessionDuration ?? 3600}</MaxSessionDuration>`;
  if (o.permissionsBoundaryArn) {
    role += `<PermissionsBoundary><PermissionsBoundaryType>Policy</PermissionsBoundaryType><PermissionsBoundaryArn>${o.permissionsBoundaryArn}</PermissionsBoundaryArn></PermissionsBoundary>`;
  }
  if (o.tags && Object.keys(o.tags).length > 0) role += `<Tags>${tagsXml(o.tags)}</Tags>`;
  role += o.lastUsed
    ? `<RoleLastUsed><LastUsedDate>${o.lastUsed.date}</LastUsedDate><Region>${o.lastUsed.region}</Region></RoleLastUsed>`
    : '<RoleLastUsed/>';
  return iamResponseXml('GetRole', `<Role>${role}</Role>`);
}

export function listAttachedRolePoliciesXml(arns: string[], marker?: string): string {
  const members = arns
    .map(
      (arn) =>
        `<member><PolicyName>${arn.slice(arn.lastIndexOf('/') + 1)}</PolicyName><PolicyArn>${arn}</PolicyArn></member>`,
    )
    .join('');
  return iamResponseXml(
    'ListAttachedRolePolicies',
    `<AttachedPolicies>${members}</AttachedPolicies>${paging(marker)}`,
  );
}

export function listRolePoliciesXml(names: string[], marker?: string): string {
  const members = names.map((n) => `<member>${n}</member>`).join('');
  return iamResponseXml('ListRolePolicies', `<PolicyNames>${members}</PolicyNames>${paging(marker)}`);
}

export function getRolePolicyXml(
  roleName: string,
  policyName: string,
  document: Record<string, unknown>,
): string {
  return iamResponseXml(
    'GetRolePolicy',
    `<RoleName>${roleName}</RoleName><PolicyName>${policyName}</PolicyName>` +
      `<PolicyDocument>${encodeURIComponent(JSON.stringify(document))}</PolicyDocument>`,
  );
}

export function listInstanceProfilesForRoleXml(
  profileNames: string[],
  accountId = CALLER_ACCOUNT,
  marker?: string,
): string {
  const members = profileNames
    .map(
      (name) =>
        `<member><Path>/</Path><InstanceProfileName>${name}</InstanceProfileName><InstanceProfileId>AIPAJ3VEXAMPLE</InstanceProfileId>` +
        `<Arn>arn:aws:iam::${accountId}:instance-profile/${name}</Arn><CreateDate>2023-04-10T09:00:00Z</CreateDate><Roles/></member>`,
    )
    .join('');
  return iamResponseXml(
    'ListInstanceProfilesForRole',
    `<InstanceProfiles>${members}</InstanceProfiles>${paging(marker)}`,
  );
}
