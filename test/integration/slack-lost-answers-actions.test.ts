// Slack doing what the bot asked and losing the answer (a 5xx after the post) on the paths that change
// AWS once and for all: Archive similar (CreateArchiveRule + ApplyArchiveRule), Delete rule, Create
// analyzer and Delete key. Each still makes exactly one AWS change per request and leaves exactly one
// receipt. Real Bolt receiver, Redis and BullMQ, the AWS sandbox over HTTP; Slack behind nock (the
// Slack sandbox's Web API), with the production retry policy for lost answers.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ARCHIVE_RULE_MODAL, encodeRuleRef } from '../../blocks/archive-rules.ts';
import { ACTION_IDS, encodeFindingRef } from '../../blocks/ids.ts';
import { type AwsSandbox, startAwsSandbox } from '../../sandbox/aws.ts';
import {
  DEMO_ACCOUNTS,
  DEMO_ANALYZERS,
  DEMO_FINDING_IDS,
  DEMO_MEMBER_ROLE,
  demoData,
} from '../../sandbox/fixtures/demo-org.ts';
import type { AppConfig } from '../../src/config/schema.ts';
import { JOBS } from '../../src/queue/index.ts';
import type { Runtime } from '../../src/runtime.ts';
import { type FakeSlack, fakeSlack } from '../helpers/fake-slack.ts';
import { testConfig, testRuntime } from '../helpers/runtime.ts';
import { blockActionBody, viewSubmissionBody } from '../helpers/slack-requests.ts';
import {
  type ActionEvents,
  type Receiver,
  sandboxRequests,
  startTriage,
  stopTriage,
} from '../helpers/triage.ts';

const SECRET = 'lost-answers-actions-secret';
const ADMIN = 'U0ADMIN01';
const ROLE_CARD = DEMO_FINDING_IDS.burst[0]!;
const KEY_CARD = DEMO_FINDING_IDS.unusedAccessKey;
const KEY = 'AKIAIOSFODNN7LEGACY1';

let config: AppConfig;
let aws: AwsSandbox;
let slack: FakeSlack;
let rt: Runtime;
let receiver: Receiver;
let actions: ActionEvents;

/** AWS writes that succeeded, by operation. */
const writes = (ops: string[]) =>
  aws.requests.filter((r) => ops.includes(r.operation) && r.status < 300).map((r) => r.operation);
const thread = (id: string, start: string) =>
  (async () => {
    const s = (await rt.deps.store.get(id))!;
    return slack.posted.filter((p) => p.thread_ts === (s.threadTs ?? s.ts) && p.text.startsWith(start));
  })();
const ephemerals = (pattern: RegExp) =>
  slack.byMethod('chat.postEphemeral').filter((c) => pattern.test(String(c.args.text)));
const audit = async (action: string) =>
  (await rt.deps.audit.query({ last: 100 }))
    .filter((e) => e.action === action)
    .map((e) => e.outcome)
    .reverse();

async function click(actionId: string, value: string, actionTs: string, card?: string) {
  const state = card ? await rt.deps.store.get(card) : null;
  await receiver.post(
    blockActionBody({
      actionId,
      value,
      user: { id: ADMIN },
      channel: { id: state?.channel ?? 'C0ADMIN01', name: 'team-sandbox' },
      ...(state?.ts ? { messageTs: state.ts } : {}),
      actionTs,
    }),
  );
}

beforeEach(async () => {
  aws = await startAwsSandbox({ data: demoData(new Date(), { burst: true }) });
  slack = fakeSlack();
  config = testConfig({
    regions: ['us-east-1'],
    scan: { expectedAnalyzerKinds: ['external', 'unused'] },
    organization: { memberRoleName: DEMO_MEMBER_ROLE.name, externalId: DEMO_MEMBER_ROLE.externalId },
    permissions: { admins: { users: [ADMIN] } },
  });
  rt = testRuntime(config, {
    aws: {
      credentials: { accessKeyId: 'AKIASANDBOXTEST00001', secretAccessKey: 'sandbox' },
      endpoints: { accessAnalyzer: aws.url, iam: aws.url, sts: aws.url, tagging: aws.url, s3: aws.url },
      maxAttempts: 1,
    },
    // The production policy: a lost answer is looked up (posts) or tried again (updates) in the call.
    slackRetries: 4,
  });
  ({ actions, receiver } = await startTriage(rt, config, {
    secret: SECRET,
    forget: [slack, sandboxRequests(aws)],
    scanTimeoutMs: 30_000,
  }));
});

afterEach(async () => {
  await stopTriage(rt, config, { actions, receiver });
  await aws.close();
});

describe('Slack losing answers on the paths that change AWS for good', () => {
  it('Archive similar: one rule created and applied, one receipt in the thread, though the preview, the receipt and the reply lost their answers', async () => {
    slack.loseAnswers('views.update', 1);
    slack.loseAnswers('chat.postMessage', 1, { match: (a) => String(a.text).startsWith('Archive rule') });
    slack.loseAnswers('chat.postEphemeral', 1);
    await click(
      ACTION_IDS.archiveSimilar,
      encodeFindingRef({ f: ROLE_CARD, a: DEMO_ANALYZERS.usUnused, r: 'us-east-1' }),
      '1795000000.000100',
      ROLE_CARD,
    );
    await actions.settled(JOBS.archiveRulePreview);
    const raw = slack.byMethod('views.update').at(-1)!.args.view;
    const view = (typeof raw === 'string' ? JSON.parse(raw) : raw) as { private_metadata: string };
    await receiver.post(
      viewSubmissionBody({
        callbackId: ARCHIVE_RULE_MODAL.callbackId,
        privateMetadata: view.private_metadata,
        user: { id: ADMIN },
        values: {
          [ARCHIVE_RULE_MODAL.nameBlock]: {
            [ARCHIVE_RULE_MODAL.nameAction]: { type: 'plain_text_input', value: 'lost-answers-rule' },
          },
        },
      }),
    );
    await actions.settled(JOBS.archiveRuleCreate);

    expect(slack.lost.map((l) => l.method).sort()).toEqual([
      'chat.postEphemeral',
      'chat.postMessage',
      'views.update',
    ]);
    expect(writes(['CreateArchiveRule', 'ApplyArchiveRule', 'DeleteArchiveRule'])).toEqual([
      'CreateArchiveRule',
      'ApplyArchiveRule',
    ]);
    expect(await thread(ROLE_CARD, 'Archive rule lost-answers-rule')).toHaveLength(1);
    expect(ephemerals(/^Archive rule lost-answers-rule/)).toHaveLength(1);
    expect(await audit('archive-rule')).toEqual(['requested', 'succeeded']);
  });

  it('Delete rule: deleted once, one answer, though the answer to it was lost', async () => {
    aws.data.analyzers.find((a) => a.arn === DEMO_ANALYZERS.usUnused)!.archiveRules = [
      {
        ruleName: 'to-delete',
        filter: { findingType: { eq: ['UnusedIAMRole'] } },
        createdAt: new Date().toISOString(),
        updatedAt: new Date().toISOString(),
      },
    ];
    slack.loseAnswers('chat.postEphemeral', 1);
    await click(
      ACTION_IDS.deleteArchiveRule,
      encodeRuleRef({ a: DEMO_ANALYZERS.usUnused, r: 'us-east-1', n: 'to-delete' }),
      '1795000001.000100',
    );
    await actions.settled(JOBS.archiveRuleDelete);

    expect(slack.lost.map((l) => l.method)).toEqual(['chat.postEphemeral']);
    expect(writes(['DeleteArchiveRule'])).toEqual(['DeleteArchiveRule']);
    expect(ephemerals(/Archive rule to-delete deleted from org-unused/)).toHaveLength(1);
    expect(await audit('archive-rule-delete')).toEqual(['requested', 'succeeded']);
  });

  it('Create analyzer: created once, one answer, though the answer to it was lost', async () => {
    aws.data.analyzers = aws.data.analyzers.filter((a) => a.arn !== DEMO_ANALYZERS.euExternal);
    config.regions.push('eu-west-1');
    slack.loseAnswers('chat.postEphemeral', 1);
    await click(
      ACTION_IDS.createAnalyzer,
      JSON.stringify({ r: 'eu-west-1', k: 'external' }),
      '1795000002.000100',
    );
    await actions.settled(JOBS.createAnalyzer);

    expect(slack.lost.map((l) => l.method)).toEqual(['chat.postEphemeral']);
    expect(writes(['CreateAnalyzer'])).toEqual(['CreateAnalyzer']);
    expect(ephemerals(/^Created the external-access analyzer access-patrol-external/)).toHaveLength(1);
    expect(await audit('create-analyzer')).toEqual(['requested', 'succeeded']);
  });

  it('Delete key: deleted once, one receipt in the thread, though the receipt lost its answer', async () => {
    await click(
      ACTION_IDS.deactivateKey,
      encodeFindingRef({ f: KEY_CARD, a: DEMO_ANALYZERS.usUnused, r: 'us-east-1' }),
      '1795000003.000100',
      KEY_CARD,
    );
    await actions.settled(JOBS.fix);
    const [offer] = await actions.jobsNamed(JOBS.keyDeletionOffer);
    await offer!.promote();
    await actions.settled(JOBS.keyDeletionOffer);
    const value = slack.posted
      .flatMap((p) => (p.blocks as { elements?: { action_id?: string; value?: string }[] }[]) ?? [])
      .flatMap((b) => b.elements ?? [])
      .find((e) => e.action_id === ACTION_IDS.deleteKey)!.value!;
    const at = Date.now() + (config.fixes.deleteInactiveKeyAfterDays + 1) * 86_400_000;
    (rt.deps as { now: () => Date }).now = () => new Date(at);
    aws.requests.length = 0;

    slack.loseAnswers('chat.postMessage', 1, { match: (a) => String(a.text).includes('deleted access key') });
    await click(ACTION_IDS.deleteKey, value, '1795000103.000100', KEY_CARD);
    await actions.settled(JOBS.deleteKey);

    expect(slack.lost.map((l) => l.method)).toEqual(['chat.postMessage']);
    expect(writes(['DeleteAccessKey', 'UpdateAccessKey'])).toEqual(['DeleteAccessKey']);
    const legacy = aws.data.users.find(
      (u) => u.account === DEMO_ACCOUNTS.staging && u.name === 'legacy-etl',
    )!;
    expect((legacy.accessKeys ?? []).map((k) => k.id)).not.toContain(KEY);
    expect(await thread(KEY_CARD, `${ADMIN} deleted access key ${KEY}`)).toHaveLength(1);
    expect(await actions.jobsNamed(JOBS.deleteKey)).toHaveLength(1);
    expect(await audit('delete-key')).toEqual(['requested', 'succeeded']);
  });
});
