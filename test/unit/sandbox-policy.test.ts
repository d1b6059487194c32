// The sandbox's policy tools driven through the bot's own policy gateway (real SDK clients, real
// HTTP): generation with its delays, one-at-a-time, quota and failure; ValidatePolicy; the Check*
// calls; and what a role or user holds today.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type AwsSandbox, startAwsSandbox } from '../../sandbox/aws.ts';
import { DEMO_ACCOUNTS, DEMO_MEMBER_ROLE, demoData } from '../../sandbox/fixtures/demo-org.ts';
import { createAwsClients } from '../../src/aws/clients.ts';
import { AwsError } from '../../src/aws/errors.ts';
import { createIamGateway } from '../../src/aws/iam.ts';
import { createPolicyGateway, type PolicyGateway } from '../../src/aws/policy.ts';

const PROD = DEMO_ACCOUNTS.prod;
const STAGING = DEMO_ACCOUNTS.staging;
const CI_DEPLOYER = `arn:aws:iam::${PROD}:role/ci-deployer`;
const TRAIL = `arn:aws:cloudtrail:us-east-1:${DEMO_ACCOUNTS.securityTooling}:trail/org-trail`;
const REGION = 'us-east-1';

let aws: AwsSandbox;
let gw: PolicyGateway;

const start = (principalArn = CI_DEPLOYER, clientToken = 'token-1', accountId: string = PROD) =>
  gw.startGeneration({
    accountId,
    region: REGION,
    principalArn,
    trails: [{ cloudTrailArn: TRAIL, allRegions: true }],
    accessRoleArn: `arn:aws:iam::${accountId}:role/service-role/AccessAnalyzerMonitorServiceRole`,
    startTime: new Date(Date.now() - 30 * 86_400_000),
    clientToken,
  });

async function caught(p: Promise<unknown>): Promise<AwsError> {
  try {
    await p;
  } catch (err) {
    return err as AwsError;
  }
  throw new Error('expected a failure');
}

beforeEach(async () => {
  aws = await startAwsSandbox({ data: demoData(new Date(), { burst: false }) });
  aws.data.policyTools = { pollsUntilDone: 2 };
  const clients = createAwsClients({
    credentials: { accessKeyId: 'AKIASANDBOXTEST00001', secretAccessKey: 'sandbox' },
    endpoints: { accessAnalyzer: aws.url, iam: aws.url, sts: aws.url },
    maxAttempts: 1,
    organization: {
      memberRoleName: DEMO_MEMBER_ROLE.name,
      externalId: DEMO_MEMBER_ROLE.externalId,
      sessionDurationSeconds: 3600,
    },
  });
  gw = createPolicyGateway(clients, createIamGateway(clients));
});

afterEach(async () => {
  await aws.close();
});

describe('policy generation in the sandbox', () => {
  it('stays IN_PROGRESS for a few polls, then returns a policy of the actions CloudTrail saw', async () => {
    const jobId = await start();

    expect((await gw.getGeneratedPolicy(PROD, REGION, jobId)).status).toBe('IN_PROGRESS');
    expect((await gw.getGeneratedPolicy(PROD, REGION, jobId)).status).toBe('IN_PROGRESS');
    const done = await gw.getGeneratedPolicy(PROD, REGION, jobId);

    expect(done).toMatchObject({ status: 'SUCCEEDED', isComplete: true });
    const policy = JSON.parse(done.policies[0]!) as { Statement: { Action: string[] }[] };
    expect(policy.Statement.flatMap((s) => s.Action)).toEqual([
      'ecr:CompleteLayerUpload',
      'ecr:GetAuthorizationToken',
      'ecr:InitiateLayerUpload',
      's3:PutObject',
    ]);
    // The generation ran in the principal's account, through the member role.
    const starts = aws.requests.filter((r) => r.operation === 'StartPolicyGeneration');
    expect(starts).toEqual([expect.objectContaining({ account: PROD, region: REGION, status: 200 })]);
  });

  it('runs one generation at a time per account (409) but lets another account start', async () => {
    await start();

    const conflict = await caught(start(CI_DEPLOYER, 'token-2'));
    expect(conflict).toBeInstanceOf(AwsError);
    expect(conflict.kind).toBe('conflict');
    expect(conflict.message).toMatch(`another policy generation is running in account ${PROD}`);

    await expect(start(`arn:aws:iam::${STAGING}:role/staging-batch`, 'token-3', STAGING)).resolves.toEqual(
      expect.any(String),
    );
  });

  it('answers a retried start with the same client token with the same job', async () => {
    const first = await start();
    expect(await start()).toBe(first);
  });

  it('refuses past the daily quota with 402, counting canceled generations', async () => {
    aws.data.policyTools = { dailyQuota: 2 };
    await gw.cancelGeneration(PROD, REGION, await start(CI_DEPLOYER, 'a'));
    await gw.cancelGeneration(PROD, REGION, await start(CI_DEPLOYER, 'b'));

    const quota = await caught(start(CI_DEPLOYER, 'c'));

    expect(quota.kind).toBe('quota');
    expect(quota.code).toBe('ServiceQuotaExceededException');
    expect(quota.message).toMatch(`the daily limit of policy generations in account ${PROD} is reached`);
    expect(aws.requests.at(-1)).toMatchObject({ operation: 'StartPolicyGeneration', status: 402 });
  });

  it('fails the generation of a configured principal with its jobError', async () => {
    aws.data.policyTools = {
      pollsUntilDone: 0,
      failPrincipals: {
        [CI_DEPLOYER]: { code: 'AUTHORIZATION_ERROR', message: 'cannot read the trail bucket' },
      },
    };
    const jobId = await start();

    expect(await gw.getGeneratedPolicy(PROD, REGION, jobId)).toMatchObject({
      status: 'FAILED',
      error: { code: 'AUTHORIZATION_ERROR', message: 'cannot read the trail bucket' },
      policies: [],
    });
  });

  it('reports a canceled generation as CANCELED', async () => {
    const jobId = await start();
    await gw.cancelGeneration(PROD, REGION, jobId);
    expect((await gw.getGeneratedPolicy(PROD, REGION, jobId)).status).toBe('CANCELED');
  });
});

describe('policy checks in the sandbox', () => {
  it('warns about "*" on "*" and flags an action that does not exist', async () => {
    const findings = await gw.validatePolicy({
      region: REGION,
      policyType: 'IDENTITY_POLICY',
      document: JSON.stringify({
        Version: '2012-10-17',
        Statement: [
          { Effect: 'Allow', Action: '*', Resource: '*' },
          { Effect: 'Allow', Action: 's3GetObject', Resource: '*' },
        ],
      }),
    });

    expect(findings.map((f) => `${f.findingType} ${f.issueCode}`)).toEqual([
      'SECURITY_WARNING PASS_ROLE_WITH_STAR_IN_ACTION_AND_RESOURCE',
      'ERROR INVALID_ACTION',
    ]);
    expect(findings[1]!.details).toBe('The action s3GetObject does not exist.');
    expect(findings[1]!.learnMoreLink).toMatch(/^https:\/\/docs\.aws\.amazon\.com\//);
  });

  it('passes CheckNoNewAccess when every new action is granted today, fails with the statement otherwise', async () => {
    const existing = JSON.stringify({
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Action: ['s3:Get*', 'ecr:PutImage'], Resource: '*' }],
    });
    const within = JSON.stringify({
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Action: ['s3:GetObject', 'ecr:PutImage'], Resource: '*' }],
    });
    const beyond = JSON.stringify({
      Version: '2012-10-17',
      Statement: [{ Sid: 'Write', Effect: 'Allow', Action: ['s3:PutObject'], Resource: '*' }],
    });
    const input = {
      accountId: PROD,
      region: REGION,
      existingDocument: existing,
      policyType: 'IDENTITY_POLICY' as const,
    };

    expect(await gw.checkNoNewAccess({ ...input, newDocument: within })).toMatchObject({
      result: 'PASS',
      reasons: [],
    });
    expect(await gw.checkNoNewAccess({ ...input, newDocument: beyond })).toEqual({
      result: 'FAIL',
      message: 'The modified permissions grant new access compared to your existing policy.',
      reasons: [
        { description: expect.stringContaining('s3:PutObject'), statementIndex: 0, statementId: 'Write' },
      ],
    });
  });

  it('fails CheckNoPublicAccess for Principal "*" without a condition', async () => {
    const doc = (condition?: object) =>
      JSON.stringify({
        Version: '2012-10-17',
        Statement: [
          {
            Effect: 'Allow',
            Principal: '*',
            Action: 's3:GetObject',
            Resource: 'arn:aws:s3:::b/*',
            ...(condition ? { Condition: condition } : {}),
          },
        ],
      });

    expect(
      (await gw.checkNoPublicAccess({ region: REGION, document: doc(), resourceType: 'AWS::S3::Bucket' }))
        .result,
    ).toBe('FAIL');
    expect(
      (
        await gw.checkNoPublicAccess({
          region: REGION,
          document: doc({ StringEquals: { 'aws:PrincipalOrgID': 'o-123' } }),
          resourceType: 'AWS::S3::Bucket',
        })
      ).result,
    ).toBe('PASS');
  });
});

describe('what a principal holds today', () => {
  it('reads a role: managed default versions (an unreadable one is reported) and inline policies', async () => {
    const held = (await gw.principalPolicies(CI_DEPLOYER))!;

    expect(held.kind).toBe('role');
    expect(held.attached.map((a) => [a.name, a.document !== undefined])).toEqual([
      ['ReadOnlyAccess', true],
      ['ci-deploy-artifacts', false],
    ]);
    expect(held.attached[1]!.error).toMatch(/NoSuchEntity/);
    expect(held.inline.map((p) => p.name)).toEqual(['ecr-push', 'deploy-bucket-write']);
    expect(JSON.parse(held.inline[0]!.document)).toMatchObject({ Version: '2012-10-17' });
  });

  it('reads a user with the policies of its groups, saying which group each comes from', async () => {
    const user = aws.data.users.find((u) => u.name === 'legacy-etl')!;
    user.attachedPolicies = ['arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess'];
    user.inlinePolicies = {
      'etl-write': {
        Version: '2012-10-17',
        Statement: [{ Effect: 'Allow', Action: 's3:PutObject', Resource: '*' }],
      },
    };
    user.groups = ['data-engineers'];
    aws.data.groups = [
      {
        account: STAGING,
        name: 'data-engineers',
        attachedPolicies: ['arn:aws:iam::aws:policy/ReadOnlyAccess'],
        inlinePolicies: {
          glue: {
            Version: '2012-10-17',
            Statement: [{ Effect: 'Allow', Action: 'glue:StartJobRun', Resource: '*' }],
          },
        },
      },
    ];

    const held = (await gw.principalPolicies(`arn:aws:iam::${STAGING}:user/legacy-etl`))!;

    expect(held.kind).toBe('user');
    expect(held.attached.map((a) => [a.name, a.via, a.document !== undefined])).toEqual([
      ['AmazonS3ReadOnlyAccess', undefined, true],
      ['ReadOnlyAccess', 'group data-engineers', true],
    ]);
    expect(held.inline).toEqual([
      { name: 'etl-write', document: expect.stringContaining('s3:PutObject') },
      { name: 'glue', document: expect.stringContaining('glue:StartJobRun'), via: 'group data-engineers' },
    ]);
    expect(aws.requests.filter((r) => r.service === 'iam').every((r) => r.account === STAGING)).toBe(true);
  });

  it('is null for a principal that no longer exists', async () => {
    expect(await gw.principalPolicies(`arn:aws:iam::${PROD}:role/gone`)).toBeNull();
  });
});
