// The one-click fixes from the finding card, through the real Bolt receiver, real Redis and BullMQ,
// and the AWS sandbox (S3 Block Public Access, IAM keys, passwords and trust policies over their
// wire protocols, the member account reached through the assumed role); Slack behind nock.

import { Writable } from 'node:stream';
import type { Job } from 'bullmq';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
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
import type { FixKind } from '../../src/findings/card-actions.ts';
import { createLogger } from '../../src/log.ts';
import { JOBS } from '../../src/queue/index.ts';
import type { Runtime } from '../../src/runtime.ts';
import { type FakeSlack, fakeSlack } from '../helpers/fake-slack.ts';
import { sandboxRuntime, testConfig } from '../helpers/runtime.ts';
import { displayedBlocks, displayedCode } from '../helpers/slack-display.ts';
import { blockActionBody } from '../helpers/slack-requests.ts';
import {
  type ActionEvents,
  clickCard,
  clickFix,
  failOnce,
  lastButton,
  type Receiver,
  recordResponseBodies,
  sandboxRequests,
  startTriage,
  stopTriage,
} from '../helpers/triage.ts';

const SECRET = 'fixes-secret';
const ADMIN = 'U0ADMIN01';
const NOBODY = 'U0NOBODY1';

let config: AppConfig;
let aws: AwsSandbox;
let slack: FakeSlack;
let rt: Runtime;
let receiver: Receiver;
let actions: ActionEvents;
let responses: Record<string, unknown>[];
/** Every log line the runtime wrote (debug and up). */
let logs: string[];

interface Case {
  kind: FixKind;
  id: string;
  analyzer: string;
  actionId: string;
  /** What AWS has now, for deep-equal before/after comparisons. */
  state(): unknown;
  /** Someone fixes it outside the bot. */
  fixElsewhere(): void;
  /** The calls that change AWS. */
  writes: string[];
}

const user = (account: string, name: string) =>
  aws.data.users.find((u) => u.account === account && u.name === name)!;
const role = (account: string, name: string) =>
  aws.data.roles.find((r) => r.account === account && r.name === name)!;

const CASES: Case[] = [
  {
    kind: 'block-public-access',
    id: DEMO_FINDING_IDS.publicBucketLogsProd,
    analyzer: DEMO_ANALYZERS.usExternal,
    actionId: ACTION_IDS.blockPublicAccess,
    state: () => structuredClone(aws.data.buckets!['logs-prod']!.publicAccessBlock ?? null),
    fixElsewhere: () => {
      aws.data.buckets!['logs-prod']!.publicAccessBlock = {
        BlockPublicAcls: true,
        IgnorePublicAcls: true,
        BlockPublicPolicy: true,
        RestrictPublicBuckets: true,
      };
    },
    writes: ['PutPublicAccessBlock', 'DeletePublicAccessBlock'],
  },
  {
    kind: 'deactivate-key',
    id: DEMO_FINDING_IDS.unusedAccessKey,
    analyzer: DEMO_ANALYZERS.usUnused,
    actionId: ACTION_IDS.deactivateKey,
    state: () => structuredClone(user(DEMO_ACCOUNTS.staging, 'legacy-etl').accessKeys),
    fixElsewhere: () => {
      user(DEMO_ACCOUNTS.staging, 'legacy-etl').accessKeys![0]!.status = 'Inactive';
    },
    writes: ['UpdateAccessKey'],
  },
  {
    kind: 'remove-password',
    id: DEMO_FINDING_IDS.unusedPassword,
    analyzer: DEMO_ANALYZERS.usUnused,
    actionId: ACTION_IDS.removePassword,
    // A password cannot come back as it was: what Undo restores is that the user has one.
    state: () => user(DEMO_ACCOUNTS.securityTooling, 'alice.admin').loginProfile !== null,
    fixElsewhere: () => {
      user(DEMO_ACCOUNTS.securityTooling, 'alice.admin').loginProfile = null;
    },
    writes: ['DeleteLoginProfile', 'CreateLoginProfile'],
  },
  {
    kind: 'remove-external-access',
    id: DEMO_FINDING_IDS.roleTrustExternal,
    analyzer: DEMO_ANALYZERS.usExternal,
    actionId: ACTION_IDS.removeExternalAccess,
    state: () => structuredClone(role(DEMO_ACCOUNTS.staging, 'vendor-audit').assumeRolePolicyDocument),
    fixElsewhere: () => {
      role(DEMO_ACCOUNTS.staging, 'vendor-audit').assumeRolePolicyDocument = {
        Version: '2012-10-17',
        Statement: [
          { Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' },
        ],
      };
    },
    writes: ['UpdateAssumeRolePolicy'],
  },
];

const writes = (c: Case) =>
  aws.requests.filter((r) => c.writes.includes(r.operation) && r.status < 300).map((r) => r.operation);

/** The fix's button, or with `value` the Undo button of its receipt. */
const click = (c: Case, actionTs: string, who = ADMIN, value?: string) =>
  clickFix(rt, receiver, c, { actionTs, user: who, undo: value });

/** The Undo button's value from the fix receipt in the finding's thread. */
const undoValue = () => lastButton(slack.posted, ACTION_IDS.undoFix).value;

const audit = async (id: string) =>
  (await rt.deps.audit.query({ findingId: id })).map((e) => `${e.action} ${e.outcome}`).reverse();

beforeEach(async () => {
  aws = await startAwsSandbox({ data: demoData(new Date(), { burst: false }) });
  slack = fakeSlack();
  // The workspace knows the admin, so the password DM can be opened (Slack refuses unknown users).
  slack.users['admin@example.com'] = { id: ADMIN };
  config = testConfig({
    regions: ['us-east-1'],
    scan: { expectedAnalyzerKinds: ['external', 'unused'] },
    organization: { memberRoleName: DEMO_MEMBER_ROLE.name, externalId: DEMO_MEMBER_ROLE.externalId },
    permissions: { admins: { users: [ADMIN] } },
    fixes: { rescanDelaySeconds: 0 },
  });
  responses = recordResponseBodies();
  logs = [];
  const destination = new Writable({
    write(chunk, _enc, done) {
      logs.push(String(chunk));
      done();
    },
  });
  rt = sandboxRuntime(config, aws, { logger: createLogger({ level: 'debug', destination }) });
  ({ actions, receiver } = await startTriage(rt, config, {
    secret: SECRET,
    forget: [slack, sandboxRequests(aws)],
  }));
});

afterEach(async () => {
  await stopTriage(rt, config, { actions, receiver });
  await aws.close();
});

describe.each(CASES)('$kind', (c) => {
  it('changes AWS once, resolves the finding, posts a receipt with Undo, and Undo restores exactly what was there', async () => {
    const original = c.state();
    await click(c, '1795000000.000100');
    await actions.settled(JOBS.fix);

    expect(c.state()).not.toEqual(original);
    expect(writes(c)).toHaveLength(1);
    expect(aws.data.findings.get(c.id)!.status).toBe('RESOLVED');
    const backupKey = JSON.parse(undoValue()).k as string;
    expect(await rt.deps.fixBackups.get(backupKey)).toMatchObject({
      kind: c.kind,
      findingId: c.id,
      by: ADMIN,
    });
    expect(await audit(c.id)).toEqual([`${c.kind} requested`, `${c.kind} succeeded`]);
    const redrawn = JSON.stringify(slack.byMethod('chat.update').at(-1)!.args.blocks);
    expect(redrawn).toContain('Resolved');

    await click(c, '1795000009.000100', ADMIN, undoValue());
    await actions.settled(JOBS.fixUndo);

    expect(c.state()).toEqual(original);
    expect(writes(c)).toHaveLength(2);
    expect(aws.data.findings.get(c.id)!.status).toBe('ACTIVE');
    expect(await audit(c.id)).toEqual([
      `${c.kind} requested`,
      `${c.kind} succeeded`,
      `${c.kind}-undo requested`,
      `${c.kind}-undo succeeded`,
    ]);
  });

  it('refuses someone who is not allowed: nothing changes in AWS, and the refusal is audited', async () => {
    const original = c.state();
    await click(c, '1795000000.000200', NOBODY);
    await expect.poll(() => responses.length).toBeGreaterThan(0);
    expect(JSON.stringify(responses)).toMatch(/Only admins can /);
    expect(await actions.jobsNamed(JOBS.fix)).toHaveLength(0);
    expect(writes(c)).toEqual([]);
    expect(c.state()).toEqual(original);
    expect(await audit(c.id)).toEqual([`${c.kind} refused`]);
  });

  it('changes nothing on a stale click (already fixed in AWS) and says why', async () => {
    c.fixElsewhere();
    const fixed = c.state();
    await click(c, '1795000000.000300');
    await actions.settled(JOBS.fix);
    expect(writes(c)).toEqual([]);
    expect(c.state()).toEqual(fixed);
    const told = slack.byMethod('chat.postEphemeral').map((e) => String(e.args.text));
    expect(told.some((t) => t.startsWith('Nothing was done'))).toBe(true);
    expect((await audit(c.id)).at(-1)).toBe(`${c.kind} stale`);
  });

  it('makes one AWS change for a double click (two action_ts)', async () => {
    await click(c, '1795000000.000400');
    await new Promise((r) => setTimeout(r, 100));
    await click(c, '1795000000.000500');
    await actions.settled(JOBS.fix);
    await new Promise((r) => setTimeout(r, 300));
    expect(writes(c)).toHaveLength(1);
    expect(await actions.jobsNamed(JOBS.fix)).toHaveLength(1);
  });

  it('reports what was done when a later step fails, keeps the backup, and Undo still works', async () => {
    const original = c.state();
    // The receipt's thread post fails once after AWS was changed: the retry goes on from the backup.
    failOnce(
      rt.deps.slack,
      'post',
      ((_ch: string, _m: unknown, o?: { threadTs?: string }) => !!o?.threadTs) as never,
    );
    if (c.kind === 'block-public-access') {
      aws.faults.internalError.push({ region: 'us-east-1', operation: 'StartResourceScan' });
    }
    await click(c, '1795000000.000600');
    await actions.settled(JOBS.fix);
    expect(writes(c)).toHaveLength(1);
    const receipt = slack.posted.find((p) => JSON.stringify(p.blocks ?? '').includes(ACTION_IDS.undoFix))!;
    expect(JSON.stringify(receipt.blocks)).toContain('Done');
    if (c.kind === 'block-public-access') expect(JSON.stringify(receipt.blocks)).toContain('Not done');
    const backupKey = JSON.parse(undoValue()).k as string;
    expect(await rt.deps.fixBackups.get(backupKey)).not.toBeNull();

    aws.faults.internalError.length = 0;
    await click(c, '1795000009.000600', ADMIN, undoValue());
    await actions.settled(JOBS.fixUndo);
    expect(c.state()).toEqual(original);
  });
});

describe('block public access and the account-level settings (S3 control)', () => {
  const c = CASES.find((x) => x.kind === 'block-public-access')!;
  const receiptText = () =>
    JSON.stringify(
      slack.posted.find((p) => JSON.stringify(p.blocks ?? '').includes(ACTION_IDS.undoFix))!.blocks,
    );

  it('reads them in the bucket’s account and says the bucket’s own settings are what blocks when the account has none', async () => {
    await click(c, '1795000000.000810');
    await actions.settled(JOBS.fix);
    expect(writes(c)).toEqual(['PutPublicAccessBlock']);
    expect(
      aws.requests
        .filter((r) => r.service === 's3control')
        .map((r) => `${r.operation} ${r.status} ${r.account}`),
    ).toContain(`GetPublicAccessBlock 404 ${DEMO_ACCOUNTS.prod}`);
    expect(receiptText()).toContain(
      `Account ${DEMO_ACCOUNTS.prod} has no account-level Block Public Access: the bucket's own settings`,
    );
  });

  it('says when the account’s settings do not block public access on their own', async () => {
    aws.data.accountPublicAccessBlocks = {
      [DEMO_ACCOUNTS.prod]: {
        BlockPublicAcls: true,
        IgnorePublicAcls: false,
        BlockPublicPolicy: true,
        RestrictPublicBuckets: false,
      },
    };
    await click(c, '1795000000.000820');
    await actions.settled(JOBS.fix);
    expect(writes(c)).toEqual(['PutPublicAccessBlock']);
    expect(receiptText()).toContain(
      `Account-level Block Public Access of account ${DEMO_ACCOUNTS.prod}: BlockPublicAcls, BlockPublicPolicy. It does not block public access on its own`,
    );
  });

  it('changes nothing when the account already blocks public access, and says that is what blocks', async () => {
    aws.data.accountPublicAccessBlocks = {
      [DEMO_ACCOUNTS.prod]: {
        BlockPublicAcls: true,
        IgnorePublicAcls: true,
        BlockPublicPolicy: true,
        RestrictPublicBuckets: true,
      },
    };
    const original = c.state();
    await click(c, '1795000000.000830');
    await actions.settled(JOBS.fix);
    expect(writes(c)).toEqual([]);
    expect(c.state()).toEqual(original);
    const told = slack.byMethod('chat.postEphemeral').map((e) => String(e.args.text));
    expect(
      told.some(
        (t) => t.startsWith('Nothing was done') && t.includes('account-level Block Public Access on'),
      ),
    ).toBe(true);
    expect((await audit(c.id)).at(-1)).toBe(`${c.kind} stale`);
  });
});

describe('a button that names no backup', () => {
  it('answers Undo and Delete key without a backup reference, and queues nothing', async () => {
    const c = CASES.find((x) => x.kind === 'deactivate-key')!;
    const ref = encodeFindingRef({ f: c.id, a: c.analyzer, r: 'us-east-1' });
    await click(c, '1795000000.000990', ADMIN, ref);
    const state = (await rt.deps.store.get(c.id))!;
    await receiver.post(
      blockActionBody({
        actionId: ACTION_IDS.deleteKey,
        value: ref,
        user: { id: ADMIN },
        channel: { id: state.channel!, name: 'sec-alerts' },
        messageTs: state.ts!,
        actionTs: '1795000000.000991',
      }),
    );
    await expect
      .poll(() => responses.filter((r) => String(r.text).includes('carries no backup reference')).length)
      .toBe(2);
    expect(await actions.jobsNamed(JOBS.fixUndo)).toEqual([]);
    expect(await actions.jobsNamed(JOBS.deleteKey)).toEqual([]);
    expect(await audit(c.id)).toEqual([]);
  });
});

describe('remove password', () => {
  const c = CASES.find((x) => x.kind === 'remove-password')!;
  it('gives the new password only to the person who clicked Undo, by DM; never in a channel, the audit or the logs', async () => {
    await click(c, '1795000000.000700');
    await actions.settled(JOBS.fix);
    await click(c, '1795000009.000700', ADMIN, undoValue());
    await actions.settled(JOBS.fixUndo);

    const dm = slack.posted.filter((p) => p.channel.startsWith('D'));
    expect(dm).toHaveLength(1);
    expect(dm[0]!.channel).toBe(`D${ADMIN.slice(1)}`);
    // The password is the DM's second line, in code, exactly as IAM has it.
    const codes = displayedCode(dm[0]!.blocks);
    expect(codes.slice(0, 2)).toEqual(['alice.admin', DEMO_ACCOUNTS.securityTooling]);
    const password = codes[2];
    expect(password).toMatch(/^\S{24}$/);
    expect(displayedBlocks(dm[0]!.blocks)[0]!.split('\n')[1]).toBe(password);
    const alice = user(DEMO_ACCOUNTS.securityTooling, 'alice.admin');
    expect(alice.loginProfile?.passwordResetRequired).toBe(true);
    // The thread's Undo receipt says where the password went, in words Slack shows as written.
    const receipt = slack.posted
      .filter((p) => !p.channel.startsWith('D'))
      .map((p) => displayedBlocks(p.blocks).join('\n'))
      .find((t) => t.includes('sent the new password'));
    expect(receipt).toContain('sent the new password to the person who clicked Undo only, by direct message');
    expect(receipt).not.toMatch(/<[@!#]/);
    const elsewhere = [
      ...slack.posted.filter((p) => !p.channel.startsWith('D')),
      ...slack.byMethod('chat.postEphemeral').map((x) => x.args),
      ...slack.byMethod('chat.update').map((x) => x.args),
    ];
    expect(JSON.stringify(elsewhere)).not.toContain(password!);
    expect(JSON.stringify(await rt.deps.audit.query({}))).not.toContain(password!);
    expect(JSON.stringify(responses)).not.toContain(password!);
    expect(logs.length).toBeGreaterThan(0);
    expect(logs.filter((l) => l.includes(password!)).map((l) => l.slice(0, 400))).toEqual([]);
    const jobs = await actions.jobsNamed(JOBS.fixUndo);
    expect(JSON.stringify(jobs.map((j) => [j.data, j.returnvalue]))).not.toContain(password!);
  });

  it('changes nothing on Undo when no direct message can be opened to the person who clicked', async () => {
    await click(c, '1795000000.000710');
    await actions.settled(JOBS.fix);
    const fixed = c.state();
    slack.failNext('conversations.open', 1, 'user_disabled');
    await click(c, '1795000009.000710', ADMIN, undoValue());
    await actions.settled(JOBS.fixUndo);

    expect(c.state()).toEqual(fixed);
    expect(writes(c)).toEqual(['DeleteLoginProfile']);
    expect(slack.posted.filter((p) => p.channel.startsWith('D'))).toEqual([]);
    const told = slack.byMethod('chat.postEphemeral').map((e) => String(e.args.text));
    expect(told.at(-1)).toMatch(
      /^Nothing was done \(undo the fix\): a direct message to you could not be opened \(.*user_disabled/,
    );
    expect((await audit(c.id)).at(-1)).toBe(`${c.kind}-undo failed`);
  });
});

describe('delete key, offered after Deactivate key', () => {
  const c = CASES.find((x) => x.kind === 'deactivate-key')!;
  const KEY = 'AKIAIOSFODNN7LEGACY1';
  const DAYS = 30;
  const keys = () => user(DEMO_ACCOUNTS.staging, 'legacy-etl').accessKeys ?? [];

  /** Clicks the Delete key button of the offer in the finding's thread. */
  const clickDelete = (actionTs: string, who = ADMIN) =>
    clickCard(rt, receiver, {
      findingId: c.id,
      analyzer: c.analyzer,
      actionId: ACTION_IDS.deleteKey,
      value: lastButton(slack.posted, ACTION_IDS.deleteKey).value,
      user: who,
      channelName: 'sec-alerts',
      actionTs,
    });

  /** Deactivates the key, then runs the offer its fix scheduled as if the days had passed. */
  async function deactivateAndOffer(): Promise<Job> {
    await click(c, '1795000000.000900');
    await actions.settled(JOBS.fix);
    const [offer] = await actions.jobsNamed(JOBS.keyDeletionOffer);
    expect(offer).toBeDefined();
    expect(await offer!.getState()).toBe('delayed');
    expect(offer!.opts.delay).toBe(DAYS * 86_400_000);
    await offer!.promote();
    await actions.settled(JOBS.keyDeletionOffer);
    return offer!;
  }

  const later = (days: number) => {
    const at = Date.now() + days * 86_400_000;
    (rt.deps as { now: () => Date }).now = () => new Date(at);
  };

  it('offers Delete key in the thread after the days, deletes it (with its user name) once for a double click, and says it cannot be undone', async () => {
    await deactivateAndOffer();
    const offer = slack.posted.find((p) => JSON.stringify(p.blocks ?? '').includes(ACTION_IDS.deleteKey))!;
    const card = (await rt.deps.store.get(c.id))!;
    expect(offer.thread_ts).toBe(card.threadTs ?? card.ts);
    expect(String(offer.text)).toBe(
      `Access key ${KEY} of user legacy-etl has been inactive for ${DAYS} days: it can be deleted`,
    );

    later(DAYS + 1);
    await clickDelete('1795000100.000100');
    await new Promise((r) => setTimeout(r, 100));
    await clickDelete('1795000100.000200');
    await actions.settled(JOBS.deleteKey);

    expect(keys().map((k) => k.id)).not.toContain(KEY);
    expect(aws.requests.filter((r) => r.operation === 'DeleteAccessKey').map((r) => r.status)).toEqual([200]);
    expect(await actions.jobsNamed(JOBS.deleteKey)).toHaveLength(1);
    const receipt = slack.posted.find((p) => String(p.text).includes('deleted access key'))!;
    expect(String(receipt.text)).toBe(`${ADMIN} deleted access key ${KEY} of user legacy-etl`);
    expect(JSON.stringify(receipt.blocks)).toContain('DeleteAccessKey cannot be undone');
    expect(await audit(c.id)).toEqual([
      'deactivate-key requested',
      'deactivate-key succeeded',
      'delete-key requested',
      'delete-key succeeded',
    ]);
  });

  it('refuses a member (admins only), and changes nothing before the key has been inactive long enough', async () => {
    await deactivateAndOffer();
    await clickDelete('1795000100.000300', NOBODY);
    await expect.poll(() => JSON.stringify(responses)).toMatch(/Only admins can delete this access key/);
    expect(await actions.jobsNamed(JOBS.deleteKey)).toHaveLength(0);

    await clickDelete('1795000100.000400');
    await actions.settled(JOBS.deleteKey);
    expect(keys().find((k) => k.id === KEY)?.status).toBe('Inactive');
    expect(aws.requests.filter((r) => r.operation === 'DeleteAccessKey')).toEqual([]);
    const told = slack.byMethod('chat.postEphemeral').map((e) => String(e.args.text));
    expect(told.at(-1)).toMatch(
      /^Nothing was done \(delete the key\): access key \S+ of user legacy-etl has been inactive only since/,
    );
    expect((await audit(c.id)).slice(-3)).toEqual([
      'delete-key refused',
      'delete-key requested',
      'delete-key stale',
    ]);
  });

  it('deletes nothing when the key was turned on and used after the fix', async () => {
    await deactivateAndOffer();
    later(DAYS + 1);
    const key = keys().find((k) => k.id === KEY)!;
    key.lastUsed = {
      date: new Date(Date.now() + 86_400_000).toISOString(),
      service: 's3',
      region: 'us-east-1',
    };
    await clickDelete('1795000100.000500');
    await actions.settled(JOBS.deleteKey);
    expect(keys().find((k) => k.id === KEY)).toBeDefined();
    const told = slack.byMethod('chat.postEphemeral').map((e) => String(e.args.text));
    expect(told.at(-1)).toMatch(/signed a request on .*after it was made inactive/);
  });

  it('offers nothing when the key is active again (Undo) by then', async () => {
    await click(c, '1795000000.000910');
    await actions.settled(JOBS.fix);
    await click(c, '1795000009.000910', ADMIN, undoValue());
    await actions.settled(JOBS.fixUndo);
    const [offer] = await actions.jobsNamed(JOBS.keyDeletionOffer);
    await offer!.promote();
    await actions.settled(JOBS.keyDeletionOffer);
    expect(await offer!.getState()).toBe('completed');
    expect((await rt.queues.actions!.getJob(offer!.id!))?.returnvalue).toEqual({ outcome: 'active-again' });
    expect(slack.posted.some((p) => JSON.stringify(p.blocks ?? '').includes(ACTION_IDS.deleteKey))).toBe(
      false,
    );
  });

  // IAM answers NoSuchEntity for the user's keys: to the follow-ups that means the key is gone.
  const deleteUser = () => {
    aws.data.users = aws.data.users.filter(
      (u) => !(u.account === DEMO_ACCOUNTS.staging && u.name === 'legacy-etl'),
    );
  };

  it('offers nothing when the key’s user was deleted by then', async () => {
    await click(c, '1795000000.000920');
    await actions.settled(JOBS.fix);
    deleteUser();
    const [offer] = await actions.jobsNamed(JOBS.keyDeletionOffer);
    await offer!.promote();
    await actions.settled(JOBS.keyDeletionOffer);
    expect((await rt.queues.actions!.getJob(offer!.id!))?.returnvalue).toEqual({ outcome: 'gone' });
    expect(slack.posted.some((p) => JSON.stringify(p.blocks ?? '').includes(ACTION_IDS.deleteKey))).toBe(
      false,
    );
  });

  it('deletes nothing and says the key is gone when its user was deleted after the offer', async () => {
    await deactivateAndOffer();
    deleteUser();
    later(DAYS + 1);
    await clickDelete('1795000100.000600');
    await actions.settled(JOBS.deleteKey);
    expect(aws.requests.filter((r) => r.operation === 'DeleteAccessKey')).toEqual([]);
    const told = slack.byMethod('chat.postEphemeral').map((e) => String(e.args.text));
    expect(told.at(-1)).toBe(
      `Nothing was done (delete the key): access key ${KEY} of user legacy-etl no longer exists: it was deleted already.`,
    );
    expect((await audit(c.id)).at(-1)).toBe('delete-key stale');
  });

  it('fails Deactivate key, changing nothing, when the key’s user was deleted before the click', async () => {
    deleteUser();
    await click(c, '1795000000.000930');
    await actions.settled(JOBS.fix);
    expect(writes(c)).toEqual([]);
    expect(await audit(c.id)).toEqual(['deactivate-key requested', 'deactivate-key failed']);
    expect(await actions.jobsNamed(JOBS.keyDeletionOffer)).toEqual([]);
    const told = slack.byMethod('chat.postEphemeral').map((e) => String(e.args.text));
    expect(told.at(-1)).toMatch(/NoSuchEntity/);
  });
});

describe('remove external access', () => {
  const c = CASES.find((x) => x.kind === 'remove-external-access')!;
  it('shows the trust policy before and after, and proves with CheckNoNewAccess before updating it', async () => {
    await click(c, '1795000000.000800');
    await actions.settled(JOBS.fix);
    const ops = aws.requests.map((r) => r.operation);
    expect(ops.indexOf('CheckNoNewAccess')).toBeGreaterThan(-1);
    expect(ops.indexOf('CheckNoNewAccess')).toBeLessThan(ops.indexOf('UpdateAssumeRolePolicy'));
    const receipt = JSON.stringify(
      slack.posted.find((p) => JSON.stringify(p.blocks ?? '').includes(ACTION_IDS.undoFix))!.blocks,
    );
    expect(receipt).toContain('*Before*');
    expect(receipt).toContain('*After*');
    expect(receipt).toContain('999988887777');
    const doc = role(DEMO_ACCOUNTS.staging, 'vendor-audit').assumeRolePolicyDocument as {
      Statement: { Effect: string }[];
    };
    expect(doc.Statement.every((s) => s.Effect === 'Deny')).toBe(true);
  });
});
