// Triage from Slack through the real Bolt receiver: real signed HTTP requests, the bot's own
// listeners, real Redis and BullMQ workers, AWS and Slack (Web API and response_url) behind nock.
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ACTION_IDS, encodeFindingRef } from '../../blocks/ids.ts';
import { ARCHIVE_MODAL } from '../../blocks/modals.ts';
import type { AppConfig } from '../../src/config/schema.ts';
import { JOBS, jobId } from '../../src/queue/index.ts';
import type { Runtime } from '../../src/runtime.ts';
import { FindingStore } from '../../src/store/findings.ts';
import { CALLER_ACCOUNT } from '../factories/aws.ts';
import { crossAccountFinding, type FakeAws, fakeAccessAnalyzer } from '../helpers/fake-aws.ts';
import { type FakeSlack, fakeSlack } from '../helpers/fake-slack.ts';
import { testConfig, testRuntime, wipePrefix } from '../helpers/runtime.ts';
import { displayedBlocks } from '../helpers/slack-display.ts';
import { blockActionBody, slashCommandBody, viewSubmissionBody } from '../helpers/slack-requests.ts';
import {
  type ActionEvents,
  actionEvents,
  type Receiver,
  recordResponses,
  type SlackResponse,
  startReceiver,
} from '../helpers/triage.ts';

const SECRET = 'triage-signing-secret';
const REGION = 'eu-west-1';
const ANALYZER = `arn:aws:access-analyzer:${REGION}:${CALLER_ACCOUNT}:analyzer/org-external`;
const OWNER_CHANNEL = 'C0PROD001';
const MEMBER = 'U0ALICE';
const OUTSIDER = 'U0MALLORY';
const ADMIN = 'U0ADMIN01';

let config: AppConfig;
let aws: FakeAws;
let slack: FakeSlack;
let rt: Runtime;
let receiver: Receiver;
let actions: ActionEvents;
let responses: SlackResponse[];

const ref = encodeFindingRef({ f: 'f-1', a: ANALYZER, r: REGION });

async function startApp(overrides: { actionsQueue?: Queue } = {}) {
  receiver = await startReceiver(rt, {
    secret: SECRET,
    deps: overrides.actionsQueue ? { actions: overrides.actionsQueue as never } : {},
  });
}

const lastResponse = () => responses.at(-1)?.body ?? {};
const click = (actionId: string, user: string, extra: { actionTs?: string } = {}) =>
  blockActionBody({
    actionId,
    value: ref,
    user: { id: user },
    channel: { id: OWNER_CHANNEL, name: 'prod-security' },
    messageTs: slack.posted[0]!.ts,
    ...extra,
  });

beforeEach(async () => {
  config = testConfig({
    routing: [{ name: 'prod', match: { accountId: '222222222222' }, channel: OWNER_CHANNEL }],
    scan: { expectedAnalyzerKinds: ['external'] },
    permissions: { admins: { users: [ADMIN] } },
  });
  aws = fakeAccessAnalyzer({ [REGION]: {} });
  slack = fakeSlack();
  slack.members[OWNER_CHANNEL] = [MEMBER];
  aws.regions
    .get(REGION)!
    .findings.get(ANALYZER)!
    .push(crossAccountFinding('f-1', 'arn:aws:s3:::vendor-share', '222222222222'));
  responses = recordResponses();
  rt = testRuntime(config);
  rt.startWorkers();
  actions = await actionEvents(rt, config);
  await rt.scanNow({ timeoutMs: 20_000 });
  slack.reset();
  aws.reset();
  await startApp();
});

afterEach(async () => {
  await receiver.stop();
  await actions.close();
  await rt.close();
  await wipePrefix(config.redis.keyPrefix);
});

describe('Archive button and modal', () => {
  it('opens the archive modal for a member of the owner channel', async () => {
    const res = await receiver.post(click(ACTION_IDS.archive, MEMBER));

    expect(res.status).toBe(200);
    await expect.poll(() => slack.byMethod('views.open').length).toBe(1);
    const open = slack.byMethod('views.open');
    const view = JSON.parse(String(open[0]!.args.view)) as { callback_id: string; private_metadata: string };
    expect(view.callback_id).toBe(ARCHIVE_MODAL.callbackId);
    // Only what the submission reads: the analyzer and region come from the stored card.
    expect(JSON.parse(view.private_metadata)).toEqual({ f: 'f-1', c: OWNER_CHANNEL });
  });

  it('refuses someone outside the owner channel, says who can, changes nothing and audits it', async () => {
    await receiver.post(click(ACTION_IDS.archive, OUTSIDER));

    expect(slack.byMethod('views.open')).toHaveLength(0);
    await expect.poll(() => responses.length).toBe(1);
    expect(lastResponse()).toMatchObject({ response_type: 'ephemeral' });
    expect(String(lastResponse().text)).toMatch(/^Only admins and members of .+ can archive this finding\.$/);
    expect(JSON.stringify(lastResponse().blocks)).toContain(`<@${ADMIN}>`);
    const [entry] = await rt.deps.audit.query({ user: OUTSIDER });
    expect(entry).toMatchObject({ action: 'archive', outcome: 'refused', findingId: 'f-1' });
  });

  it('archives when the modal is submitted with a reason and an expiry', async () => {
    const until = new Date(Date.now() + 30 * 86_400_000).toISOString().slice(0, 10);
    const body = viewSubmissionBody({
      callbackId: ARCHIVE_MODAL.callbackId,
      privateMetadata: JSON.stringify({ f: 'f-1', c: OWNER_CHANNEL }),
      values: {
        [ARCHIVE_MODAL.reasonBlock]: {
          [ARCHIVE_MODAL.reasonAction]: { type: 'plain_text_input', value: 'vendor share, SEC-42' },
        },
        [ARCHIVE_MODAL.untilBlock]: {
          [ARCHIVE_MODAL.untilAction]: { type: 'datepicker', selected_date: until },
        },
      },
      user: { id: MEMBER },
      viewId: 'V0ARCHIVE1',
    });
    const res = await receiver.post(body);
    expect(res.status).toBe(200);

    await actions.finished(jobId(JOBS.archive, 'f-1', 'V0ARCHIVE1'));

    expect(aws.requests.filter((r) => r.op === 'UpdateFindings').map((r) => r.id)).toEqual(['f-1=ARCHIVED']);
    const [first] = displayedBlocks(slack.byMethod('chat.update')[0]!.args.blocks);
    expect(first).toContain(`by @${MEMBER}`);
    expect(first).toContain(`until ${until}`);
  });

  it('keeps the modal open with field errors for an empty reason and a past date', async () => {
    const body = viewSubmissionBody({
      callbackId: ARCHIVE_MODAL.callbackId,
      privateMetadata: JSON.stringify({ f: 'f-1', a: ANALYZER, r: REGION }),
      values: {
        [ARCHIVE_MODAL.reasonBlock]: {
          [ARCHIVE_MODAL.reasonAction]: { type: 'plain_text_input', value: ' ' },
        },
        [ARCHIVE_MODAL.untilBlock]: {
          [ARCHIVE_MODAL.untilAction]: { type: 'datepicker', selected_date: '2020-01-01' },
        },
      },
      user: { id: MEMBER },
    });
    const res = await receiver.post(body);

    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({
      response_action: 'errors',
      errors: {
        [ARCHIVE_MODAL.reasonBlock]: expect.stringMatching(/why/i),
        [ARCHIVE_MODAL.untilBlock]: 'Pick a date after today.',
      },
    });
    expect(await rt.queues.actions.getJobCounts()).toMatchObject({ waiting: 0, active: 0, completed: 0 });
  });
});

describe('Rescan button', () => {
  it('makes one StartResourceScan call when the same click arrives twice', async () => {
    const body = click(ACTION_IDS.rescan, MEMBER);
    await receiver.post(body);
    await receiver.post(body);
    const actionTs = (
      JSON.parse(decodeURIComponent(body.replace(/^payload=/, '').replace(/\+/g, ' '))) as {
        actions: { action_ts: string }[];
      }
    ).actions[0]!.action_ts;

    await actions.finished(jobId(JOBS.rescan, 'f-1', actionTs));

    expect(aws.count('StartResourceScan')).toBe(1);
    await expect.poll(() => responses.some((r) => /Rescanning/.test(String(r.body.text)))).toBe(true);
  });

  it('answers at once that nothing was queued when Redis is not answering', async () => {
    await receiver.stop();
    const dead = new Redis('redis://127.0.0.1:1', {
      enableOfflineQueue: false,
      lazyConnect: true,
      maxRetriesPerRequest: 0,
    });
    dead.on('error', () => undefined);
    const deadQueue = new Queue('actions', { connection: dead, prefix: 'dead' });
    deadQueue.on('error', () => undefined);
    await startApp({ actionsQueue: deadQueue });
    const started = Date.now();

    await receiver.post(click(ACTION_IDS.rescan, MEMBER));

    await expect.poll(() => responses.length, { timeout: 3000 }).toBe(1);
    expect(Date.now() - started).toBeLessThan(3000);
    expect(String(lastResponse().text)).toMatch(/could not queue/);
    expect(aws.count('StartResourceScan')).toBe(0);
    await deadQueue.close().catch(() => undefined);
    dead.disconnect();
  });
});

describe('a Redis outage', () => {
  it("tells people the bot's Redis is not answering, not what ioredis says", async () => {
    await receiver.stop();
    const dead = new Redis('redis://127.0.0.1:1', { maxRetriesPerRequest: 1, lazyConnect: true });
    dead.on('error', () => undefined);
    receiver = await startReceiver(rt, {
      secret: SECRET,
      deps: { store: new FindingStore(dead, rt.deps.keys) },
    });

    await receiver.post(slashCommandBody({ text: 'show f-1', user_id: MEMBER }));
    await receiver.post(click(ACTION_IDS.rescan, MEMBER));

    await expect.poll(() => responses.length, { timeout: 3000 }).toBe(2);
    const texts = responses.map((r) => String(r.body.text)).sort();
    expect(texts).toEqual([
      "/access show could not be answered: the bot's Redis is not answering. Nothing was changed.",
      'The bot could not read the finding (its Redis is not answering). Nothing was changed.',
    ]);
    expect(JSON.stringify(responses)).not.toMatch(/max retries|maxRetriesPerRequest/i);
    expect(aws.count('StartResourceScan')).toBe(0);
    dead.disconnect();
  });
});

describe('Delete role button', () => {
  it('is refused to a channel member who is not an admin', async () => {
    await receiver.post(click(ACTION_IDS.deleteRole, MEMBER));

    await expect.poll(() => responses.length).toBe(1);
    expect(String(lastResponse().text)).toBe('Only admins can delete this role.');
    expect(slack.byMethod('views.open')).toHaveLength(0);
  });

  it('opens the confirm dialog for an admin and has a worker fill it in', async () => {
    await receiver.post(click(ACTION_IDS.deleteRole, ADMIN));

    await expect.poll(() => slack.byMethod('views.update').length, { timeout: 10_000 }).toBe(1);
    expect(String(slack.byMethod('views.open')[0]!.args.view)).toMatch(/Reading the role from AWS/);
    // This finding is not an unused role: the dialog says why nothing will be deleted.
    expect(String(slack.byMethod('views.update')[0]!.args.view)).toMatch(
      /will not be deleted: only unused-role findings/,
    );
  });
});

describe('/access', () => {
  it.each([
    ['fidnings', /did you mean `?findings/],
    ['archive f-1', /--reason/],
    ['findings --severity urgent', /critical, high, medium, low, info/],
    ['scan mars-1', /region/],
    ['archive f-1 --reason x --until 2020-01-01', /past|after today/],
  ])('answers `/access %s` with what was wrong and the usage, ephemerally', async (text, error) => {
    const res = await receiver.post(slashCommandBody({ text, user_id: MEMBER }));
    expect(res.status).toBe(200);
    await expect.poll(() => responses.length).toBe(1);
    expect(lastResponse().response_type).toBe('ephemeral');
    expect(JSON.stringify(lastResponse())).toMatch(error);
  });

  it('archives by finding id from the command line', async () => {
    const body = slashCommandBody({
      text: 'archive f-1 --reason "vendor share"',
      user_id: MEMBER,
      trigger_id: '123.456.trig',
    });
    await receiver.post(body);

    await actions.finished(jobId(JOBS.archive, 'f-1', '123.456.trig'));

    expect(aws.requests.filter((r) => r.op === 'UpdateFindings').map((r) => r.id)).toEqual(['f-1=ARCHIVED']);
    const entries = await rt.deps.audit.query({ findingId: 'f-1' });
    expect(entries.map((e) => e.outcome)).toEqual(['succeeded', 'requested']);
  });

  it('lists open findings matching the filters, worst first, with where each message is', async () => {
    await receiver.post(
      slashCommandBody({ text: 'findings --severity high --region eu-west-1', user_id: MEMBER }),
    );
    await expect.poll(() => responses.length).toBe(1);
    expect(String(lastResponse().text)).toBe('1 findings match, page 1 of 1');
    const shown = JSON.stringify(lastResponse().blocks);
    expect(shown).toContain('arn:aws:s3:::vendor-share');
    expect(shown).toContain(`<#${OWNER_CHANNEL}>`);

    await receiver.post(slashCommandBody({ text: 'findings --status archived', user_id: MEMBER }));
    await expect.poll(() => responses.length).toBe(2);
    expect(String(lastResponse().text)).toBe('No findings match');
  });

  it('explains which rule owns a resource, from a worker, ephemerally', async () => {
    await receiver.post(
      slashCommandBody({
        text: 'owners arn:aws:iam::222222222222:role/app',
        user_id: MEMBER,
        channel_id: 'C0SEC',
      }),
    );

    await expect.poll(() => slack.byMethod('chat.postEphemeral').length, { timeout: 10_000 }).toBe(1);
    const eph = slack.byMethod('chat.postEphemeral')[0]!.args;
    expect(eph).toMatchObject({ channel: 'C0SEC', user: MEMBER });
    expect(String(eph.text)).toBe(`→ ${OWNER_CHANNEL} (rule 'prod')`);
    expect(JSON.stringify(eph.blocks)).toContain('AWS::IAM::Role, account 222222222222');
  });

  it('explains an S3 bucket with the --account that owns it (bucket ARNs carry none)', async () => {
    await receiver.post(
      slashCommandBody({
        text: 'owners arn:aws:s3:::vendor-share --account 222222222222',
        user_id: MEMBER,
        channel_id: 'C0SEC',
      }),
    );

    await expect.poll(() => slack.byMethod('chat.postEphemeral').length, { timeout: 10_000 }).toBe(1);
    const eph = slack.byMethod('chat.postEphemeral')[0]!.args;
    expect(String(eph.text)).toBe(`→ ${OWNER_CHANNEL} (rule 'prod')`);
    expect(JSON.stringify(eph.blocks)).toContain('AWS::S3::Bucket, account 222222222222 from --account');
  });

  it('shows what the bot knows about a finding', async () => {
    await receiver.post(slashCommandBody({ text: 'show f-1', user_id: MEMBER }));
    await expect.poll(() => responses.length).toBe(1);
    const shown = JSON.stringify(lastResponse().blocks);
    expect(shown).toContain('arn:aws:s3:::vendor-share');
    expect(shown).toContain(`<#${OWNER_CHANNEL}>`);
  });

  it('tells a non-admin who may start a scan', async () => {
    await receiver.post(slashCommandBody({ text: 'scan', user_id: MEMBER }));
    await expect.poll(() => responses.length).toBe(1);
    expect(String(lastResponse().text)).toBe('Only admins can start a scan.');
    expect(await rt.queues.scan.getJobCounts('waiting')).toMatchObject({ waiting: 0 });
  });
});
