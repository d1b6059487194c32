import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ListAnalyzersCommand } from '@aws-sdk/client-accessanalyzer';
import { GetResourcesCommand } from '@aws-sdk/client-resource-groups-tagging-api';
import { GetBucketPolicyCommand } from '@aws-sdk/client-s3';
import { GetPublicAccessBlockCommand } from '@aws-sdk/client-s3-control';
import nock from 'nock';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { createAwsClients } from '../../src/aws/clients.ts';
import { AwsError } from '../../src/aws/errors.ts';
import { type Env, formatProblems, parseEnv } from '../../src/config/env.ts';
import { awsRetries, createRuntime } from '../../src/runtime.ts';
import {
  assumeRoleXml,
  awsQueryErrorXml,
  CALLER_ACCOUNT,
  FAKE_CREDENTIALS,
  getCallerIdentityXml,
  MEMBER_ACCOUNT,
} from '../factories/aws.ts';
import { onlyLoopback } from '../helpers/net.ts';
import { REDIS_URL, testConfig } from '../helpers/runtime.ts';

const STS = 'https://sts.us-east-1.amazonaws.com';
const XML = { 'content-type': 'text/xml' };
const ROLE_ARN = `arn:aws:iam::${MEMBER_ACCOUNT}:role/AccessPatrolMember`;
const organization = {
  memberRoleName: 'AccessPatrolMember',
  externalId: 'ap-ext-7f3e',
  sessionDurationSeconds: 1800,
};

/** Records every STS request body (awsQuery form fields, as nock parses them). */
function stsMock() {
  const bodies: Record<string, string>[] = [];
  const scope = nock(STS);
  const record = (body: Record<string, string>) => {
    bodies.push(body);
    return true;
  };
  return {
    bodies,
    scope,
    callerIdentity: () =>
      scope
        .post('/', (b: Record<string, string>) => b.Action === 'GetCallerIdentity' && record(b))
        .reply(200, getCallerIdentityXml(), XML),
    assumeRole: (expiration: Date, accessKeyId?: string) =>
      scope
        .post('/', (b: Record<string, string>) => b.Action === 'AssumeRole' && record(b))
        .reply(200, assumeRoleXml(ROLE_ARN, expiration, accessKeyId), XML),
  };
}

const inOneHour = () => new Date(Date.now() + 3_600_000);

describe('createAwsClients: caller account', () => {
  it('asks GetCallerIdentity once and caches the account', async () => {
    const sts = stsMock();
    sts.callerIdentity();
    const clients = createAwsClients({ credentials: FAKE_CREDENTIALS, maxAttempts: 1 });

    expect(await clients.callerAccount()).toBe(CALLER_ACCOUNT);
    expect(await clients.callerAccount()).toBe(CALLER_ACCOUNT);

    expect(sts.bodies).toEqual([{ Action: 'GetCallerIdentity', Version: '2011-06-15' }]);
  });

  it('uses the base credentials for the caller account without assuming a role', async () => {
    const sts = stsMock();
    sts.callerIdentity();
    const clients = createAwsClients({ credentials: FAKE_CREDENTIALS, maxAttempts: 1, organization });

    const creds = await clients.credentialsFor(CALLER_ACCOUNT);

    expect(creds.accessKeyId).toBe(FAKE_CREDENTIALS.accessKeyId);
    expect(sts.bodies.map((b) => b.Action)).toEqual(['GetCallerIdentity']);
  });

  it('uses the base credentials everywhere when no organization is configured', async () => {
    const clients = createAwsClients({ credentials: FAKE_CREDENTIALS, maxAttempts: 1 });

    const creds = await clients.credentialsFor(MEMBER_ACCOUNT);

    expect(creds.accessKeyId).toBe(FAKE_CREDENTIALS.accessKeyId);
    expect(clients.iam(MEMBER_ACCOUNT)).toBe(clients.iam());
  });
});

describe('createAwsClients: member accounts', () => {
  it('assumes the member role once with external id, session name and duration, shared by concurrent callers', async () => {
    const sts = stsMock();
    sts.callerIdentity();
    sts.assumeRole(inOneHour());
    const clients = createAwsClients({ credentials: FAKE_CREDENTIALS, maxAttempts: 1, organization });

    const [a, b] = await Promise.all([
      clients.credentialsFor(MEMBER_ACCOUNT),
      clients.credentialsFor(MEMBER_ACCOUNT),
    ]);
    const c = await clients.credentialsFor(MEMBER_ACCOUNT);

    expect(a.accessKeyId).toBe('ASIAMEMBEREXAMPLE001');
    expect(a.sessionToken).toBe('FwoGZXIvYXdzEXAMPLESESSIONTOKEN');
    expect(b).toBe(a);
    expect(c).toBe(a);
    expect(sts.bodies.filter((x) => x.Action === 'AssumeRole')).toEqual([
      {
        Action: 'AssumeRole',
        Version: '2011-06-15',
        RoleArn: ROLE_ARN,
        RoleSessionName: 'access-patrol',
        DurationSeconds: '1800',
        ExternalId: 'ap-ext-7f3e',
      },
    ]);
  });

  it('assumes the role again once the credentials are within 5 minutes of expiring', async () => {
    const sts = stsMock();
    const expiration = new Date('2030-01-01T12:00:00Z');
    sts.callerIdentity();
    sts.assumeRole(expiration, 'ASIAFIRSTEXAMPLE0001');
    sts.assumeRole(new Date('2030-01-01T13:00:00Z'), 'ASIASECONDEXAMPLE002');
    let now = expiration.getTime() - 10 * 60_000;
    const clients = createAwsClients({
      credentials: FAKE_CREDENTIALS,
      maxAttempts: 1,
      organization,
      now: () => now,
    });

    expect((await clients.credentialsFor(MEMBER_ACCOUNT)).accessKeyId).toBe('ASIAFIRSTEXAMPLE0001');
    now = expiration.getTime() - 6 * 60_000;
    expect((await clients.credentialsFor(MEMBER_ACCOUNT)).accessKeyId).toBe('ASIAFIRSTEXAMPLE0001');
    now = expiration.getTime() - 4 * 60_000;
    expect((await clients.credentialsFor(MEMBER_ACCOUNT)).accessKeyId).toBe('ASIASECONDEXAMPLE002');

    expect(sts.bodies.filter((x) => x.Action === 'AssumeRole')).toHaveLength(2);
  });

  it('reports a denied AssumeRole as access-denied naming the role and account, and tries again next time', async () => {
    const sts = stsMock();
    sts.callerIdentity();
    sts.scope
      .post('/', (b: Record<string, string>) => b.Action === 'AssumeRole')
      .reply(
        403,
        awsQueryErrorXml(
          'AccessDenied',
          `User: arn:aws:sts::${CALLER_ACCOUNT}:assumed-role/access-patrol/i-0abc is not authorized to perform: sts:AssumeRole on resource: ${ROLE_ARN}`,
        ),
        XML,
      );
    sts.assumeRole(inOneHour());
    const clients = createAwsClients({ credentials: FAKE_CREDENTIALS, maxAttempts: 1, organization });

    const err = await clients.credentialsFor(MEMBER_ACCOUNT).catch((e: unknown) => e);

    expect(err).toBeInstanceOf(AwsError);
    expect(err).toMatchObject({ kind: 'access-denied', operation: 'STS.AssumeRole', code: 'AccessDenied' });
    expect((err as Error).message).toContain(`cannot assume ${ROLE_ARN} in account ${MEMBER_ACCOUNT}`);
    expect((await clients.credentialsFor(MEMBER_ACCOUNT)).accessKeyId).toBe('ASIAMEMBEREXAMPLE001');
  });
});

describe('createAwsClients: client cache and endpoints', () => {
  it('caches clients per service, region and account, with IAM in us-east-1', async () => {
    const clients = createAwsClients({ credentials: FAKE_CREDENTIALS, organization });

    expect(clients.accessAnalyzer('eu-west-1')).toBe(clients.accessAnalyzer('eu-west-1'));
    expect(clients.accessAnalyzer('eu-west-1')).not.toBe(clients.accessAnalyzer('us-east-1'));
    expect(clients.iam(MEMBER_ACCOUNT)).toBe(clients.iam(MEMBER_ACCOUNT));
    expect(clients.iam(MEMBER_ACCOUNT)).not.toBe(clients.iam());
    expect(clients.tagging('eu-west-1', MEMBER_ACCOUNT)).not.toBe(
      clients.tagging('eu-west-2', MEMBER_ACCOUNT),
    );
    expect(clients.sts()).toBe(clients.sts());
    expect(await clients.iam().config.region()).toBe('us-east-1');
    expect(await clients.accessAnalyzer('eu-west-1').config.maxAttempts()).toBe(5);
  });

  it('sends to an endpoint override verbatim (sandbox)', async () => {
    const scope = nock('http://localhost:4566').get('/analyzer').reply(200, { analyzers: [] });
    const clients = createAwsClients({
      credentials: FAKE_CREDENTIALS,
      maxAttempts: 1,
      endpoints: { accessAnalyzer: 'http://localhost:4566' },
    });

    await clients.accessAnalyzer('eu-west-1').send(new ListAnalyzersCommand({}));

    expect(scope.isDone()).toBe(true);
  });
});

describe('createAwsClients: one connection pool', () => {
  it('serves every client from the same keep-alive connections: two regions and two services, one TCP connection', async () => {
    // nock's pass-through to loopback opens a connection per request: the real http module here.
    nock.restore();
    let connections = 0;
    const targets: string[] = [];
    const server = createServer((req, res) => {
      targets.push(String(req.headers['x-amz-target'] ?? req.url));
      req.resume().on('end', () => {
        const json = String(req.headers['x-amz-target'] ?? '').startsWith('ResourceGroupsTagging');
        res.writeHead(200, { 'content-type': json ? 'application/x-amz-json-1.1' : 'application/json' });
        res.end(json ? '{"ResourceTagMappingList":[]}' : '{"analyzers":[]}');
      });
    });
    server.on('connection', () => connections++);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const clients = createAwsClients({
        credentials: FAKE_CREDENTIALS,
        maxAttempts: 1,
        endpoints: { tagging: url, accessAnalyzer: url },
      });
      expect(clients.tagging('eu-west-1')).not.toBe(clients.tagging('us-east-1'));
      await clients
        .tagging('eu-west-1')
        .send(new GetResourcesCommand({ ResourceARNList: ['arn:aws:s3:::a'] }));
      await clients
        .tagging('us-east-1')
        .send(new GetResourcesCommand({ ResourceARNList: ['arn:aws:s3:::b'] }));
      await clients.accessAnalyzer('eu-west-2').send(new ListAnalyzersCommand({}));

      expect(targets).toEqual([
        'ResourceGroupsTaggingAPI_20170126.GetResources',
        'ResourceGroupsTaggingAPI_20170126.GetResources',
        '/analyzer',
      ]);
      expect(connections).toBe(1);
    } finally {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
      nock.activate();
      onlyLoopback();
    }
  });
});

// What docs/configuration.md and .env.example say of the SDK's own S3 endpoint variables: the bot
// does not read them, the SDK does, with S3's and S3 Control's host-name rules.
describe('AWS_ENDPOINT_URL_S3 and AWS_ENDPOINT_URL_S3_CONTROL', () => {
  const NAMES = ['AWS_ENDPOINT_URL_S3', 'AWS_ENDPOINT_URL_S3_CONTROL'] as const;
  afterEach(() => {
    for (const name of NAMES) delete process.env[name];
    nock.cleanAll();
  });
  const clients = () => createAwsClients({ credentials: FAKE_CREDENTIALS, maxAttempts: 1 });
  const bucketPolicy = (c: ReturnType<typeof clients>) =>
    c.s3('eu-west-1').send(new GetBucketPolicyCommand({ Bucket: 'my-bucket' }));
  const accountBlock = (c: ReturnType<typeof clients>) =>
    c.s3control('eu-west-1').send(new GetPublicAccessBlockCommand({ AccountId: MEMBER_ACCOUNT }));
  const policy = { Policy: '{"Version":"2012-10-17","Statement":[]}' };
  const block = `<PublicAccessBlockConfiguration><BlockPublicAcls>true</BlockPublicAcls></PublicAccessBlockConfiguration>`;

  it('sends S3 calls with the bucket in front of a host name, S3 Control calls with the account in front', async () => {
    process.env.AWS_ENDPOINT_URL_S3 = 'http://s3.example.test';
    process.env.AWS_ENDPOINT_URL_S3_CONTROL = 'http://s3-control.example.test';
    const s3 = nock('http://my-bucket.s3.example.test')
      .get('/')
      .query({ policy: '' })
      .reply(200, policy.Policy);
    const control = nock(`http://${MEMBER_ACCOUNT}.s3-control.example.test`)
      .get('/v20180820/configuration/publicAccessBlock')
      .reply(200, block, { 'content-type': 'application/xml' });
    const c = clients();

    expect((await bucketPolicy(c)).Policy).toBe(policy.Policy);
    expect((await accountBlock(c)).PublicAccessBlockConfiguration?.BlockPublicAcls).toBe(true);
    expect([s3.isDone(), control.isDone()]).toEqual([true, true]);
  });

  it('sends S3 calls path-style to an IP address, and cannot send S3 Control calls to one', async () => {
    process.env.AWS_ENDPOINT_URL_S3 = 'http://127.0.0.1:4100';
    process.env.AWS_ENDPOINT_URL_S3_CONTROL = 'http://127.0.0.1:4100';
    const s3 = nock('http://127.0.0.1:4100')
      .get('/my-bucket/')
      .query({ policy: '' })
      .reply(200, policy.Policy);
    const c = clients();

    expect((await bucketPolicy(c)).Policy).toBe(policy.Policy);
    expect(s3.isDone()).toBe(true);
    await expect(accountBlock(c)).rejects.toThrow(/Invalid URL/);
  });
});

describe('AWS_MAX_ATTEMPTS and AWS_RETRY_MODE', () => {
  const AA = 'https://access-analyzer.eu-west-1.amazonaws.com';
  const envOf = (vars: Record<string, string>) => {
    const parsed = parseEnv({ SLACK_BOT_TOKEN: 'xoxb-test-token', REDIS_URL, ...vars });
    if (!parsed.ok) throw new Error(formatProblems(parsed.problems));
    return parsed.value;
  };
  /** ListAnalyzers answering 503 every time; returns how many attempts reached AWS. */
  async function attemptsOfFailingCall(env: Env): Promise<number> {
    let attempts = 0;
    nock(AA)
      .get('/analyzer')
      .times(20)
      .reply(() => {
        attempts++;
        return [
          503,
          { message: 'Service Unavailable' },
          { 'x-amzn-ErrorType': 'ServiceUnavailableException' },
        ];
      });
    const rt = createRuntime({
      env,
      config: testConfig(),
      logger: pino({ level: 'silent' }),
      aws: { credentials: FAKE_CREDENTIALS },
    });
    try {
      await expect(rt.deps.analyzers.listAnalyzers('eu-west-1')).rejects.toThrow();
    } finally {
      await rt.close();
      nock.cleanAll();
    }
    return attempts;
  }

  it('makes as many attempts per call as AWS_MAX_ATTEMPTS says', async () => {
    expect(await attemptsOfFailingCall(envOf({ AWS_MAX_ATTEMPTS: '2' }))).toBe(2);
  });

  it('makes 5 attempts when AWS_MAX_ATTEMPTS is unset', async () => {
    expect(await attemptsOfFailingCall(envOf({}))).toBe(5);
  }, 30_000);

  it('gives the clients the retry mode of AWS_RETRY_MODE, standard when unset', async () => {
    for (const [vars, mode] of [
      [{ AWS_RETRY_MODE: 'Adaptive' }, 'adaptive'],
      [{}, 'standard'],
    ] as const) {
      const clients = createAwsClients({ ...awsRetries(envOf(vars)), credentials: FAKE_CREDENTIALS });
      const strategy = await clients.accessAnalyzer('eu-west-1').config.retryStrategy();
      expect((strategy as { mode?: string }).mode).toBe(mode);
    }
  });

  it('refuses an AWS_MAX_ATTEMPTS that is not a positive whole number, naming the variable', () => {
    for (const value of ['0', '-1', 'three', '2.5', '1e1']) {
      const parsed = parseEnv({ SLACK_BOT_TOKEN: 'xoxb-test-token', AWS_MAX_ATTEMPTS: value });
      expect(parsed.ok).toBe(false);
      expect(parsed.ok ? '' : formatProblems(parsed.problems)).toBe(
        `env.AWS_MAX_ATTEMPTS: expected a positive whole number of attempts per AWS call, the first included (default 5), got ${JSON.stringify(value)}`,
      );
    }
    const mode = parseEnv({ SLACK_BOT_TOKEN: 'xoxb-test-token', AWS_RETRY_MODE: 'legacy' });
    expect(mode.ok ? '' : formatProblems(mode.problems)).toBe(
      'env.AWS_RETRY_MODE: expected standard or adaptive (default standard), got "legacy"',
    );
  });
});
