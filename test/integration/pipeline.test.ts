// The findings pipeline end to end inside the process: real Redis and BullMQ workers,
// Access Analyzer and Slack behind nock. Each test asserts the Slack and AWS calls made and the
// state left in Redis.
import nock from 'nock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AppConfig } from '../../src/config/schema.ts';
import type { Runtime } from '../../src/runtime.ts';
import { CALLER_ACCOUNT, externalAccessDetail, findingSummaryV2 } from '../factories/aws.ts';
import { type FakeAws, fakeAccessAnalyzer } from '../helpers/fake-aws.ts';
import { type FakeSlack, fakeSlack } from '../helpers/fake-slack.ts';
import { testConfig, testRuntime, wipePrefix } from '../helpers/runtime.ts';

const REGION = 'eu-west-1';
const ANALYZER = `arn:aws:access-analyzer:${REGION}:${CALLER_ACCOUNT}:analyzer/org-external`;

let config: AppConfig;
let aws: FakeAws;
let slack: FakeSlack;
let rt: Runtime | undefined;

function addFinding(
  opts: {
    id: string;
    bucket?: string;
    principal?: string;
    isPublic?: boolean;
    account?: string;
    updatedAt?: string;
  } & {
    region?: string;
    analyzer?: string;
  },
) {
  const region = opts.region ?? REGION;
  const analyzer = opts.analyzer ?? ANALYZER;
  const list = aws.regions.get(region)!.findings.get(analyzer)!;
  list.push({
    summary: findingSummaryV2({
      id: opts.id,
      resource: `arn:aws:s3:::${opts.bucket ?? opts.id}`,
      resourceOwnerAccount: opts.account ?? '222222222222',
      updatedAt: new Date(opts.updatedAt ?? '2026-11-01T00:00:00Z'),
    }) as FakeFindingSummary,
    details: [
      externalAccessDetail({
        principal: { AWS: opts.principal ?? '999988887777' },
        isPublic: opts.isPublic ?? false,
      }),
    ],
  });
}
type FakeFindingSummary =
  FakeAws['regions'] extends Map<string, infer R>
    ? R extends { findings: Map<string, (infer F)[]> }
      ? F extends { summary: infer S }
        ? S
        : never
      : never
    : never;

/** Replaces the default fakes (nock answers with the first matching interceptor). */
function freshFakes(regions: string[]) {
  nock.cleanAll();
  aws = fakeAccessAnalyzer(Object.fromEntries(regions.map((r) => [r, {}])));
  slack = fakeSlack();
}

function findingOf(id: string, region = REGION, analyzer = ANALYZER) {
  return aws.regions
    .get(region)!
    .findings.get(analyzer)!
    .find((f) => f.summary.id === id)!;
}

async function scan() {
  if (!rt) {
    rt = testRuntime(config);
    rt.startWorkers();
  }
  return rt.scanNow({ timeoutMs: 20_000 });
}

beforeEach(() => {
  config = testConfig({
    routing: [{ name: 'prod account', match: { accountId: '222222222222' }, channel: 'C0PROD001' }],
    accounts: { '222222222222': { name: 'prod' } },
    scan: { expectedAnalyzerKinds: ['external'] },
  });
  aws = fakeAccessAnalyzer({ [REGION]: {} });
  slack = fakeSlack();
});

afterEach(async () => {
  await rt?.close();
  rt = undefined;
  await wipePrefix(config.redis.keyPrefix);
});

describe('findings pipeline', () => {
  it('posts one message per new finding in the owner channel and remembers where it is', async () => {
    addFinding({ id: 'f-1', bucket: 'logs-prod', isPublic: true });
    addFinding({ id: 'f-2', bucket: 'data-share' });
    addFinding({ id: 'f-3', bucket: 'staging-x', account: '333333333333' });

    const report = await scan();

    const posts = slack.byMethod('chat.postMessage');
    expect(posts.map((p) => p.args.channel).sort()).toEqual(['C0DEFAULT', 'C0PROD001', 'C0PROD001']);
    const publicPost = slack.posted.find((p) => p.text.includes('logs-prod'))!;
    expect(publicPost.channel).toBe('C0PROD001');
    expect(publicPost.text).toMatch(/public/i);
    expect(publicPost.metadata).toEqual({
      event_type: 'access_patrol_finding',
      event_payload: { finding_id: 'f-1' },
    });
    expect(aws.count('GetFindingV2')).toBe(3);
    const state = await rt!.deps.store.get('f-1');
    expect(state).toMatchObject({
      channel: 'C0PROD001',
      ts: publicPost.ts,
      status: 'ACTIVE',
      routeChannel: 'C0PROD001',
    });
    expect(state?.pendingSince).toBeUndefined();
    expect(report.deliveries.reduce((n, d) => n + d.posted, 0)).toBe(3);
  });

  it('keeps every finding hash in the compact Redis encoding, even for a long resource ARN', async () => {
    const longName = `exports-${'x'.repeat(120)}`;
    addFinding({ id: 'f-long', bucket: longName });
    addFinding({ id: 'f-short', bucket: 'short' });

    await scan();

    const redis = rt!.deps.redis;
    const prefix = config.redis.keyPrefix;
    expect(await redis.object('ENCODING', `${prefix}finding:f-long`)).toBe('listpack');
    expect(await redis.object('ENCODING', `${prefix}finding:f-short`)).toBe('listpack');
    expect(await redis.exists(`${prefix}finding:f-short:long`)).toBe(0);
    // The long ARN is kept in pieces in the card's own hash: no side hash either.
    expect(await redis.exists(`${prefix}finding:f-long:long`)).toBe(0);
    const state = await rt!.deps.store.get('f-long');
    expect(state).toMatchObject({
      resourceArn: `arn:aws:s3:::${longName}`,
      analyzerArn: ANALYZER,
      status: 'ACTIVE',
    });
  });

  it('makes no Slack call and no GetFindingV2 call when a second scan sees the same findings', async () => {
    addFinding({ id: 'f-1' });
    addFinding({ id: 'f-2' });
    await scan();
    slack.reset();
    aws.reset();

    const report = await scan();

    expect(slack.calls).toEqual([]);
    expect(aws.count('GetFindingV2')).toBe(0);
    expect(aws.count('ListFindingsV2')).toBe(1);
    expect(report.deliveries).toEqual([]);
  });

  it('updates the message in place when what it shows changes', async () => {
    addFinding({ id: 'f-1', principal: '999988887777' });
    await scan();
    const ts = slack.posted[0]!.ts;
    const f = findingOf('f-1');
    f.summary.updatedAt = new Date('2026-11-20T00:00:00Z');
    f.details = [externalAccessDetail({ principal: { AWS: '123412341234' } })];
    slack.reset();

    await scan();

    expect(slack.byMethod('chat.postMessage')).toHaveLength(0);
    const updates = slack.byMethod('chat.update');
    expect(updates).toHaveLength(1);
    expect(updates[0]!.args).toMatchObject({ channel: 'C0PROD001', ts });
    expect(JSON.stringify(updates[0]!.args.blocks)).toContain('123412341234');
  });

  it('does not touch the message when AWS updatedAt moves but nothing visible changed', async () => {
    addFinding({ id: 'f-1' });
    await scan();
    findingOf('f-1').summary.updatedAt = new Date('2026-11-21T00:00:00Z');
    slack.reset();
    aws.reset();

    await scan();

    expect(aws.count('GetFindingV2')).toBe(1);
    expect(slack.calls).toEqual([]);
    expect((await rt!.deps.store.get('f-1'))?.updatedAt).toBe('2026-11-21T00:00:00.000Z');
  });

  it('marks a finding resolved when it leaves the ACTIVE list', async () => {
    addFinding({ id: 'f-1', bucket: 'old-share' });
    await scan();
    const f = findingOf('f-1');
    f.summary.status = 'RESOLVED';
    f.summary.updatedAt = new Date('2026-11-22T10:00:00Z');
    slack.reset();
    aws.reset();

    await scan();

    expect(aws.requests.filter((r) => r.op === 'GetFindingV2').map((r) => r.id)).toEqual(['f-1']);
    const updates = slack.byMethod('chat.update');
    expect(updates).toHaveLength(1);
    const shown = JSON.stringify(updates[0]!.args.blocks);
    expect(shown).toMatch(/Resolved/);
    expect(shown).not.toContain('finding_archive');
    expect((await rt!.deps.store.get('f-1'))?.status).toBe('RESOLVED');
    // Its state now expires with AWS's own 90-day retention of resolved findings.
    const ttl = await rt!.deps.redis.ttl(`${config.redis.keyPrefix}finding:f-1`);
    expect(ttl).toBeGreaterThan(89 * 86_400);
    expect(ttl).toBeLessThanOrEqual(90 * 86_400);
  });

  it('marks a finding archived when AWS says it was archived', async () => {
    addFinding({ id: 'f-1' });
    await scan();
    findingOf('f-1').summary.status = 'ARCHIVED';
    slack.reset();

    await scan();

    const shown = JSON.stringify(slack.byMethod('chat.update')[0]!.args.blocks);
    expect(shown).toMatch(/Archived/);
    expect(shown).toContain('finding_unarchive');
  });

  it('posts one summary with the findings in its thread when a channel gets more than the threshold', async () => {
    for (let i = 0; i < 12; i++) addFinding({ id: `burst-${i}`, isPublic: i === 7 });

    const report = await scan();

    const top = slack.posted.filter((p) => p.channel === 'C0PROD001' && !p.thread_ts);
    expect(top).toHaveLength(1);
    expect(top[0]!.text).toMatch(/12 new/);
    const replies = slack.posted.filter((p) => p.thread_ts === top[0]!.ts);
    expect(replies).toHaveLength(12);
    expect(report.deliveries[0]?.summary).toMatchObject({ channel: 'C0PROD001', findings: 12 });
    expect((await rt!.deps.store.get('burst-3'))?.threadTs).toBe(top[0]!.ts);
  });

  it('retries a throttled ListFindingsV2 after Retry-After and completes the scan', async () => {
    addFinding({ id: 'f-1' });
    aws.throttleList(REGION, 1);

    await scan();

    expect(aws.count('ListFindingsV2')).toBe(2);
    expect(slack.byMethod('chat.postMessage')).toHaveLength(1);
  });

  it('waits out a Slack 429 and posts every message exactly once', async () => {
    addFinding({ id: 'f-1' });
    addFinding({ id: 'f-2' });
    slack.rateLimitNext(1);

    await scan();

    expect(slack.calls.filter((c) => c.method === 'chat.postMessage (429)')).toHaveLength(1);
    expect(slack.byMethod('chat.postMessage')).toHaveLength(2);
    expect(new Set(slack.posted.map((p) => p.metadata && JSON.stringify(p.metadata))).size).toBe(2);
  });

  it('sends findings to the default channel with a note when the owner channel is gone, and tells admins once', async () => {
    slack.failChannel('C0PROD001', 'channel_not_found');
    addFinding({ id: 'f-1', bucket: 'lost-bucket' });

    await scan();

    const inDefault = slack.posted.filter((p) => p.channel === 'C0DEFAULT');
    expect(inDefault).toHaveLength(1);
    expect(JSON.stringify(inDefault[0]!.blocks)).toMatch(/channel_not_found/);
    const admin = slack.posted.filter((p) => p.channel === 'C0ADMIN');
    expect(admin).toHaveLength(1);
    expect(admin[0]!.text).toMatch(/channel_not_found/);

    addFinding({ id: 'f-2', bucket: 'second-lost' });
    await scan();
    expect(slack.posted.filter((p) => p.channel === 'C0ADMIN')).toHaveLength(1);
    expect(slack.posted.filter((p) => p.channel === 'C0DEFAULT')).toHaveLength(2);
  });

  it('does not post twice when the job crashes after posting and before saving the message ts', async () => {
    addFinding({ id: 'f-1' });
    let crashes = 0;
    rt = testRuntime(config, {
      afterPostHook: () => {
        if (crashes++ === 0) throw new Error('simulated crash after chat.postMessage');
      },
    });
    rt.startWorkers();

    await scan();

    expect(crashes).toBe(1);
    expect(slack.byMethod('chat.postMessage')).toHaveLength(1);
    expect(slack.byMethod('conversations.history')).toHaveLength(1);
    expect((await rt.deps.store.get('f-1'))?.ts).toBe(slack.posted[0]!.ts);
  });

  it('reports a denied region to the admin channel and still scans the other regions', async () => {
    config = testConfig({
      regions: ['eu-west-1', 'us-east-1'],
      scan: { expectedAnalyzerKinds: ['external'] },
    });
    freshFakes(['eu-west-1', 'us-east-1']);
    aws.regions.get('us-east-1')!.listAnalyzersError = 'AccessDeniedException';
    addFinding({ id: 'f-eu' });

    await scan();

    expect(slack.posted.filter((p) => p.channel === 'C0DEFAULT')).toHaveLength(1);
    const admin = slack.posted.filter((p) => p.channel === 'C0ADMIN');
    expect(admin).toHaveLength(1);
    expect(admin[0]!.text).toMatch(/us-east-1/);

    await scan();
    expect(slack.posted.filter((p) => p.channel === 'C0ADMIN')).toHaveLength(1);
  });

  it('reports a region without an analyzer once, and again only when that changes', async () => {
    config = testConfig({ scan: { expectedAnalyzerKinds: ['external', 'unused'] } });
    freshFakes([REGION]);

    await scan();
    await scan();

    const admin = slack.posted.filter((p) => p.channel === 'C0ADMIN');
    expect(admin).toHaveLength(1);
    expect(admin[0]!.text).toMatch(/unused/i);
    expect(admin[0]!.text).toMatch(REGION);
  });
});
