import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ACTION_IDS, encodeFindingRef } from '../../blocks/ids.ts';
import { ARCHIVE_MODAL } from '../../blocks/modals.ts';
import type { AppConfig } from '../../src/config/schema.ts';
import { JOBS } from '../../src/queue/index.ts';
import type { Runtime } from '../../src/runtime.ts';
import { CALLER_ACCOUNT } from '../factories/aws.ts';
import { crossAccountFinding, type FakeAws, fakeAccessAnalyzer } from '../helpers/fake-aws.ts';
import { type FakeSlack, fakeSlack } from '../helpers/fake-slack.ts';
import { testConfig, testRuntime } from '../helpers/runtime.ts';
import { blockActionBody, slashCommandBody, viewSubmissionBody } from '../helpers/slack-requests.ts';
import {
  type ActionEvents,
  type Receiver,
  recordResponses,
  type SlackResponse,
  startTriage,
  stopTriage,
} from '../helpers/triage.ts';

const SECRET = 'double-click-secret';
const REGION = 'eu-west-1';
const ANALYZER = `arn:aws:access-analyzer:${REGION}:${CALLER_ACCOUNT}:analyzer/org-external`;
const OWNER_CHANNEL = 'C0PROD001';
const ADMIN = 'U0ADMIN01';
const OTHER_ADMIN = 'U0ADMIN02';

let config: AppConfig;
let aws: FakeAws;
let slack: FakeSlack;
let rt: Runtime;
let receiver: Receiver;
let actions: ActionEvents;
let responses: SlackResponse[];

const ref = encodeFindingRef({ f: 'f-1', a: ANALYZER, r: REGION });

const click = (actionId: string, actionTs: string, user = ADMIN, value = ref) =>
  blockActionBody({
    actionId,
    value,
    user: { id: user },
    channel: { id: OWNER_CHANNEL, name: 'prod-security' },
    messageTs: slack.posted[0]!.ts,
    actionTs,
  });

async function requested(action: string) {
  return (await rt.deps.audit.query({ findingId: 'f-1' })).filter(
    (e) => e.action === action && e.outcome === 'requested',
  );
}

beforeEach(async () => {
  config = testConfig({
    routing: [{ name: 'prod', match: { accountId: '222222222222' }, channel: OWNER_CHANNEL }],
    scan: { expectedAnalyzerKinds: ['external'] },
    permissions: { admins: { users: [ADMIN, OTHER_ADMIN] } },
  });
  aws = fakeAccessAnalyzer({ [REGION]: {} });
  slack = fakeSlack();
  aws.regions
    .get(REGION)!
    .findings.get(ANALYZER)!
    .push(crossAccountFinding('f-1', 'arn:aws:s3:::vendor-share', '222222222222'));
  responses = recordResponses();
  rt = testRuntime(config);
  ({ actions, receiver } = await startTriage(rt, config, { secret: SECRET, forget: [slack, aws] }));
});

afterEach(() => stopTriage(rt, config, { actions, receiver }));

describe('a double click is one action', () => {
  it('makes one StartResourceScan, one reply, one audit entry and one delayed check for two Rescan clicks', async () => {
    await receiver.post(click(ACTION_IDS.rescan, '1795000000.100000'));
    await new Promise((r) => setTimeout(r, 150));
    await receiver.post(click(ACTION_IDS.rescan, '1795000000.250000'));
    await actions.settled([JOBS.rescan], { delayedSettles: true, timeoutMs: 15_000 });

    await expect.poll(() => responses.length).toBe(1);
    expect(aws.requests.filter((r) => r.op === 'StartResourceScan')).toHaveLength(1);
    expect(await actions.jobsNamed(JOBS.rescan)).toHaveLength(1);
    expect(await actions.jobsNamed(JOBS.rescanCheck)).toHaveLength(1);
    expect(responses.map((r) => String(r.body.text))).toEqual([expect.stringMatching(/Rescanning/)]);
    expect(await requested('rescan')).toHaveLength(1);
    // The thread hears of it once.
    expect(slack.byMethod('chat.postMessage')).toHaveLength(1);
  });

  it.each([
    [ACTION_IDS.unarchive, JOBS.unarchive, 'unarchive'],
    [ACTION_IDS.unsnooze, JOBS.unsnooze, 'unsnooze'],
    [ACTION_IDS.recommend, JOBS.recommend, 'recommend'],
  ])('queues one job, answers once and audits once for two clicks on %s', async (actionId, job, audited) => {
    await receiver.post(click(actionId, '1795000001.100000'));
    await receiver.post(click(actionId, '1795000001.300000'));
    await actions.settled([job], { delayedSettles: true, timeoutMs: 15_000 });

    await expect.poll(() => responses.length).toBe(1);
    await new Promise((r) => setTimeout(r, 300));
    expect(responses).toHaveLength(1);
    expect(await actions.jobsNamed(job)).toHaveLength(1);
    expect(await requested(audited)).toHaveLength(1);
  });

  it('holds the request while it runs: a second person is told it is under way, and nothing more is queued', async () => {
    await receiver.post(click(ACTION_IDS.rescan, '1795000002.100000'));
    await actions.settled([JOBS.rescan], { delayedSettles: true, timeoutMs: 15_000 });
    // The rescan waits for its delayed check: the request is still under way.
    await receiver.post(click(ACTION_IDS.rescan, '1795000002.900000', OTHER_ADMIN));
    await expect.poll(() => responses.length).toBe(2);

    const already = responses.find((r) => /Already under way/.test(String(r.body.text)));
    expect(JSON.stringify(already?.body.blocks)).toContain(`<@${ADMIN}>`);
    expect(await actions.jobsNamed(JOBS.rescan)).toHaveLength(1);
    expect(aws.requests.filter((r) => r.op === 'StartResourceScan')).toHaveLength(1);
    expect(await requested('rescan')).toHaveLength(1);
  });

  it('lets the same request through again once the first has finished', async () => {
    await receiver.post(click(ACTION_IDS.unarchive, '1795000003.100000'));
    await actions.settled([JOBS.unarchive], { delayedSettles: true, timeoutMs: 15_000 });
    // Past the double-click window after the job finished, it is a new request.
    await new Promise((r) => setTimeout(r, 2_100));
    await receiver.post(click(ACTION_IDS.unarchive, '1795000009.100000'));
    await expect.poll(async () => (await actions.jobsNamed(JOBS.unarchive)).length).toBe(2);
  });

  it.each([ACTION_IDS.archive, ACTION_IDS.snooze, ACTION_IDS.deleteRole])(
    'opens one dialog for two clicks on %s',
    async (actionId) => {
      await receiver.post(click(actionId, '1795000004.100000'));
      await receiver.post(click(actionId, '1795000004.200000'));
      await expect.poll(() => slack.byMethod('views.open').length).toBe(1);
      await new Promise((r) => setTimeout(r, 300));
      expect(slack.byMethod('views.open')).toHaveLength(1);
      expect(responses).toHaveLength(0);
    },
  );

  it('archives once for two submissions of the archive form', async () => {
    const submit = (viewId: string) =>
      viewSubmissionBody({
        callbackId: ARCHIVE_MODAL.callbackId,
        viewId,
        user: { id: ADMIN },
        privateMetadata: JSON.stringify({ f: 'f-1', a: ANALYZER, r: REGION, c: OWNER_CHANNEL }),
        values: {
          [ARCHIVE_MODAL.reasonBlock]: {
            [ARCHIVE_MODAL.reasonAction]: { type: 'plain_text_input', value: 'vendor share, reviewed' },
          },
        },
      });
    const first = await receiver.post(submit('V0FIRST01'));
    const second = await receiver.post(submit('V0SECOND1'));
    // Both forms close; only one archive is queued.
    expect([first.status, second.status]).toEqual([200, 200]);
    await actions.settled([JOBS.archive], { delayedSettles: true, timeoutMs: 15_000 });
    expect(await actions.jobsNamed(JOBS.archive)).toHaveLength(1);
    expect(aws.requests.filter((r) => r.op === 'UpdateFindings')).toHaveLength(1);
    expect(await requested('archive')).toHaveLength(1);
  });

  it('answers the same command typed twice with one job and says the second is under way', async () => {
    await receiver.post(slashCommandBody({ text: 'rescan f-1', user_id: ADMIN, trigger_id: '1.1.a' }));
    await receiver.post(slashCommandBody({ text: 'rescan f-1', user_id: ADMIN, trigger_id: '1.2.b' }));
    await expect.poll(() => responses.length).toBe(2);
    await actions.settled([JOBS.rescan], { delayedSettles: true, timeoutMs: 15_000 });

    const texts = responses.map((r) => String(r.body.text));
    expect(texts.filter((t) => /Rescanning/.test(t))).toHaveLength(1);
    expect(texts.filter((t) => /Already under way/.test(t))).toHaveLength(1);
    expect(aws.requests.filter((r) => r.op === 'StartResourceScan')).toHaveLength(1);
  });

  it('restores once for two clicks on Restore role with the same backup', async () => {
    const value = JSON.stringify({ ...JSON.parse(ref), k: 'ap:backup:role:222222222222:gone:2026' });
    await receiver.post(click(ACTION_IDS.restoreRole, '1795000005.100000', ADMIN, value));
    await receiver.post(click(ACTION_IDS.restoreRole, '1795000005.200000', OTHER_ADMIN, value));
    await actions.settled([JOBS.restoreRole], { delayedSettles: true, timeoutMs: 15_000 });
    await expect.poll(() => responses.length).toBe(2);

    expect(await actions.jobsNamed(JOBS.restoreRole)).toHaveLength(1);
    // The second person, who did not click first, is told it is under way.
    expect(responses.map((r) => String(r.body.text)).sort()).toEqual([
      expect.stringMatching(/Already under way/),
      expect.stringMatching(/Restoring/),
    ]);
  });
});
