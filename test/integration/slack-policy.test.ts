// Policy generation and validation from Slack through the real Bolt receiver: signed HTTP requests,
// the bot's own listeners, real Redis and BullMQ workers, the sandbox AWS server, Slack behind nock.
import { Redis } from 'ioredis';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ACTION_IDS, encodeFindingRef } from '../../blocks/ids.ts';
import { GENERATE_POLICY_MODAL, VALIDATE_POLICY_MODAL } from '../../blocks/policy.ts';
import { type AwsSandbox, startAwsSandbox } from '../../sandbox/aws.ts';
import {
  DEMO_ACCOUNTS,
  DEMO_ANALYZERS,
  DEMO_FINDING_IDS,
  DEMO_MEMBER_ROLE,
  demoData,
} from '../../sandbox/fixtures/demo-org.ts';
import type { AppConfig } from '../../src/config/schema.ts';
import type { Runtime } from '../../src/runtime.ts';
import type { FindingState } from '../../src/store/findings.ts';
import { type FakeSlack, fakeSlack } from '../helpers/fake-slack.ts';
import { REDIS_URL, sandboxRuntime, testConfig, wipePrefix } from '../helpers/runtime.ts';
import { displayedBlocks, displayedCode } from '../helpers/slack-display.ts';
import { blockActionBody, slashCommandBody, viewSubmissionBody } from '../helpers/slack-requests.ts';
import { type Receiver, recordResponses, type SlackResponse, startReceiver } from '../helpers/triage.ts';

const SECRET = 'policy-signing-secret';
const ADMIN = 'U0ADMIN01';
const OUTSIDER = 'U0MALLORY';
const PROD = DEMO_ACCOUNTS.prod;
const CI_DEPLOYER = `arn:aws:iam::${PROD}:role/ci-deployer`;
const TRAIL = `arn:aws:cloudtrail:us-east-1:${DEMO_ACCOUNTS.securityTooling}:trail/org-trail`;
const FINDING = DEMO_FINDING_IDS.unusedRoleCiDeployer;
const COMMAND_CHANNEL = 'C0SEC';

let config: AppConfig;
let aws: AwsSandbox;
let slack: FakeSlack;
let rt: Runtime;
let receiver: Receiver;
let redis: Redis;
let state: FindingState;
let responses: SlackResponse[];

const ref = encodeFindingRef({ f: FINDING, a: DEMO_ANALYZERS.usUnused, r: 'us-east-1' });
const click = (user: string) =>
  blockActionBody({
    actionId: ACTION_IDS.generatePolicy,
    value: ref,
    user: { id: user },
    channel: { id: state.channel!, name: 'team-platform' },
    messageTs: state.ts!,
  });
const meta = () =>
  JSON.stringify({
    f: FINDING,
    a: DEMO_ANALYZERS.usUnused,
    r: 'us-east-1',
    c: state.channel,
    t: state.ts,
    p: CI_DEPLOYER,
  });
const M = GENERATE_POLICY_MODAL;
const V = VALIDATE_POLICY_MODAL;
const gpValues = (v: { trail?: string; typed?: string; days?: string; regions?: string }) => ({
  [M.trailSelectBlock]: {
    [M.trailSelectAction]: { type: 'static_select', selected_option: v.trail ? { value: v.trail } : null },
  },
  [M.trailTextBlock]: { [M.trailTextAction]: { type: 'plain_text_input', value: v.typed ?? null } },
  [M.daysBlock]: { [M.daysAction]: { type: 'number_input', value: v.days ?? '30' } },
  [M.regionsBlock]: { [M.regionsAction]: { type: 'plain_text_input', value: v.regions ?? 'all' } },
});
const requestDone = (requestId: string) =>
  expect
    .poll(
      async () => {
        const raw = await redis.get(rt.deps.keys.policyRequest(requestId));
        return raw ? (JSON.parse(raw) as { status: string }).status : undefined;
      },
      { timeout: 20_000, interval: 50 },
    )
    .toBe('done');

beforeEach(async () => {
  aws = await startAwsSandbox({ data: demoData(new Date(), { burst: false }) });
  aws.data.policyTools = { pollsUntilDone: 1 };
  slack = fakeSlack();
  config = testConfig({
    regions: ['us-east-1'],
    scan: { expectedAnalyzerKinds: ['external', 'unused'] },
    organization: { memberRoleName: DEMO_MEMBER_ROLE.name, externalId: DEMO_MEMBER_ROLE.externalId },
    permissions: { admins: { users: [ADMIN] } },
    policyGeneration: {
      accessRoleArn: 'arn:aws:iam::{accountId}:role/service-role/AccessAnalyzerMonitorServiceRole',
      trails: [TRAIL],
      defaultDays: 45,
      firstPollSeconds: 0.05,
      maxPollSeconds: 0.1,
    },
  });
  rt = sandboxRuntime(config, aws);
  rt.startWorkers();
  redis = new Redis(REDIS_URL);
  await rt.scanNow({ timeoutMs: 20_000 });
  state = (await rt.deps.store.get(FINDING))!;
  slack.reset();
  aws.requests.length = 0;
  responses = recordResponses();
  receiver = await startReceiver(rt, { secret: SECRET });
});

afterEach(async () => {
  await receiver.stop();
  await rt.close();
  await redis.quit();
  await aws.close();
  await wipePrefix(config.redis.keyPrefix);
});

describe('Generate policy button and modal', () => {
  it('opens the modal with the configured trail, the default days and all regions', async () => {
    await receiver.post(click(ADMIN));

    await expect.poll(() => slack.byMethod('views.open').length).toBe(1);
    const view = JSON.parse(String(slack.byMethod('views.open')[0]!.args.view)) as {
      callback_id: string;
      private_metadata: string;
      blocks: { block_id?: string; element?: Record<string, unknown> }[];
    };
    expect(view.callback_id).toBe(M.callbackId);
    expect(JSON.parse(view.private_metadata)).toMatchObject({ f: FINDING, p: CI_DEPLOYER, c: state.channel });
    const el = (id: string) => view.blocks.find((b) => b.block_id === id)!.element!;
    expect(el(M.trailSelectBlock)).toMatchObject({
      initial_option: { text: { type: 'plain_text', text: 'org-trail' }, value: '0' },
    });
    expect(el(M.daysBlock)).toMatchObject({
      type: 'number_input',
      initial_value: '45',
      min_value: '1',
      max_value: '90',
    });
    expect(el(M.regionsBlock)).toMatchObject({ initial_value: 'all' });
  });

  it('refuses someone who may not, says who can, opens nothing and audits it', async () => {
    await receiver.post(click(OUTSIDER));

    await expect.poll(() => responses.length).toBe(1);
    expect(String(responses[0]!.body.text)).toMatch(
      /^Only admins and members of .+ can generate a policy\.$/,
    );
    expect(JSON.stringify(responses[0]!.body.blocks)).toContain(`<@${ADMIN}>`);
    expect(slack.byMethod('views.open')).toHaveLength(0);
    await expect.poll(async () => (await rt.deps.audit.query({ user: OUTSIDER })).length).toBe(1);
    const [entry] = await rt.deps.audit.query({ user: OUTSIDER });
    expect(entry).toMatchObject({ action: 'generate-policy', outcome: 'refused', findingId: FINDING });
  });

  it('keeps the modal open with errors next to a bad trail ARN, days and regions', async () => {
    const res = await receiver.post(
      viewSubmissionBody({
        callbackId: M.callbackId,
        privateMetadata: meta(),
        values: gpValues({ typed: 'arn:aws:s3:::trail-bucket', days: '120', regions: 'eu-west-1,mars' }),
        user: { id: ADMIN },
      }),
    );

    expect(await res.json()).toEqual({
      response_action: 'errors',
      errors: {
        [M.trailTextBlock]: expect.stringMatching(/CloudTrail trail ARN/),
        [M.daysBlock]: 'A whole number of days from 1 to 90.',
        [M.regionsBlock]: expect.stringMatching(/not a region: mars/),
      },
    });
    expect(await rt.queues.actions.getJobCounts('waiting', 'active', 'delayed', 'completed')).toEqual({
      waiting: 0,
      active: 0,
      delayed: 0,
      completed: 0,
    });
  });

  it('generates the policy on submit and posts the result in the finding’s thread', async () => {
    await receiver.post(
      viewSubmissionBody({
        callbackId: M.callbackId,
        privateMetadata: meta(),
        values: gpValues({ trail: '0', days: '14', regions: 'us-east-1, eu-west-1' }),
        user: { id: ADMIN },
        viewId: 'V0GENPOL1',
      }),
    );

    await requestDone('pg-V0GENPOL1');

    expect(aws.data.policyGenerations).toHaveLength(1);
    const g = aws.data.policyGenerations![0]!;
    expect(g.trails).toEqual([{ cloudTrailArn: TRAIL, regions: ['us-east-1', 'eu-west-1'] }]);
    expect(Date.parse(g.endTime) - Date.parse(g.startTime)).toBe(14 * 86_400_000);
    const thread = state.threadTs ?? state.ts;
    const result = slack.posted.find((p) => p.text.startsWith(`Policy generated for ${CI_DEPLOYER}`))!;
    expect(result).toMatchObject({ channel: state.channel, thread_ts: thread });
    const told = slack.byMethod('chat.postEphemeral')[0]!.args;
    expect(told).toMatchObject({ channel: state.channel, user: ADMIN });
    expect(String(told.text)).toMatch(/Policy generation for .* requested \(14 days\)/);
  });
});

describe('/access generate-policy and /access validate', () => {
  it('queues a generation from the command and posts progress and result in that channel', async () => {
    await receiver.post(
      slashCommandBody({
        text: `generate-policy ${CI_DEPLOYER} --days 7`,
        user_id: ADMIN,
        channel_id: COMMAND_CHANNEL,
        trigger_id: '111.222.trig',
      }),
    );

    await expect.poll(() => responses.length).toBe(1);
    expect(String(responses[0]!.body.text)).toMatch(/requested \(7 days of CloudTrail activity\)/);
    await requestDone('pg-111.222.trig');

    const g = aws.data.policyGenerations![0]!;
    expect(Date.parse(g.endTime) - Date.parse(g.startTime)).toBe(7 * 86_400_000);
    const [progress, ...rest] = slack.posted.filter((p) => p.channel === COMMAND_CHANNEL);
    expect(progress!.thread_ts).toBeUndefined();
    expect(rest.map((p) => p.thread_ts)).toEqual(rest.map(() => progress!.ts));
    expect(rest.map((p) => p.text)).toEqual([
      `Policy generated for ${CI_DEPLOYER}: keeps 4 of 18 actions`,
      'Generated policy',
    ]);
  });

  it('uses the configured default days and refuses people not allowed without a finding', async () => {
    await receiver.post(slashCommandBody({ text: `generate-policy ${CI_DEPLOYER}`, user_id: OUTSIDER }));

    await expect.poll(() => responses.length).toBe(1);
    // No finding, so no owner channel: only the admins may.
    expect(String(responses[0]!.body.text)).toBe('Only admins can generate a policy.');
    expect(await rt.queues.actions.getJobCounts('waiting', 'active', 'completed')).toMatchObject({
      completed: 0,
    });

    await receiver.post(slashCommandBody({ text: `generate-policy ${CI_DEPLOYER}`, user_id: ADMIN }));
    await expect.poll(() => responses.length).toBe(2);
    expect(String(responses[1]!.body.text)).toMatch(/requested \(45 days of CloudTrail activity\)/);
  });

  it('opens the validate form with the policy types and the public-access resource types', async () => {
    await receiver.post(slashCommandBody({ text: 'validate', user_id: OUTSIDER }));

    await expect.poll(() => slack.byMethod('views.open').length).toBe(1);
    const view = JSON.parse(String(slack.byMethod('views.open')[0]!.args.view)) as {
      callback_id: string;
      blocks: { block_id?: string; element?: { multiline?: boolean; options?: { value: string }[] } }[];
    };
    expect(view.callback_id).toBe(V.callbackId);
    const el = (id: string) => view.blocks.find((b) => b.block_id === id)!.element!;
    expect(el(V.documentBlock).multiline).toBe(true);
    expect(el(V.typeBlock).options!.map((o) => o.value)).toEqual([
      'IDENTITY_POLICY',
      'RESOURCE_POLICY',
      'SERVICE_CONTROL_POLICY',
    ]);
    expect(el(V.resourceBlock).options!.map((o) => o.value)).toContain('AWS::KMS::Key');
  });

  it('shows a JSON error on the document field and queues nothing', async () => {
    const res = await receiver.post(
      viewSubmissionBody({
        callbackId: V.callbackId,
        privateMetadata: JSON.stringify({ c: COMMAND_CHANNEL }),
        values: {
          [V.documentBlock]: {
            [V.documentAction]: { type: 'plain_text_input', value: '{"Version": "2012-10-17",' },
          },
          [V.typeBlock]: {
            [V.typeAction]: { type: 'static_select', selected_option: { value: 'IDENTITY_POLICY' } },
          },
        },
      }),
    );

    expect(await res.json()).toEqual({
      response_action: 'errors',
      errors: { [V.documentBlock]: expect.stringMatching(/^Not valid JSON: /) },
    });
    expect(await rt.queues.actions.getJobCounts('waiting', 'active', 'completed')).toMatchObject({
      completed: 0,
    });
  });

  it('validates a pasted policy and answers with the findings and the public-access check, ephemerally', async () => {
    const document = JSON.stringify({
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Principal: '*', Action: '*', Resource: '*' }],
    });
    await receiver.post(
      viewSubmissionBody({
        callbackId: V.callbackId,
        privateMetadata: JSON.stringify({ c: COMMAND_CHANNEL }),
        values: {
          [V.documentBlock]: { [V.documentAction]: { type: 'plain_text_input', value: document } },
          [V.typeBlock]: {
            [V.typeAction]: { type: 'static_select', selected_option: { value: 'RESOURCE_POLICY' } },
          },
          [V.resourceBlock]: {
            [V.resourceAction]: { type: 'static_select', selected_option: { value: 'AWS::S3::Bucket' } },
          },
        },
        user: { id: OUTSIDER },
      }),
    );

    await expect
      .poll(
        () =>
          slack.byMethod('chat.postEphemeral').filter((c) => /Policy validated/.test(String(c.args.text)))
            .length,
        {
          timeout: 10_000,
        },
      )
      .toBe(1);
    const reply = slack
      .byMethod('chat.postEphemeral')
      .find((c) => /Policy validated/.test(String(c.args.text)))!.args;
    expect(reply).toMatchObject({ channel: COMMAND_CHANNEL, user: OUTSIDER });
    expect(String(reply.text)).toBe('Policy validated: 0 errors, 1 security warnings, public access FAIL');
    const shown = displayedBlocks(reply.blocks).join('\n');
    expect(displayedCode(reply.blocks)).toContain('PASS_ROLE_WITH_STAR_IN_ACTION_AND_RESOURCE');
    expect(shown).toContain('CheckNoPublicAccess as AWS::S3::Bucket: FAIL');
    expect(aws.requests.map((r) => r.operation)).toEqual(['ValidatePolicy', 'CheckNoPublicAccess']);
    // The job answers first and records the audit entry right after.
    await expect
      .poll(async () => (await rt.deps.audit.query({ user: OUTSIDER }))[0], { timeout: 10_000 })
      .toMatchObject({
        action: 'validate-policy',
        outcome: 'succeeded',
        detail:
          'RESOURCE_POLICY: 0 errors, 1 security warnings, 0 warnings, 0 suggestions; public access FAIL as AWS::S3::Bucket',
      });
  });

  it('adds the resource type’s own checks to a resource policy ValidatePolicy knows', async () => {
    const document = JSON.stringify({
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Action: 's3:GetObject', Resource: 'arn:aws:s3:::b/*' }],
    });
    const submit = (policyType: string) =>
      receiver.post(
        viewSubmissionBody({
          callbackId: V.callbackId,
          privateMetadata: JSON.stringify({ c: COMMAND_CHANNEL }),
          values: {
            [V.documentBlock]: { [V.documentAction]: { type: 'plain_text_input', value: document } },
            [V.typeBlock]: {
              [V.typeAction]: { type: 'static_select', selected_option: { value: policyType } },
            },
            [V.resourceBlock]: {
              [V.resourceAction]: { type: 'static_select', selected_option: { value: 'AWS::S3::Bucket' } },
            },
          },
        }),
      );
    const replies = () =>
      slack.byMethod('chat.postEphemeral').filter((c) => /Policy validated/.test(String(c.args.text)));

    await submit('RESOURCE_POLICY');
    await expect.poll(() => replies().length, { timeout: 10_000 }).toBe(1);
    expect(displayedCode(replies()[0]!.args.blocks)).toContain('MISSING_PRINCIPAL');

    // An identity policy gets no resource-type checks (ValidatePolicy would refuse them).
    await submit('IDENTITY_POLICY');
    await expect.poll(() => replies().length, { timeout: 10_000 }).toBe(2);
    expect(JSON.stringify(replies()[1]!.args.blocks)).not.toContain('MISSING_PRINCIPAL');
    expect(aws.requests.filter((r) => r.operation === 'ValidatePolicy').map((r) => r.status)).toEqual([
      200, 200,
    ]);
  });

  it('explains validate in the help', async () => {
    await receiver.post(slashCommandBody({ text: 'help validate', user_id: OUTSIDER }));
    await expect.poll(() => responses.length).toBe(1);
    expect(JSON.stringify(responses[0]!.body.blocks)).toContain('Paste a policy to validate');
  });
});
