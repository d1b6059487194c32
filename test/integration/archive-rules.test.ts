// Archive similar, `/access rules` and Create analyzer through the real Bolt receiver, real Redis and
// BullMQ, and the AWS sandbox (archive rules and CreateAnalyzer over the REST-JSON wire protocol);
// Slack behind nock.
import { Redis } from 'ioredis';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ARCHIVE_RULE_MODAL } from '../../blocks/archive-rules.ts';
import { ACTION_IDS } from '../../blocks/ids.ts';
import { type AwsSandbox, startAwsSandbox } from '../../sandbox/aws.ts';
import {
  DEMO_ANALYZERS,
  DEMO_FINDING_IDS,
  DEMO_MEMBER_ROLE,
  demoData,
} from '../../sandbox/fixtures/demo-org.ts';
import type { AppConfig } from '../../src/config/schema.ts';
import { JOBS } from '../../src/queue/index.ts';
import type { Runtime } from '../../src/runtime.ts';
import { type FakeSlack, fakeSlack } from '../helpers/fake-slack.ts';
import { REDIS_URL, sandboxRuntime, testConfig } from '../helpers/runtime.ts';
import { blockActionBody, slashCommandBody, viewSubmissionBody } from '../helpers/slack-requests.ts';
import {
  type ActionEvents,
  clickCard,
  type Receiver,
  recordResponseBodies,
  sandboxRequests,
  startTriage,
  stopTriage,
} from '../helpers/triage.ts';

const SECRET = 'archive-rules-secret';
const ADMIN = 'U0ADMIN01';
const NOBODY = 'U0NOBODY1';
const ID = DEMO_FINDING_IDS.burst[0]!;

let config: AppConfig;
let aws: AwsSandbox;
let slack: FakeSlack;
let rt: Runtime;
let receiver: Receiver;
let actions: ActionEvents;
let responses: Record<string, unknown>[];

const writes = (ops: string[]) =>
  aws.requests.filter((r) => ops.includes(r.operation) && r.status < 300).map((r) => r.operation);
const archived = () => [...aws.data.findings.all()].filter((f) => f.status === 'ARCHIVED').map((f) => f.id);
const audit = async (action: string) =>
  (await rt.deps.audit.query({ last: 100 }))
    .filter((e) => e.action === action)
    .map((e) => e.outcome)
    .reverse();

const clickArchiveSimilar = (
  actionTs: string,
  who = ADMIN,
  card: { id: string; analyzer: string } = { id: ID, analyzer: DEMO_ANALYZERS.usUnused },
) =>
  clickCard(rt, receiver, {
    findingId: card.id,
    analyzer: card.analyzer,
    actionId: ACTION_IDS.archiveSimilar,
    user: who,
    channelName: 'team-sandbox',
    actionTs,
  });

/** The modal the preview job filled in (views.update), as JSON text and as the view. */
async function previewModal(): Promise<{ text: string; view: { private_metadata: string } }> {
  await actions.settled(JOBS.archiveRulePreview);
  const update = slack.byMethod('views.update').at(-1)!;
  const raw = update.args.view;
  const view = (typeof raw === 'string' ? JSON.parse(raw) : raw) as { private_metadata: string };
  return { text: JSON.stringify(view), view };
}

async function submitRule(meta: string, name: string, who = ADMIN, viewId?: string) {
  await receiver.post(
    viewSubmissionBody({
      callbackId: ARCHIVE_RULE_MODAL.callbackId,
      privateMetadata: meta,
      user: { id: who },
      values: {
        [ARCHIVE_RULE_MODAL.nameBlock]: {
          [ARCHIVE_RULE_MODAL.nameAction]: { type: 'plain_text_input', value: name },
        },
      },
      ...(viewId ? { viewId } : {}),
    }),
  );
}

const told = () => slack.byMethod('chat.postEphemeral').map((e) => String(e.args.text));

beforeEach(async () => {
  aws = await startAwsSandbox({ data: demoData(new Date(), { burst: true }) });
  slack = fakeSlack();
  config = testConfig({
    regions: ['us-east-1'],
    scan: { expectedAnalyzerKinds: ['external', 'unused'] },
    organization: { memberRoleName: DEMO_MEMBER_ROLE.name, externalId: DEMO_MEMBER_ROLE.externalId },
    permissions: { admins: { users: [ADMIN] } },
  });
  responses = recordResponseBodies();
  rt = sandboxRuntime(config, aws);
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

describe('Archive similar', () => {
  it('shows how many ACTIVE findings the rule would archive, and ApplyArchiveRule archives exactly that many', async () => {
    const before = new Set(archived());
    await clickArchiveSimilar('1795000000.000100');
    const { text, view } = await previewModal();
    const count = Number(/It would archive (\d+) ACTIVE finding/.exec(text)?.[1]);
    // The burst's 14 unused roles of the sandbox account, at least.
    expect(count).toBeGreaterThanOrEqual(14);
    expect(text).toContain('resourceOwnerAccount');
    expect(text).toContain('UnusedIAMRole');
    // Nothing changed in AWS before anyone confirmed.
    expect(writes(['CreateArchiveRule', 'ApplyArchiveRule'])).toEqual([]);

    await submitRule(view.private_metadata, 'unused-sandbox-roles');
    await actions.settled(JOBS.archiveRuleCreate);

    expect(writes(['CreateArchiveRule', 'ApplyArchiveRule'])).toEqual([
      'CreateArchiveRule',
      'ApplyArchiveRule',
    ]);
    const nowArchived = archived().filter((id) => !before.has(id));
    expect(nowArchived).toHaveLength(count);
    expect(nowArchived).toContain(ID);
    const rule = aws.data.analyzers.find((a) => a.arn === DEMO_ANALYZERS.usUnused)!.archiveRules![0]!;
    expect(rule.ruleName).toBe('unused-sandbox-roles');
    expect(Object.keys(rule.filter).sort()).toEqual(['findingType', 'resourceOwnerAccount', 'resourceType']);
    expect(await audit('archive-rule')).toEqual(['requested', 'succeeded']);
    const receipt = slack.posted.find((p) => p.text.startsWith('Archive rule unused-sandbox-roles'));
    expect(receipt?.text).toContain(`${count} matching findings archived`);
  });

  it('counts findings, not cards: one share reported by two analyzers is two findings, and the rule goes into both', async () => {
    const twice = [DEMO_FINDING_IDS.reportedTwiceOrg, DEMO_FINDING_IDS.reportedTwiceAccount];
    // One card for both ids (named by whichever the scan saw first).
    const { cardId, state } = (await rt.deps.store.getCard(twice[0]!))!;
    expect((await rt.deps.store.cardMembers(cardId)).map((m) => m.id).sort()).toEqual([...twice].sort());
    const before = new Set(archived());
    await clickArchiveSimilar('1795000000.000150', ADMIN, { id: cardId, analyzer: state.analyzerArn });
    const { text, view } = await previewModal();
    const count = Number(/It would archive (\d+) ACTIVE finding/.exec(text)?.[1]);
    await submitRule(view.private_metadata, 'exports-shared-out');
    await actions.settled(JOBS.archiveRuleCreate);

    // What AWS archived is what the preview promised: both ids, each in its own analyzer.
    const nowArchived = archived().filter((id) => !before.has(id));
    expect(nowArchived.sort()).toEqual([...twice].sort());
    expect(count).toBe(nowArchived.length);
    const ruled = aws.data.analyzers
      .filter((a) => a.archiveRules?.some((r) => r.ruleName === 'exports-shared-out'))
      .map((a) => a.arn);
    expect(ruled.sort()).toEqual([DEMO_ANALYZERS.usAccountExternal, DEMO_ANALYZERS.usExternal].sort());
    const receipt = slack.posted.find((p) => p.text.startsWith('Archive rule exports-shared-out'));
    expect(receipt?.text).toContain('2 matching findings archived');
  });

  it('on a card stored before the bot kept its principals and conditions: the rule comes from GetFindingV2, the card is counted, and it learns its values', async () => {
    const id = DEMO_FINDING_IDS.sqsOrdersEvents;
    // As an old card was stored: no filter values (in the card's hash, its pieces, or the side hash
    // where older versions kept long values).
    await rt.deps.store.set(id, {}, { clear: ['filterValues'] });
    const redis = new Redis(REDIS_URL);
    await redis.hdel(rt.deps.keys.findingLong(id), 'fv');
    await redis.quit();
    expect((await rt.deps.store.get(id))!.filterValues).toBeUndefined();
    const before = new Set(archived());
    await clickArchiveSimilar('1795000000.000160', ADMIN, { id, analyzer: DEMO_ANALYZERS.usExternal });
    const { text, view } = await previewModal();
    // The criteria are the finding's own, read from AWS now.
    expect(text).toContain('principal.AWS');
    expect(text).toContain('arn:aws:iam::555566667777:role/partner-ingest');
    expect(text).toContain('condition.aws:SourceIp');
    const count = Number(/It would archive (\d+) ACTIVE finding/.exec(text)?.[1]);
    expect(text).not.toMatch(/may match too/);
    expect(JSON.parse((await rt.deps.store.get(id))!.filterValues!)).toMatchObject({
      'principal.AWS': ['arn:aws:iam::555566667777:role/partner-ingest'],
    });

    await submitRule(view.private_metadata, 'partner-ingest-queue');
    await actions.settled(JOBS.archiveRuleCreate);
    const nowArchived = archived().filter((x) => !before.has(x));
    expect(nowArchived).toContain(id);
    expect(count).toBe(nowArchived.length);
  });

  it('makes no rule from an access finding AWS gives no details for: it would archive every finding of its type in the account', async () => {
    const id = DEMO_FINDING_IDS.kmsCrossAccount;
    aws.data.findings.update(id, { details: [] });
    await clickArchiveSimilar('1795000000.000170', ADMIN, { id, analyzer: DEMO_ANALYZERS.usExternal });
    const { text } = await previewModal();
    expect(text).toContain('No archive rule can be made from this finding');
    expect(text).toContain('no principals or conditions');
    expect(text).not.toContain(ARCHIVE_RULE_MODAL.nameBlock);
    // A submission made anyway (a form opened before AWS lost the details) changes nothing and says why.
    const card = (await rt.deps.store.get(id))!;
    await submitRule(JSON.stringify({ f: id, c: card.channel, t: card.ts }), 'every-kms-key');
    await actions.settled(JOBS.archiveRuleCreate);
    expect(writes(['CreateArchiveRule', 'ApplyArchiveRule'])).toEqual([]);
    expect(
      told().some((t) => /Nothing was done: archive rule every-kms-key: AWS gives no principals/.test(t)),
    ).toBe(true);
    expect(await audit('archive-rule')).toEqual(['requested', 'failed']);
  });

  it('refuses someone who may not make rules: no modal, nothing in AWS, the refusal audited', async () => {
    await clickArchiveSimilar('1795000000.000200', NOBODY);
    await expect.poll(() => responses.length).toBeGreaterThan(0);
    expect(JSON.stringify(responses)).toMatch(/Only admins can create or delete archive rules/);
    expect(slack.byMethod('views.open')).toEqual([]);
    expect(await actions.jobsNamed(JOBS.archiveRulePreview)).toHaveLength(0);
    expect(writes(['CreateArchiveRule', 'ApplyArchiveRule'])).toEqual([]);
    expect(await audit('archive-rule')).toEqual(['refused']);
  });

  it('refuses a forged submission by someone who may not make rules', async () => {
    await submitRule(JSON.stringify({ f: ID }), 'sneaky-rule', NOBODY);
    await expect.poll(async () => audit('archive-rule')).toEqual(['refused']);
    expect(await actions.jobsNamed(JOBS.archiveRuleCreate)).toHaveLength(0);
    expect(writes(['CreateArchiveRule', 'ApplyArchiveRule'])).toEqual([]);
  });

  it('opens one modal for a double click and makes one rule for two submissions', async () => {
    await clickArchiveSimilar('1795000000.000300');
    await clickArchiveSimilar('1795000000.000301');
    const { view } = await previewModal();
    expect(slack.byMethod('views.open')).toHaveLength(1);
    await submitRule(view.private_metadata, 'once-only', ADMIN, 'V0FIRST01');
    await submitRule(view.private_metadata, 'once-only', ADMIN, 'V0SECOND1');
    await actions.settled(JOBS.archiveRuleCreate);
    await new Promise((r) => setTimeout(r, 300));
    expect(writes(['CreateArchiveRule'])).toEqual(['CreateArchiveRule']);
    expect(aws.data.analyzers.find((a) => a.arn === DEMO_ANALYZERS.usUnused)!.archiveRules).toHaveLength(1);
  });

  it('keeps the form open with a clear message for a name AWS would refuse', async () => {
    const res = await receiver.post(
      viewSubmissionBody({
        callbackId: ARCHIVE_RULE_MODAL.callbackId,
        privateMetadata: JSON.stringify({ f: ID }),
        user: { id: ADMIN },
        values: {
          [ARCHIVE_RULE_MODAL.nameBlock]: {
            [ARCHIVE_RULE_MODAL.nameAction]: { type: 'plain_text_input', value: '1 bad name' },
          },
        },
      }),
    );
    const body = (await res.json()) as { response_action?: string; errors?: Record<string, string> };
    expect(body.response_action).toBe('errors');
    expect(body.errors?.[ARCHIVE_RULE_MODAL.nameBlock]).toMatch(/starts with a letter/);
    expect(await actions.jobsNamed(JOBS.archiveRuleCreate)).toHaveLength(0);
  });

  it('tells the person what AWS refused and changes nothing when a rule of that name has other criteria', async () => {
    aws.data.analyzers.find((a) => a.arn === DEMO_ANALYZERS.usUnused)!.archiveRules = [
      {
        ruleName: 'taken',
        filter: { resourceType: { eq: ['AWS::IAM::User'] } },
        createdAt: new Date().toISOString(),
        updatedAt: new Date().toISOString(),
      },
    ];
    await clickArchiveSimilar('1795000000.000400');
    const { view } = await previewModal();
    await submitRule(view.private_metadata, 'taken');
    await actions.settled(JOBS.archiveRuleCreate);
    expect(writes(['CreateArchiveRule', 'ApplyArchiveRule'])).toEqual([]);
    expect(
      told().some((t) => /Nothing was done: archive rule taken: .*already has a rule of that name/.test(t)),
    ).toBe(true);
    expect(await audit('archive-rule')).toEqual(['requested', 'failed']);
  });
});

describe('AWS refusing a rule', () => {
  it('tells the person in words when AWS refuses the rule (the analyzer has its 100 rules) and changes nothing', async () => {
    const unused = aws.data.analyzers.find((a) => a.arn === DEMO_ANALYZERS.usUnused)!;
    unused.archiveRules = Array.from({ length: 100 }, (_, i) => ({
      ruleName: `rule-${i}`,
      filter: { resource: { eq: [`arn:aws:iam::1:role/r${i}`] } },
      createdAt: new Date().toISOString(),
      updatedAt: new Date().toISOString(),
    }));
    await clickArchiveSimilar('1795000000.000500');
    const { view } = await previewModal();
    await submitRule(view.private_metadata, 'one-more');
    await actions.settled(JOBS.archiveRuleCreate);
    expect(writes(['CreateArchiveRule', 'ApplyArchiveRule'])).toEqual([]);
    expect(unused.archiveRules).toHaveLength(100);
    expect(
      told().some((t) =>
        /Nothing was done: archive rule one-more: an AWS quota is reached \(ServiceQuotaExceededException\)/.test(
          t,
        ),
      ),
    ).toBe(true);
    expect(await audit('archive-rule')).toEqual(['requested', 'failed']);
  });
});

describe('/access rules', () => {
  async function command(text: string, who = ADMIN) {
    await receiver.post(slashCommandBody({ text, user_id: who, channel_id: 'C0ADMIN01' }));
  }

  it('lists each analyzer’s rules with what they match, and Delete removes one (audited with its filter)', async () => {
    aws.data.analyzers.find((a) => a.arn === DEMO_ANALYZERS.usUnused)!.archiveRules = [
      {
        ruleName: 'sandbox-roles',
        filter: { findingType: { eq: ['UnusedIAMRole'] }, resource: { contains: ['sandbox-experiment-0'] } },
        createdAt: new Date().toISOString(),
        updatedAt: new Date().toISOString(),
      },
    ];
    await command('rules');
    await actions.settled(JOBS.archiveRulesList);
    const reply = slack.byMethod('chat.postEphemeral').at(-1)!;
    const blocks = String(JSON.stringify(reply.args.blocks));
    expect(String(reply.args.text)).toBe('1 archive rule.');
    // sandbox-experiment-01..09 are ACTIVE cards of org-unused.
    expect(blocks).toContain('matches 9 active and 0 archived findings');
    expect(blocks).toContain(ACTION_IDS.deleteArchiveRule);
    // Every analyzer of the region but the service-linked one.
    expect(writes(['ListArchiveRules'])).toHaveLength(4);

    const parsed = (
      typeof reply.args.blocks === 'string' ? JSON.parse(reply.args.blocks) : reply.args.blocks
    ) as {
      elements?: { action_id?: string; value?: string }[];
    }[];
    const value = parsed
      .flatMap((b) => b.elements ?? [])
      .find((e) => e.action_id === ACTION_IDS.deleteArchiveRule)!.value!;
    await receiver.post(
      blockActionBody({
        actionId: ACTION_IDS.deleteArchiveRule,
        value,
        user: { id: ADMIN },
        channel: { id: 'C0ADMIN01', name: 'admins' },
        actionTs: '1795000001.000100',
      }),
    );
    await actions.settled(JOBS.archiveRuleDelete);
    expect(writes(['DeleteArchiveRule'])).toEqual(['DeleteArchiveRule']);
    expect(aws.data.analyzers.find((a) => a.arn === DEMO_ANALYZERS.usUnused)!.archiveRules).toEqual([]);
    const entries = (await rt.deps.audit.query({ last: 100 })).filter(
      (e) => e.action === 'archive-rule-delete',
    );
    expect(entries.map((e) => e.outcome).reverse()).toEqual(['requested', 'succeeded']);
    expect(entries[0]!.detail).toContain('sandbox-experiment-0');
    expect(told().at(-1)).toMatch(/Archive rule sandbox-roles deleted from org-unused/);
  });

  it('refuses the list to someone who may not read every finding, and Delete to someone who may not make rules', async () => {
    await command('rules', NOBODY);
    await expect.poll(async () => audit('read')).toEqual(['refused']);
    expect(await actions.jobsNamed(JOBS.archiveRulesList)).toHaveLength(0);
    await receiver.post(
      blockActionBody({
        actionId: ACTION_IDS.deleteArchiveRule,
        value: JSON.stringify({ a: DEMO_ANALYZERS.usUnused, r: 'us-east-1', n: 'anything' }),
        user: { id: NOBODY },
        actionTs: '1795000001.000200',
      }),
    );
    // Refused under the permission it needs, before any intent or job.
    await expect.poll(async () => audit('archive-rule')).toEqual(['refused']);
    // Audited first, then answered.
    await expect
      .poll(() => JSON.stringify(responses))
      .toMatch(/Only admins can create or delete archive rules/);
    expect(await actions.jobsNamed(JOBS.archiveRuleDelete)).toHaveLength(0);
    expect(writes(['DeleteArchiveRule'])).toEqual([]);
  });
});

describe('Create analyzer', () => {
  async function click(value: { r: string; k: string }, actionTs: string, who = ADMIN) {
    await receiver.post(
      blockActionBody({
        actionId: ACTION_IDS.createAnalyzer,
        value: JSON.stringify(value),
        user: { id: who },
        channel: { id: 'C0ADMIN01', name: 'admins' },
        actionTs,
      }),
    );
  }

  it('creates the organization-level analyzer coverage says is missing, once for a double click; the next scan reports it resolved', async () => {
    // eu-west-1 has no working external analyzer once org-external there is gone: the scan says so.
    config.regions.push('eu-west-1');
    aws.data.analyzers = aws.data.analyzers.filter((a) => a.arn !== DEMO_ANALYZERS.euExternal);
    await rt.scanNow({ timeoutMs: 30_000 });
    const notice = slack.posted.find((p) => p.text.startsWith('No external-access analyzer in eu-west-1'));
    expect(JSON.stringify(notice?.blocks)).toContain(ACTION_IDS.createAnalyzer);
    aws.requests.length = 0;
    await click({ r: 'eu-west-1', k: 'external' }, '1795000002.000100');
    await click({ r: 'eu-west-1', k: 'external' }, '1795000002.000101');
    await actions.settled(JOBS.createAnalyzer);
    await new Promise((r) => setTimeout(r, 300));
    expect(writes(['CreateAnalyzer'])).toEqual(['CreateAnalyzer']);
    const made = aws.data.analyzers.filter(
      (a) => a.region === 'eu-west-1' && a.name === 'access-patrol-external',
    );
    expect(made.map((a) => a.type)).toEqual(['ORGANIZATION']);
    expect(await audit('create-analyzer')).toEqual(['requested', 'succeeded']);
    expect(told().at(-1)).toMatch(
      /Created the external-access analyzer access-patrol-external \(ORGANIZATION\)/,
    );
    await rt.scanNow({ timeoutMs: 30_000 });
    expect(slack.posted.map((p) => p.text)).toContain(
      'Resolved in eu-west-1: the bot has an analyzer of every expected regional type again.',
    );
  });

  it('never creates a second unused-access analyzer: coverage finds the zone covered', async () => {
    await click({ r: 'us-east-1', k: 'unused' }, '1795000002.000200');
    await actions.settled(JOBS.createAnalyzer);
    expect(writes(['CreateAnalyzer'])).toEqual([]);
    expect(told().at(-1)).toMatch(/Nothing was done: an unused-access analyzer already covers/);
    expect(await audit('create-analyzer')).toEqual(['requested', 'stale']);
  });

  it('refuses someone who is not an admin: nothing created, the refusal audited', async () => {
    await click({ r: 'us-east-1', k: 'external' }, '1795000002.000300', NOBODY);
    await expect.poll(async () => audit('create-analyzer')).toEqual(['refused']);
    await expect.poll(() => JSON.stringify(responses)).toMatch(/Only admins can create an analyzer/);
    expect(await actions.jobsNamed(JOBS.createAnalyzer)).toHaveLength(0);
    expect(writes(['CreateAnalyzer'])).toEqual([]);
  });
});
