// Snooze and unsnooze through the real Bolt receiver (signed HTTP), real Redis and BullMQ workers,
// AWS and Slack behind nock, on a fixed clock: the modal, its validation, the permission, the job's
// message redraw, thread record, stored state and audit, and the aging sweep honouring the snooze.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ACTION_IDS, encodeFindingRef } from '../../blocks/ids.ts';
import { SNOOZE_MODAL } from '../../blocks/modals.ts';
import { agingSweep } from '../../jobs/aging.ts';
import type { AppConfig } from '../../src/config/schema.ts';
import { JOBS, jobId, type SnoozeData } from '../../src/queue/index.ts';
import type { Runtime } from '../../src/runtime.ts';
import { CALLER_ACCOUNT, externalAccessDetail } from '../factories/aws.ts';
import { crossAccountFinding, type FakeAws, fakeAccessAnalyzer } from '../helpers/fake-aws.ts';
import { type FakeSlack, fakeSlack } from '../helpers/fake-slack.ts';
import { testConfig, testRuntime } from '../helpers/runtime.ts';
import { displayedBlocks, liveMarkup } from '../helpers/slack-display.ts';
import { blockActionBody, slashCommandBody, viewSubmissionBody } from '../helpers/slack-requests.ts';
import {
  type ActionEvents,
  type Receiver,
  recordResponseBodies,
  startTriage,
  stopTriage,
} from '../helpers/triage.ts';

const SECRET = 'snooze-signing-secret';
const REGION = 'eu-west-1';
const ANALYZER = `arn:aws:access-analyzer:${REGION}:${CALLER_ACCOUNT}:analyzer/org-external`;
const OWNER_CHANNEL = 'C0PROD001';
const MEMBER = 'U0ALICE';
const OUTSIDER = 'U0MALLORY';
const ref = encodeFindingRef({ f: 'f-1', a: ANALYZER, r: REGION });
const meta = JSON.stringify({ f: 'f-1', a: ANALYZER, r: REGION, c: OWNER_CHANNEL, t: '1.2' });

let config: AppConfig;
let aws: FakeAws;
let slack: FakeSlack;
let rt: Runtime;
let receiver: Receiver;
let actions: ActionEvents;
let responses: Record<string, unknown>[];
// Created 2025-01-02 (factory): a cross-account finding, 7-day SLA, overdue on this clock.
let clock: Date;

const messageTs = () => slack.posted[0]!.ts;
const threadTexts = () => slack.posted.filter((p) => p.thread_ts === messageTs()).map((p) => p.text);

function submit(values: Record<string, Record<string, Record<string, unknown>>>, viewId = 'V0SNOOZE1') {
  return receiver.post(
    viewSubmissionBody({
      callbackId: SNOOZE_MODAL.callbackId,
      privateMetadata: meta,
      values,
      user: { id: MEMBER },
      viewId,
    }),
  );
}

const snoozeValues = (days: string | undefined, reason: string) => ({
  [SNOOZE_MODAL.daysBlock]: {
    [SNOOZE_MODAL.daysAction]: {
      type: 'radio_buttons',
      selected_option: days ? { value: days, text: { type: 'plain_text', text: days } } : null,
    },
  },
  [SNOOZE_MODAL.reasonBlock]: { [SNOOZE_MODAL.reasonAction]: { type: 'plain_text_input', value: reason } },
});

async function runSnooze(over: Partial<SnoozeData> = {}) {
  const data: SnoozeData = {
    findingId: 'f-1',
    analyzerArn: ANALYZER,
    region: REGION,
    userId: MEMBER,
    replyChannel: OWNER_CHANNEL,
    requestTs: `V${Math.random().toString(36).slice(2, 8)}`,
    days: 7,
    reason: 'fix ships Friday',
    ...over,
  };
  return actions.run(JOBS.snooze, data, jobId(JOBS.snooze, data.findingId, data.requestTs));
}

beforeEach(async () => {
  clock = new Date('2025-02-10T09:00:00Z');
  config = testConfig({
    routing: [{ name: 'prod', match: { accountId: '222222222222' }, channel: OWNER_CHANNEL }],
    scan: { expectedAnalyzerKinds: ['external'] },
    aging: { timezone: 'UTC' },
  });
  aws = fakeAccessAnalyzer({ [REGION]: {} });
  slack = fakeSlack();
  slack.members[OWNER_CHANNEL] = [MEMBER];
  aws.regions
    .get(REGION)!
    .findings.get(ANALYZER)!
    .push(crossAccountFinding('f-1', 'arn:aws:s3:::vendor-share', '222222222222'));
  responses = recordResponseBodies();
  rt = testRuntime(config, { now: () => clock });
  ({ actions, receiver } = await startTriage(rt, config, { secret: SECRET, forget: [slack, aws] }));
});

afterEach(() => stopTriage(rt, config, { actions, receiver }));

describe('Snooze button and modal', () => {
  it('opens the snooze modal with 1, 7 and 30 days for a member of the owner channel', async () => {
    const click = blockActionBody({
      actionId: ACTION_IDS.snooze,
      value: ref,
      user: { id: MEMBER },
      channel: { id: OWNER_CHANNEL, name: 'prod-security' },
      messageTs: messageTs(),
    });
    await receiver.post(click);

    await expect.poll(() => slack.byMethod('views.open').length).toBe(1);
    const view = JSON.parse(String(slack.byMethod('views.open')[0]!.args.view)) as {
      callback_id: string;
      private_metadata: string;
      blocks: { element?: { options?: { value: string }[] } }[];
    };
    expect(view.callback_id).toBe(SNOOZE_MODAL.callbackId);
    expect(JSON.parse(view.private_metadata)).toMatchObject({ f: 'f-1', c: OWNER_CHANNEL });
    expect(view.blocks[1]!.element!.options!.map((o) => o.value)).toEqual(['1', '7', '30']);
  });

  it('refuses someone outside the owner channel, opens nothing and audits it', async () => {
    const click = blockActionBody({
      actionId: ACTION_IDS.snooze,
      value: ref,
      user: { id: OUTSIDER },
      channel: { id: OWNER_CHANNEL, name: 'prod-security' },
      messageTs: messageTs(),
    });
    await receiver.post(click);

    await expect.poll(() => responses.length).toBe(1);
    expect(String(responses[0]!.text)).toBe("Only members of the finding's channel can snooze this finding.");
    expect(slack.byMethod('views.open')).toHaveLength(0);
    const [entry] = await rt.deps.audit.query({ user: OUTSIDER });
    expect(entry).toMatchObject({ action: 'snooze', outcome: 'refused', findingId: 'f-1' });
  });

  it('keeps the modal open with field errors when no duration is picked and the reason is empty', async () => {
    const res = await submit(snoozeValues(undefined, '  '));

    expect(await res.json()).toEqual({
      response_action: 'errors',
      errors: {
        [SNOOZE_MODAL.daysBlock]: 'Pick 1, 7 or 30 days.',
        [SNOOZE_MODAL.reasonBlock]: expect.stringMatching(/why/i),
      },
    });
    expect(await rt.queues.actions.getJobCounts()).toMatchObject({ waiting: 0, active: 0, completed: 0 });
  });

  it('rejects a duration that is not offered', async () => {
    const res = await submit(snoozeValues('90', 'long enough reason'));
    expect(await res.json()).toEqual({
      response_action: 'errors',
      errors: { [SNOOZE_MODAL.daysBlock]: 'Pick 1, 7 or 30 days.' },
    });
  });

  it('snoozes on submit: redraws the message, records it in the thread, Redis and the audit log', async () => {
    const res = await submit(snoozeValues('7', 'fix ships <!channel> Friday'));
    expect(res.status).toBe(200);

    await actions.finished(jobId(JOBS.snooze, 'f-1', 'V0SNOOZE1'));

    // Read from AWS first, no AWS write.
    expect(aws.requests.map((r) => r.op)).toEqual(['GetFindingV2']);
    const update = slack.byMethod('chat.update')[0]!;
    expect(update.args).toMatchObject({ channel: OWNER_CHANNEL, ts: messageTs() });
    const shown = JSON.stringify(update.args.blocks);
    // The reason reads as typed, and is inert: rich text is never parsed.
    expect(displayedBlocks(update.args.blocks)[0]!.split('\n')[0]).toBe(
      `💤 Snoozed by @${MEMBER} until 2025-02-17: fix ships <!channel> Friday`,
    );
    expect(liveMarkup(update.args.blocks)).toEqual([]);
    expect(shown).toContain(ACTION_IDS.unsnooze);
    expect(shown).not.toContain(`"${ACTION_IDS.snooze}"`);
    expect(threadTexts()).toEqual(['Snoozed by U0ALICE until 2025-02-17: fix ships &lt;!channel&gt; Friday']);
    const thread = slack.posted.find((p) => p.thread_ts === messageTs())!;
    expect(JSON.stringify(thread.blocks)).not.toContain('<!channel>');
    expect(await rt.deps.store.get('f-1')).toMatchObject({
      status: 'ACTIVE',
      snoozedUntil: '2025-02-17T09:00:00.000Z',
      snoozedBy: MEMBER,
      snoozeReason: 'fix ships <!channel> Friday',
    });
    const entries = await rt.deps.audit.query({ findingId: 'f-1' });
    expect(entries.map((e) => [e.action, e.outcome])).toEqual([
      ['snooze', 'succeeded'],
      ['snooze', 'requested'],
    ]);
    expect(entries[0]).toMatchObject({
      actor: MEMBER,
      detail: '7 days until 2025-02-17T09:00:00.000Z: fix ships <!channel> Friday',
    });
    await expect.poll(() => slack.byMethod('chat.postEphemeral').length).toBe(1);
    expect(String(slack.byMethod('chat.postEphemeral')[0]!.args.text)).toBe(
      'Snoozing the reminders for 7 days…',
    );
  });
});

describe('snooze job', () => {
  it('changes nothing when the finding was resolved meanwhile: redraws and tells the person', async () => {
    aws.regions.get(REGION)!.findings.get(ANALYZER)![0]!.summary.status = 'RESOLVED';

    expect(await runSnooze()).toEqual({ outcome: 'stale', status: 'RESOLVED' });

    expect((await rt.deps.store.get('f-1'))?.snoozedUntil).toBeUndefined();
    expect(JSON.stringify(slack.byMethod('chat.update')[0]!.args.blocks)).toMatch(/Resolved/);
    expect(String(slack.byMethod('chat.postEphemeral')[0]!.args.text)).toMatch(/already resolved/);
    const [entry] = await rt.deps.audit.query({ findingId: 'f-1' });
    expect(entry).toMatchObject({ action: 'snooze', outcome: 'stale' });
  });

  it('keeps the snooze on the message when a scan redraws the changed finding', async () => {
    await runSnooze({ days: 7 });
    const f = aws.regions.get(REGION)!.findings.get(ANALYZER)![0]!;
    f.summary.updatedAt = new Date('2025-02-10T10:00:00Z') as never;
    f.details = [externalAccessDetail({ principal: { AWS: '555566667777' } })];
    slack.reset();

    await rt.scanNow({ timeoutMs: 20_000 });

    const shown = JSON.stringify(slack.byMethod('chat.update').at(-1)!.args.blocks);
    expect(shown).toContain('555566667777');
    expect(displayedBlocks(slack.byMethod('chat.update').at(-1)!.args.blocks)[0]!.split('\n')[0]).toBe(
      `💤 Snoozed by @${MEMBER} until 2025-02-17: fix ships Friday`,
    );
    expect(shown).toContain(`"${ACTION_IDS.unsnooze}"`);
  });

  it('ends the snooze on its day: the message loses its snooze line and the thread says so', async () => {
    await runSnooze({ days: 7 });
    const end = (await rt.queues.actions.getJob(jobId(JOBS.snoozeEnd, 'f-1', '2025-02-17T09:00:00.000Z')))!;
    expect(await end.getState()).toBe('delayed');
    expect(end.opts.delay).toBe(7 * 86_400_000);

    clock = new Date('2025-02-17T09:00:00Z');
    await end.promote();
    expect(await end.waitUntilFinished(actions.events, 20_000)).toEqual({
      outcome: 'succeeded',
      status: 'ACTIVE',
    });

    expect(threadTexts().at(-1)).toBe('Snooze ended on 2025-02-17; reminders resume');
    const shown = JSON.stringify(slack.byMethod('chat.update').at(-1)!.args.blocks);
    expect(shown).not.toContain('Snoozed');
    expect(shown).toContain(`"${ACTION_IDS.snooze}"`);
    expect((await rt.deps.store.get('f-1'))?.snoozedUntil).toBeUndefined();
  });

  it('leaves a renewed snooze alone when the first one would have ended', async () => {
    await runSnooze({ days: 1 });
    const first = (await rt.queues.actions.getJob(jobId(JOBS.snoozeEnd, 'f-1', '2025-02-11T09:00:00.000Z')))!;
    await runSnooze({ days: 30, reason: 'renewed: release slipped' });
    slack.reset();

    clock = new Date('2025-02-11T09:00:00Z');
    await first.promote();
    expect(await first.waitUntilFinished(actions.events, 20_000)).toEqual({
      outcome: 'stale',
      status: 'ACTIVE',
    });

    expect(slack.calls).toEqual([]);
    expect(await rt.deps.store.get('f-1')).toMatchObject({
      snoozedUntil: '2025-03-12T09:00:00.000Z',
      snoozeReason: 'renewed: release slipped',
    });
  });

  it('unsnoozes from the button: clears the state, redraws with Snooze again, audits', async () => {
    await runSnooze({ days: 30 });
    slack.reset();

    const click = blockActionBody({
      actionId: ACTION_IDS.unsnooze,
      value: ref,
      user: { id: MEMBER },
      channel: { id: OWNER_CHANNEL, name: 'prod-security' },
      messageTs: messageTs(),
    });
    await receiver.post(click);
    await expect
      .poll(() => threadTexts().includes(`Snooze ended by ${MEMBER}`), { timeout: 10_000 })
      .toBe(true);

    const state = await rt.deps.store.get('f-1');
    expect(state?.snoozedUntil).toBeUndefined();
    expect(state?.snoozeReason).toBeUndefined();
    const shown = JSON.stringify(slack.byMethod('chat.update').at(-1)!.args.blocks);
    expect(shown).not.toContain('Snoozed');
    expect(shown).toContain(`"${ACTION_IDS.snooze}"`);
    await expect
      .poll(async () => (await rt.deps.audit.query({ findingId: 'f-1' }))[0]?.outcome)
      .toBe('succeeded');
    const [entry] = await rt.deps.audit.query({ findingId: 'f-1' });
    expect(entry).toMatchObject({
      action: 'unsnooze',
      actor: MEMBER,
      detail: 'was snoozed until 2025-03-12T09:00:00.000Z',
    });
  });
});

describe('/access snooze', () => {
  it('snoozes by finding id from the command line', async () => {
    const body = slashCommandBody({
      text: 'snooze f-1 --days 1 --reason "waiting for the release"',
      user_id: MEMBER,
      trigger_id: '123.456.snooze',
    });
    await receiver.post(body);

    await actions.finished(jobId(JOBS.snooze, 'f-1', '123.456.snooze'));

    expect(await rt.deps.store.get('f-1')).toMatchObject({
      snoozedUntil: '2025-02-11T09:00:00.000Z',
      snoozeReason: 'waiting for the release',
    });
    expect(threadTexts()).toEqual(['Snoozed by U0ALICE until 2025-02-11: waiting for the release']);
    await expect.poll(() => responses.length).toBe(1);
    expect(String(responses[0]!.text)).toBe('Snoozing the reminders about f-1 for 1 day…');
  });

  it('answers a malformed snooze with what was wrong and the usage', async () => {
    await receiver.post(slashCommandBody({ text: 'snooze f-1 --days 3 --reason x', user_id: MEMBER }));

    await expect.poll(() => responses.length).toBe(1);
    const shown = JSON.stringify(responses[0]);
    expect(shown).toContain('--days must be 1, 7 or 30');
    expect(shown).toContain('/access snooze &lt;finding-id&gt; --days 1|7|30');
    expect(await rt.queues.actions.getJobCounts()).toMatchObject({ waiting: 0, active: 0, completed: 0 });
  });
});

describe('aging sweep and snooze', () => {
  it('reminds before the snooze, not while snoozed, and again once it has ended', async () => {
    const reminders = () => threadTexts().filter((t) => t.startsWith('Reminder'));

    expect(await agingSweep(rt.deps, clock)).toMatchObject({ reminded: 1, snoozed: 0 });
    expect(reminders()).toHaveLength(1);

    await runSnooze({ days: 7 }); // until 2025-02-17T09:00Z

    // Three days later a reminder would be due, but the finding is snoozed.
    clock = new Date('2025-02-13T09:00:00Z');
    expect(await agingSweep(rt.deps, clock)).toMatchObject({ reminded: 0, snoozed: 1 });
    clock = new Date('2025-02-17T08:59:00Z');
    expect(await agingSweep(rt.deps, clock)).toMatchObject({ reminded: 0, snoozed: 1 });
    expect(reminders()).toHaveLength(1);

    clock = new Date('2025-02-17T09:00:00Z');
    expect(await agingSweep(rt.deps, clock)).toMatchObject({ reminded: 1, snoozed: 0 });
    expect(reminders()).toHaveLength(2);
  });
});
