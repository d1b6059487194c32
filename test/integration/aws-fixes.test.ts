// The fix gateway against the AWS sandbox with the real SDK clients over HTTP: the S3 REST XML
// protocol of Block Public Access and IAM's answers to the fixes' calls, errors included.

import { GetPublicAccessBlockCommand, PutPublicAccessBlockCommand } from '@aws-sdk/client-s3-control';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type AwsSandbox, startAwsSandbox } from '../../sandbox/aws.ts';
import {
  DEMO_ACCOUNTS,
  DEMO_FINDING_IDS,
  DEMO_MEMBER_ROLE,
  demoData,
} from '../../sandbox/fixtures/demo-org.ts';
import { createAwsClients } from '../../src/aws/clients.ts';
import { AwsError } from '../../src/aws/errors.ts';
import { createFixGateway, type FixGateway } from '../../src/aws/fixes.ts';
import { call } from '../../src/aws/paging.ts';

const PROD = DEMO_ACCOUNTS.prod;
const STAGING = DEMO_ACCOUNTS.staging;
const MGMT = DEMO_ACCOUNTS.securityTooling;
const ALL = {
  BlockPublicAcls: true,
  IgnorePublicAcls: true,
  BlockPublicPolicy: true,
  RestrictPublicBuckets: true,
};

let aws: AwsSandbox;
let fixes: FixGateway;
let clients: ReturnType<typeof createAwsClients>;

const code = (p: Promise<unknown>) =>
  p.then(
    () => 'ok',
    (e: unknown) => (e instanceof AwsError ? e.code : String(e)),
  );

beforeEach(async () => {
  aws = await startAwsSandbox({ data: { ...demoData(new Date(), { burst: false }), strictAccounts: true } });
  clients = createAwsClients({
    credentials: { accessKeyId: 'AKIASANDBOXTEST00001', secretAccessKey: 'sandbox' },
    endpoints: { iam: aws.url, sts: aws.url, s3: aws.url, accessAnalyzer: aws.url },
    maxAttempts: 1,
    organization: {
      memberRoleName: DEMO_MEMBER_ROLE.name,
      externalId: DEMO_MEMBER_ROLE.externalId,
      sessionDurationSeconds: 900,
    } as never,
  });
  fixes = createFixGateway(clients);
});

afterEach(async () => {
  await aws.close();
});

describe('S3 Block Public Access', () => {
  it('reads no configuration as null, puts all four, reads them back, deletes them', async () => {
    expect(await fixes.getPublicAccessBlock(PROD, 'us-east-1', 'logs-prod')).toBeNull();
    await fixes.putPublicAccessBlock(PROD, 'us-east-1', 'logs-prod', ALL);
    expect(await fixes.getPublicAccessBlock(PROD, 'us-east-1', 'logs-prod')).toEqual(ALL);
    expect(aws.data.findings.get(DEMO_FINDING_IDS.publicBucketLogsProd)!.status).toBe('RESOLVED');
    await fixes.deletePublicAccessBlock(PROD, 'us-east-1', 'logs-prod');
    expect(await fixes.getPublicAccessBlock(PROD, 'us-east-1', 'logs-prod')).toBeNull();
    expect(aws.data.findings.get(DEMO_FINDING_IDS.publicBucketLogsProd)!.status).toBe('ACTIVE');
    expect(
      aws.requests.filter((r) => r.service === 's3').map((r) => `${r.operation} ${r.status} ${r.account}`),
    ).toEqual([
      `GetPublicAccessBlock 404 ${PROD}`,
      `PutPublicAccessBlock 200 ${PROD}`,
      `GetPublicAccessBlock 200 ${PROD}`,
      `DeletePublicAccessBlock 204 ${PROD}`,
      `GetPublicAccessBlock 404 ${PROD}`,
    ]);
  });

  it('refuses a bucket of another owner and an unknown bucket as S3 does', async () => {
    expect(await code(fixes.getPublicAccessBlock(STAGING, 'us-east-1', 'logs-prod'))).toBe('AccessDenied');
    expect(await code(fixes.getPublicAccessBlock(PROD, 'us-east-1', 'no-such-bucket'))).toBe('NoSuchBucket');
  });
});

describe('S3 control: account-level Block Public Access', () => {
  it('reads none as null and the account’s settings when set; a change re-analyzes the account’s buckets', async () => {
    expect(await fixes.getAccountPublicAccessBlock(PROD, 'us-east-1')).toBeNull();
    aws.data.accountPublicAccessBlocks = { [PROD]: { ...ALL, BlockPublicPolicy: false } };
    expect(await fixes.getAccountPublicAccessBlock(PROD, 'us-east-1')).toEqual({
      ...ALL,
      BlockPublicPolicy: false,
    });
    expect(
      aws.requests
        .filter((r) => r.service === 's3control')
        .map((r) => `${r.operation} ${r.status} ${r.account}`),
    ).toEqual([`GetPublicAccessBlock 404 ${PROD}`, `GetPublicAccessBlock 200 ${PROD}`]);

    // Turned on at the account (as an administrator would), the bucket's public finding resolves.
    const control = clients.s3control('us-east-1', PROD);
    await control.send(
      new PutPublicAccessBlockCommand({ AccountId: PROD, PublicAccessBlockConfiguration: { ...ALL } }),
    );
    expect(aws.data.findings.get(DEMO_FINDING_IDS.publicBucketLogsProd)!.status).toBe('RESOLVED');
  });

  it('refuses another account than the credentials’ as S3 control does', async () => {
    const control = clients.s3control('us-east-1', PROD);
    expect(
      await code(
        call('S3Control.GetPublicAccessBlock', () =>
          control.send(new GetPublicAccessBlockCommand({ AccountId: STAGING })),
        ),
      ),
    ).toBe('AccessDenied');
  });
});

describe('IAM', () => {
  it('lists and updates an access key by user name; an unknown key is NoSuchEntity', async () => {
    expect(await fixes.listAccessKeys(STAGING, 'legacy-etl')).toEqual([
      { id: 'AKIAIOSFODNN7LEGACY1', status: 'Active' },
    ]);
    await fixes.updateAccessKey(STAGING, 'legacy-etl', 'AKIAIOSFODNN7LEGACY1', 'Inactive');
    expect(await fixes.listAccessKeys(STAGING, 'legacy-etl')).toEqual([
      { id: 'AKIAIOSFODNN7LEGACY1', status: 'Inactive' },
    ]);
    expect(
      await code(fixes.updateAccessKey(STAGING, 'legacy-etl', 'AKIANOSUCHKEY0000000', 'Inactive')),
    ).toMatch(/^NoSuchEntity/);
    expect(await code(fixes.listAccessKeys(STAGING, 'nobody'))).toMatch(/^NoSuchEntity/);
  });

  it('reads, deletes and creates a login profile with IAM’s errors', async () => {
    expect(await fixes.getLoginProfile(MGMT, 'alice.admin')).toMatchObject({ passwordResetRequired: false });
    expect(await code(fixes.createLoginProfile(MGMT, 'alice.admin', 'Aa1!aaaaaaaa', true))).toMatch(
      /^EntityAlreadyExists/,
    );
    await fixes.deleteLoginProfile(MGMT, 'alice.admin');
    expect(await fixes.getLoginProfile(MGMT, 'alice.admin')).toBeNull();
    expect(await code(fixes.deleteLoginProfile(MGMT, 'alice.admin'))).toMatch(/^NoSuchEntity/);
    expect(await code(fixes.createLoginProfile(MGMT, 'alice.admin', 'short', true))).toMatch(
      /^PasswordPolicyViolation/,
    );
    await fixes.createLoginProfile(MGMT, 'alice.admin', 'Aa1!aaaaaaaa', true);
    expect(await fixes.getLoginProfile(MGMT, 'alice.admin')).toMatchObject({ passwordResetRequired: true });
  });

  it('updates a trust policy and refuses a malformed one', async () => {
    const before = (await fixes.getTrustPolicy(STAGING, 'vendor-audit'))!;
    expect(JSON.parse(before).Statement[0].Principal).toEqual({ AWS: 'arn:aws:iam::999988887777:root' });
    expect(
      await code(fixes.updateTrustPolicy(STAGING, 'vendor-audit', '{"Version":"2012-10-17","Statement":[]}')),
    ).toMatch(/^MalformedPolicyDocument/);
    expect(
      await code(
        fixes.updateTrustPolicy(
          STAGING,
          'vendor-audit',
          JSON.stringify({
            Version: '2012-10-17',
            Statement: [{ Effect: 'Allow', Principal: '*', Action: 'sts:AssumeRole', Resource: '*' }],
          }),
        ),
      ),
    ).toMatch(/^MalformedPolicyDocument/);
    await fixes.updateTrustPolicy(STAGING, 'vendor-audit', before);
    expect(JSON.parse((await fixes.getTrustPolicy(STAGING, 'vendor-audit'))!)).toEqual(JSON.parse(before));
    expect(await fixes.getTrustPolicy(STAGING, 'no-such-role')).toBeNull();
  });
});
