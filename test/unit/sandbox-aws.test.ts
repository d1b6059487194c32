// The AWS sandbox, driven by the real SDK v3 clients: protocol shapes, paging, errors, live data.
import {
  AccessAnalyzerClient,
  AccessDeniedException,
  GetFindingV2Command,
  ListAnalyzersCommand,
  ListFindingsV2Command,
  ResourceNotFoundException,
  ThrottlingException,
  UpdateFindingsCommand,
  ValidationException,
} from '@aws-sdk/client-accessanalyzer';
import { GetRoleCommand, IAMClient, ListUserTagsCommand, NoSuchEntityException } from '@aws-sdk/client-iam';
import {
  GetResourcesCommand,
  type GetResourcesCommandInput,
  ResourceGroupsTaggingAPIClient,
} from '@aws-sdk/client-resource-groups-tagging-api';
import { AssumeRoleCommand, GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { afterEach, describe, expect, it } from 'vitest';
import { type AwsSandbox, type SandboxData, startAwsSandbox } from '../../sandbox/aws.ts';
import { bulkData } from '../../sandbox/fixtures/bulk.ts';
import {
  DEMO_ACCOUNTS,
  DEMO_ANALYZERS,
  DEMO_FINDING_IDS,
  DEMO_MEMBER_ROLE,
  demoData,
} from '../../sandbox/fixtures/demo-org.ts';

const NOW = new Date('2026-11-29T12:00:00.000Z');
const CREDS = {
  accessKeyId: 'AKIAIOSFODNN7EXAMPLE',
  secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
};

let sandbox: AwsSandbox | undefined;
afterEach(async () => {
  await sandbox?.close();
  sandbox = undefined;
});

async function start(
  data: SandboxData = demoData(NOW),
  extra: { throttleEvery?: number; rateLimit?: { perSecond: number; burst?: number } } = {},
) {
  sandbox = await startAwsSandbox({ data, ...extra });
  return sandbox;
}

type Creds = { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
const aa = (region: string, creds: Creds = CREDS, maxAttempts = 1) =>
  new AccessAnalyzerClient({ region, endpoint: sandbox!.url, credentials: creds, maxAttempts });
const iam = (creds: Creds = CREDS) =>
  new IAMClient({ region: 'us-east-1', endpoint: sandbox!.url, credentials: creds, maxAttempts: 1 });
const sts = (creds: Creds = CREDS) =>
  new STSClient({ region: 'us-east-1', endpoint: sandbox!.url, credentials: creds, maxAttempts: 1 });
const tagging = (region: string, creds: Creds = CREDS) =>
  new ResourceGroupsTaggingAPIClient({ region, endpoint: sandbox!.url, credentials: creds, maxAttempts: 1 });

async function caught(p: Promise<unknown>): Promise<Error & Record<string, unknown>> {
  try {
    await p;
  } catch (err) {
    return err as Error & Record<string, unknown>;
  }
  throw new Error('expected the call to fail');
}

async function listAll(
  client: AccessAnalyzerClient,
  analyzerArn: string,
  maxResults?: number,
  status = 'ACTIVE',
) {
  const pages: string[][] = [];
  let nextToken: string | undefined;
  do {
    const out = await client.send(
      new ListFindingsV2Command({
        analyzerArn,
        filter: { status: { eq: [status] } },
        ...(maxResults ? { maxResults } : {}),
        ...(nextToken ? { nextToken } : {}),
      }),
    );
    pages.push((out.findings ?? []).map((f) => f.id!));
    nextToken = out.nextToken;
  } while (nextToken);
  return pages;
}

describe('Access Analyzer (REST-JSON)', () => {
  it('lists the analyzers of the region, with managedBy and statusReason', async () => {
    await start();
    const us = await aa('us-east-1').send(new ListAnalyzersCommand({}));
    expect(us.analyzers?.map((a) => a.type).sort()).toEqual([
      'ACCOUNT',
      'ACCOUNT_UNUSED_ACCESS',
      'ORGANIZATION',
      'ORGANIZATION_INTERNAL_ACCESS',
      'ORGANIZATION_UNUSED_ACCESS',
    ]);
    const sh = us.analyzers?.find((a) => a.arn === DEMO_ANALYZERS.usSecurityHub);
    expect(sh?.managedBy).toBe('securityhubv2.amazonaws.com');
    expect(sh?.createdAt).toBeInstanceOf(Date);

    const eu = await aa('eu-west-1').send(new ListAnalyzersCommand({}));
    const failed = eu.analyzers?.find((a) => a.arn === DEMO_ANALYZERS.euFailedInternal);
    expect(failed).toMatchObject({
      status: 'FAILED',
      statusReason: { code: 'SERVICE_LINKED_ROLE_CREATION_FAILED' },
    });

    const ap = await aa('ap-southeast-2').send(new ListAnalyzersCommand({}));
    expect(ap.analyzers).toEqual([]);

    const typed = await aa('us-east-1').send(
      new ListAnalyzersCommand({ type: 'ORGANIZATION_UNUSED_ACCESS' }),
    );
    expect(typed.analyzers?.map((a) => a.arn)).toEqual([DEMO_ANALYZERS.usUnused]);

    const first = await aa('us-east-1').send(new ListAnalyzersCommand({ maxResults: 3 }));
    expect(first.analyzers).toHaveLength(3);
    const second = await aa('us-east-1').send(
      new ListAnalyzersCommand({ maxResults: 3, nextToken: first.nextToken }),
    );
    expect(second.analyzers).toHaveLength(2);
    expect(second.nextToken).toBeUndefined();
  });

  it('pages ListFindingsV2 with an opaque nextToken, filtering by status', async () => {
    const s = await start();
    const client = aa('us-east-1');
    const pages = await listAll(client, DEMO_ANALYZERS.usExternal, 4);
    expect(pages.slice(0, -1).every((p) => p.length === 4)).toBe(true);
    const ids = pages.flat();
    const expected = s.data.findings
      .forAnalyzer(DEMO_ANALYZERS.usExternal)
      .filter((f) => f.status === 'ACTIVE')
      .map((f) => f.id);
    expect(ids).toEqual(expected);
    expect(ids).not.toContain(DEMO_FINDING_IDS.archivedBucket);
    expect((await listAll(client, DEMO_ANALYZERS.usExternal, 100, 'ARCHIVED')).flat()).toEqual([
      DEMO_FINDING_IDS.archivedBucket,
    ]);

    const all = await client.send(new ListFindingsV2Command({ analyzerArn: DEMO_ANALYZERS.usExternal }));
    expect(all.findings).toHaveLength(expected.length + 2); // + ARCHIVED + RESOLVED
    const summary = all.findings!.find((f) => f.id === DEMO_FINDING_IDS.publicBucketLogsProd)!;
    expect(summary).toMatchObject({
      resource: 'arn:aws:s3:::logs-prod',
      resourceType: 'AWS::S3::Bucket',
      resourceOwnerAccount: DEMO_ACCOUNTS.prod,
      status: 'ACTIVE',
      findingType: 'ExternalAccess',
    });
    expect(summary.createdAt).toBeInstanceOf(Date);
    expect(summary.updatedAt).toBeInstanceOf(Date);
    expect(summary.analyzedAt).toBeInstanceOf(Date);
  });

  it('uses 100 findings per page by default', async () => {
    const data = bulkData({
      findings: 500,
      regions: 1,
      internal: false,
      archivedRatio: 0,
      resolvedRatio: 0,
      seed: 7,
    });
    await start(data);
    const arn = data.analyzers[0]!.arn;
    const pages = await listAll(aa(data.regions[0]!), arn);
    expect(pages.map((p) => p.length)).toEqual([100, 100, 50]);
    expect(new Set(pages.flat()).size).toBe(250);
  });

  it('pages GetFindingV2 findingDetails (default 50) and returns the union members', async () => {
    await start();
    const client = aa('us-east-1');
    const id = DEMO_FINDING_IDS.manyPrincipals;
    const whole = await client.send(new GetFindingV2Command({ analyzerArn: DEMO_ANALYZERS.usExternal, id }));
    expect(whole.findingDetails).toHaveLength(40);
    expect(whole.nextToken).toBeUndefined();

    const details = [];
    let nextToken: string | undefined;
    let pages = 0;
    do {
      const out = await client.send(
        new GetFindingV2Command({ analyzerArn: DEMO_ANALYZERS.usExternal, id, maxResults: 15, nextToken }),
      );
      expect(out.id).toBe(id);
      details.push(...(out.findingDetails ?? []));
      nextToken = out.nextToken;
      pages++;
    } while (nextToken);
    expect(pages).toBe(3);
    expect(details).toEqual(whole.findingDetails);
    expect(details.flatMap((d) => d.externalAccessDetails?.action ?? [])).toHaveLength(120);

    const unused = await client.send(
      new GetFindingV2Command({
        analyzerArn: DEMO_ANALYZERS.usUnused,
        id: DEMO_FINDING_IDS.unusedRoleCiDeployer,
      }),
    );
    expect(unused.findingType).toBe('UnusedIAMRole');
    const lastAccessed = unused.findingDetails?.[0]?.unusedIamRoleDetails?.lastAccessed;
    expect(lastAccessed).toBeInstanceOf(Date);
    expect(Math.round((NOW.getTime() - lastAccessed!.getTime()) / 86_400_000)).toBe(97);
  });

  it('generates details on demand for bulk findings', async () => {
    const data = bulkData({ findings: 60, regions: 1, seed: 3 });
    await start(data);
    const client = aa(data.regions[0]!);
    for (const f of [...data.findings.all()].slice(0, 6)) {
      const out = await client.send(new GetFindingV2Command({ analyzerArn: f.analyzerArn, id: f.id }));
      expect(out.findingType).toBe(f.findingType);
      expect(out.findingDetails?.length).toBeGreaterThan(0);
    }
  });

  it('answers AWS errors the SDK deserializes to the modeled exceptions', async () => {
    await start();
    const client = aa('us-east-1');

    const nf = await caught(
      client.send(new GetFindingV2Command({ analyzerArn: DEMO_ANALYZERS.usExternal, id: 'no-such-finding' })),
    );
    expect(nf).toBeInstanceOf(ResourceNotFoundException);
    expect(nf).toMatchObject({ name: 'ResourceNotFoundException', resourceId: 'no-such-finding' });
    expect(nf.resourceType).toBeTypeOf('string');
    expect((nf.$metadata as { httpStatusCode: number }).httpStatusCode).toBe(404);

    const noAnalyzer = await caught(
      client.send(new ListFindingsV2Command({ analyzerArn: DEMO_ANALYZERS.euExternal })), // other region
    );
    expect(noAnalyzer.name).toBe('ResourceNotFoundException');

    const badToken = await caught(
      client.send(
        new ListFindingsV2Command({ analyzerArn: DEMO_ANALYZERS.usExternal, nextToken: 'garbage' }),
      ),
    );
    expect(badToken).toBeInstanceOf(ValidationException);
    expect(badToken).toMatchObject({ reason: 'fieldValidationFailed', fieldList: [{ name: 'nextToken' }] });

    const badStatus = await caught(
      client.send(
        new ListFindingsV2Command({
          analyzerArn: DEMO_ANALYZERS.usExternal,
          filter: { status: { eq: ['OPEN'] } },
        }),
      ),
    );
    expect(badStatus).toMatchObject({ name: 'ValidationException', fieldList: [{ name: 'filter.status' }] });

    sandbox!.faults.accessDenied.push({ region: 'eu-west-1' });
    const denied = await caught(aa('eu-west-1').send(new ListAnalyzersCommand({})));
    expect(denied).toBeInstanceOf(AccessDeniedException);
    expect((denied.$metadata as { httpStatusCode: number }).httpStatusCode).toBe(403);
    await expect(client.send(new ListAnalyzersCommand({}))).resolves.toBeDefined();
  });

  it('throttles every Nth request with 429 + Retry-After, which the SDK honours', async () => {
    const s = await start(demoData(NOW), { throttleEvery: 2 });
    const client = aa('us-east-1');
    await client.send(new ListAnalyzersCommand({}));
    const t = await caught(client.send(new ListAnalyzersCommand({})));
    expect(t).toBeInstanceOf(ThrottlingException);
    expect(t.retryAfterSeconds).toBe(1);
    expect((t.$metadata as { httpStatusCode: number }).httpStatusCode).toBe(429);

    // With retries the third request succeeds, the fourth is throttled, the fifth succeeds after >= 1 s.
    await client.send(new ListAnalyzersCommand({}));
    const started = Date.now();
    const out = await aa('us-east-1', CREDS, 3).send(new ListAnalyzersCommand({}));
    expect(out.$metadata.attempts).toBe(2);
    expect(Date.now() - started).toBeGreaterThanOrEqual(950);
    expect(s.requests.filter((r) => r.status === 429)).toHaveLength(2);
    expect(s.counts().ListAnalyzers).toBe(5);
  });

  it('answers 429 ThrottlingException above a per-region request rate, as AWS does on the wire', async () => {
    const s = await start(demoData(NOW), { rateLimit: { perSecond: 1, burst: 2 } });
    const us = aa('us-east-1');
    await us.send(new ListAnalyzersCommand({}));
    await us.send(new ListAnalyzersCommand({}));
    const t = await caught(us.send(new ListAnalyzersCommand({})));
    expect(t).toBeInstanceOf(ThrottlingException);
    expect(t.message).toBe('Rate exceeded');
    expect(t.retryAfterSeconds).toBe(1);
    // Another region has a bucket of its own.
    await expect(aa('eu-west-1').send(new ListAnalyzersCommand({}))).resolves.toBeDefined();
    expect(s.throttled()).toBe(1);

    // The raw answer: status, error type header, Retry-After, a JSON body with the message.
    const raw = await fetch(`${s.url}/analyzer`, {
      headers: {
        authorization:
          'AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20261129/us-east-1/access-analyzer/aws4_request, SignedHeaders=host, Signature=0',
      },
    });
    expect(raw.status).toBe(429);
    expect(raw.headers.get('x-amzn-errortype')).toBe('ThrottlingException');
    expect(raw.headers.get('retry-after')).toBe('1');
    expect(raw.headers.get('content-type')).toBe('application/json');
    expect(await raw.json()).toEqual({ message: 'Rate exceeded' });

    // The bucket refills at the rate: a second later there is a token again.
    await new Promise((r) => setTimeout(r, 1100));
    await expect(us.send(new ListAnalyzersCommand({}))).resolves.toBeDefined();
    // Live: lifting the limit lets every request through.
    s.faults.rateLimit = undefined;
    for (let i = 0; i < 5; i++) await us.send(new ListAnalyzersCommand({}));
    expect(s.throttled()).toBe(2);
  });

  it('keeps a service-linked analyzer read-only: its findings list, UpdateFindings is refused', async () => {
    const s = await start();
    const linked = s.data.analyzers.find((a) => a.managedBy)!;
    const client = aa(linked.region);
    const ids = (await listAll(client, linked.arn)).flat();
    expect(ids.length).toBeGreaterThan(0);
    const one = await client.send(new GetFindingV2Command({ analyzerArn: linked.arn, id: ids[0]! }));
    expect(one.status).toBe('ACTIVE');
    const refused = await caught(
      client.send(new UpdateFindingsCommand({ analyzerArn: linked.arn, ids: [ids[0]!], status: 'ARCHIVED' })),
    );
    expect(refused).toBeInstanceOf(AccessDeniedException);
    expect(refused.message).toContain(`managed by ${linked.managedBy}`);
    expect(s.data.findings.get(ids[0]!)?.status).toBe('ACTIVE');
  });

  it('serves live data: status changes, removals and UpdateFindings show on the next request', async () => {
    const s = await start();
    const client = aa('us-east-1');
    const before = (await listAll(client, DEMO_ANALYZERS.usUnused)).flat();
    expect(before).toContain(DEMO_FINDING_IDS.unusedRoleCiDeployer);

    s.data.findings.update(DEMO_FINDING_IDS.unusedRoleCiDeployer, {
      status: 'RESOLVED',
      updatedAt: NOW.toISOString(),
    });
    s.data.findings.remove(DEMO_FINDING_IDS.unusedPassword);
    const after = (await listAll(client, DEMO_ANALYZERS.usUnused)).flat();
    expect(after).toEqual(
      before.filter(
        (id) => id !== DEMO_FINDING_IDS.unusedRoleCiDeployer && id !== DEMO_FINDING_IDS.unusedPassword,
      ),
    );
    const gone = await caught(
      client.send(
        new GetFindingV2Command({
          analyzerArn: DEMO_ANALYZERS.usUnused,
          id: DEMO_FINDING_IDS.unusedPassword,
        }),
      ),
    );
    expect(gone.name).toBe('ResourceNotFoundException');

    await client.send(
      new UpdateFindingsCommand({
        analyzerArn: DEMO_ANALYZERS.usExternal,
        status: 'ARCHIVED',
        ids: [DEMO_FINDING_IDS.sqsOrdersEvents],
      }),
    );
    expect(s.data.findings.get(DEMO_FINDING_IDS.sqsOrdersEvents)?.status).toBe('ARCHIVED');
  });

  it('resumes a page token after findings before it were removed', async () => {
    const s = await start();
    const client = aa('us-east-1');
    const first = await client.send(
      new ListFindingsV2Command({ analyzerArn: DEMO_ANALYZERS.usUnused, maxResults: 3 }),
    );
    const list = s.data.findings.forAnalyzer(DEMO_ANALYZERS.usUnused);
    const expectedNext = list[3]!.id;
    s.data.findings.remove(list[0]!.id);
    const second = await client.send(
      new ListFindingsV2Command({
        analyzerArn: DEMO_ANALYZERS.usUnused,
        maxResults: 3,
        nextToken: first.nextToken,
      }),
    );
    expect(second.findings?.[0]?.id).toBe(expectedNext);
  });
});

describe('IAM and STS (awsQuery)', () => {
  it('GetRole returns the role with tags, last use, trust policy and boundary', async () => {
    await start();
    const { Role } = await iam().send(new GetRoleCommand({ RoleName: 'ci-deployer' }));
    expect(Role).toMatchObject({
      RoleName: 'ci-deployer',
      Arn: `arn:aws:iam::${DEMO_ACCOUNTS.prod}:role/ci-deployer`,
      Path: '/',
      MaxSessionDuration: 3600,
      RoleLastUsed: { Region: 'us-east-1' },
    });
    expect(Role?.CreateDate).toBeInstanceOf(Date);
    expect(Role?.RoleLastUsed?.LastUsedDate).toBeInstanceOf(Date);
    expect(Role?.Tags).toContainEqual({ Key: 'access-patrol-channel', Value: '#team-platform' });
    const trust = JSON.parse(decodeURIComponent(Role!.AssumeRolePolicyDocument!)) as { Version: string };
    expect(trust.Version).toBe('2012-10-17');

    const boundary = await iam().send(new GetRoleCommand({ RoleName: 'app-backend' }));
    expect(boundary.Role?.PermissionsBoundary?.PermissionsBoundaryType).toBe('Policy');

    const hostile = await iam().send(new GetRoleCommand({ RoleName: '@here-ops' }));
    expect(hostile.Role?.Description).toBe('*On-call* <!here> break-glass role');
    expect(hostile.Role?.Tags).toContainEqual({ Key: 'access-patrol-channel', Value: '<!channel>' });

    const missing = await caught(iam().send(new GetRoleCommand({ RoleName: 'nope' })));
    expect(missing).toBeInstanceOf(NoSuchEntityException);
    expect((missing.$metadata as { httpStatusCode: number }).httpStatusCode).toBe(404);
  });

  it('ListUserTags pages with Marker/IsTruncated', async () => {
    await start();
    const first = await iam().send(new ListUserTagsCommand({ UserName: 'alice.admin', MaxItems: 2 }));
    expect(first.Tags).toHaveLength(2);
    expect(first.IsTruncated).toBe(true);
    const second = await iam().send(
      new ListUserTagsCommand({ UserName: 'alice.admin', MaxItems: 2, Marker: first.Marker }),
    );
    expect(second.IsTruncated).toBe(false);
    expect([...first.Tags!, ...second.Tags!]).toEqual([
      { Key: 'team', Value: 'security' },
      { Key: 'owner', Value: 'alice@example.com' },
      { Key: 'access-patrol-channel', Value: '#sec-alerts' },
    ]);
  });

  it('AssumeRole checks the external id and issues credentials for the member account', async () => {
    const data = demoData(NOW);
    data.strictAccounts = true;
    const s = await start(data);
    const roleArn = `arn:aws:iam::${DEMO_ACCOUNTS.prod}:role/${DEMO_MEMBER_ROLE.name}`;

    const wrong = await caught(
      sts().send(
        new AssumeRoleCommand({ RoleArn: roleArn, RoleSessionName: 'access-patrol', ExternalId: 'nope' }),
      ),
    );
    expect(wrong.name).toBe('AccessDenied');
    expect((wrong.$metadata as { httpStatusCode: number }).httpStatusCode).toBe(403);
    const otherRole = await caught(
      sts().send(
        new AssumeRoleCommand({
          RoleArn: `arn:aws:iam::${DEMO_ACCOUNTS.prod}:role/Admin`,
          RoleSessionName: 'access-patrol',
          ExternalId: DEMO_MEMBER_ROLE.externalId,
        }),
      ),
    );
    expect(otherRole.name).toBe('AccessDenied');

    const me = await sts().send(new GetCallerIdentityCommand({}));
    expect(me.Account).toBe(DEMO_ACCOUNTS.securityTooling);

    const out = await sts().send(
      new AssumeRoleCommand({
        RoleArn: roleArn,
        RoleSessionName: 'access-patrol',
        ExternalId: DEMO_MEMBER_ROLE.externalId,
      }),
    );
    const c = out.Credentials!;
    expect(c.AccessKeyId).toMatch(/^ASIA222222222222/);
    expect(c.Expiration).toBeInstanceOf(Date);
    const member = {
      accessKeyId: c.AccessKeyId!,
      secretAccessKey: c.SecretAccessKey!,
      sessionToken: c.SessionToken!,
    };
    const who = await sts(member).send(new GetCallerIdentityCommand({}));
    expect(who).toMatchObject({
      Account: DEMO_ACCOUNTS.prod,
      Arn: `arn:aws:sts::${DEMO_ACCOUNTS.prod}:assumed-role/${DEMO_MEMBER_ROLE.name}/access-patrol`,
    });

    // strictAccounts: member resources are visible only through the member role.
    expect((await caught(iam().send(new GetRoleCommand({ RoleName: 'ci-deployer' })))).name).toBe(
      'NoSuchEntityException',
    );
    const role = await iam(member).send(new GetRoleCommand({ RoleName: 'ci-deployer' }));
    expect(role.Role?.Arn).toContain(DEMO_ACCOUNTS.prod);
    expect(s.requests.at(-1)).toMatchObject({
      service: 'iam',
      operation: 'GetRole',
      account: DEMO_ACCOUNTS.prod,
    });

    const kms = 'arn:aws:kms:us-east-1:222222222222:key/6f1c2d3e-4b5a-4c6d-8e7f-0a1b2c3d4e5f';
    const direct = await tagging('us-east-1').send(new GetResourcesCommand({ ResourceARNList: [kms] }));
    expect(direct.ResourceTagMappingList).toEqual([]);
    const viaRole = await tagging('us-east-1', member).send(
      new GetResourcesCommand({ ResourceARNList: [kms] }),
    );
    expect(viaRole.ResourceTagMappingList?.[0]?.Tags).toContainEqual({
      Key: 'access-patrol-channel',
      Value: '#team-payments',
    });
  });
});

describe('Resource Groups Tagging API (JSON 1.1)', () => {
  it('GetResources maps ARNs to tags and omits unknown ones', async () => {
    await start();
    const out = await tagging('us-east-1').send(
      new GetResourcesCommand({
        ResourceARNList: [
          'arn:aws:s3:::logs-prod',
          'arn:aws:s3:::<!channel>-exports',
          'arn:aws:s3:::unknown',
        ],
      }),
    );
    expect(out.ResourceTagMappingList?.map((m) => m.ResourceARN)).toEqual([
      'arn:aws:s3:::logs-prod',
      'arn:aws:s3:::<!channel>-exports',
    ]);
    expect(out.ResourceTagMappingList?.[0]?.Tags).toContainEqual({
      Key: 'owner',
      Value: 'alice@example.com',
    });
    // Regional resources are found only in their region.
    const sqs = 'arn:aws:sqs:us-east-1:222222222222:orders-events';
    const eu = await tagging('eu-west-1').send(new GetResourcesCommand({ ResourceARNList: [sqs] }));
    expect(eu.ResourceTagMappingList).toEqual([]);
  });

  it('GetResources refuses what the API model refuses: over 100 ARNs, none, a malformed one, filters with a list', async () => {
    await start();
    const t = tagging('us-east-1');
    const bucket = (i: number) => `arn:aws:s3:::bucket-${i}`;
    const refused = async (input: GetResourcesCommandInput) => {
      const err = await caught(t.send(new GetResourcesCommand(input)));
      return `${err.name}: ${err.message}`;
    };
    expect(await refused({ ResourceARNList: Array.from({ length: 101 }, (_, i) => bucket(i)) })).toBe(
      'InvalidParameterException: ResourceARNList can hold at most 100 ARNs',
    );
    expect(await refused({ ResourceARNList: [] })).toBe(
      'InvalidParameterException: ResourceARNList must hold at least 1 ARN',
    );
    expect(await refused({ ResourceARNList: ['arn:aws:s3:::logs-prod', 'not-an-arn'] })).toBe(
      'InvalidParameterException: not-an-arn is not a valid ARN',
    );
    expect(
      await refused({ ResourceARNList: ['arn:aws:s3:::logs-prod'], TagFilters: [{ Key: 'owner' }] }),
    ).toBe('InvalidParameterException: ResourceARNList cannot be used with TagFilters');
    // 100 is the limit, not over it.
    const ok = await t.send(
      new GetResourcesCommand({
        ResourceARNList: ['arn:aws:s3:::logs-prod', ...Array.from({ length: 99 }, (_, i) => bucket(i))],
      }),
    );
    expect(ok.ResourceTagMappingList?.map((m) => m.ResourceARN)).toEqual(['arn:aws:s3:::logs-prod']);
  });
});
