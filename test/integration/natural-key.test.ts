// One card per real problem: two analyzers reporting the same unused role (or the same external
// grant) under their own finding ids make one Slack message, and it resolves only when every id has
// closed. Against the sandbox AWS server (real HTTP), real Redis and BullMQ, Slack behind nock.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  type AwsSandbox,
  type SandboxAnalyzer,
  type SandboxData,
  type SandboxFinding,
  FindingStore as SandboxFindings,
  startAwsSandbox,
} from '../../sandbox/aws.ts';
import type { AppConfig } from '../../src/config/schema.ts';
import { JOBS, jobId } from '../../src/queue/index.ts';
import type { Runtime } from '../../src/runtime.ts';
import { type FakeSlack, fakeSlack } from '../helpers/fake-slack.ts';
import { sandboxRuntime, testConfig, wipePrefix } from '../helpers/runtime.ts';
import { slashCommandBody } from '../helpers/slack-requests.ts';
import { type ActionEvents, actionEvents, recordResponseBodies, startReceiver } from '../helpers/triage.ts';

const ADMIN_ACCOUNT = '111111111111';
const PROD = '222222222222';
const US = 'us-east-1';
const EU = 'eu-west-1';
const ROLE = `arn:aws:iam::${PROD}:role/old-batch`;
const BUCKET = 'arn:aws:s3:::shared-reports';

const analyzerArn = (region: string, name: string) =>
  `arn:aws:access-analyzer:${region}:${ADMIN_ACCOUNT}:analyzer/${name}`;
const US_UNUSED = analyzerArn(US, 'unused-us');
const EU_UNUSED = analyzerArn(EU, 'unused-eu');
const ORG_EXTERNAL = analyzerArn(US, 'org-external');
const ACCOUNT_EXTERNAL = analyzerArn(US, 'account-external');

function analyzer(arn: string, type: string): SandboxAnalyzer {
  return {
    arn,
    name: arn.split('/')[1]!,
    type,
    region: arn.split(':')[3]!,
    account: ADMIN_ACCOUNT,
    createdAt: '2026-01-01T00:00:00.000Z',
    status: 'ACTIVE',
  };
}

const AT = '2026-11-20T00:00:00.000Z';

function unusedRole(id: string, analyzer: string): SandboxFinding {
  return {
    id,
    analyzerArn: analyzer,
    resource: ROLE,
    resourceType: 'AWS::IAM::Role',
    resourceOwnerAccount: PROD,
    findingType: 'UnusedIAMRole',
    status: 'ACTIVE',
    createdAt: AT,
    updatedAt: AT,
    analyzedAt: AT,
    details: [{ unusedIamRoleDetails: { lastAccessed: '2026-03-01T00:00:00.000Z' } }],
  };
}

function sharedBucket(
  id: string,
  analyzer: string,
  actions = ['s3:GetObject', 's3:ListBucket'],
): SandboxFinding {
  return {
    id,
    analyzerArn: analyzer,
    resource: BUCKET,
    resourceType: 'AWS::S3::Bucket',
    resourceOwnerAccount: PROD,
    findingType: 'ExternalAccess',
    status: 'ACTIVE',
    createdAt: AT,
    updatedAt: AT,
    analyzedAt: AT,
    details: [
      {
        externalAccessDetails: {
          principal: { AWS: '999988887777' },
          // The order AWS lists actions in does not make another problem.
          action: id.endsWith('b') ? [...actions].reverse() : actions,
          condition: {},
          isPublic: false,
          sources: [{ type: 'POLICY' }],
        },
      },
    ],
  };
}

function org(findings: SandboxFinding[]): SandboxData {
  return {
    callerAccount: ADMIN_ACCOUNT,
    accounts: [
      { id: ADMIN_ACCOUNT, name: 'security' },
      { id: PROD, name: 'prod' },
    ],
    regions: [US, EU],
    analyzers: [
      analyzer(US_UNUSED, 'ORGANIZATION_UNUSED_ACCESS'),
      analyzer(EU_UNUSED, 'ORGANIZATION_UNUSED_ACCESS'),
      analyzer(ORG_EXTERNAL, 'ORGANIZATION'),
      analyzer(ACCOUNT_EXTERNAL, 'ACCOUNT'),
    ],
    findings: new SandboxFindings(findings),
    roles: [],
    users: [],
    resources: {},
  };
}

let config: AppConfig;
let aws: AwsSandbox;
let slack: FakeSlack;
let rt: Runtime;

async function start(findings: SandboxFinding[]) {
  aws = await startAwsSandbox({ data: org(findings) });
  rt = sandboxRuntime(config, aws);
  rt.startWorkers();
}

const scan = () => rt.scanNow({ timeoutMs: 20_000 });
const findingPosts = () =>
  slack.posted.filter(
    (p) => (p.metadata as { event_type?: string } | undefined)?.event_type === 'access_patrol_finding',
  );
const later = (minutes: number) => new Date(Date.parse(AT) + minutes * 60_000).toISOString();

beforeEach(() => {
  slack = fakeSlack();
  config = testConfig({
    regions: [US, EU],
    routing: [{ name: 'prod', match: { accountId: PROD }, channel: 'C0PROD001' }],
    scan: { expectedAnalyzerKinds: ['external'] },
    permissions: { admins: { users: ['U0ADMIN01'] } },
  });
});

afterEach(async () => {
  await rt?.close();
  await aws?.close();
  await wipePrefix(config.redis.keyPrefix);
});

describe('one card per natural key', () => {
  it('posts one card for an unused role two analyzers report, keeps it while one id is open, resolves it when both closed', async () => {
    await start([unusedRole('role-us', US_UNUSED), unusedRole('role-eu', EU_UNUSED)]);

    await scan();
    expect(findingPosts()).toHaveLength(1);
    const post = findingPosts()[0]!;
    const cardId = (post.metadata as { event_payload: { finding_id: string } }).event_payload.finding_id;
    expect(['role-us', 'role-eu']).toContain(cardId);
    const otherId = cardId === 'role-us' ? 'role-eu' : 'role-us';
    expect(await rt.deps.store.cardIdOf(otherId)).toBe(cardId);
    const members = await rt.deps.store.cardMembers(cardId);
    expect(members.map((m) => [m.id, m.status]).sort()).toEqual([
      ['role-eu', 'ACTIVE'],
      ['role-us', 'ACTIVE'],
    ]);
    // Counted once where people count findings.
    const listed = await rt.listenerDeps().listFindings({ findingType: 'UnusedIAMRole' });
    expect(listed.items.map((i) => i.id)).toEqual([cardId]);

    // A steady-state rescan: nothing to read, nothing to say.
    slack.reset();
    aws.requests.length = 0;
    await scan();
    expect(aws.counts().GetFindingV2 ?? 0).toBe(0);
    expect(slack.calls.filter((c) => c.method.startsWith('chat.'))).toEqual([]);

    // The card's own id closes; the other analyzer still reports the role: the card stays ACTIVE.
    aws.data.findings.update(cardId, { status: 'RESOLVED', updatedAt: later(10) });
    slack.reset();
    await scan();
    expect(slack.byMethod('chat.update')).toEqual([]);
    expect((await rt.deps.store.get(cardId))?.status).toBe('ACTIVE');

    // The last id closes: the card resolves, once.
    aws.data.findings.update(otherId, { status: 'RESOLVED', updatedAt: later(20) });
    slack.reset();
    await scan();
    const updates = slack.byMethod('chat.update');
    expect(updates).toHaveLength(1);
    expect(updates[0]!.args.ts).toBe(post.ts);
    expect(String(updates[0]!.args.text)).toMatch(/resolved/i);
    expect((await rt.deps.store.get(cardId))?.status).toBe('RESOLVED');
    expect((await rt.deps.store.cardMembers(cardId)).map((m) => m.status)).toEqual(['RESOLVED', 'RESOLVED']);
  });

  it('joins a second id that appears later to the existing card without a new message', async () => {
    await start([unusedRole('role-us', US_UNUSED)]);
    await scan();
    expect(findingPosts()).toHaveLength(1);

    // A new delegated administrator's analyzer reports "new instances of the same findings".
    aws.data.findings.add(unusedRole('role-eu', EU_UNUSED));
    slack.reset();
    await scan();
    expect(slack.calls.filter((c) => c.method.startsWith('chat.'))).toEqual([]);
    expect(await rt.deps.store.cardIdOf('role-eu')).toBe('role-us');
  });

  it('reopens a resolved card when another id of it is ACTIVE again', async () => {
    await start([unusedRole('role-us', US_UNUSED)]);
    await scan();
    const post = findingPosts()[0]!;
    aws.data.findings.update('role-us', { status: 'RESOLVED', updatedAt: later(5) });
    await scan();
    expect((await rt.deps.store.get('role-us'))?.status).toBe('RESOLVED');

    aws.data.findings.add(unusedRole('role-eu', EU_UNUSED));
    slack.reset();
    await scan();
    expect(slack.byMethod('chat.postMessage')).toEqual([]);
    const update = slack.byMethod('chat.update')[0]!;
    expect(update.args.ts).toBe(post.ts);
    expect(String(update.args.text)).not.toMatch(/resolved/i);
    const state = await rt.deps.store.get('role-us');
    expect(state?.status).toBe('ACTIVE');
    // The card's first id stays what AWS says of it, so its next listing is compared with that.
    expect(state?.ownStatus).toBe('RESOLVED');
  });

  it('keeps one card for a grant an account and an organisation analyzer both report', async () => {
    await start([sharedBucket('ext-a', ORG_EXTERNAL), sharedBucket('ext-b', ACCOUNT_EXTERNAL)]);
    await scan();
    expect(findingPosts()).toHaveLength(1);
    // A different grant on the same bucket is another problem.
    aws.data.findings.add(sharedBucket('ext-c', ORG_EXTERNAL, ['s3:PutObject']));
    await scan();
    expect(
      findingPosts().map(
        (p) => (p.metadata as { event_payload: { finding_id: string } }).event_payload.finding_id,
      ),
    ).toEqual([expect.stringMatching(/^ext-[ab]$/), 'ext-c']);
    expect(await rt.deps.store.cardIdOf('ext-c')).toBe('ext-c');
  });

  it('archives every id of the card, one UpdateFindings per analyzer', async () => {
    await start([sharedBucket('ext-a', ORG_EXTERNAL), sharedBucket('ext-b', ACCOUNT_EXTERNAL)]);
    await scan();
    const cardId = (findingPosts()[0]!.metadata as { event_payload: { finding_id: string } }).event_payload
      .finding_id;
    const actions: ActionEvents = await actionEvents(rt, config);
    try {
      aws.requests.length = 0;
      const data = {
        findingId: cardId,
        analyzerArn: ORG_EXTERNAL,
        region: US,
        userId: 'U0ALICE01',
        replyChannel: 'C0PROD001',
        requestTs: '1795000000.000100',
        reason: 'shared with the auditors on purpose',
      };
      await actions.run(JOBS.archive, data, jobId(JOBS.archive, cardId, data.requestTs));
      const updates = aws.requests.filter((r) => r.operation === 'UpdateFindings');
      expect(updates).toHaveLength(2);
      expect(aws.data.findings.get('ext-a')?.status).toBe('ARCHIVED');
      expect(aws.data.findings.get('ext-b')?.status).toBe('ARCHIVED');

      // The next scan sees both ids gone from the ACTIVE list and leaves the card as archived.
      slack.reset();
      await scan();
      expect(slack.byMethod('chat.update')).toEqual([]);
      const state = await rt.deps.store.get(cardId);
      expect(state?.status).toBe('ARCHIVED');
      expect(state?.archivedBy).toBe('U0ALICE01');
    } finally {
      await actions.close();
    }
  });

  it('acts through an id whose analyzer is still ACTIVE when the first one was disabled', async () => {
    await start([unusedRole('role-us', US_UNUSED), unusedRole('role-eu', EU_UNUSED)]);
    await scan();
    const cardId = (findingPosts()[0]!.metadata as { event_payload: { finding_id: string } }).event_payload
      .finding_id;
    const cardAnalyzer = cardId === 'role-us' ? US_UNUSED : EU_UNUSED;
    const other =
      cardId === 'role-us' ? { id: 'role-eu', analyzer: EU_UNUSED } : { id: 'role-us', analyzer: US_UNUSED };
    // A former delegated administrator's analyzer: disabled, its findings unreadable.
    aws.data.analyzers.find((a) => a.arn === cardAnalyzer)!.status = 'DISABLED';
    await scan();
    const members = await rt.deps.store.cardMembers(cardId);
    expect(members.find((m) => m.id === cardId)?.live).toBe(false);

    const actions: ActionEvents = await actionEvents(rt, config);
    try {
      aws.requests.length = 0;
      const data = {
        findingId: cardId,
        analyzerArn: cardAnalyzer,
        region: cardAnalyzer.split(':')[3]!,
        userId: 'U0ALICE01',
        replyChannel: 'C0PROD001',
        requestTs: '1795000000.000200',
        reason: 'kept for disaster recovery',
      };
      await actions.run(JOBS.archive, data, jobId(JOBS.archive, cardId, data.requestTs));
      const updates = aws.requests.filter((r) => r.operation === 'UpdateFindings');
      expect(updates.map((u) => u.region)).toEqual([other.analyzer.split(':')[3]]);
      expect(aws.data.findings.get(other.id)?.status).toBe('ARCHIVED');
      expect(aws.data.findings.get(cardId)?.status).toBe('ACTIVE');
    } finally {
      await actions.close();
    }
  });

  it('resolves the card when its last id under a live analyzer closes, whatever a disabled analyzer last said', async () => {
    await start([unusedRole('role-us', US_UNUSED), unusedRole('role-eu', EU_UNUSED)]);
    await scan();
    const post = findingPosts()[0]!;
    const cardId = (post.metadata as { event_payload: { finding_id: string } }).event_payload.finding_id;
    const cardAnalyzer = cardId === 'role-us' ? US_UNUSED : EU_UNUSED;
    const otherId = cardId === 'role-us' ? 'role-eu' : 'role-us';
    aws.data.analyzers.find((a) => a.arn === cardAnalyzer)!.status = 'DISABLED';
    await scan();
    expect((await rt.deps.store.get(cardId))?.status).toBe('ACTIVE');

    aws.data.findings.update(otherId, { status: 'RESOLVED', updatedAt: later(30) });
    slack.reset();
    await scan();
    expect(slack.byMethod('chat.update').map((u) => u.args.ts)).toEqual([post.ts]);
    expect((await rt.deps.store.get(cardId))?.status).toBe('RESOLVED');

    // The analyzer comes back and still lists the first id as ACTIVE: the card reopens.
    aws.data.analyzers.find((a) => a.arn === cardAnalyzer)!.status = 'ACTIVE';
    slack.reset();
    await scan();
    expect(slack.byMethod('chat.update').map((u) => u.args.ts)).toEqual([post.ts]);
    expect((await rt.deps.store.get(cardId))?.status).toBe('ACTIVE');
  });

  it('answers /access show and /access archive with any id of the card, and archives all of its ids', async () => {
    await start([sharedBucket('ext-a', ORG_EXTERNAL), sharedBucket('ext-b', ACCOUNT_EXTERNAL)]);
    await scan();
    const cardId = (findingPosts()[0]!.metadata as { event_payload: { finding_id: string } }).event_payload
      .finding_id;
    const otherId = cardId === 'ext-a' ? 'ext-b' : 'ext-a';
    const receiver = await startReceiver(rt, { secret: 'natural-key-secret' });
    const actions = await actionEvents(rt, config);
    const responses = recordResponseBodies();
    try {
      await receiver.post(slashCommandBody({ text: `show ${otherId}`, user_id: 'U0ADMIN01' }));
      await expect.poll(() => responses.length).toBe(1);
      expect(JSON.stringify(responses[0])).toContain(cardId);
      expect(JSON.stringify(responses[0])).toContain('shared-reports');

      await receiver.post(
        slashCommandBody({
          text: `archive ${otherId} --reason "auditors"`,
          user_id: 'U0ADMIN01',
          trigger_id: '777.888.trig',
        }),
      );
      await actions.finished(jobId(JOBS.archive, cardId, '777.888.trig'));
      expect(aws.data.findings.get('ext-a')?.status).toBe('ARCHIVED');
      expect(aws.data.findings.get('ext-b')?.status).toBe('ARCHIVED');
      const entries = await rt.deps.audit.query({ findingId: cardId });
      expect(entries.map((e) => e.outcome)).toEqual(['succeeded', 'requested']);
    } finally {
      await actions.close();
      await receiver.stop();
    }
  });

  it('unarchives every archived id of the card', async () => {
    await start([unusedRole('role-us', US_UNUSED), unusedRole('role-eu', EU_UNUSED)]);
    await scan();
    const cardId = (findingPosts()[0]!.metadata as { event_payload: { finding_id: string } }).event_payload
      .finding_id;
    const actions = await actionEvents(rt, config);
    try {
      const base = {
        findingId: cardId,
        analyzerArn: US_UNUSED,
        region: US,
        userId: 'U0ADMIN01',
        replyChannel: 'C0PROD001',
      };
      await actions.run(
        JOBS.archive,
        { ...base, requestTs: '1.1', reason: 'batch is seasonal' },
        'archive-nk-1',
      );
      expect([...aws.data.findings.all()].map((f) => f.status)).toEqual(['ARCHIVED', 'ARCHIVED']);
      await actions.run(JOBS.unarchive, { ...base, requestTs: '1.2' }, 'unarchive-nk-1');
      expect([...aws.data.findings.all()].map((f) => f.status)).toEqual(['ACTIVE', 'ACTIVE']);
      expect((await rt.deps.store.cardMembers(cardId)).map((m) => m.status)).toEqual(['ACTIVE', 'ACTIVE']);
      // The next scan keeps the one card ACTIVE.
      await scan();
      expect(findingPosts()).toHaveLength(1);
      expect((await rt.deps.store.get(cardId))?.status).toBe('ACTIVE');
    } finally {
      await actions.close();
    }
  });
});
