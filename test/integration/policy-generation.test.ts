// Least-privilege policy generation through the worker: the per-account queue, delayed polls, the
// thread posts and the audit trail, against the sandbox AWS server (real HTTP, member accounts
// through the assumed role), real Redis and BullMQ, Slack behind nock.
import { Redis } from 'ioredis';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { advanceAccount } from '../../jobs/policy/account-queue.ts';
import { type AwsSandbox, startAwsSandbox } from '../../sandbox/aws.ts';
import {
  DEMO_ACCOUNTS,
  DEMO_FINDING_IDS,
  DEMO_MEMBER_ROLE,
  demoData,
} from '../../sandbox/fixtures/demo-org.ts';
import type { AppConfig } from '../../src/config/schema.ts';
import { enqueue, JOBS, jobId, type PolicyRequestData } from '../../src/queue/index.ts';
import type { Runtime } from '../../src/runtime.ts';
import { type FakeSlack, fakeSlack } from '../helpers/fake-slack.ts';
import { REDIS_URL, sandboxRuntime, testConfig, wipePrefix } from '../helpers/runtime.ts';
import { displayedBlocks, displayedCode } from '../helpers/slack-display.ts';
import { failOnce } from '../helpers/triage.ts';

const USER = 'U0ALICE';
const PROD = DEMO_ACCOUNTS.prod;
const STAGING = DEMO_ACCOUNTS.staging;
const CI_DEPLOYER = `arn:aws:iam::${PROD}:role/ci-deployer`;
const APP_BACKEND = `arn:aws:iam::${PROD}:role/app-backend`;
const STAGING_BATCH = `arn:aws:iam::${STAGING}:role/staging-batch`;
const TRAIL = `arn:aws:cloudtrail:us-east-1:${DEMO_ACCOUNTS.securityTooling}:trail/org-trail`;
const CHANNEL = 'C0PLATFORM1';

let config: AppConfig;
let aws: AwsSandbox;
let slack: FakeSlack;
let rt: Runtime;
let redis: Redis;

function request(
  principalArn: string,
  requestId: string,
  extra: Partial<PolicyRequestData> = {},
): PolicyRequestData {
  return {
    requestId,
    principalArn,
    accountId: principalArn.split(':')[4]!,
    days: 30,
    regions: 'all',
    userId: USER,
    replyChannel: CHANNEL,
    requestTs: requestId,
    ...extra,
  };
}

const ask = (data: PolicyRequestData) =>
  rt.queues.actions.add(JOBS.policyRequest, data, { jobId: jobId(JOBS.policyRequest, data.requestId) });

async function stateOf(requestId: string): Promise<Record<string, unknown> | null> {
  const raw = await redis.get(rt.deps.keys.policyRequest(requestId));
  return raw ? (JSON.parse(raw) as Record<string, unknown>) : null;
}

const done = (requestId: string) =>
  expect.poll(async () => (await stateOf(requestId))?.status, { timeout: 20_000, interval: 50 }).toBe('done');

const awsCalls = (op: string) => aws.requests.filter((r) => r.operation === op);
const postedText = () => slack.posted.map((p) => `${p.text}\n${JSON.stringify(p.blocks)}`);
const ephemeralTexts = () =>
  slack.byMethod('chat.postEphemeral').map((c) => `${c.args.text} ${JSON.stringify(c.args.blocks)}`);

beforeEach(async () => {
  aws = await startAwsSandbox({ data: demoData(new Date(), { burst: false }) });
  aws.data.policyTools = { pollsUntilDone: 3 };
  slack = fakeSlack();
  config = testConfig({
    regions: ['us-east-1'],
    scan: { expectedAnalyzerKinds: ['external', 'unused'] },
    organization: { memberRoleName: DEMO_MEMBER_ROLE.name, externalId: DEMO_MEMBER_ROLE.externalId },
    policyGeneration: {
      accessRoleArn: 'arn:aws:iam::{accountId}:role/service-role/AccessAnalyzerMonitorServiceRole',
      trails: [TRAIL],
      firstPollSeconds: 0.05,
      maxPollSeconds: 0.2,
    },
  });
  rt = sandboxRuntime(config, aws);
  rt.startWorkers();
  redis = new Redis(REDIS_URL);
});

afterEach(async () => {
  await rt.close();
  await redis.quit();
  await aws.close();
  await wipePrefix(config.redis.keyPrefix);
});

describe('policy generation from a finding', () => {
  beforeEach(async () => {
    await rt.scanNow({ timeoutMs: 20_000 });
    slack.reset();
    aws.requests.length = 0;
  });

  it('polls with growing delays, updates one progress note, and posts the result in the finding thread', async () => {
    const findingId = DEMO_FINDING_IDS.unusedRoleCiDeployer;
    const state = (await rt.deps.store.get(findingId))!;
    const thread = state.threadTs ?? state.ts;
    const posts = slack.posted.length;

    await ask(request(CI_DEPLOYER, 'V0GEN1', { findingId }));
    await done('V0GEN1');

    // One start, in the principal's account, then GetGeneratedPolicy until it is no longer running.
    expect(awsCalls('StartPolicyGeneration')).toEqual([
      expect.objectContaining({ account: PROD, status: 200 }),
    ]);
    expect(awsCalls('GetGeneratedPolicy').map((r) => r.account)).toEqual([PROD, PROD, PROD, PROD]);
    expect(aws.data.policyGenerations![0]).toMatchObject({
      principalArn: CI_DEPLOYER,
      trails: [{ cloudTrailArn: TRAIL, allRegions: true }],
      status: 'SUCCEEDED',
    });
    // Each poll is a delayed job, each waiting twice as long as the one before (capped).
    const delays = [];
    for (let i = 0; i < 4; i++) {
      const job = await rt.queues.actions.getJob(jobId(JOBS.policyPoll, 'V0GEN1', String(i)));
      delays.push(job?.opts.delay);
    }
    expect(delays).toEqual([50, 100, 200, 200]);

    // Everything went into the finding's thread: the progress note (updated in place), the result, the policy.
    const mine = slack.posted.slice(posts);
    expect(mine.every((p) => p.channel === state.channel && p.thread_ts === thread)).toBe(true);
    expect(mine.map((p) => p.text)).toEqual([
      `Policy generation for ${CI_DEPLOYER}: done, the result is below`,
      `Policy generated for ${CI_DEPLOYER}: keeps 4 of 18 actions`,
      'Generated policy',
    ]);
    const updates = slack.byMethod('chat.update').filter((u) => u.args.ts === mine[0]!.ts);
    expect(updates.map((u) => String(u.args.text))).toEqual([
      ...Array(3).fill(`Generating a least-privilege policy for ${CI_DEPLOYER}`),
      `Policy generation for ${CI_DEPLOYER}: done, the result is below`,
    ]);
    const result = displayedBlocks(mine[1]!.blocks).join('\n');
    expect(result).toContain('Keeps 4 of 18 actions.');
    expect(result).toContain('names 4 actions in 2 services');
    expect(result).toContain('10 of today');
    expect(result).toContain('CheckNoNewAccess: PASS');
    expect(result).toContain('CloudTrail coverage was complete');
    expect(result).toContain('ValidatePolicy: no errors');
    expect(result).toContain(`arn:aws:iam::${PROD}:policy/ci-deploy-artifacts`); // could not be read
    const policy = displayedBlocks(mine[2]!.blocks.slice(1)).join('');
    expect(() => JSON.parse(policy)).not.toThrow();
    expect(policy).toContain('"ecr:CompleteLayerUpload"');

    const entries = await rt.deps.audit.query({ user: USER });
    expect(entries.map((e) => `${e.action} ${e.outcome}`)).toEqual([
      'generate-policy succeeded',
      'generate-policy requested',
    ]);
    expect(entries[0]!.detail).toMatch(/keeps 4 of 18 actions; complete true; CheckNoNewAccess PASS/);
    expect(await redis.llen(rt.deps.keys.policyQueue(PROD))).toBe(0);
    expect(await redis.exists(rt.deps.keys.policyActive(PROD))).toBe(0);
  });

  it('posts the result once when posting the policy after it failed and the poll was retried', async () => {
    const findingId = DEMO_FINDING_IDS.unusedRoleCiDeployer;
    const posts = slack.posted.length;
    failOnce(
      rt.deps.slack,
      'post',
      (_channel: string, msg: { text: string }) => msg.text === 'Generated policy',
    );

    await ask(request(CI_DEPLOYER, 'V0GEN1', { findingId }));
    await done('V0GEN1');

    expect(slack.posted.slice(posts).map((p) => p.text)).toEqual([
      `Policy generation for ${CI_DEPLOYER}: done, the result is below`,
      `Policy generated for ${CI_DEPLOYER}: keeps 4 of 18 actions`,
      'Generated policy',
    ]);
    const poll = await rt.queues.actions.getJob(jobId(JOBS.policyPoll, 'V0GEN1', '3'));
    expect(poll?.attemptsMade).toBe(2);
    const entries = await rt.deps.audit.query({ user: USER });
    expect(entries.map((e) => `${e.action} ${e.outcome}`)).toEqual([
      'generate-policy succeeded',
      'generate-policy requested',
    ]);
  });

  it('names the generated actions the principal does not hold today, and CheckNoNewAccess fails', async () => {
    aws.data.policyTools = {
      pollsUntilDone: 0,
      activity: { [CI_DEPLOYER]: ['ecr:PutImage', 'dynamodb:DeleteTable'] },
    };

    await ask(request(CI_DEPLOYER, 'V0NEW', { findingId: DEMO_FINDING_IDS.unusedRoleCiDeployer }));
    await done('V0NEW');

    const result = slack.posted.find((p) => p.text.startsWith(`Policy generated for ${CI_DEPLOYER}`))!;
    expect(result.text).toBe(`Policy generated for ${CI_DEPLOYER}: keeps 1 of 18 actions`);
    const shown = displayedBlocks(result.blocks).join('\n');
    expect(shown).toContain("1 generated action is not in today's policies: dynamodb:DeleteTable.");
    expect(displayedCode(result.blocks)).toContain('dynamodb:DeleteTable');
    expect(shown).toContain('CheckNoNewAccess: FAIL');
    expect(shown).toContain('dynamodb:DeleteTable).');
    const [entry] = await rt.deps.audit.query({ user: USER });
    expect(entry!.detail).toMatch(/keeps 1 of 18 actions; complete true; CheckNoNewAccess FAIL/);
  });

  it('says a generation failed, with AWS’s jobError, and frees the account', async () => {
    aws.data.policyTools = {
      pollsUntilDone: 1,
      failPrincipals: {
        [CI_DEPLOYER]: { code: 'AUTHORIZATION_ERROR', message: 'Access denied reading s3://org-trail-logs' },
      },
    };

    await ask(request(CI_DEPLOYER, 'V0FAIL', { findingId: DEMO_FINDING_IDS.unusedRoleCiDeployer }));
    await done('V0FAIL');

    const failed = slack.posted.find((p) => p.text.startsWith('Policy generation failed'))!;
    expect(displayedBlocks(failed.blocks)[0]!.split('\n')[1]).toBe(
      'AUTHORIZATION_ERROR: Access denied reading s3://org-trail-logs',
    );
    expect(displayedCode(failed.blocks)).toEqual([CI_DEPLOYER, 'AUTHORIZATION_ERROR']);
    const [entry] = await rt.deps.audit.query({ user: USER });
    expect(entry).toMatchObject({
      outcome: 'failed',
      error: 'AUTHORIZATION_ERROR: Access denied reading s3://org-trail-logs',
    });
    expect(await redis.exists(rt.deps.keys.policyActive(PROD))).toBe(0);
  });
});

describe('policy generation queue', () => {
  it('reports a generation canceled in AWS', async () => {
    aws.data.policyTools = { pollsUntilDone: 1000 };
    await ask(request(CI_DEPLOYER, 'R-cancel'));
    await expect.poll(() => awsCalls('GetGeneratedPolicy').length, { timeout: 10_000 }).toBeGreaterThan(0);

    aws.data.policyGenerations![0]!.status = 'CANCELED';
    await done('R-cancel');

    expect(postedText().some((t) => t.startsWith(`Policy generation was canceled for ${CI_DEPLOYER}`))).toBe(
      true,
    );
    const [entry] = await rt.deps.audit.query({ user: USER });
    expect(entry).toMatchObject({ action: 'generate-policy', outcome: 'failed', detail: 'canceled' });
  });

  it('keeps its place and retries when another generation (started elsewhere) holds the account', async () => {
    aws.data.policyGenerations!.push({
      jobId: 'console-started',
      account: PROD,
      principalArn: APP_BACKEND,
      status: 'IN_PROGRESS',
      startedOn: new Date().toISOString(),
      polls: 0,
      trails: [],
      startTime: new Date().toISOString(),
      endTime: new Date().toISOString(),
    });

    await ask(request(CI_DEPLOYER, 'R-conflict'));
    await expect.poll(() => awsCalls('StartPolicyGeneration').length, { timeout: 10_000 }).toBeGreaterThan(1);
    expect(await redis.lrange(rt.deps.keys.policyQueue(PROD), 0, -1)).toEqual(['R-conflict']);
    expect(
      ephemeralTexts().filter((t) => /another policy generation is already running/.test(t)),
    ).toHaveLength(1);

    aws.data.policyGenerations![0]!.status = 'SUCCEEDED';
    await done('R-conflict');

    const statuses = awsCalls('StartPolicyGeneration').map((r) => r.status);
    expect(statuses.at(-1)).toBe(200);
    expect(statuses.slice(0, -1).every((s) => s === 409)).toBe(true);
    expect(postedText().some((t) => t.startsWith(`Policy generated for ${CI_DEPLOYER}`))).toBe(true);
  });

  it('tells the person the daily limit is reached and drops the request', async () => {
    aws.data.policyTools = { dailyQuota: 0 };

    await ask(request(CI_DEPLOYER, 'R-quota'));
    await done('R-quota');

    expect(awsCalls('StartPolicyGeneration').map((r) => r.status)).toEqual([402]);
    const told = slack.byMethod('chat.postEphemeral').at(-1)!.args;
    expect(told).toMatchObject({ channel: CHANNEL, user: USER });
    expect(String(told.text)).toBe(`Daily limit of 50 policy generations reached in account ${PROD}`);
    expect(JSON.stringify(told.blocks)).toMatch(/try again after \d{4}-\d{2}-\d{2} \d{2}:\d{2} UTC/);
    expect(await redis.llen(rt.deps.keys.policyQueue(PROD))).toBe(0);
    expect(await redis.exists(rt.deps.keys.policyActive(PROD))).toBe(0);
    const [entry] = await rt.deps.audit.query({ user: USER });
    expect(entry).toMatchObject({
      outcome: 'failed',
      error: expect.stringMatching(/ServiceQuotaExceededException/),
    });
  });

  it('runs one generation at a time per account: the second waits its turn, another account runs alongside', async () => {
    // Generations run until released below, so the order is decided by the queue, not by timing.
    aws.data.policyTools = { pollsUntilDone: 1000 };
    const gen = (arn: string) => aws.data.policyGenerations!.find((g) => g.principalArn === arn);
    await ask(request(CI_DEPLOYER, 'R-first'));
    await expect.poll(async () => (await stateOf('R-first'))?.status, { timeout: 10_000 }).toBe('running');
    await ask(request(APP_BACKEND, 'R-second'));
    await ask(request(STAGING_BATCH, 'R-other'));

    // The other account starts while the first is still running; the second waits and is told so.
    await expect.poll(() => gen(STAGING_BATCH)?.status, { timeout: 10_000 }).toBe('IN_PROGRESS');
    await expect
      .poll(() =>
        ephemeralTexts().some((t) => t.startsWith(`Queued, 1 request ahead of you in account ${PROD}`)),
      )
      .toBe(true);
    expect(gen(CI_DEPLOYER)?.status).toBe('IN_PROGRESS');
    expect(gen(APP_BACKEND)).toBeUndefined();
    expect(await redis.lrange(rt.deps.keys.policyQueue(PROD), 0, -1)).toEqual(['R-first', 'R-second']);
    expect(await redis.get(rt.deps.keys.policyActive(PROD))).toBe('R-first');

    aws.data.policyTools = { pollsUntilDone: 0 };
    await Promise.all([done('R-first'), done('R-second'), done('R-other')]);

    // The second started only after the first had finished; the bot never asked AWS while the
    // account was busy (no 409), and nobody in the other account was told to wait.
    expect(Date.parse(gen(APP_BACKEND)!.startedOn)).toBeGreaterThanOrEqual(
      Date.parse(gen(CI_DEPLOYER)!.completedOn!),
    );
    expect(awsCalls('StartPolicyGeneration').map((r) => r.status)).toEqual([200, 200, 200]);
    expect(ephemeralTexts().some((t) => t.includes(`ahead of you in account ${STAGING}`))).toBe(false);
  });

  it('ends the request and frees the account when the generation cannot be read any more', async () => {
    aws.data.policyTools = { pollsUntilDone: 1000 };
    await ask(request(CI_DEPLOYER, 'R-denied'));
    await expect.poll(() => awsCalls('GetGeneratedPolicy').length, { timeout: 10_000 }).toBeGreaterThan(0);

    aws.faults.accessDenied.push({ region: 'us-east-1', operation: 'GetGeneratedPolicy' });
    await done('R-denied');

    const failed = slack.posted.find((p) => p.text.startsWith('Policy generation could not run'))!;
    expect(displayedCode(failed.blocks)).toContain('AccessDeniedException');
    expect(await redis.exists(rt.deps.keys.policyActive(PROD))).toBe(0);
    const [entry] = await rt.deps.audit.query({ user: USER });
    expect(entry).toMatchObject({
      action: 'generate-policy',
      outcome: 'failed',
      error: expect.stringMatching(/^AccessDeniedException/),
    });
  });

  it('gives the account slot to exactly one of many concurrent claims', async () => {
    for (const id of ['R-a', 'R-b']) {
      await redis.set(
        rt.deps.keys.policyRequest(id),
        JSON.stringify({ ...request(CI_DEPLOYER, id), status: 'queued' }),
      );
      await redis.rpush(rt.deps.keys.policyQueue(PROD), id);
    }

    const claims = await Promise.all(Array.from({ length: 8 }, () => advanceAccount(rt.deps, PROD)));

    expect(claims.filter((c) => c !== null)).toEqual(['R-a']);
    expect(await redis.get(rt.deps.keys.policyActive(PROD))).toBe('R-a');
    await Promise.all([done('R-a'), done('R-b')]);
    expect(awsCalls('StartPolicyGeneration').map((r) => r.status)).toEqual([200, 200]);
  });

  it('resumes polling a running generation whose slot expired after its poll jobs were lost', async () => {
    const now = new Date().toISOString();
    aws.data.policyTools = { pollsUntilDone: 1 };
    aws.data.policyGenerations!.push({
      jobId: 'lost-job',
      account: PROD,
      principalArn: CI_DEPLOYER,
      status: 'IN_PROGRESS',
      startedOn: now,
      polls: 0,
      trails: [{ cloudTrailArn: TRAIL, allRegions: true }],
      startTime: now,
      endTime: now,
    });
    const state = {
      ...request(CI_DEPLOYER, 'R-lost'),
      status: 'running',
      awsJobId: 'lost-job',
      startedAt: now,
      polls: 5,
    };
    await redis.set(rt.deps.keys.policyRequest('R-lost'), JSON.stringify(state));
    await redis.rpush(rt.deps.keys.policyQueue(PROD), 'R-lost');

    expect(await advanceAccount(rt.deps, PROD)).toBe('R-lost');
    await done('R-lost');

    expect(awsCalls('StartPolicyGeneration')).toHaveLength(0);
    expect(awsCalls('GetGeneratedPolicy').length).toBeGreaterThan(0);
    expect(postedText().some((t) => t.startsWith(`Policy generated for ${CI_DEPLOYER}`))).toBe(true);
  });

  it.each([
    { how: 'both find the generation canceled', status: 'CANCELED' as const, minutesAgo: 1 },
    {
      how: 'both give up on it past maxWaitMinutes and cancel it',
      status: 'IN_PROGRESS' as const,
      minutesAgo: 180,
    },
  ])(
    'starts the next request exactly once when two polls end the same request at once ($how)',
    async ({ status, minutesAgo }) => {
      const startedAt = new Date(Date.now() - minutesAgo * 60_000).toISOString();
      aws.data.policyTools = { pollsUntilDone: status === 'IN_PROGRESS' ? 1000 : 0 };
      aws.data.policyGenerations!.push({
        jobId: 'gen-ending',
        account: PROD,
        principalArn: CI_DEPLOYER,
        status,
        startedOn: startedAt,
        polls: 0,
        trails: [{ cloudTrailArn: TRAIL, allRegions: true }],
        startTime: startedAt,
        endTime: startedAt,
      });
      const running = {
        ...request(CI_DEPLOYER, 'R-ending'),
        status: 'running',
        awsJobId: 'gen-ending',
        startedAt,
      };
      await redis.set(rt.deps.keys.policyRequest('R-ending'), JSON.stringify(running));
      await redis.set(
        rt.deps.keys.policyRequest('R-next'),
        JSON.stringify({ ...request(APP_BACKEND, 'R-next'), status: 'queued' }),
      );
      await redis.rpush(rt.deps.keys.policyQueue(PROD), 'R-ending', 'R-next');
      await redis.set(rt.deps.keys.policyActive(PROD), 'R-ending');

      // Both polls reach the end of the request before either ends it, then end it together. From
      // then on generations finish at their first poll, so the next request's does.
      const store = rt.deps.policyRequests;
      const finish = store.finish.bind(store);
      const ending: Promise<unknown>[] = [];
      let meet: () => void = () => {};
      const met = new Promise<void>((resolve) => {
        meet = resolve;
      });
      const finishes = vi.spyOn(store, 'finish').mockImplementation(async (req, ttl) => {
        if (req.requestId !== 'R-ending') return finish(req, ttl);
        if (ending.push(met) === 2) {
          aws.data.policyTools = { pollsUntilDone: 0 };
          meet();
        }
        await met;
        return finish(req, ttl);
      });
      const poll = (attempt: number) => ({
        requestId: 'R-ending',
        accountId: PROD,
        attempt,
        userId: USER,
        requestTs: 'R-ending',
      });
      await enqueue(rt.queues, JOBS.policyPoll, poll(2));
      await enqueue(rt.queues, JOBS.policyPoll, poll(3));

      await done('R-next');

      const outcomes = await Promise.all(
        finishes.mock.results
          .filter((_, i) => finishes.mock.calls[i]![0].requestId === 'R-ending')
          .map((r) => r.value as Promise<{ ended: boolean; next: string | null }>),
      );
      expect(outcomes).toHaveLength(2);
      expect(outcomes.filter((o) => o.ended)).toHaveLength(1);
      expect(outcomes.map((o) => o.next).filter(Boolean)).toEqual(['R-next']);
      // One start of the next request: one job, one StartPolicyGeneration, one result.
      const starts = (
        await rt.queues.actions.getJobs(['completed', 'failed', 'active', 'waiting', 'delayed'])
      ).filter((j) => j.name === JOBS.policyStart);
      expect(starts.map((j) => j.id)).toEqual([jobId(JOBS.policyStart, 'R-next', '0')]);
      expect(awsCalls('StartPolicyGeneration').map((r) => r.status)).toEqual([200]);
      expect(aws.data.policyGenerations!.map((g) => `${g.principalArn} ${g.status}`)).toEqual([
        `${CI_DEPLOYER} CANCELED`,
        `${APP_BACKEND} SUCCEEDED`,
      ]);
      expect(postedText().filter((t) => t.startsWith(`Policy generated for ${APP_BACKEND}`))).toHaveLength(1);
      expect((await stateOf('R-ending'))?.status).toBe('done');
      expect(await redis.llen(rt.deps.keys.policyQueue(PROD))).toBe(0);
      expect(await redis.exists(rt.deps.keys.policyActive(PROD))).toBe(0);
    },
  );

  it('still starts the next request when ending the first one failed and its poll was retried', async () => {
    failOnce(rt.deps.policyRequests, 'finish');
    await ask(request(CI_DEPLOYER, 'R-first'));
    await expect.poll(async () => (await stateOf('R-first'))?.status, { timeout: 10_000 }).toBe('running');
    await ask(request(APP_BACKEND, 'R-second'));

    await Promise.all([done('R-first'), done('R-second')]);

    expect(awsCalls('StartPolicyGeneration').map((r) => r.status)).toEqual([200, 200]);
    expect(postedText().filter((t) => t.startsWith(`Policy generated for ${CI_DEPLOYER}`))).toHaveLength(1);
    expect(postedText().filter((t) => t.startsWith(`Policy generated for ${APP_BACKEND}`))).toHaveLength(1);
    expect(await redis.llen(rt.deps.keys.policyQueue(PROD))).toBe(0);
    expect(await redis.exists(rt.deps.keys.policyActive(PROD))).toBe(0);
  });

  it('starts one generation when the same request arrives twice', async () => {
    await ask(request(CI_DEPLOYER, 'R-twice'));
    await ask(request(CI_DEPLOYER, 'R-twice'));
    await done('R-twice');

    expect(awsCalls('StartPolicyGeneration')).toHaveLength(1);
    expect(postedText().filter((t) => t.startsWith(`Policy generated for ${CI_DEPLOYER}`))).toHaveLength(1);
  });

  it('names the missing config key when policy generation is not configured', async () => {
    rt.deps.config = { ...config, policyGeneration: undefined };

    await ask(request(CI_DEPLOYER, 'R-noconfig'));

    await expect.poll(() => slack.byMethod('chat.postEphemeral').length, { timeout: 10_000 }).toBe(1);
    expect(JSON.stringify(slack.byMethod('chat.postEphemeral')[0]!.args.blocks)).toContain(
      'set policyGeneration (at least',
    );
    expect(awsCalls('StartPolicyGeneration')).toHaveLength(0);
  });
});
