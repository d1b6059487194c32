// Domain-model findings (src/findings/model.ts) for tests, one realistic default per finding type.
// Deterministic: the same call gives the same finding, so golden tests can use them.
import type { AnalyzerInfo, Finding, FindingDetails, FindingType, Route } from '../../src/findings/model.ts';
import type { FindingState } from '../../src/store/findings.ts';

export const F_REGION = 'eu-west-1';
export const F_ACCOUNT = '111111111111';
export const F_EXTERNAL_ACCOUNT = '999988887777';
export const F_EXTERNAL_ANALYZER = `arn:aws:access-analyzer:${F_REGION}:${F_ACCOUNT}:analyzer/org-external`;
export const F_INTERNAL_ANALYZER = `arn:aws:access-analyzer:${F_REGION}:${F_ACCOUNT}:analyzer/org-internal`;
export const F_UNUSED_ANALYZER = `arn:aws:access-analyzer:${F_REGION}:${F_ACCOUNT}:analyzer/org-unused`;
/** A fixed "now" for tests: 2025-03-01T12:00:00Z. */
export const F_NOW = new Date('2025-03-01T12:00:00.000Z');

interface TypeDefaults {
  id: string;
  analyzerArn: string;
  resourceArn: string;
  resourceType: string;
  details: FindingDetails;
}

const DEFAULTS: Record<FindingType, TypeDefaults> = {
  ExternalAccess: {
    id: '0f1e2d3c-0000-4000-8000-000000000001',
    analyzerArn: F_EXTERNAL_ANALYZER,
    resourceArn: 'arn:aws:s3:::logs-prod',
    resourceType: 'AWS::S3::Bucket',
    details: {
      kind: 'externalAccess',
      isPublic: true,
      grants: [
        {
          principal: { AWS: '*' },
          actions: ['s3:GetObject', 's3:ListBucket'],
          conditions: {},
          sources: ['POLICY'],
        },
      ],
    },
  },
  InternalAccess: {
    id: '0f1e2d3c-0000-4000-8000-000000000002',
    analyzerArn: F_INTERNAL_ANALYZER,
    resourceArn: `arn:aws:kms:${F_REGION}:${F_ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab`,
    resourceType: 'AWS::KMS::Key',
    details: {
      kind: 'internalAccess',
      grants: [
        {
          principal: { AWS: `arn:aws:iam::222222222222:role/data-reader` },
          actions: ['kms:Decrypt'],
          conditions: {},
          sources: ['POLICY'],
          principalOwnerAccount: '222222222222',
          accessType: 'INTRA_ORG',
          principalType: 'IAM_ROLE',
        },
      ],
    },
  },
  UnusedIAMRole: {
    id: '0f1e2d3c-0000-4000-8000-000000000003',
    analyzerArn: F_UNUSED_ANALYZER,
    resourceArn: `arn:aws:iam::${F_ACCOUNT}:role/ci-deployer`,
    resourceType: 'AWS::IAM::Role',
    details: { kind: 'unusedRole', lastAccessed: '2024-11-24T08:00:00.000Z' },
  },
  UnusedIAMUserAccessKey: {
    id: '0f1e2d3c-0000-4000-8000-000000000004',
    analyzerArn: F_UNUSED_ANALYZER,
    resourceArn: `arn:aws:iam::${F_ACCOUNT}:user/bob`,
    resourceType: 'AWS::IAM::User',
    details: {
      kind: 'unusedAccessKey',
      accessKeyId: 'AKIAIOSFODNN7EXAMPLE',
      lastAccessed: '2024-11-01T08:00:00.000Z',
    },
  },
  UnusedIAMUserPassword: {
    id: '0f1e2d3c-0000-4000-8000-000000000005',
    analyzerArn: F_UNUSED_ANALYZER,
    resourceArn: `arn:aws:iam::${F_ACCOUNT}:user/alice`,
    resourceType: 'AWS::IAM::User',
    details: { kind: 'unusedPassword' },
  },
  UnusedPermission: {
    id: '0f1e2d3c-0000-4000-8000-000000000006',
    analyzerArn: F_UNUSED_ANALYZER,
    resourceArn: `arn:aws:iam::${F_ACCOUNT}:role/app-backend`,
    resourceType: 'AWS::IAM::Role',
    details: {
      kind: 'unusedPermission',
      services: [
        {
          serviceNamespace: 's3',
          lastAccessed: '2024-10-01T00:00:00.000Z',
          actions: [
            { action: 's3:PutObject', lastAccessed: '2024-10-01T00:00:00.000Z' },
            { action: 's3:DeleteObject' },
          ],
        },
        { serviceNamespace: 'dynamodb', actions: [] },
        { serviceNamespace: 'sqs', actions: [{ action: 'sqs:SendMessage' }] },
      ],
    },
  },
};

/**
 * A finding of `overrides.findingType` (default ExternalAccess: a public S3 bucket). Fields not
 * overridden come from that type's defaults; `details` must match the type when given.
 */
export function makeFinding(overrides: Partial<Finding> = {}): Finding {
  const type = overrides.findingType ?? 'ExternalAccess';
  const d = DEFAULTS[type];
  return {
    id: d.id,
    analyzerArn: d.analyzerArn,
    region: F_REGION,
    accountId: F_ACCOUNT,
    resourceArn: d.resourceArn,
    resourceType: d.resourceType,
    findingType: type,
    status: 'ACTIVE',
    createdAt: '2025-02-26T09:30:00.000Z',
    updatedAt: '2025-02-26T09:30:00.000Z',
    details: structuredClone(d.details),
    ...overrides,
  };
}

/** A cross-account (not public) external access finding on a KMS key. */
export function makeCrossAccountFinding(overrides: Partial<Finding> = {}): Finding {
  return makeFinding({
    resourceArn: `arn:aws:kms:${F_REGION}:${F_ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab`,
    resourceType: 'AWS::KMS::Key',
    details: {
      kind: 'externalAccess',
      isPublic: false,
      grants: [
        {
          principal: { AWS: F_EXTERNAL_ACCOUNT },
          actions: ['kms:Decrypt', 'kms:DescribeKey'],
          conditions: {},
          sources: ['POLICY'],
        },
      ],
    },
    ...overrides,
  });
}

export function makeRoute(overrides: Partial<Route> = {}): Route {
  return { channel: '#security-alerts', rule: 'default', reason: 'no rule matched', ...overrides };
}

export function makeAnalyzer(overrides: Partial<AnalyzerInfo> = {}): AnalyzerInfo {
  return {
    arn: F_EXTERNAL_ANALYZER,
    name: 'org-external',
    type: 'ORGANIZATION',
    kind: 'external',
    region: F_REGION,
    status: 'ACTIVE',
    ...overrides,
  };
}

/**
 * What the store holds for an open, high-severity cross-account finding on an S3 bucket in account
 * 222222222222. Tests that seed Redis directly add the dates, channel and message they are about.
 */
export function makeFindingState(overrides: Partial<FindingState> = {}): Partial<FindingState> {
  return {
    status: 'ACTIVE',
    fingerprint: 'fp',
    analyzerArn: F_EXTERNAL_ANALYZER,
    region: F_REGION,
    accountId: '222222222222',
    findingType: 'ExternalAccess',
    resourceArn: 'arn:aws:s3:::payments-exports',
    resourceType: 'AWS::S3::Bucket',
    severity: 'high',
    category: 'cross-account-access',
    ...overrides,
  };
}
