// Show recommendation through the real Bolt receiver (signed HTTP), real Redis and BullMQ workers,
// AWS and Slack behind nock: GenerateFindingRecommendation, then delayed GetFindingRecommendation
// polls with growing delays (promoted by the test instead of waited for), and what the thread shows.
// The recommendations are the AWS sandbox's, put in the state each case needs (aws.recommendations).
import type { Job } from 'bullmq';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ACTION_IDS, encodeFindingRef } from '../../blocks/ids.ts';
import type { SandboxRecommendation, WireRecommendedStep } from '../../sandbox/types.ts';
import type { AppConfig } from '../../src/config/schema.ts';
import { JOBS, jobId } from '../../src/queue/index.ts';
import type { Runtime } from '../../src/runtime.ts';
import { FINDING_FIELDS } from '../../src/store/findings.ts';
import {
  analyzerSummary,
  CALLER_ACCOUNT,
  findingSummaryV2,
  unusedPermissionDetail,
} from '../factories/aws.ts';
import { type FakeAws, fakeAccessAnalyzer } from '../helpers/fake-aws.ts';
import { type FakeSlack, fakeSlack } from '../helpers/fake-slack.ts';
import { testConfig, testRuntime } from '../helpers/runtime.ts';
import { displayedBlocks, displayedCode } from '../helpers/slack-display.ts';
import { blockActionBody } from '../helpers/slack-requests.ts';
import {
  type ActionEvents,
  failOnce,
  type Receiver,
  recordResponseBodies,
  startTriage,
  stopTriage,
} from '../helpers/triage.ts';

const SECRET = 'recommend-signing-secret';
const REGION = 'eu-west-1';
const ANALYZER = `arn:aws:access-analyzer:${REGION}:${CALLER_ACCOUNT}:analyzer/org-unused`;
const OWNER_CHANNEL = 'C0PROD001';
const MEMBER = 'U0ALICE';
const OUTSIDER = 'U0MALLORY';
const ROLE = 'arn:aws:iam::222222222222:role/app-backend';
const FID = 'f-up';
const T0 = new Date('2025-02-10T09:00:00Z');

let config: AppConfig;
let aws: FakeAws;
let slack: FakeSlack;
let rt: Runtime;
let receiver: Receiver;
let actions: ActionEvents;
let responses: Record<string, unknown>[];
let clock: Date;

const POLICY = JSON.stringify({
  Version: '2012-10-17',
  Statement: [{ Effect: 'Allow', Action: ['s3:GetObject'], Resource: 'arn:aws:s3:::app-data/*' }],
});
const detach = (arn: string): WireRecommendedStep => ({
  unusedPermissionsRecommendedStep: { recommendedAction: 'DETACH_POLICY', existingPolicyId: arn },
});
const create = (policy: string, replaces?: string): WireRecommendedStep => ({
  unusedPermissionsRecommendedStep: {
    recommendedAction: 'CREATE_POLICY',
    recommendedPolicy: policy,
    ...(replaces ? { existingPolicyId: replaces } : {}),
  },
});
/** A recommendation started at T0 that is still IN_PROGRESS for `polls` first-page GETs. */
const inProgress = (polls: number): Partial<SandboxRecommendation> => ({
  startedAt: T0.toISOString(),
  inProgressPolls: polls,
});
/** A SUCCEEDED recommendation with two steps (after `over`'s IN_PROGRESS polls, if any). */
const succeeded = (over: Partial<SandboxRecommendation> = {}): SandboxRecommendation => ({
  startedAt: T0.toISOString(),
  completedAt: '2025-02-10T09:00:20Z',
  inProgressPolls: 0,
  status: 'SUCCEEDED',
  steps: [
    create(POLICY, 'arn:aws:iam::222222222222:policy/app-broad'),
    detach('arn:aws:iam::aws:policy/AmazonS3FullAccess'),
  ],
  ...over,
});

/** The recommendation requests the bot made, in order. */
const recRequests = () => aws.requests.filter((r) => r.op.endsWith('FindingRecommendation'));
const recOps = () => recRequests().map((r) => r.op);

const messageTs = () => slack.posted[0]!.ts;
const thread = () => slack.posted.filter((p) => p.thread_ts === messageTs());
const pollId = (requestTs: string, n: number) => jobId(JOBS.recommendPoll, FID, requestTs, String(n));

/** Clicks Show recommendation and waits for the recommend job; returns the click's action_ts. */
async function clickRecommend(user = MEMBER): Promise<{ requestTs: string; result: unknown }> {
  const body = blockActionBody({
    actionId: ACTION_IDS.recommend,
    value: encodeFindingRef({ f: FID, a: ANALYZER, r: REGION }),
    user: { id: user },
    channel: { id: OWNER_CHANNEL, name: 'prod-security' },
    messageTs: messageTs(),
  });
  const requestTs = (
    JSON.parse(new URLSearchParams(body).get('payload')!) as { actions: { action_ts: string }[] }
  ).actions[0]!.action_ts;
  await receiver.post(body);
  if (user !== MEMBER) return { requestTs, result: undefined };
  return { requestTs, result: await actions.finished(jobId(JOBS.recommend, FID, requestTs)) };
}

/** Promotes poll `n` (asserting it waits `delay` ms first) with the clock moved on, and runs it. */
async function runPoll(requestTs: string, n: number, delay: number, elapsedMs: number) {
  const job = (await rt.queues.actions.getJob(pollId(requestTs, n))) as Job;
  expect(job, `poll ${n}`).toBeDefined();
  expect(await job.getState()).toBe('delayed');
  expect(job.opts.delay).toBe(delay);
  clock = new Date(T0.getTime() + elapsedMs);
  await job.promote();
  return job.waitUntilFinished(actions.events, 20_000);
}

beforeEach(async () => {
  clock = T0;
  config = testConfig({
    routing: [{ name: 'prod', match: { accountId: '222222222222' }, channel: OWNER_CHANNEL }],
    scan: { expectedAnalyzerKinds: ['unused'] },
  });
  aws = fakeAccessAnalyzer({
    [REGION]: { analyzers: [analyzerSummary({ name: 'org-unused', type: 'ORGANIZATION_UNUSED_ACCESS' })] },
  });
  slack = fakeSlack();
  slack.members[OWNER_CHANNEL] = [MEMBER];
  aws.regions
    .get(REGION)!
    .findings.get(ANALYZER)!
    .push({
      summary: findingSummaryV2({
        id: FID,
        resource: ROLE,
        resourceType: 'AWS::IAM::Role',
        resourceOwnerAccount: '222222222222',
        findingType: 'UnusedPermission',
      }) as never,
      details: [
        unusedPermissionDetail(),
        unusedPermissionDetail({
          serviceNamespace: 'dynamodb',
          lastAccessed: undefined,
          actions: [{ action: 'dynamodb:DeleteTable' }],
        }),
      ],
    });
  responses = recordResponseBodies();
  rt = testRuntime(config, { now: () => clock });
  ({ actions, receiver } = await startTriage(rt, config, { secret: SECRET, forget: [slack, aws] }));
});

afterEach(() => stopTriage(rt, config, { actions, receiver }));

describe('Show recommendation', () => {
  it('is a button on the unused-permission finding message', () => {
    const shown = JSON.stringify(slack.posted[0]!.blocks);
    expect(shown).toContain(`"action_id":"${ACTION_IDS.recommend}"`);
    expect(shown).toContain('Show recommendation');
  });

  it('generates, polls with growing delays while IN_PROGRESS, then posts the steps and unused actions in the thread', async () => {
    aws.recommendations[FID] = { onGenerate: succeeded({ inProgressPolls: 2 }) };

    const { requestTs, result } = await clickRecommend();

    expect(result).toEqual({ outcome: 'polling', status: 'IN_PROGRESS' });
    await expect.poll(() => responses.length).toBe(1);
    expect(String(responses[0]!.text)).toMatch(/^Asking AWS for a recommendation…/);
    expect(recOps()).toEqual(['GetFindingRecommendation', 'GenerateFindingRecommendation']);
    const generate = recRequests()[1]!;
    expect(generate).toMatchObject({ id: FID, analyzerArn: ANALYZER, body: '' });

    expect(await runPoll(requestTs, 1, 5_000, 5_000)).toEqual({ outcome: 'polling', status: 'IN_PROGRESS' });
    expect(await runPoll(requestTs, 2, 10_000, 15_000)).toEqual({
      outcome: 'polling',
      status: 'IN_PROGRESS',
    });
    expect(thread()).toHaveLength(0);
    expect(await runPoll(requestTs, 3, 20_000, 35_000)).toEqual({ outcome: 'posted', status: 'SUCCEEDED' });

    expect(recOps()).toEqual([
      'GetFindingRecommendation',
      'GenerateFindingRecommendation',
      'GetFindingRecommendation',
      'GetFindingRecommendation',
      'GetFindingRecommendation',
    ]);
    expect(await rt.queues.actions.getJob(pollId(requestTs, 4))).toBeUndefined();
    const [reply] = thread();
    expect(reply!.text).toBe(`Recommendation for ${ROLE}: 2 steps`);
    const shown = displayedBlocks(reply!.blocks);
    expect(shown[0]).toBe(`💡 Recommendation for ${ROLE}, asked by @${MEMBER}: 2 steps.`);
    expect(shown[1]).toBe(
      '1. Create policy with this document to replace arn:aws:iam::222222222222:policy/app-broad',
    );
    // The recommended policy reads back exactly, as preformatted text.
    expect(shown[2]).toBe(JSON.stringify(JSON.parse(POLICY), null, 2));
    expect(shown[3]).toBe('2. Detach policy arn:aws:iam::aws:policy/AmazonS3FullAccess');
    expect(shown[4]!.split('\n')).toEqual([
      'Unused services and actions (2)',
      '• s3, last used 2024-05-01: s3:PutObject (last used 2024-05-01), s3:DeleteObject (never used)',
      '• dynamodb, never used: dynamodb:DeleteTable (never used)',
    ]);
    expect(displayedCode(reply!.blocks)).toEqual([
      ROLE,
      'arn:aws:iam::222222222222:policy/app-broad',
      'arn:aws:iam::aws:policy/AmazonS3FullAccess',
      's3',
      's3:PutObject',
      's3:DeleteObject',
      'dynamodb',
      'dynamodb:DeleteTable',
    ]);
    const entries = await rt.deps.audit.query({ findingId: FID });
    expect(entries.map((e) => [e.action, e.outcome])).toEqual([
      ['recommend', 'succeeded'],
      ['recommend', 'requested'],
    ]);
    expect(entries[0]!.detail).toBe('2 steps (CREATE_POLICY, DETACH_POLICY)');
  });

  it('follows nextToken for every page of recommended steps', async () => {
    // AWS may answer fewer steps than maxResults asks: one a page here.
    aws.recommendations[FID] = {
      onGenerate: succeeded({
        steps: ['P1', 'P2', 'P3'].map((p) => detach(`arn:aws:iam::aws:policy/${p}`)),
        pageSize: 1,
      }),
    };

    const { requestTs } = await clickRecommend();
    await runPoll(requestTs, 1, 5_000, 5_000);

    const gets = recRequests().filter((r) => r.op === 'GetFindingRecommendation');
    // The tokens are the ones AWS (here the sandbox) gave with the pages before.
    expect(gets.map((r) => r.nextToken)).toEqual([undefined, undefined, 'p1', 'p2']);
    expect(new Set(gets.map((r) => r.maxResults))).toEqual(new Set(['100']));
    const shown = displayedBlocks(thread()[0]!.blocks);
    expect(shown).toContain('1. Detach policy arn:aws:iam::aws:policy/P1');
    expect(shown).toContain('2. Detach policy arn:aws:iam::aws:policy/P2');
    expect(shown).toContain('3. Detach policy arn:aws:iam::aws:policy/P3');
  });

  it('says in words why AWS could not recommend when the recommendation FAILED', async () => {
    aws.recommendations[FID] = {
      onGenerate: {
        ...inProgress(1),
        status: 'FAILED',
        error: { code: 'UNSUPPORTED_PRINCIPAL', message: 'The user <!channel> is in a group.' },
      },
    };

    const { requestTs } = await clickRecommend();
    await runPoll(requestTs, 1, 5_000, 5_000);
    expect(await runPoll(requestTs, 2, 10_000, 15_000)).toEqual({ outcome: 'failed', status: 'FAILED' });

    const [reply] = thread();
    expect(reply!.text).toBe(
      'No recommendation: UNSUPPORTED_PRINCIPAL: The user &lt;!channel&gt; is in a group.',
    );
    const shown = JSON.stringify(reply!.blocks);
    expect(shown).toContain('`UNSUPPORTED_PRINCIPAL` The user &lt;!channel&gt; is in a group.');
    expect(shown).not.toContain('<!channel>');
    expect(shown).toContain('IAM user who is in a group');
    expect(String(slack.byMethod('chat.postEphemeral')[0]!.args.text)).toMatch(/UNSUPPORTED_PRINCIPAL/);
    const [entry] = await rt.deps.audit.query({ findingId: FID });
    expect(entry).toMatchObject({
      action: 'recommend',
      outcome: 'failed',
      error: 'UNSUPPORTED_PRINCIPAL: The user <!channel> is in a group.',
    });
  });

  it('tells the person when AWS refuses to generate one (ValidationException)', async () => {
    aws.recommendations[FID] = {
      onGenerate: {
        fault: { status: 400, code: 'ValidationException', message: 'Recommendations are not available.' },
      },
    };

    const { result } = await clickRecommend();

    expect(result).toEqual({ outcome: 'failed', status: 'FAILED' });
    expect(thread()[0]!.text).toMatch(/^No recommendation: ValidationException/);
    expect(recOps()).toEqual(['GetFindingRecommendation', 'GenerateFindingRecommendation']);
    expect(await rt.queues.actions.getJobCounts('delayed')).toEqual({ delayed: 0 });
  });

  it('stops asking after five minutes and says it timed out', async () => {
    aws.recommendations[FID] = { onGenerate: inProgress(Number.POSITIVE_INFINITY) };
    const { requestTs } = await clickRecommend();

    const delays = [5_000, 10_000, 20_000, 40_000, 60_000, 60_000, 60_000];
    let elapsed = 0;
    const outcomes: unknown[] = [];
    for (const [i, delay] of delays.entries()) {
      elapsed += delay;
      outcomes.push(((await runPoll(requestTs, i + 1, delay, elapsed)) as { outcome: string }).outcome);
    }

    expect(outcomes).toEqual(['polling', 'polling', 'polling', 'polling', 'polling', 'polling', 'timed-out']);
    expect(await rt.queues.actions.getJob(pollId(requestTs, 8))).toBeUndefined();
    expect(thread().map((p) => p.text)).toEqual(['No recommendation after 5 minutes; try again later']);
    const [entry] = await rt.deps.audit.query({ findingId: FID });
    expect(entry).toMatchObject({ action: 'recommend', outcome: 'failed' });
    expect(entry!.error).toMatch(/still IN_PROGRESS after 5 minutes/);
  });

  it('reuses a recommendation AWS completed recently instead of generating again', async () => {
    aws.recommendations[FID] = { current: succeeded({ steps: [detach('arn:aws:iam::aws:policy/Old')] }) };

    const { result } = await clickRecommend();

    expect(result).toEqual({ outcome: 'posted', status: 'SUCCEEDED' });
    expect(recOps()).toEqual(['GetFindingRecommendation']);
    const shown = JSON.stringify(thread()[0]!.blocks);
    expect(displayedBlocks(thread()[0]!.blocks)).toContain('1. Detach policy arn:aws:iam::aws:policy/Old');
    expect(shown).toContain('AWS made this recommendation at 2025-02-10T09:00:20.000Z');
  });

  it('tells the person directly when the finding has no message to reply under', async () => {
    await rt.deps.redis.hdel(rt.deps.keys.finding(FID), FINDING_FIELDS.channel, FINDING_FIELDS.ts);
    aws.recommendations[FID] = { current: succeeded() };

    await clickRecommend();

    expect(thread()).toHaveLength(0);
    const eph = slack.byMethod('chat.postEphemeral')[0]!.args;
    expect(eph).toMatchObject({
      channel: OWNER_CHANNEL,
      user: MEMBER,
      text: `Recommendation for ${ROLE}: 2 steps`,
    });
  });

  it('generates anew when the recommendation AWS has is older than a day', async () => {
    aws.recommendations[FID] = {
      current: succeeded({ startedAt: '2025-02-08T08:59:40Z', completedAt: '2025-02-08T09:00:00Z' }),
      onGenerate: inProgress(Number.POSITIVE_INFINITY),
    };

    await clickRecommend();

    expect(recOps()).toEqual(['GetFindingRecommendation', 'GenerateFindingRecommendation']);
  });

  it('changes nothing when the finding was resolved meanwhile', async () => {
    aws.regions.get(REGION)!.findings.get(ANALYZER)![0]!.summary.status = 'RESOLVED';

    const { result } = await clickRecommend();

    expect(result).toEqual({ outcome: 'stale', status: 'RESOLVED' });
    expect(recOps()).toEqual([]);
    expect(String(slack.byMethod('chat.postEphemeral')[0]!.args.text)).toMatch(/already resolved/);
  });

  it('is refused to someone outside the owner channel', async () => {
    await clickRecommend(OUTSIDER);

    await expect.poll(() => responses.length).toBe(1);
    expect(String(responses[0]!.text)).toMatch(
      /^Only [^.]*members of the finding's channel can ask for a recommendation on this finding\.$/,
    );
    expect(await rt.queues.actions.getJobCounts('waiting', 'delayed')).toEqual({ waiting: 0, delayed: 0 });
    const [entry] = await rt.deps.audit.query({ user: OUTSIDER });
    expect(entry).toMatchObject({ action: 'recommend', outcome: 'refused' });
  });
});

describe('a recommendation job retried after a step failed', () => {
  it('posts the recommendation once when the audit append failed after it', async () => {
    aws.recommendations[FID] = { current: succeeded() };
    failOnce(rt.deps.audit, 'record');
    const data = {
      findingId: FID,
      analyzerArn: ANALYZER,
      region: REGION,
      userId: MEMBER,
      replyChannel: OWNER_CHANNEL,
      requestTs: '1795000000.000100',
    };
    // The retry follows at once here instead of after the queue's backoff.
    const job = (await rt.queues.actions.add(JOBS.recommend, data, {
      jobId: jobId(JOBS.recommend, FID, data.requestTs),
      backoff: { type: 'fixed', delay: 10 },
    })) as Job;

    expect(await job.waitUntilFinished(actions.events, 20_000)).toEqual({
      outcome: 'posted',
      status: 'SUCCEEDED',
    });

    expect((await rt.queues.actions.getJob(job.id!))!.attemptsMade).toBe(2);
    expect(recOps()).toEqual(['GetFindingRecommendation', 'GetFindingRecommendation']);
    expect(thread().map((p) => p.text)).toEqual([`Recommendation for ${ROLE}: 2 steps`]);
    const entries = await rt.deps.audit.query({ findingId: FID });
    expect(entries.map((e) => [e.action, e.outcome])).toEqual([['recommend', 'succeeded']]);
  });
});
