// The aging sweep with real Redis and Slack behind nock: reminders in the finding's thread, no double
// reminders on a re-run, one escalation, snoozes, and the scheduler registration.
import { addDays } from 'date-fns';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { agingSweep } from '../../jobs/aging.ts';
import type { AppConfig } from '../../src/config/schema.ts';
import { JOBS, registerSchedulers } from '../../src/queue/index.ts';
import type { Runtime } from '../../src/runtime.ts';
import type { FindingState } from '../../src/store/findings.ts';
import { makeFindingState } from '../factories/finding.ts';
import { type FakeSlack, fakeSlack } from '../helpers/fake-slack.ts';
import { testConfig, testRuntime, wipePrefix } from '../helpers/runtime.ts';

const ESCALATION = 'C0ESCALATE';

let config: AppConfig;
let slack: FakeSlack;
let rt: Runtime;
let clock: Date;

function state(over: Partial<FindingState>): Partial<FindingState> {
  return makeFindingState({
    updatedAt: '2030-05-08T10:00:00.000Z',
    routeChannel: 'C0PROD001',
    createdAt: '2030-05-08T10:00:00.000Z',
    firstSeen: '2030-05-08T10:05:00.000Z',
    channel: 'C0PROD001',
    ts: '1800000000.000100',
    ...over,
  });
}

const repliesTo = (ts: string) => slack.posted.filter((p) => p.thread_ts === ts);
const escalations = () => slack.posted.filter((p) => p.channel === ESCALATION);

beforeEach(() => {
  config = testConfig({
    aging: { escalationChannel: ESCALATION, sweepCron: '30 7 * * 1-5', timezone: 'Europe/Berlin' },
  });
  slack = fakeSlack();
  // The cards the tests seed in Redis were posted before the sweep runs: reminders go in their threads.
  for (const n of [1, 2, 3, 4]) slack.existing('C0PROD001', `1800000000.000${n}00`);
  clock = new Date('2030-05-20T06:00:00Z');
  rt = testRuntime(config, { now: () => clock });
});

afterEach(async () => {
  await rt.close();
  await wipePrefix(config.redis.keyPrefix);
});

describe('aging sweep', () => {
  it('reminds overdue findings in their thread, once per remindEveryDays, and escalates once', async () => {
    const { store } = rt.deps;
    await store.set('overdue', state({ ts: '1800000000.000100' }));
    await store.set('snoozed', state({ ts: '1800000000.000200', snoozedUntil: '2030-06-01T00:00:00.000Z' }));
    await store.set(
      'fresh',
      state({ ts: '1800000000.000300', category: 'unused-role', createdAt: '2030-05-15T10:00:00.000Z' }),
    );
    await store.set('closed', state({ ts: '1800000000.000400', status: 'RESOLVED' }));

    const first = await agingSweep(rt.deps);
    expect(first).toMatchObject({ scanned: 3, overdue: 2, snoozed: 1, reminded: 1, escalated: 0 });
    expect(repliesTo('1800000000.000100').map((p) => p.text)).toEqual([
      'Reminder: this finding is open 12 days, 5 days over its 7-day SLA',
    ]);
    expect(slack.posted).toHaveLength(1);
    expect(await store.get('overdue')).toMatchObject({ reminders: '1', lastReminderAt: clock.toISOString() });

    // Same day again (a retried or a second sweep): nothing.
    clock = new Date('2030-05-20T15:00:00Z');
    expect(await agingSweep(rt.deps)).toMatchObject({ reminded: 0, escalated: 0 });
    // Two days later: not yet due.
    clock = addDays(new Date('2030-05-20T06:00:00Z'), 2);
    expect(await agingSweep(rt.deps)).toMatchObject({ reminded: 0 });
    expect(slack.posted).toHaveLength(1);

    // remindEveryDays (3) after the first: the second reminder.
    clock = addDays(new Date('2030-05-20T06:00:00Z'), 3);
    expect(await agingSweep(rt.deps)).toMatchObject({ reminded: 1, escalated: 0 });
    expect(repliesTo('1800000000.000100').at(-1)!.text).toBe(
      'Reminder: this finding is open 15 days, 8 days over its 7-day SLA',
    );

    // Third reminder: escalates once, to the escalation channel.
    clock = addDays(clock, 3);
    expect(await agingSweep(rt.deps)).toMatchObject({ reminded: 1, escalated: 1 });
    expect(escalations()).toHaveLength(1);
    expect(escalations()[0]!.text).toMatch(
      /^Escalation: ExternalAccess finding on arn:aws:s3:::payments-exports is open 18 days/,
    );
    expect(JSON.stringify(repliesTo('1800000000.000100').at(-1)!.blocks)).toContain(
      `Escalated to <#${ESCALATION}>`,
    );

    // A re-run the same day and later reminders never escalate again.
    expect(await agingSweep(rt.deps)).toMatchObject({ reminded: 0, escalated: 0 });
    clock = addDays(clock, 3);
    expect(await agingSweep(rt.deps)).toMatchObject({ reminded: 1, escalated: 0 });
    expect(escalations()).toHaveLength(1);
    expect(repliesTo('1800000000.000100')).toHaveLength(4);
    expect((await store.get('overdue'))?.reminders).toBe('4');

    // Snoozed, not yet overdue and closed findings were never reminded.
    for (const ts of ['1800000000.000200', '1800000000.000300', '1800000000.000400']) {
      expect(repliesTo(ts)).toEqual([]);
    }
  });

  it('reminds a snoozed finding once the snooze has ended', async () => {
    await rt.deps.store.set('snoozed', state({ snoozedUntil: '2030-05-21T00:00:00.000Z' }));
    expect(await agingSweep(rt.deps)).toMatchObject({ snoozed: 1, reminded: 0 });
    clock = new Date('2030-05-21T06:00:00Z');
    expect(await agingSweep(rt.deps)).toMatchObject({ snoozed: 0, reminded: 1 });
  });

  it('never reminds twice when two sweeps run at once', async () => {
    await rt.deps.store.set('overdue', state({}));
    const results = await Promise.all([agingSweep(rt.deps), agingSweep(rt.deps), agingSweep(rt.deps)]);
    expect(results.reduce((n, r) => n + r.reminded, 0)).toBe(1);
    expect(slack.posted).toHaveLength(1);
  });

  it('undoes the claim when the reminder cannot be posted, so a retry reminds', async () => {
    await rt.deps.store.set('overdue', state({}));
    slack.failChannel('C0PROD001', 'ratelimited_forever');
    await expect(agingSweep(rt.deps)).rejects.toThrow();
    const after = await rt.deps.store.get('overdue');
    expect(after?.lastReminderAt).toBeUndefined();
    expect(after?.reminders).toBe('0');
  });

  it('escalates to the admin channel when no escalation channel is configured, after one reminder', async () => {
    await rt.close();
    await wipePrefix(config.redis.keyPrefix);
    config = testConfig({ aging: { escalateAfterReminders: 1 } });
    rt = testRuntime(config, { now: () => clock });
    await rt.deps.store.set(
      'overdue',
      state({ category: 'public-access', createdAt: '2030-05-17T10:00:00.000Z' }),
    );
    expect(await agingSweep(rt.deps)).toMatchObject({ reminded: 1, escalated: 1 });
    expect(slack.posted.filter((p) => p.channel === 'C0ADMIN').map((p) => p.text)).toEqual([
      'Escalation: ExternalAccess finding on arn:aws:s3:::payments-exports is open 3 days, 2 days over its 1-day SLA',
    ]);
  });
});

describe('owners in reminders', () => {
  it("mentions the routing rule's owners (users and user groups) in the reminder", async () => {
    await rt.close();
    await wipePrefix(config.redis.keyPrefix);
    config = testConfig({
      routing: [
        {
          name: 'payments',
          match: { accountId: '222222222222' },
          channel: 'C0PROD001',
          owners: { users: ['U0DANA'], userGroups: ['S0PAYTEAM'] },
        },
        { match: { accountId: '333333333333' }, channel: 'C0OPS0001', owners: { users: ['U0OPS'] } },
      ],
    });
    rt = testRuntime(config, { now: () => clock });
    await rt.deps.store.set('named', state({ ts: '1800000000.000100', routeRule: 'payments' }));
    await rt.deps.store.set('unnamed', state({ ts: '1800000000.000200', routeRule: 'rule #2' }));
    await rt.deps.store.set('fallback', state({ ts: '1800000000.000300', routeRule: 'default' }));

    expect(await agingSweep(rt.deps)).toMatchObject({ reminded: 3 });

    const shown = (ts: string) => JSON.stringify(repliesTo(ts)[0]!.blocks);
    expect(shown('1800000000.000100')).toContain('⏰ <@U0DANA> <!subteam^S0PAYTEAM> This finding is open');
    expect(shown('1800000000.000200')).toContain('⏰ <@U0OPS> This finding is open');
    expect(shown('1800000000.000300')).toContain('⏰ This finding is open');
  });
});

describe('scheduler', () => {
  it('upserts the aging sweep with the configured cron pattern and time zone', async () => {
    await registerSchedulers(rt.queues, config.scan.intervalMinutes, config.aging);
    const scheduler = await rt.queues.scan.getJobScheduler(JOBS.agingSweep);
    expect(scheduler).toMatchObject({ name: JOBS.agingSweep, pattern: '30 7 * * 1-5', tz: 'Europe/Berlin' });
    // Upserting again keeps one scheduler.
    await registerSchedulers(rt.queues, config.scan.intervalMinutes, config.aging);
    const all = await rt.queues.scan.getJobSchedulers();
    expect(all.filter((s) => s.key === JOBS.agingSweep)).toHaveLength(1);
  });

  it('is registered by the runtime with the configured schedule', async () => {
    await rt.registerSchedulers();
    expect(await rt.queues.scan.getJobScheduler(JOBS.agingSweep)).toMatchObject({
      pattern: '30 7 * * 1-5',
      tz: 'Europe/Berlin',
    });
  });

  it('is registered by the runtime at 08:00 UTC when the config says nothing', async () => {
    await rt.close();
    await wipePrefix(config.redis.keyPrefix);
    config = testConfig();
    rt = testRuntime(config, { now: () => clock });
    await rt.registerSchedulers();
    expect(await rt.queues.scan.getJobScheduler(JOBS.agingSweep)).toMatchObject({
      pattern: '0 8 * * *',
      tz: 'UTC',
    });
  });
});
