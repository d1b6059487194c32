// The weekly digest with real Redis and Slack behind nock, on a fixed clock: what each owner channel
// gets for a seeded week, DMs to owners by e-mail, unknown addresses reported once, empty weeks,
// retries that never send twice, and the scheduler registration.

import { Redis } from 'ioredis';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type DigestRunResult, runDigest } from '../../jobs/digest.ts';
import type { AppConfig } from '../../src/config/schema.ts';
import {
  createQueueEvents,
  DIGEST_SCHEDULER,
  JOBS,
  jobId,
  registerSchedulers,
} from '../../src/queue/index.ts';
import type { Runtime } from '../../src/runtime.ts';
import type { FindingState } from '../../src/store/findings.ts';
import { makeFindingState } from '../factories/finding.ts';
import { type FakeSlack, fakeSlack } from '../helpers/fake-slack.ts';
import { REDIS_URL, testConfig, testRuntime, wipePrefix } from '../helpers/runtime.ts';

const PAY = 'C0PAY0001';
/** Monday 2030-05-20, 09:00 in Berlin: the digest covers 13 to 19 May; runs this ISO week share W21. */
const MONDAY = new Date('2030-05-20T07:00:00Z');

let config: AppConfig;
let slack: FakeSlack;
let rt: Runtime;
let clock: Date;

function state(over: Partial<FindingState>): Partial<FindingState> {
  return makeFindingState({
    updatedAt: '2030-05-01T10:00:00.000Z',
    routeChannel: PAY,
    channel: PAY,
    createdAt: '2030-05-01T10:00:00.000Z',
    firstSeen: '2030-05-01T10:05:00.000Z',
    ...over,
  });
}

function setup(digest: Record<string, unknown> = {}) {
  config = testConfig({
    slack: {
      defaultChannel: 'C0DEFAULT',
      adminChannel: 'C0ADMIN',
      postIntervalMs: 0,
      workspaceUrl: 'https://acme.slack.com',
    },
    digest: { timezone: 'Europe/Berlin', overdueLimit: 2, ...digest },
  });
  slack = fakeSlack();
  slack.users['dana@example.com'] = { id: 'U0DANA' };
  clock = MONDAY;
  rt = testRuntime(config, { now: () => clock });
}

/** A week in the payments channel, a quiet channel, and owners by e-mail (one unknown to Slack). */
async function seedWeek(): Promise<void> {
  const { store, audit, redis, keys } = rt.deps;
  await store.set(
    'p-new',
    state({
      createdAt: '2030-05-18T10:00:00.000Z',
      firstSeen: '2030-05-18T10:05:00.000Z',
      ts: '1800000000.000100',
      ownerEmail: 'Dana@Example.com',
    }),
  );
  await store.set(
    'p-old1',
    state({
      createdAt: '2030-04-01T10:00:00.000Z',
      severity: 'critical',
      resourceArn: 'arn:aws:s3:::oldest <!here> *bucket*',
      ts: '1800000000.000200',
      ownerEmail: 'dana@example.com',
    }),
  );
  await store.set('p-old2', state({ createdAt: '2030-04-20T10:00:00.000Z', ts: '1800000000.000300' }));
  await store.set('p-old3', state({ createdAt: '2030-05-01T10:00:00.000Z', ts: '1800000000.000400' }));
  await store.set(
    'p-role',
    state({
      findingType: 'UnusedIAMRole',
      category: 'unused-role',
      severity: 'low',
      resourceType: 'AWS::IAM::Role',
      resourceArn: 'arn:aws:iam::222222222222:role/old-batch',
      createdAt: '2030-05-10T00:00:00.000Z',
      ts: '1800000000.000500',
      ownerEmail: 'ghost@example.com',
    }),
  );
  await store.set('p-res', state({ status: 'RESOLVED', updatedAt: '2030-05-15T12:00:00.000Z' }));
  await store.set('p-arc', state({ status: 'ARCHIVED', archivedBy: 'U0ALICE' }));
  await audit.record({
    actor: 'U0ALICE',
    action: 'archive',
    outcome: 'succeeded',
    findingId: 'p-arc',
    at: '2030-05-16T10:00:00.000Z',
  });
  await store.set(
    'q-res',
    state({
      routeChannel: '#quiet',
      channel: 'C0QUIET01',
      status: 'RESOLVED',
      updatedAt: '2030-04-20T12:00:00Z',
    }),
  );
  // Last week's counts of the payments channel, for the trend.
  await redis.hset(keys.digestSnapshot(`ch-${PAY}`, '2030-W20'), {
    open: 3,
    overdue: 4,
    new: 0,
    resolved: 0,
    archived: 0,
  });
}

const postsTo = (channel: string) => slack.posted.filter((p) => p.channel === channel);
const texts = (blocks: unknown[]) => JSON.stringify(blocks);

afterEach(async () => {
  await rt.close();
  await wipePrefix(config.redis.keyPrefix);
});

describe('weekly digest', () => {
  beforeEach(() => setup());

  it('posts each owner channel its week: counts with trend, who archived, overdue oldest first with buttons', async () => {
    await seedWeek();
    const result = await runDigest(rt.deps);
    expect(result.week).toBe('2030-W21');

    const [pay] = postsTo(PAY);
    expect(postsTo(PAY)).toHaveLength(1);
    expect(pay!.text).toBe(
      'Weekly access digest for this channel: 5 open (3 overdue), 1 new, 1 resolved, 1 archived',
    );
    const body = texts(pay!.blocks);
    expect(body).toContain('*Open* 5 (▲2 since last week) · *Overdue* 3 (▼1 since last week) · *New* 1');
    expect(body).toContain('*Open by type*\\nExternalAccess: 4\\nUnusedIAMRole: 1');
    expect(body).toContain('*Open by severity*\\n🔴 critical: 1\\n🟠 high: 3\\n🔵 low: 1');
    expect(body).toContain('🗄️ *1 archived* by <@U0ALICE> (1).');
    expect(body).toContain('*Overdue, oldest first* (2 of 3; 1 more not listed)');
    // The oldest first, escaped, linking to its message; then the next; the third is only counted.
    const oldest = body.indexOf('oldest &lt;!here&gt;');
    const next = body.indexOf('p1800000000000300');
    expect(oldest).toBeGreaterThan(0);
    expect(next).toBeGreaterThan(oldest);
    expect(body).not.toContain('<!here>');
    expect(body).toContain('<https://acme.slack.com/archives/C0PAY0001/p1800000000000200|message>');
    expect(body).not.toContain('p1800000000000400');
    const actions = (
      pay!.blocks as { type: string; elements?: { action_id: string; value?: string }[] }[]
    ).filter((b) => b.type === 'actions');
    expect(actions.map((a) => JSON.parse(a.elements![1]!.value!).f)).toEqual(['p-old1', 'p-old2']);
    expect(actions[0]!.elements!.map((e) => e.action_id)).toEqual([
      'finding_open_console',
      'finding_archive',
      'finding_archive_similar',
      'finding_rescan',
      'finding_snooze',
    ]);

    // Channels with nothing open and nothing new get the one-line all-clear.
    expect(postsTo('#quiet').map((p) => p.text)).toEqual([
      'All clear for #quiet (2030-05-13 to 2030-05-19): nothing open, nothing new.',
    ]);
    expect(postsTo('C0DEFAULT').map((p) => p.text)).toEqual([
      'All clear for this channel (2030-05-13 to 2030-05-19): nothing open, nothing new.',
    ]);
    // This week's counts are kept for next week's trend.
    expect(await rt.deps.redis.hgetall(rt.deps.keys.digestSnapshot(`ch-${PAY}`, '2030-W21'))).toEqual({
      open: '5',
      overdue: '3',
      new: '1',
      resolved: '1',
      archived: '1',
    });
  });

  it('DMs each owner their own resources and reports an unknown address to the admins once', async () => {
    await seedWeek();
    await runDigest(rt.deps);
    expect(slack.byMethod('users.lookupByEmail').map((c) => c.args.email)).toEqual([
      'dana@example.com',
      'ghost@example.com',
    ]);
    expect(slack.byMethod('conversations.open').map((c) => c.args.users)).toEqual(['U0DANA']);
    const dm = postsTo('D0DANA');
    expect(dm.map((p) => p.text)).toEqual([
      'Weekly access digest for your resources: 2 open (1 overdue), 1 new, 0 resolved, 0 archived',
    ]);
    // No buttons in a DM: a click there would make its only member look like a channel owner.
    expect(texts(dm[0]!.blocks)).not.toContain('"actions"');
    const admin = postsTo('C0ADMIN');
    expect(admin).toHaveLength(1);
    expect(admin[0]!.text).toBe('Owner e-mails the digest cannot DM: ghost@example.com');

    // The next week: the address is still unknown, and still not reported again.
    clock = new Date(MONDAY.getTime() + 7 * 86_400_000);
    const next = await runDigest(rt.deps);
    expect(next.week).toBe('2030-W22');
    expect(next.unknownEmails).toEqual(['ghost@example.com']);
    expect(postsTo('C0ADMIN')).toHaveLength(1);
    // ...and the payments trend now compares with the week before.
    expect(texts(postsTo(PAY)[1]!.blocks)).toContain('*Open* 5 (no change since last week)');
  });

  it('reports an unknown address on the retry when the admin notice failed', async () => {
    await seedWeek();
    slack.failChannel('C0ADMIN', 'fatal_error');
    await expect(runDigest(rt.deps)).rejects.toThrow(/C0ADMIN/);
    slack.failChannel('C0ADMIN', '');
    await runDigest(rt.deps);
    expect(postsTo('C0ADMIN').map((p) => p.text)).toEqual([
      'Owner e-mails the digest cannot DM: ghost@example.com',
    ]);
    expect(postsTo('D0DANA')).toHaveLength(1);
  });

  it('reports an owner whose account cannot get DMs like an unknown one, once', async () => {
    await seedWeek();
    slack.failChannel('D0DANA', 'account_inactive');
    const result = await runDigest(rt.deps);
    expect(result.unknownEmails).toEqual(['dana@example.com', 'ghost@example.com']);
    expect(postsTo('C0ADMIN').map((p) => p.text)).toEqual([
      'Owner e-mails the digest cannot DM: dana@example.com, ghost@example.com',
    ]);
  });

  it('sends nothing a second time when the job runs again for the same week', async () => {
    await seedWeek();
    await runDigest(rt.deps);
    const sent = slack.posted.length;
    const again = await runDigest(rt.deps);
    expect(slack.posted).toHaveLength(sent);
    expect(again.sent).toEqual([]);
    expect(again.alreadySent).toEqual(['#quiet', 'C0DEFAULT', PAY, 'dana@example.com', 'ghost@example.com']);
  });

  it('a manual run later in the same ISO week sends nothing; the next week’s run sends again', async () => {
    await seedWeek();
    await runDigest(rt.deps);
    const sent = slack.posted.length;
    clock = new Date('2030-05-22T12:00:00Z'); // Wednesday
    expect((await runDigest(rt.deps)).sent).toEqual([]);
    expect(slack.posted).toHaveLength(sent);
    clock = new Date('2030-05-27T07:00:00Z'); // next Monday
    expect((await runDigest(rt.deps)).sent.map((s) => s.to)).toContain(PAY);
  });

  it('a post that fails is sent by the retry, and only that one', async () => {
    await seedWeek();
    slack.failChannel(PAY, 'fatal_error');
    await expect(runDigest(rt.deps)).rejects.toThrow(/C0PAY0001: Slack chat.postMessage failed: fatal_error/);
    expect(postsTo('#quiet')).toHaveLength(1);
    expect(postsTo('D0DANA')).toHaveLength(1);
    expect(postsTo(PAY)).toHaveLength(0);

    slack.failChannel(PAY, ''); // Slack answers again
    const retry = await runDigest(rt.deps);
    expect(retry.sent.map((s) => s.to)).toEqual([PAY]);
    expect(postsTo(PAY)).toHaveLength(1);
    expect(postsTo('#quiet')).toHaveLength(1);
    expect(postsTo('D0DANA')).toHaveLength(1);
  });

  it('a crash after posting does not make the retry post again', async () => {
    await seedWeek();
    let crashed = false;
    rt.deps.afterDigestPostHook = (owner) => {
      if (owner === `ch-${PAY}` && !crashed) {
        crashed = true;
        throw new Error('worker killed');
      }
    };
    await expect(runDigest(rt.deps)).rejects.toThrow(/worker killed/);
    expect(postsTo(PAY)).toHaveLength(1);
    await runDigest(rt.deps);
    expect(postsTo(PAY)).toHaveLength(1);
  });

  it('posts the digest of a channel the bot cannot post to in the default channel, with a note', async () => {
    await seedWeek();
    slack.failChannel('#quiet', 'channel_not_found');
    await runDigest(rt.deps);
    const inDefault = postsTo('C0DEFAULT');
    expect(inDefault.map((p) => p.text)).toEqual([
      'All clear for #quiet (2030-05-13 to 2030-05-19): nothing open, nothing new.',
      'All clear for this channel (2030-05-13 to 2030-05-19): nothing open, nothing new.',
    ]);
    expect(texts(inDefault[0]!.blocks)).toContain(
      'Digest of #quiet, which the bot cannot post to (`channel_not_found`).',
    );
  });

  it('runs as a worker job: a duplicated job id adds nothing, a second run sends nothing', async () => {
    await seedWeek();
    rt.startWorkers();
    const conn = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
    const events = createQueueEvents(conn, config.redis.keyPrefix, 'scan');
    try {
      await events.waitUntilReady();
      const id = jobId(JOBS.digestRun, '2030-W21');
      const first = await rt.queues.scan.add(JOBS.digestRun, {}, { jobId: id });
      const dup = await rt.queues.scan.add(JOBS.digestRun, {}, { jobId: id });
      expect(dup.id).toBe(first.id);
      const done = (await first.waitUntilFinished(events, 20_000)) as DigestRunResult;
      expect(done.sent.map((s) => s.to)).toEqual(['#quiet', 'C0DEFAULT', PAY, 'dana@example.com']);
      // Another run of the same week (the scheduler's, say) finds every owner served.
      const other = await rt.queues.scan.add(JOBS.digestRun, {}, { jobId: `${id}-again` });
      const again = (await other.waitUntilFinished(events, 20_000)) as DigestRunResult;
      expect(again.sent).toEqual([]);
      expect(postsTo(PAY)).toHaveLength(1);
    } finally {
      await events.close();
      await conn.quit();
    }
  });

  it('keeps the last digest of each owner for the App Home', async () => {
    await seedWeek();
    await runDigest(rt.deps);
    const last = JSON.parse((await rt.deps.redis.get(rt.deps.keys.digestLast(`ch-${PAY}`)))!);
    expect(last).toMatchObject({ week: '2030-W21', channel: PAY, at: MONDAY.toISOString() });
    expect(last.text).toMatch(/^Weekly access digest for this channel: 5 open/);
  });
});

describe('empty weeks', () => {
  it('sends nothing to a channel with an empty week when emptyWeek is skip', async () => {
    setup({ emptyWeek: 'skip' });
    await seedWeek();
    const result = await runDigest(rt.deps);
    expect(postsTo('#quiet')).toEqual([]);
    expect(postsTo('C0DEFAULT')).toEqual([]);
    expect(postsTo(PAY)).toHaveLength(1);
    expect(result.skipped).toEqual(['#quiet', 'C0DEFAULT']);
  });

  it('sends no DMs when dmOwners is off', async () => {
    setup({ dmOwners: false });
    await seedWeek();
    await runDigest(rt.deps);
    expect(slack.byMethod('users.lookupByEmail')).toEqual([]);
    expect(postsTo('C0ADMIN')).toEqual([]);
  });
});

describe('scheduler', () => {
  beforeEach(() => setup({ cron: '0 8 * * 1', timezone: 'Europe/Berlin' }));

  it('upserts the weekly digest with the configured cron pattern and time zone, once', async () => {
    await registerSchedulers(rt.queues, config.scan.intervalMinutes, config.aging, config.digest);
    await registerSchedulers(rt.queues, config.scan.intervalMinutes, config.aging, config.digest);
    expect(await rt.queues.scan.getJobScheduler(DIGEST_SCHEDULER)).toMatchObject({
      name: JOBS.digestRun,
      pattern: '0 8 * * 1',
      tz: 'Europe/Berlin',
    });
    const all = await rt.queues.scan.getJobSchedulers();
    expect(all.filter((s) => s.key === DIGEST_SCHEDULER)).toHaveLength(1);
  });

  it('is registered by the runtime with the configured schedule', async () => {
    await rt.registerSchedulers();
    expect(await rt.queues.scan.getJobScheduler(DIGEST_SCHEDULER)).toMatchObject({
      pattern: '0 8 * * 1',
      tz: 'Europe/Berlin',
    });
  });

  it('uses the schema defaults when no digest config is passed', async () => {
    await registerSchedulers(rt.queues, config.scan.intervalMinutes);
    expect(await rt.queues.scan.getJobScheduler(DIGEST_SCHEDULER)).toMatchObject({
      pattern: '0 9 * * 1',
      tz: 'UTC',
    });
  });
});
