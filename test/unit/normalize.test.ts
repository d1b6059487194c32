import { describe, expect, it } from 'vitest';
import { normalizeFinding, normalizeSummary } from '../../src/findings/normalize.ts';
import {
  ANALYZER_ARN,
  externalAccessDetail,
  findingSummaryV2,
  getFindingV2Output,
  internalAccessDetail,
  MEMBER_ACCOUNT,
  REGION,
  unusedAccessKeyDetail,
  unusedPasswordDetail,
  unusedPermissionDetail,
  unusedRoleDetail,
} from '../factories/aws.ts';

const analyzer = { arn: ANALYZER_ARN, region: REGION };
const roleArn = `arn:aws:iam::${MEMBER_ACCOUNT}:role/legacy-deployer`;
const userArn = `arn:aws:iam::${MEMBER_ACCOUNT}:user/ci-bot`;

describe('normalizeSummary', () => {
  it('maps a ListFindingsV2 summary with ISO timestamps and the analyzer it came from', () => {
    const s = findingSummaryV2({ id: 'f-1', error: undefined });
    expect(normalizeSummary(s, analyzer)).toEqual({
      id: 'f-1',
      analyzerArn: ANALYZER_ARN,
      region: REGION,
      accountId: MEMBER_ACCOUNT,
      resourceArn: 'arn:aws:s3:::acme-public-assets',
      resourceType: 'AWS::S3::Bucket',
      findingType: 'ExternalAccess',
      status: 'ACTIVE',
      createdAt: '2025-01-02T03:04:05.000Z',
      updatedAt: '2025-01-03T03:04:05.000Z',
      analyzedAt: '2025-01-03T03:00:00.000Z',
    });
  });

  it('keeps the error of an error finding and omits analyzedAt when AWS leaves it out', () => {
    const s = findingSummaryV2({ error: 'ACCESS_DENIED', analyzedAt: undefined });
    const out = normalizeSummary(s, analyzer);
    expect(out.error).toBe('ACCESS_DENIED');
    expect(out).not.toHaveProperty('analyzedAt');
  });

  it('infers ExternalAccess or InternalAccess from the analyzer kind when findingType is missing', () => {
    const s = findingSummaryV2({ findingType: undefined });
    expect(normalizeSummary(s, { ...analyzer, kind: 'external' }).findingType).toBe('ExternalAccess');
    expect(normalizeSummary(s, { ...analyzer, kind: 'internal' }).findingType).toBe('InternalAccess');
    expect(normalizeSummary(s, analyzer).findingType).toBe('ExternalAccess');
  });

  it('refuses an unused-access summary without findingType rather than guessing', () => {
    const s = findingSummaryV2({ findingType: undefined });
    expect(() => normalizeSummary(s, { ...analyzer, kind: 'unused' })).toThrow(/findingType/);
  });

  it('rejects a finding type the model does not know', () => {
    const s = findingSummaryV2({ findingType: 'SomethingNew' as never });
    expect(() => normalizeSummary(s, analyzer)).toThrow(/SomethingNew/);
  });
});

describe('normalizeFinding', () => {
  it('maps external access: one grant per detail element, public when any element is public', () => {
    const out = getFindingV2Output({
      id: 'f-ext',
      findingDetails: [
        externalAccessDetail(),
        externalAccessDetail({
          principal: { AWS: '*' },
          action: ['s3:GetObject'],
          isPublic: true,
          condition: { 'aws:SourceIp': '203.0.113.0/24' },
          sources: [
            { type: 'S3_ACCESS_POINT', detail: { accessPointArn: 'arn:aws:s3:eu-west-1:1:accesspoint/ap' } },
            { type: 'POLICY' },
          ],
        }),
      ],
    });
    const f = normalizeFinding(out, analyzer);
    expect(f.id).toBe('f-ext');
    expect(f.findingType).toBe('ExternalAccess');
    expect(f.details).toEqual({
      kind: 'externalAccess',
      isPublic: true,
      grants: [
        {
          principal: { AWS: '999988887777' },
          actions: ['s3:GetObject', 's3:ListBucket'],
          conditions: {},
          sources: ['POLICY'],
        },
        {
          principal: { AWS: '*' },
          actions: ['s3:GetObject'],
          conditions: { 'aws:SourceIp': '203.0.113.0/24' },
          sources: ['S3_ACCESS_POINT', 'POLICY'],
        },
      ],
    });
  });

  it('is not public when no element says so', () => {
    const f = normalizeFinding(
      getFindingV2Output({ findingDetails: [externalAccessDetail({ isPublic: undefined })] }),
      analyzer,
    );
    expect(f.details).toMatchObject({ kind: 'externalAccess', isPublic: false });
  });

  it('joins the findingDetails of every GetFindingV2 page, taking the fields from the first', () => {
    const first = getFindingV2Output({
      id: 'f-paged',
      nextToken: 'page-2',
      findingDetails: [externalAccessDetail({ principal: { AWS: '111111111111' } })],
    });
    const second = {
      ...first,
      nextToken: undefined,
      findingDetails: [externalAccessDetail({ principal: { AWS: '222222222222' }, isPublic: true })],
    };
    const f = normalizeFinding([first, second], analyzer);
    expect(f.details.kind === 'externalAccess' && f.details.grants.map((g) => g.principal.AWS)).toEqual([
      '111111111111',
      '222222222222',
    ]);
    expect(f.details).toMatchObject({ isPublic: true });
  });

  it('maps internal access with the principal owner, access type and principal type', () => {
    const f = normalizeFinding(
      getFindingV2Output({
        findingType: 'InternalAccess',
        resource: 'arn:aws:dynamodb:eu-west-1:444455556666:table/orders',
        resourceType: 'AWS::DynamoDB::Table',
        findingDetails: [
          internalAccessDetail({
            action: ['dynamodb:GetItem', 'dynamodb:Query'],
            condition: { 'aws:PrincipalOrgID': 'o-abc123' },
          }),
        ],
      }),
      analyzer,
    );
    expect(f.details).toEqual({
      kind: 'internalAccess',
      grants: [
        {
          principal: { AWS: `arn:aws:iam::${MEMBER_ACCOUNT}:role/etl-reader` },
          actions: ['dynamodb:GetItem', 'dynamodb:Query'],
          conditions: { 'aws:PrincipalOrgID': 'o-abc123' },
          sources: ['POLICY'],
          principalOwnerAccount: MEMBER_ACCOUNT,
          accessType: 'INTRA_ORG',
          principalType: 'IAM_ROLE',
        },
      ],
    });
  });

  it('maps an unused role with and without lastAccessed', () => {
    const used = normalizeFinding(
      getFindingV2Output({
        findingType: 'UnusedIAMRole',
        resource: roleArn,
        resourceType: 'AWS::IAM::Role',
        findingDetails: [unusedRoleDetail(new Date('2024-02-29T10:00:00Z'))],
      }),
      analyzer,
    );
    expect(used.details).toEqual({ kind: 'unusedRole', lastAccessed: '2024-02-29T10:00:00.000Z' });
    expect(used.resourceArn).toBe(roleArn);

    const never = normalizeFinding(
      getFindingV2Output({ findingType: 'UnusedIAMRole', findingDetails: [unusedRoleDetail()] }),
      analyzer,
    );
    expect(never.details).toEqual({ kind: 'unusedRole' });
  });

  it('maps an unused access key', () => {
    const f = normalizeFinding(
      getFindingV2Output({
        findingType: 'UnusedIAMUserAccessKey',
        resource: userArn,
        resourceType: 'AWS::IAM::User',
        findingDetails: [unusedAccessKeyDetail()],
      }),
      analyzer,
    );
    expect(f.details).toEqual({
      kind: 'unusedAccessKey',
      accessKeyId: 'AKIAI44QH8DHBEXAMPLE',
      lastAccessed: '2024-06-01T12:00:00.000Z',
    });
  });

  it('maps an unused password', () => {
    const f = normalizeFinding(
      getFindingV2Output({
        findingType: 'UnusedIAMUserPassword',
        resource: userArn,
        resourceType: 'AWS::IAM::User',
        findingDetails: [unusedPasswordDetail(new Date('2023-12-24T18:30:00Z'))],
      }),
      analyzer,
    );
    expect(f.details).toEqual({ kind: 'unusedPassword', lastAccessed: '2023-12-24T18:30:00.000Z' });
  });

  it('maps unused permissions to one service per detail element', () => {
    const f = normalizeFinding(
      getFindingV2Output({
        findingType: 'UnusedPermission',
        resource: roleArn,
        resourceType: 'AWS::IAM::Role',
        findingDetails: [
          unusedPermissionDetail(),
          unusedPermissionDetail({ serviceNamespace: 'ec2', lastAccessed: undefined, actions: undefined }),
        ],
      }),
      analyzer,
    );
    expect(f.details).toEqual({
      kind: 'unusedPermission',
      services: [
        {
          serviceNamespace: 's3',
          lastAccessed: '2024-05-01T00:00:00.000Z',
          actions: [
            { action: 's3:PutObject', lastAccessed: '2024-05-01T00:00:00.000Z' },
            { action: 's3:DeleteObject' },
          ],
        },
        { serviceNamespace: 'ec2', actions: [] },
      ],
    });
  });

  it('infers the finding type from the details when GetFindingV2 omits it', () => {
    const f = normalizeFinding(
      getFindingV2Output({ findingType: undefined, findingDetails: [internalAccessDetail()] }),
      analyzer,
    );
    expect(f.findingType).toBe('InternalAccess');
    expect(f.details.kind).toBe('internalAccess');
  });

  it('gives an error finding without details empty grants', () => {
    const f = normalizeFinding(getFindingV2Output({ error: 'ACCESS_DENIED', findingDetails: [] }), analyzer);
    expect(f.error).toBe('ACCESS_DENIED');
    expect(f.details).toEqual({ kind: 'externalAccess', isPublic: false, grants: [] });
  });
});
