import nock from 'nock';
import { describe, expect, it } from 'vitest';
import { createAwsClients } from '../../src/aws/clients.ts';
import { AwsError } from '../../src/aws/errors.ts';
import { createTagReader, iamNameOf, type TagReaderOptions } from '../../src/aws/tags.ts';
import {
  assumeRoleXml,
  awsQueryErrorXml,
  CALLER_ACCOUNT,
  FAKE_CREDENTIALS,
  getCallerIdentityXml,
  getResourcesOutput,
  getRoleXml,
  listUserTagsXml,
  MEMBER_ACCOUNT,
  REGION,
} from '../factories/aws.ts';

const IAM = 'https://iam.amazonaws.com';
const STS = 'https://sts.us-east-1.amazonaws.com';
const TAGGING = `https://tagging.${REGION}.amazonaws.com`;
const XML = { 'content-type': 'text/xml' };
const MEMBER_ROLE_ARN = `arn:aws:iam::${MEMBER_ACCOUNT}:role/AccessPatrolMember`;
const organization = {
  memberRoleName: 'AccessPatrolMember',
  externalId: 'ap-ext-7f3e',
  sessionDurationSeconds: 3600,
};

const reader = (useResourceGroupsTaggingApi = true, withOrg = true, opts: TagReaderOptions = {}) =>
  createTagReader(
    createAwsClients({
      credentials: FAKE_CREDENTIALS,
      maxAttempts: 1,
      ...(withOrg ? { organization } : {}),
    }),
    { useResourceGroupsTaggingApi },
    opts,
  );

const role = (accountId: string, path = '/') => ({
  arn: `arn:aws:iam::${accountId}:role${path}deployer`,
  type: 'AWS::IAM::Role',
  accountId,
  region: REGION,
});
const user = (accountId: string) => ({
  arn: `arn:aws:iam::${accountId}:user/ops/ci-bot`,
  type: 'AWS::IAM::User',
  accountId,
  region: REGION,
});
const queue = (accountId: string) => ({
  arn: `arn:aws:sqs:${REGION}:${accountId}:orders`,
  type: 'AWS::SQS::Queue',
  accountId,
  region: REGION,
});

interface Seen {
  body: Record<string, string>;
  authorization: string;
  securityToken: string | undefined;
}

/** Mocks STS for the caller identity and (optionally) one AssumeRole; returns the AssumeRole bodies. */
function mockSts(assumeRole: boolean) {
  const assumeBodies: Record<string, string>[] = [];
  const scope = nock(STS)
    .post('/', (b: Record<string, string>) => b.Action === 'GetCallerIdentity')
    .reply(200, getCallerIdentityXml(CALLER_ACCOUNT), XML);
  if (assumeRole) {
    scope
      .post('/', (b: Record<string, string>) => {
        if (b.Action !== 'AssumeRole') return false;
        assumeBodies.push(b);
        return true;
      })
      .reply(200, assumeRoleXml(MEMBER_ROLE_ARN, new Date(Date.now() + 3_600_000)), XML);
  }
  return assumeBodies;
}

/** A nock reply that records the request (awsQuery form body parsed) and answers `xml`. */
function recordIam(seen: Seen[], xml: string, status = 200) {
  return function (this: { req: { headers: Record<string, string> } }, _uri: string, body: unknown) {
    seen.push({
      body:
        typeof body === 'string'
          ? Object.fromEntries(new URLSearchParams(body))
          : (body as Record<string, string>),
      authorization: this.req.headers.authorization ?? '',
      securityToken: this.req.headers['x-amz-security-token'],
    });
    return [status, xml, XML] as [number, string, Record<string, string>];
  };
}

describe('TagReader: IAM roles', () => {
  it('reads GetRole tags with the role name taken from the last path segment', async () => {
    mockSts(false);
    const seen: Seen[] = [];
    nock(IAM)
      .post('/')
      .reply(
        recordIam(
          seen,
          getRoleXml('deployer', CALLER_ACCOUNT, { team: 'payments', owner: 'a@acme.io' }, '/ci/'),
        ),
      );

    const tags = await reader().getTags(role(CALLER_ACCOUNT, '/ci/'));

    expect(tags).toEqual({ team: 'payments', owner: 'a@acme.io' });
    expect(seen.map((s) => s.body)).toEqual([
      { Action: 'GetRole', Version: '2010-05-08', RoleName: 'deployer' },
    ]);
    // Caller account: signed with the base key, for us-east-1.
    expect(seen[0]?.authorization).toContain(`Credential=${FAKE_CREDENTIALS.accessKeyId}/`);
    expect(seen[0]?.authorization).toContain('/us-east-1/iam/aws4_request');
  });

  it('assumes the member role once for two reads in a member account and sends the external id', async () => {
    const assumeBodies = mockSts(true);
    const seen: Seen[] = [];
    nock(IAM)
      .post('/')
      .times(2)
      .reply(
        recordIam(seen, getRoleXml('deployer', MEMBER_ACCOUNT, { 'access-patrol-channel': '#payments' })),
      );
    const tags = reader();

    expect(await tags.getTags(role(MEMBER_ACCOUNT))).toEqual({ 'access-patrol-channel': '#payments' });
    expect(await tags.getTags(role(MEMBER_ACCOUNT))).toEqual({ 'access-patrol-channel': '#payments' });

    expect(assumeBodies).toEqual([
      {
        Action: 'AssumeRole',
        Version: '2011-06-15',
        RoleArn: MEMBER_ROLE_ARN,
        RoleSessionName: 'access-patrol',
        DurationSeconds: '3600',
        ExternalId: 'ap-ext-7f3e',
      },
    ]);
    expect(seen).toHaveLength(2);
    for (const s of seen) {
      expect(s.authorization).toContain('Credential=ASIAMEMBEREXAMPLE001/');
      expect(s.securityToken).toBe('FwoGZXIvYXdzEXAMPLESESSIONTOKEN');
    }
  });

  it('returns null when the role no longer exists (NoSuchEntity)', async () => {
    mockSts(false);
    nock(IAM)
      .post('/')
      .reply(404, awsQueryErrorXml('NoSuchEntity', 'The role with name deployer cannot be found.'), XML);

    expect(await reader().getTags(role(CALLER_ACCOUNT))).toBeNull();
  });

  it('throws access-denied AwsError when GetRole is not allowed', async () => {
    mockSts(false);
    nock(IAM)
      .post('/')
      .reply(403, awsQueryErrorXml('AccessDenied', 'not authorized to perform: iam:GetRole'), XML);

    await expect(reader().getTags(role(CALLER_ACCOUNT))).rejects.toMatchObject({
      name: 'AwsError',
      kind: 'access-denied',
      operation: 'IAM.GetRole',
      code: 'AccessDenied',
    });
  });

  it('surfaces a denied AssumeRole as access-denied naming the member role, without calling IAM', async () => {
    nock(STS)
      .post('/', (b: Record<string, string>) => b.Action === 'GetCallerIdentity')
      .reply(200, getCallerIdentityXml(CALLER_ACCOUNT), XML)
      .post('/', (b: Record<string, string>) => b.Action === 'AssumeRole')
      .reply(403, awsQueryErrorXml('AccessDenied', 'not authorized to perform: sts:AssumeRole'), XML);
    const iam = nock(IAM)
      .post('/')
      .reply(200, getRoleXml('deployer', MEMBER_ACCOUNT, {}), XML);

    const err = await reader()
      .getTags(role(MEMBER_ACCOUNT))
      .catch((e: unknown) => e);

    expect(err).toBeInstanceOf(AwsError);
    expect(err).toMatchObject({ kind: 'access-denied', operation: 'STS.AssumeRole' });
    expect((err as Error).message).toContain(MEMBER_ROLE_ARN);
    expect((err as Error).message).toContain(`account ${MEMBER_ACCOUNT}`);
    expect(iam.isDone()).toBe(false);
  });
});

describe('TagReader: IAM users', () => {
  it('follows ListUserTags markers over every page', async () => {
    const seen: Seen[] = [];
    nock(IAM)
      .post('/', (b: Record<string, string>) => b.Marker === undefined)
      .reply(recordIam(seen, listUserTagsXml({ team: 'platform' }, 'marker-2')))
      .post('/', (b: Record<string, string>) => b.Marker === 'marker-2')
      .reply(recordIam(seen, listUserTagsXml({ owner: 'ops@acme.io' })));

    const tags = await reader(true, false).getTags(user(CALLER_ACCOUNT));

    expect(tags).toEqual({ team: 'platform', owner: 'ops@acme.io' });
    expect(seen.map((s) => s.body)).toEqual([
      { Action: 'ListUserTags', Version: '2010-05-08', UserName: 'ci-bot' },
      { Action: 'ListUserTags', Version: '2010-05-08', UserName: 'ci-bot', Marker: 'marker-2' },
    ]);
  });

  it('returns null when the user is gone', async () => {
    nock(IAM)
      .post('/')
      .reply(404, awsQueryErrorXml('NoSuchEntity', 'The user with name ci-bot cannot be found.'), XML);

    expect(await reader(true, false).getTags(user(CALLER_ACCOUNT))).toBeNull();
  });
});

describe('TagReader: other resources', () => {
  it('reads tags with the Resource Groups Tagging API in the resource region, through the member role', async () => {
    mockSts(true);
    const seen: { body: unknown; headers: Record<string, string> }[] = [];
    nock(TAGGING)
      .post('/')
      .reply(function (_uri, body) {
        // nock parses only application/json; JSON 1.1 arrives as a string.
        seen.push({
          body: typeof body === 'string' ? JSON.parse(body) : body,
          headers: this.req.headers as Record<string, string>,
        });
        return [
          200,
          getResourcesOutput(queue(MEMBER_ACCOUNT).arn, { 'access-patrol-channel': 'C0PAYMENTS1' }),
          { 'content-type': 'application/x-amz-json-1.1' },
        ];
      });

    const tags = await reader().getTags(queue(MEMBER_ACCOUNT));

    expect(tags).toEqual({ 'access-patrol-channel': 'C0PAYMENTS1' });
    expect(seen).toHaveLength(1);
    expect(seen[0]?.body).toEqual({ ResourceARNList: [queue(MEMBER_ACCOUNT).arn] });
    expect(seen[0]?.headers['x-amz-target']).toBe('ResourceGroupsTaggingAPI_20170126.GetResources');
    expect(seen[0]?.headers['content-type']).toBe('application/x-amz-json-1.1');
    expect(seen[0]?.headers.authorization).toContain(`/${REGION}/tagging/aws4_request`);
    expect(seen[0]?.headers.authorization).toContain('Credential=ASIAMEMBEREXAMPLE001/');
  });

  it('reports no tags as an empty record', async () => {
    nock(TAGGING)
      .post('/')
      .reply(200, getResourcesOutput(queue(CALLER_ACCOUNT).arn, null), {
        'content-type': 'application/x-amz-json-1.1',
      });

    expect(await reader(true, false).getTags(queue(CALLER_ACCOUNT))).toEqual({});
  });

  it('returns null without calling AWS when the tagging API is disabled', async () => {
    expect(await reader(false, false).getTags(queue(CALLER_ACCOUNT))).toBeNull();
  });
});

describe('TagReader: batched reads', () => {
  const JSON11 = { 'content-type': 'application/x-amz-json-1.1' };
  const sqs = (name: string) => ({
    arn: `arn:aws:sqs:${REGION}:${CALLER_ACCOUNT}:${name}`,
    type: 'AWS::SQS::Queue',
    accountId: CALLER_ACCOUNT,
    region: REGION,
  });
  const mapping = (arn: string, tags: Record<string, string>) => ({
    ResourceARN: arn,
    Tags: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })),
  });
  const recordBodies = (bodies: { ResourceARNList: string[] }[]) =>
    function reply(_uri: string, body: unknown) {
      const b = (typeof body === 'string' ? JSON.parse(body) : body) as { ResourceARNList: string[] };
      bodies.push(b);
      return b;
    };

  it('reads the tags of 250 resources read together in 3 GetResources calls of at most 100 ARNs', async () => {
    const bodies: { ResourceARNList: string[] }[] = [];
    const record = recordBodies(bodies);
    nock(TAGGING)
      .post('/')
      .times(3)
      .reply((uri, body) => {
        const b = record(uri, body);
        // Every other queue has tags; AWS does not list the others.
        const list = b.ResourceARNList.filter((_, i) => i % 2 === 0).map((arn) =>
          mapping(arn, { team: arn.split(':').at(-1)! }),
        );
        return [200, { PaginationToken: '', ResourceTagMappingList: list }, JSON11];
      });
    const tags = reader(true, false);
    const queues = Array.from({ length: 250 }, (_, i) => sqs(`q-${i}`));

    const read = await Promise.all(queues.map((q) => tags.getTags(q, { scanId: 's1' })));

    expect(bodies.map((b) => b.ResourceARNList.length)).toEqual([100, 100, 50]);
    expect(new Set(bodies.flatMap((b) => b.ResourceARNList)).size).toBe(250);
    const byName = new Map(queues.map((q, i) => [q.arn.split(':').at(-1)!, read[i]]));
    const [first] = bodies;
    expect(byName.get(first!.ResourceARNList[0]!.split(':').at(-1)!)).toEqual({
      team: first!.ResourceARNList[0]!.split(':').at(-1),
    });
    expect(byName.get(first!.ResourceARNList[1]!.split(':').at(-1)!)).toEqual({}); // not listed: no tags
  });

  it('isolates an ARN AWS refuses: the rest of its batch still gets its tags', async () => {
    const bodies: { ResourceARNList: string[] }[] = [];
    const record = recordBodies(bodies);
    const bad = { ...sqs('x'), arn: 'arn:aws:sqs:bad arn' };
    nock(TAGGING)
      .post('/')
      .times(5)
      .reply((uri, body) => {
        const b = record(uri, body);
        if (b.ResourceARNList.includes(bad.arn))
          return [
            400,
            { __type: 'InvalidParameterException', Message: `${bad.arn} is not a valid ARN` },
            { ...JSON11, 'x-amzn-errortype': 'InvalidParameterException' },
          ];
        return [
          200,
          {
            PaginationToken: '',
            ResourceTagMappingList: b.ResourceARNList.map((a) => mapping(a, { ok: 'yes' })),
          },
          JSON11,
        ];
      });
    const tags = reader(true, false);
    const good = [sqs('a'), sqs('b'), sqs('c')];

    const results = await Promise.allSettled([...good, bad].map((r) => tags.getTags(r)));

    expect(results.slice(0, 3)).toEqual(good.map(() => ({ status: 'fulfilled', value: { ok: 'yes' } })));
    expect(results[3]).toMatchObject({ status: 'rejected', reason: { kind: 'invalid' } });
    // [a b c bad] → [a b] ok, [c bad] refused → [c] ok, [bad] refused.
    expect(bodies.map((b) => b.ResourceARNList.length)).toEqual([4, 2, 2, 1, 1]);
  });

  it('holds the reads of a scan until flushed: one GetResources for reads made pages apart, a refused ARN failing alone', async () => {
    const bodies: { ResourceARNList: string[] }[] = [];
    const record = recordBodies(bodies);
    const bad = { ...sqs('x'), arn: 'arn:aws:sqs:bad arn' };
    nock(TAGGING)
      .post('/')
      .times(5)
      .reply((uri, body) => {
        const b = record(uri, body);
        if (b.ResourceARNList.includes(bad.arn))
          return [
            400,
            { __type: 'InvalidParameterException', Message: `${bad.arn} is not a valid ARN` },
            { ...JSON11, 'x-amzn-errortype': 'InvalidParameterException' },
          ];
        return [
          200,
          {
            PaginationToken: '',
            ResourceTagMappingList: b.ResourceARNList.map((a) => mapping(a, { team: a.split(':').at(-1)! })),
          },
          JSON11,
        ];
      });
    const tags = createTagReader(
      createAwsClients({ credentials: FAKE_CREDENTIALS, maxAttempts: 1 }),
      { useResourceGroupsTaggingApi: true },
      { lingerMs: 5, heldMaxMs: 60_000 },
    );
    const scope = { scanId: 's1', held: true };
    // Two listing pages, well past the linger apart.
    const page1 = [sqs('a'), sqs('b'), bad].map((r) => tags.getTags(r, scope));
    await new Promise((r) => setTimeout(r, 50));
    const page2 = [sqs('c')].map((r) => tags.getTags(r, scope));
    await new Promise((r) => setTimeout(r, 50));
    expect(bodies).toEqual([]); // nothing sent before the flush

    tags.flush?.();
    const results = await Promise.allSettled([...page1, ...page2]);

    expect(results.map((r) => (r.status === 'fulfilled' ? r.value : 'refused'))).toEqual([
      { team: 'a' },
      { team: 'b' },
      'refused',
      { team: 'c' },
    ]);
    expect(results[2]).toMatchObject({ status: 'rejected', reason: { kind: 'invalid' } });
    // [a b bad c] → [a b] ok, [bad c] refused → [bad] refused, [c] ok.
    expect(bodies.map((b) => b.ResourceARNList)).toEqual([
      [sqs('a').arn, sqs('b').arn, bad.arn, sqs('c').arn],
      [sqs('a').arn, sqs('b').arn],
      [bad.arn, sqs('c').arn],
      [bad.arn],
      [sqs('c').arn],
    ]);
  });

  it('sends a held batch after the linger once a read that is not held joins it', async () => {
    const bodies: { ResourceARNList: string[] }[] = [];
    const record = recordBodies(bodies);
    nock(TAGGING)
      .post('/')
      .reply((uri, body) => {
        const _b = record(uri, body);
        return [200, { PaginationToken: '', ResourceTagMappingList: [] }, JSON11];
      });
    const tags = createTagReader(
      createAwsClients({ credentials: FAKE_CREDENTIALS, maxAttempts: 1 }),
      { useResourceGroupsTaggingApi: true },
      { lingerMs: 5, heldMaxMs: 60_000 },
    );
    const held = tags.getTags(sqs('a'), { scanId: 's1', held: true });
    const now = tags.getTags(sqs('b'));
    expect(await Promise.all([held, now])).toEqual([{}, {}]);
    expect(bodies.map((b) => b.ResourceARNList)).toEqual([[sqs('a').arn, sqs('b').arn]]);
  });

  it('fails every finding of a batch AWS throttles, so each is routed as unreadable rather than dropped', async () => {
    nock(TAGGING)
      .post('/')
      .reply(
        400,
        { __type: 'ThrottledException', Message: 'Rate exceeded' },
        {
          ...JSON11,
          'x-amzn-errortype': 'ThrottledException',
        },
      );
    const tags = reader(true, false);
    const results = await Promise.allSettled([sqs('a'), sqs('b')].map((r) => tags.getTags(r)));
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
  });

  it('reads an IAM role once per scan however many findings name it, and again in the next scan', async () => {
    const seen = roleReads(2);
    const tags = reader(true, false);

    const first = await Promise.all(
      [1, 2, 3].map(() => tags.getTags(role(CALLER_ACCOUNT), { scanId: 's1' })),
    );
    expect(await tags.getTags(role(CALLER_ACCOUNT), { scanId: 's1' })).toEqual({ team: 'ci' });
    expect(first).toEqual([{ team: 'ci' }, { team: 'ci' }, { team: 'ci' }]);
    expect(seen).toHaveLength(1);
    expect(await tags.getTags(role(CALLER_ACCOUNT), { scanId: 's2' })).toEqual({ team: 'ci' });
    expect(seen).toHaveLength(2);
  });
});

/** GetRole of `deployer` (tags team=ci) answered `times` times; each request is recorded in the array returned. */
function roleReads(times: number): Seen[] {
  mockSts(false);
  const seen: Seen[] = [];
  nock(IAM)
    .post('/')
    .times(times)
    .reply(recordIam(seen, getRoleXml('deployer', CALLER_ACCOUNT, { team: 'ci' })));
  return seen;
}

describe('remembered reads end with their scan', () => {
  it("reads a role again once its scan has ended, and keeps other scans' reads", async () => {
    const seen = roleReads(3);
    const tags = reader(true, false);
    await tags.getTags(role(CALLER_ACCOUNT), { scanId: 's1' });
    await tags.getTags(role(CALLER_ACCOUNT), { scanId: 's2' });
    expect(seen).toHaveLength(2);
    tags.endScan?.('s1');
    expect(await tags.getTags(role(CALLER_ACCOUNT), { scanId: 's2' })).toEqual({ team: 'ci' });
    expect(seen).toHaveLength(2);
    expect(await tags.getTags(role(CALLER_ACCOUNT), { scanId: 's1' })).toEqual({ team: 'ci' });
    expect(seen).toHaveLength(3);
  });

  it('forgets a scan that has read nothing for idleForgetMs when another scan starts reading', async () => {
    const seen = roleReads(5);
    let clock = 0;
    const tags = reader(true, false, { idleForgetMs: 1000, now: () => clock });
    await tags.getTags(role(CALLER_ACCOUNT), { scanId: 's1' });
    clock = 999;
    await tags.getTags(role(CALLER_ACCOUNT), { scanId: 's2' });
    await tags.getTags(role(CALLER_ACCOUNT), { scanId: 's1' });
    expect(seen).toHaveLength(2);
    clock = 3000;
    await tags.getTags(role(CALLER_ACCOUNT), { scanId: 's3' });
    expect(seen).toHaveLength(3);
    await tags.getTags(role(CALLER_ACCOUNT), { scanId: 's1' });
    await tags.getTags(role(CALLER_ACCOUNT), { scanId: 's2' });
    expect(seen).toHaveLength(5);
  });
});

describe('iamNameOf', () => {
  it('takes the last path segment of a role or user ARN', () => {
    expect(iamNameOf('arn:aws:iam::123456789012:role/path/to/name')).toBe('name');
    expect(iamNameOf('arn:aws:iam::123456789012:role/plain')).toBe('plain');
    expect(iamNameOf('arn:aws:iam::123456789012:user/ci-bot')).toBe('ci-bot');
  });
});
