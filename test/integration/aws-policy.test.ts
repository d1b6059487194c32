// The policy gateway on the wire (nock): the exact StartPolicyGeneration body, ValidatePolicy paging
// in the query string, and the AWS errors mapped to what they mean.
import nock from 'nock';
import { describe, expect, it } from 'vitest';
import { createAwsClients } from '../../src/aws/clients.ts';
import { AwsError } from '../../src/aws/errors.ts';
import { createIamGateway } from '../../src/aws/iam.ts';
import { createPolicyGateway } from '../../src/aws/policy.ts';
import { FAKE_CREDENTIALS } from '../factories/aws.ts';

const HOST = 'https://access-analyzer.us-east-1.amazonaws.com';
const ACCOUNT = '111122223333';
const ROLE = `arn:aws:iam::${ACCOUNT}:role/ci`;
const TRAIL = `arn:aws:cloudtrail:us-east-1:${ACCOUNT}:trail/org`;

function gateway() {
  const clients = createAwsClients({ credentials: FAKE_CREDENTIALS, maxAttempts: 1 });
  return createPolicyGateway(clients, createIamGateway(clients));
}

const input = {
  accountId: ACCOUNT,
  region: 'us-east-1',
  principalArn: ROLE,
  trails: [{ cloudTrailArn: TRAIL, regions: ['eu-west-1', 'us-east-1'] }],
  accessRoleArn: `arn:aws:iam::${ACCOUNT}:role/service-role/AccessAnalyzerMonitorServiceRole`,
  startTime: new Date('2026-10-30T00:00:00.000Z'),
  endTime: new Date('2026-11-29T00:00:00.000Z'),
  clientToken: 'pg-abc',
};

describe('policy gateway on the wire', () => {
  it('sends StartPolicyGeneration as PUT /policy/generation with the principal, trails, role and range', async () => {
    let body: unknown;
    nock(HOST)
      .put('/policy/generation', (b) => {
        body = b;
        return true;
      })
      .reply(200, { jobId: 'job-1' });

    expect(await gateway().startGeneration(input)).toBe('job-1');
    expect(body).toEqual({
      policyGenerationDetails: { principalArn: ROLE },
      cloudTrailDetails: {
        trails: [{ cloudTrailArn: TRAIL, regions: ['eu-west-1', 'us-east-1'] }],
        accessRole: input.accessRoleArn,
        startTime: '2026-10-30T00:00:00Z',
        endTime: '2026-11-29T00:00:00Z',
      },
      clientToken: 'pg-abc',
    });
  });

  it.each([
    [409, 'ConflictException', 'conflict', /another policy generation is running in account 111122223333/],
    [
      402,
      'ServiceQuotaExceededException',
      'quota',
      /daily limit of policy generations in account 111122223333/,
    ],
  ])('maps HTTP %i %s to a %s error that says what it means', async (status, code, kind, message) => {
    nock(HOST).put('/policy/generation').reply(status, { message: 'x' }, { 'x-amzn-errortype': code });

    const err = await gateway()
      .startGeneration(input)
      .catch((e: unknown) => e);

    expect(err).toBeInstanceOf(AwsError);
    expect(err).toMatchObject({ kind, code, operation: 'AccessAnalyzer.StartPolicyGeneration' });
    expect((err as Error).message).toMatch(message);
  });

  it('reads GetGeneratedPolicy: status, jobError, completeness and the policies', async () => {
    nock(HOST)
      .get('/policy/generation/job-1')
      .reply(200, {
        jobDetails: {
          jobId: 'job-1',
          status: 'SUCCEEDED',
          startedOn: '2026-11-29T08:00:00Z',
          completedOn: '2026-11-29T08:05:00Z',
        },
        generatedPolicyResult: {
          properties: { isComplete: false, principalArn: ROLE },
          generatedPolicies: [{ policy: '{"Version":"2012-10-17","Statement":[]}' }],
        },
      });

    expect(await gateway().getGeneratedPolicy(ACCOUNT, 'us-east-1', 'job-1')).toEqual({
      status: 'SUCCEEDED',
      startedOn: new Date('2026-11-29T08:00:00Z'),
      completedOn: new Date('2026-11-29T08:05:00Z'),
      isComplete: false,
      policies: ['{"Version":"2012-10-17","Statement":[]}'],
    });
  });

  it('follows ValidatePolicy pages through nextToken in the query string', async () => {
    const finding = (issueCode: string) => ({
      findingType: 'WARNING',
      issueCode,
      findingDetails: issueCode,
      learnMoreLink: 'https://docs.aws.amazon.com/x',
      locations: [],
    });
    nock(HOST)
      .post('/policy/validation')
      .query({})
      .reply(200, { findings: [finding('A')], nextToken: 'n2' })
      .post('/policy/validation')
      .query({ nextToken: 'n2' })
      .reply(200, { findings: [finding('B')] });

    const out = await gateway().validatePolicy({
      region: 'us-east-1',
      document: '{}',
      policyType: 'IDENTITY_POLICY',
    });
    expect(out.map((f) => f.issueCode)).toEqual(['A', 'B']);
  });
});
