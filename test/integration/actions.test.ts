// Action jobs (archive, unarchive, archive expiry, rescan) with real Redis and BullMQ workers, AWS and
// Slack behind nock: the AWS calls made, the message redrawn in place, the thread record, the audit.
import type { Job } from 'bullmq';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AppConfig } from '../../src/config/schema.ts';
import { type ActionRequest, type ArchiveData, JOBS, jobId, type SnoozeData } from '../../src/queue/index.ts';
import type { Runtime } from '../../src/runtime.ts';
import { CALLER_ACCOUNT } from '../factories/aws.ts';
import { crossAccountFinding, type FakeAws, fakeAccessAnalyzer } from '../helpers/fake-aws.ts';
import { type FakeSlack, fakeSlack } from '../helpers/fake-slack.ts';
import { testConfig, testRuntime, wipePrefix } from '../helpers/runtime.ts';
import { displayedBlocks } from '../helpers/slack-display.ts';
import { type ActionEvents, actionEvents, failOnce } from '../helpers/triage.ts';

const REGION = 'eu-west-1';
const ANALYZER = `arn:aws:access-analyzer:${REGION}:${CALLER_ACCOUNT}:analyzer/org-external`;
const ALICE = 'U0ALICE01';

let config: AppConfig;
let aws: FakeAws;
let slack: FakeSlack;
let rt: Runtime;
let actions: ActionEvents;

function addFinding(id: string) {
  aws.regions
    .get(REGION)!
    .findings.get(ANALYZER)!
    .push(crossAccountFinding(id, `arn:aws:s3:::${id}`, '222222222222'));
}
const finding = (id: string) =>
  aws.regions
    .get(REGION)!
    .findings.get(ANALYZER)!
    .find((f) => f.summary.id === id)!;

// Adds to the current runtime's queue: one test replaces the runtime with one on another clock.
async function run(
  name: string,
  data: ActionRequest | ArchiveData,
  id = jobId(name, data.findingId, data.requestTs),
) {
  const job = (await rt.queues.actions.add(name, data, { jobId: id })) as Job;
  return job.waitUntilFinished(actions.events, 20_000).catch((err: Error) => ({ error: err.message }));
}

const request = (over: Partial<ArchiveData> = {}): ArchiveData => ({
  findingId: 'f-1',
  analyzerArn: ANALYZER,
  region: REGION,
  userId: ALICE,
  replyChannel: 'C0PROD001',
  requestTs: '1795000000.000100',
  reason: 'approved vendor share, ticket SEC-42',
  ...over,
});

beforeEach(async () => {
  config = testConfig({
    routing: [{ name: 'prod', match: { accountId: '222222222222' }, channel: 'C0PROD001' }],
    scan: { expectedAnalyzerKinds: ['external'] },
  });
  aws = fakeAccessAnalyzer({ [REGION]: {} });
  slack = fakeSlack();
  addFinding('f-1');
  rt = testRuntime(config);
  rt.startWorkers();
  actions = await actionEvents(rt, config);
  await rt.scanNow({ timeoutMs: 20_000 });
  slack.reset();
  aws.reset();
});

afterEach(async () => {
  await actions.close();
  await rt.close();
  await wipePrefix(config.redis.keyPrefix);
});

describe('archive', () => {
  it('archives in AWS, redraws the message with who and why, and records it in the thread and the audit log', async () => {
    const messageTs = slack.posted[0]!.ts;

    const result = await run(JOBS.archive, request({ until: '2099-03-01' }));

    expect(result).toEqual({ outcome: 'succeeded', status: 'ARCHIVED' });
    expect(aws.requests.filter((r) => r.op === 'UpdateFindings').map((r) => r.id)).toEqual(['f-1=ARCHIVED']);
    const update = slack.byMethod('chat.update')[0]!;
    expect(update.args).toMatchObject({ channel: 'C0PROD001', ts: messageTs });
    const shown = JSON.stringify(update.args.blocks);
    // The first line as a person reads it: who (a mention), why and until when.
    expect(displayedBlocks(update.args.blocks)[0]).toMatch(
      new RegExp(
        `^🗄️ Archived \\d{4}-\\d{2}-\\d{2} by @${ALICE}: approved vendor share, ticket SEC-42, until 2099-03-01\n`,
      ),
    );
    expect(shown).toContain(`{"type":"user","user_id":"${ALICE}"}`);
    expect(shown).toContain('finding_unarchive');
    const reply = slack.posted.find((p) => p.thread_ts === messageTs)!;
    expect(reply.text).toMatch(/Archived by U0ALICE01/);
    const [entry] = await rt.deps.audit.query({ findingId: 'f-1' });
    expect(entry).toMatchObject({ actor: ALICE, action: 'archive', outcome: 'succeeded' });
    const expiry = await rt.queues.actions.getJob(jobId(JOBS.archiveExpiry, 'f-1', '2099-03-01'));
    expect(await expiry?.getState()).toBe('delayed');
    expect((await rt.deps.store.get('f-1'))?.status).toBe('ARCHIVED');
  });

  it('runs once when the same click arrives twice', async () => {
    await Promise.all([run(JOBS.archive, request()), run(JOBS.archive, request())]);
    expect(aws.count('UpdateFindings')).toBe(1);
  });

  it('changes nothing in AWS when the finding was resolved meanwhile, and redraws the message', async () => {
    finding('f-1').summary.status = 'RESOLVED';

    const result = await run(JOBS.archive, request());

    expect(result).toEqual({ outcome: 'stale', status: 'RESOLVED' });
    expect(aws.count('UpdateFindings')).toBe(0);
    expect(JSON.stringify(slack.byMethod('chat.update')[0]!.args.blocks)).toMatch(/Resolved/);
    expect(slack.byMethod('chat.postEphemeral')[0]!.args).toMatchObject({
      channel: 'C0PROD001',
      user: ALICE,
    });
    const [entry] = await rt.deps.audit.query({ findingId: 'f-1' });
    expect(entry).toMatchObject({ outcome: 'stale' });
  });

  it('sets the finding ACTIVE again when the archive expires, and says so in the thread', async () => {
    await rt.close();
    rt = testRuntime(config, { now: () => new Date('2027-03-02T08:00:00Z') });
    rt.startWorkers();
    await run(JOBS.archive, request({ until: '2027-03-01' }));
    // The expiry job was due immediately (its date has passed on this clock).
    const expiry = (await rt.queues.actions.getJob(jobId(JOBS.archiveExpiry, 'f-1', '2027-03-01')))!;
    await expiry.waitUntilFinished(actions.events, 20_000);

    expect(aws.requests.filter((r) => r.op === 'UpdateFindings').map((r) => r.id)).toEqual([
      'f-1=ARCHIVED',
      'f-1=ACTIVE',
    ]);
    expect(slack.posted.some((p) => /Archive expired on 2027-03-01/.test(p.text))).toBe(true);
    expect((await rt.deps.store.get('f-1'))?.status).toBe('ACTIVE');
    expect((await rt.deps.store.get('f-1'))?.archiveUntil).toBeUndefined();
  });
});

async function markEscalated(id: string) {
  await rt.deps.store.set(id, { reminders: '3', lastReminderAt: '2026-01-10T08:00:00.000Z' });
  await rt.deps.redis.set(rt.deps.keys.agingEscalated(id), '2026-01-10T08:00:00.000Z');
}
async function agingLeft(id: string) {
  const s = await rt.deps.store.get(id);
  return {
    reminders: s?.reminders,
    lastReminderAt: s?.lastReminderAt,
    escalated: await rt.deps.redis.exists(rt.deps.keys.agingEscalated(id)),
  };
}
const FRESH = { reminders: undefined, lastReminderAt: undefined, escalated: 0 };

describe('unarchive', () => {
  it('starts SLA reminders and escalation afresh for the reopened finding', async () => {
    await run(JOBS.archive, request());
    await markEscalated('f-1');

    expect(await run(JOBS.unarchive, request({ requestTs: '1795000000.000200' }))).toEqual({
      outcome: 'succeeded',
      status: 'ACTIVE',
    });
    expect(await agingLeft('f-1')).toEqual(FRESH);
  });

  it('keeps the reminders of a finding that stayed ACTIVE through a rescan', async () => {
    await markEscalated('f-1');
    await rt.scanNow({ timeoutMs: 20_000 });
    expect(await agingLeft('f-1')).toEqual({
      reminders: '3',
      lastReminderAt: '2026-01-10T08:00:00.000Z',
      escalated: 1,
    });
  });

  it('starts reminders afresh when AWS reopens a finding the bot had shown archived', async () => {
    finding('f-1').summary.status = 'ARCHIVED';
    await rt.scanNow({ timeoutMs: 20_000 });
    expect((await rt.deps.store.get('f-1'))?.status).toBe('ARCHIVED');
    await markEscalated('f-1');

    finding('f-1').summary.status = 'ACTIVE';
    finding('f-1').summary.updatedAt = new Date('2026-02-01T00:00:00Z');
    await rt.scanNow({ timeoutMs: 20_000 });

    expect((await rt.deps.store.get('f-1'))?.status).toBe('ACTIVE');
    expect(await agingLeft('f-1')).toEqual(FRESH);
  });

  it('refuses to act on a finding that is not archived', async () => {
    const result = await run(JOBS.unarchive, request());
    expect(result).toEqual({ outcome: 'stale', status: 'ACTIVE' });
    expect(aws.count('UpdateFindings')).toBe(0);
  });
});

describe('rescan', () => {
  it('starts a resource scan, then marks the message resolved when AWS no longer reports the access', async () => {
    const messageTs = slack.posted[0]!.ts;

    await run(JOBS.rescan, request());

    expect(aws.requests.filter((r) => r.op === 'StartResourceScan').map((r) => r.id)).toEqual([
      'arn:aws:s3:::f-1',
    ]);
    expect(slack.posted.find((p) => p.thread_ts === messageTs)?.text).toMatch(/Rescan requested/);
    const check = (await rt.queues.actions.getJob(jobId(JOBS.rescanCheck, 'f-1', request().requestTs)))!;
    expect(await check.getState()).toBe('delayed');

    finding('f-1').summary.status = 'RESOLVED';
    await check.promote();
    await check.waitUntilFinished(actions.events, 20_000);

    expect(JSON.stringify(slack.byMethod('chat.update').at(-1)!.args.blocks)).toMatch(/Resolved/);
    expect(slack.posted.some((p) => /Rescan done: resolved/.test(p.text))).toBe(true);
  });
});

describe('a job retried after a step failed', () => {
  // The retry follows at once here; the queue's backoff would make each test wait seconds.
  async function runRetried(name: string, data: ActionRequest | SnoozeData) {
    const job = (await rt.queues.actions.add(name, data, {
      jobId: jobId(name, data.findingId, data.requestTs),
      backoff: { type: 'fixed', delay: 10 },
    })) as Job;
    const result = await job.waitUntilFinished(actions.events, 20_000);
    return { result, attempts: (await rt.queues.actions.getJob(job.id!))!.attemptsMade };
  }
  const thread = (pattern: RegExp) =>
    slack.posted.filter((p) => p.thread_ts === slack.posted[0]!.ts && pattern.test(p.text));
  const audited = async () =>
    (await rt.deps.audit.query({ findingId: 'f-1' })).map((e) => `${e.action} ${e.outcome}`);

  it('finishes an archive whose AWS write went through before the audit append failed', async () => {
    failOnce(rt.deps.audit, 'record');

    const { result, attempts } = await runRetried(JOBS.archive, request());

    // The retry finds the finding ARCHIVED in AWS: its own write, not someone else's, so not stale.
    expect(result).toEqual({ outcome: 'succeeded', status: 'ARCHIVED' });
    expect(attempts).toBe(2);
    expect(thread(/Archived by U0ALICE01/)).toHaveLength(1);
    expect(displayedBlocks(slack.byMethod('chat.update').at(-1)!.args.blocks)[0]).toContain(`by @${ALICE}`);
    expect(slack.byMethod('chat.postEphemeral').map((c) => String(c.args.text))).not.toContainEqual(
      expect.stringMatching(/Nothing was done/),
    );
    expect(await audited()).toEqual(['archive succeeded']);
    expect(await rt.deps.store.get('f-1')).toMatchObject({ status: 'ARCHIVED', archivedBy: ALICE });
  });

  it('finishes an unarchive whose AWS write went through before the audit append failed', async () => {
    await run(JOBS.archive, request());
    failOnce(rt.deps.audit, 'record');

    const { result, attempts } = await runRetried(
      JOBS.unarchive,
      request({ requestTs: '1795000000.000200' }),
    );

    expect(result).toEqual({ outcome: 'succeeded', status: 'ACTIVE' });
    expect(attempts).toBe(2);
    expect(thread(/Unarchived/i)).toHaveLength(1);
    expect(await audited()).toEqual(['unarchive succeeded', 'archive succeeded']);
  });

  it('posts the rescan receipt once when the audit append failed after it', async () => {
    failOnce(rt.deps.audit, 'record');

    const { result, attempts } = await runRetried(JOBS.rescan, request());

    expect(result).toEqual({ outcome: 'succeeded', status: 'ACTIVE' });
    expect(attempts).toBe(2);
    expect(thread(/Rescan requested/)).toHaveLength(1);
    // AWS was asked again by the retry (harmless), and one check is scheduled.
    expect(aws.count('StartResourceScan')).toBe(2);
    const check = await rt.queues.actions.getJob(jobId(JOBS.rescanCheck, 'f-1', request().requestTs));
    expect(await check?.getState()).toBe('delayed');
    expect(await audited()).toEqual(['rescan succeeded']);
  });

  it('posts the snooze receipt once when the audit append failed after it, and keeps the snooze', async () => {
    failOnce(rt.deps.audit, 'record');
    const snooze: SnoozeData = { ...request(), days: 7, reason: 'fix ships Friday' };

    const { result, attempts } = await runRetried(JOBS.snooze, snooze);

    expect(result).toEqual({ outcome: 'succeeded', status: 'ACTIVE' });
    expect(attempts).toBe(2);
    expect(thread(/^Snoozed by/)).toHaveLength(1);
    expect((await rt.deps.store.get('f-1'))?.snoozedBy).toBe(ALICE);
    expect(await audited()).toEqual(['snooze succeeded']);
  });

  it('posts the unsnooze receipt once when the audit append failed after it', async () => {
    await run(JOBS.snooze, { ...request(), days: 7, reason: 'fix ships Friday' } as SnoozeData);
    failOnce(rt.deps.audit, 'record');

    const { result, attempts } = await runRetried(JOBS.unsnooze, request({ requestTs: '1795000000.000200' }));

    expect(result).toEqual({ outcome: 'succeeded', status: 'ACTIVE' });
    expect(attempts).toBe(2);
    expect(thread(/^Snooze ended by/)).toHaveLength(1);
    expect((await rt.deps.store.get('f-1'))?.snoozedUntil).toBeUndefined();
    expect(await audited()).toEqual(['unsnooze succeeded', 'snooze succeeded']);
  });

  it('posts the receipt on the retry when Slack failed to take it', async () => {
    slack.failPostsNext(1, 'internal_error');

    const { result, attempts } = await runRetried(JOBS.rescan, request());

    expect(result).toEqual({ outcome: 'succeeded', status: 'ACTIVE' });
    expect(attempts).toBe(2);
    expect(slack.byMethod('chat.postMessage')).toHaveLength(2);
    expect(thread(/Rescan requested/)).toHaveLength(1);
    expect(await audited()).toEqual(['rescan succeeded']);
  });
});
