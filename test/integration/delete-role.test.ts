// Deleting an unused role from Slack and restoring it, against the sandbox AWS server (real HTTP,
// the member account reached through the assumed role), real Redis and BullMQ, Slack behind nock.

import type { KnownBlock } from '@slack/types';
import type { Job } from 'bullmq';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ACTION_IDS } from '../../blocks/ids.ts';
import { preformattedText } from '../../blocks/limits.ts';
import { type AwsSandbox, startAwsSandbox } from '../../sandbox/aws.ts';
import {
  DEMO_ACCOUNTS,
  DEMO_ANALYZERS,
  DEMO_FINDING_IDS,
  DEMO_MEMBER_ROLE,
  demoData,
} from '../../sandbox/fixtures/demo-org.ts';
import type { AppConfig } from '../../src/config/schema.ts';
import { type ActionJobData, type ActionRequest, JOBS, jobId } from '../../src/queue/index.ts';
import type { Runtime } from '../../src/runtime.ts';
import { type FakeSlack, fakeSlack } from '../helpers/fake-slack.ts';
import { sandboxRuntime, testConfig, wipePrefix } from '../helpers/runtime.ts';
import { displayedBlocks, liveMarkup } from '../helpers/slack-display.ts';
import { type ActionEvents, actionEvents, failOnce } from '../helpers/triage.ts';

const ADMIN = 'U0ADMIN01';
const ID = DEMO_FINDING_IDS.unusedRoleCiDeployer;
const PROD = DEMO_ACCOUNTS.prod;

let config: AppConfig;
let aws: AwsSandbox;
let slack: FakeSlack;
let rt: Runtime;
let actions: ActionEvents;

const request = (requestTs = '1795000000.000100'): ActionRequest => ({
  findingId: ID,
  analyzerArn: DEMO_ANALYZERS.usUnused,
  region: 'us-east-1',
  userId: ADMIN,
  replyChannel: 'C0PLATFORM1',
  requestTs,
});

function run(name: string, data: ActionJobData) {
  return actions
    .run(name, data, jobId(name, (data as ActionRequest).findingId, data.requestTs))
    .catch((err: Error) => ({ error: err.message }));
}

const ciDeployer = () => aws.data.roles.find((r) => r.account === PROD && r.name === 'ci-deployer');
const mutating = () =>
  aws.requests
    .filter((r) => r.service === 'iam' && /^(Delete|Detach|Remove|Create|Put|Attach|Add)/.test(r.operation))
    .map((r) => r.operation);

beforeEach(async () => {
  aws = await startAwsSandbox({ data: demoData(new Date(), { burst: false }) });
  slack = fakeSlack();
  config = testConfig({
    regions: ['us-east-1'],
    scan: { expectedAnalyzerKinds: ['external', 'unused'] },
    organization: { memberRoleName: DEMO_MEMBER_ROLE.name, externalId: DEMO_MEMBER_ROLE.externalId },
    permissions: { admins: { users: [ADMIN] } },
    // The cards offer Delete role (and Quarantine role).
    roles: { unusedRole: 'both' },
  });
  rt = sandboxRuntime(config, aws);
  rt.startWorkers();
  actions = await actionEvents(rt, config);
  await rt.scanNow({ timeoutMs: 20_000 });
  slack.reset();
  aws.requests.length = 0;
});

afterEach(async () => {
  await actions.close();
  await rt.close();
  await aws.close();
  await wipePrefix(config.redis.keyPrefix);
});

describe('delete an unused role', () => {
  it('fills the confirm modal with the role, its last use and exactly what will be removed', async () => {
    await run(JOBS.deleteRolePreview, { ...request(), viewId: 'V0CONFIRM1' });

    const update = slack.byMethod('views.update')[0]!;
    expect(update.args.view_id).toBe('V0CONFIRM1');
    const view = String(update.args.view);
    expect(view).toContain('ci-deployer');
    expect(view).toContain(PROD);
    expect(view).toMatch(/last used \d{4}-\d{2}-\d{2}/);
    expect(view).toContain('arn:aws:iam::aws:policy/ReadOnlyAccess');
    expect(view).toContain('ecr-push');
    expect(view).toContain('"submit"');
    expect(mutating()).toEqual([]);
  });

  it('backs the role up, deletes it, shows who deleted it with a Restore button, and restores it exactly', async () => {
    const before = await rt.deps.iam.inspectRole(PROD, 'ci-deployer');

    expect(await run(JOBS.deleteRole, request())).toEqual({ outcome: 'succeeded' });

    expect(ciDeployer()).toBeUndefined();
    expect(mutating().filter((o) => o === 'DeleteRole')).toHaveLength(1);
    const state = (await rt.deps.store.get(ID))!;
    expect(state).toMatchObject({ deletedBy: ADMIN });
    const backup = (await rt.deps.backups.get(state.backupKey!))!;
    expect(backup.attachedPolicyArns).toEqual(before!.attachedPolicies.map((p) => p.arn));
    expect(backup.inlinePolicies).toEqual(before!.inlinePolicies);
    // The finding sits in a burst summary's thread, so its record goes there too.
    const threadTexts = slack.posted
      .filter((p) => p.thread_ts === (state.threadTs ?? state.ts) && !p.text.startsWith('['))
      .map((p) => p.text);
    expect(threadTexts).toEqual([
      expect.stringMatching(/^Backup of role ci-deployer/),
      'Role ci-deployer deleted',
    ]);
    const redrawn = JSON.stringify(slack.byMethod('chat.update').at(-1)!.args.blocks);
    expect(displayedBlocks(slack.byMethod('chat.update').at(-1)!.args.blocks)[0]).toMatch(
      new RegExp(`^🗑️ Role deleted \\d{4}-\\d{2}-\\d{2} by @${ADMIN}: a backup is kept`),
    );
    expect(redrawn).toContain(ACTION_IDS.restoreRole);
    expect(redrawn).not.toContain(ACTION_IDS.deleteRole);

    expect(
      await run(JOBS.restoreRole, { ...request('1795000001.000100'), backupKey: state.backupKey! }),
    ).toEqual({
      outcome: 'succeeded',
    });

    const after = (await rt.deps.iam.inspectRole(PROD, 'ci-deployer'))!;
    expect(after.attachedPolicies).toEqual(before!.attachedPolicies);
    expect(after.inlinePolicies).toEqual(before!.inlinePolicies);
    expect(after.tags).toEqual(before!.tags);
    expect(JSON.parse(after.assumeRolePolicyDocument)).toEqual(JSON.parse(before!.assumeRolePolicyDocument));
    expect(after.description).toBe(before!.description);
    expect((await rt.deps.store.get(ID))?.deletedBy).toBeUndefined();
    const entries = await rt.deps.audit.query({ findingId: ID });
    expect(entries.map((e) => `${e.action} ${e.outcome}`)).toEqual([
      'restore-role succeeded',
      'delete-role succeeded',
    ]);
  });

  it('keeps the Restore button when AWS later resolves the finding', async () => {
    await run(JOBS.deleteRole, request());
    aws.data.findings.update(ID, { status: 'RESOLVED', updatedAt: new Date().toISOString() });
    slack.reset();

    await rt.scanNow({ timeoutMs: 20_000 });

    const redrawn = JSON.stringify(slack.byMethod('chat.update').at(-1)!.args.blocks);
    expect(redrawn).toContain('Resolved');
    expect(redrawn).toContain(ACTION_IDS.restoreRole);
  });

  it('posts the exact backup in the thread: the posted JSON parses back to the stored backup', async () => {
    // IAM allows these in a policy; a mrkdwn snippet would eat the `*`, turn <!channel> live or
    // change the backticks. A long statement forces the backup over several blocks and messages.
    const role = ciDeployer()!;
    const wildcards = {
      Version: '2012-10-17',
      Statement: [
        {
          Sid: 'AllowAll',
          Effect: 'Allow',
          Action: ['s3:Get*', 'ecr:*'],
          Resource: '*',
          Condition: {
            StringLike: { 'aws:PrincipalTag/team': ['*_ops_*', '`x`', '<!channel>', '~a~ & b'] },
          },
        },
        ...Array.from({ length: 60 }, (_, i) => ({
          Sid: `Bucket${i}`,
          Effect: 'Allow',
          Action: 's3:*',
          Resource: `arn:aws:s3:::data-${i}-${'x'.repeat(150)}/*`,
        })),
      ],
    };
    role.inlinePolicies = { ...role.inlinePolicies, wildcards };

    expect(await run(JOBS.deleteRole, request())).toEqual({ outcome: 'succeeded' });

    const state = (await rt.deps.store.get(ID))!;
    const stored = (await rt.deps.backups.get(state.backupKey!))!;
    const parts = slack.posted.filter((p) => p.text.startsWith('Backup of role ci-deployer'));
    expect(parts.length).toBeGreaterThan(1);
    expect(parts.map((p) => p.text)).toEqual(
      parts.map((_, i) => `Backup of role ci-deployer (part ${i + 1} of ${parts.length})`),
    );
    // What a person copies: the preformatted blocks as Slack shows them, every part in order.
    const copied = parts
      .flatMap((p) =>
        displayedBlocks(p.blocks.filter((b) => preformattedText(b as KnownBlock) !== undefined)),
      )
      .join('');
    expect(JSON.parse(copied)).toEqual(stored);
    expect(JSON.parse(stored.inlinePolicies.find((p) => p.name === 'wildcards')!.document)).toEqual(
      wildcards,
    );
    for (const p of parts) expect(liveMarkup(p.blocks)).toEqual([]);
  });

  it('posts the backup to the thread before the first change: a backup it cannot post stops the deletion', async () => {
    slack.failPostsNext(10, 'fatal_error');

    await run(JOBS.deleteRole, request());

    expect(mutating()).toEqual([]);
    expect(ciDeployer()).toBeDefined();
    expect((await rt.deps.store.get(ID))?.deletedBy).toBeUndefined();
    expect(slack.byMethod('chat.postMessage').map((c) => String(c.args.text))).toContainEqual(
      expect.stringMatching(/^Backup of role ci-deployer/),
    );
  });

  it('refuses, changing nothing, when the role was used recently', async () => {
    ciDeployer()!.lastUsed = {
      date: new Date(Date.now() - 10 * 86_400_000).toISOString(),
      region: 'us-east-1',
    };

    const result = await run(JOBS.deleteRole, request());

    expect(result).toEqual({ error: expect.stringMatching(/less than 90 days ago/) });
    expect(mutating()).toEqual([]);
    expect(ciDeployer()).toBeDefined();
    const [entry] = await rt.deps.audit.query({ findingId: ID });
    expect(entry).toMatchObject({ action: 'delete-role', outcome: 'stale' });
    expect(slack.byMethod('chat.postEphemeral')[0]!.args.user).toBe(ADMIN);
  });

  it('refuses a role that carries the protection tag', async () => {
    ciDeployer()!.tags = { ...ciDeployer()!.tags, 'access-patrol:protect': 'true' };

    const result = await run(JOBS.deleteRole, request());

    expect(result).toEqual({ error: expect.stringMatching(/protection tag access-patrol:protect/) });
    expect(mutating()).toEqual([]);
  });

  it('names the member role and account when the role there cannot be assumed', async () => {
    aws.data.memberRole = { name: DEMO_MEMBER_ROLE.name, externalId: 'rotated-external-id' };

    const result = await run(JOBS.deleteRole, request());

    const expected = new RegExp(
      `cannot assume arn:aws:iam::${PROD}:role/${DEMO_MEMBER_ROLE.name} in account ${PROD}`,
    );
    expect(result).toEqual({ outcome: 'failed' });
    expect(mutating()).toEqual([]);
    expect(ciDeployer()).toBeDefined();
    const told = slack.byMethod('chat.postEphemeral')[0]!.args;
    expect(told.user).toBe(ADMIN);
    expect(JSON.stringify(told.blocks)).toMatch(expected);
    const [entry] = await rt.deps.audit.query({ findingId: ID });
    expect(entry).toMatchObject({
      action: 'delete-role',
      outcome: 'failed',
      error: expect.stringMatching(expected),
    });
  });

  it('deletes nothing from a Delete role button posted before roles.unusedRole became quarantine, says why, and redraws the card with Quarantine role', async () => {
    const card = (await rt.deps.store.get(ID))!;
    const posted = slack.byMethod('chat.postMessage').length;
    // The setting changes after the card (with its Delete role button) was posted.
    (rt.deps.config.roles as { unusedRole: string }).unusedRole = 'quarantine';

    await run(JOBS.deleteRolePreview, { ...request(), viewId: 'V0CONFIRM2' });
    const view = String(slack.byMethod('views.update').at(-1)!.args.view);
    expect(view).toContain('unused roles are quarantined here, not deleted');
    expect(view).not.toContain('"submit"');

    // A submission anyway (the confirm step was open before the change): nothing in AWS.
    expect(await run(JOBS.deleteRole, request('1795000000.000200'))).toEqual({ outcome: 'stale' });
    expect(mutating()).toEqual([]);
    expect(ciDeployer()).toBeDefined();
    expect(slack.byMethod('chat.postMessage')).toHaveLength(posted);
    const told = slack.byMethod('chat.postEphemeral').map((e) => String(e.args.text));
    expect(told.at(-1)).toMatch(/^Could not delete the role of: unused roles are quarantined here/);
    const [entry] = await rt.deps.audit.query({ findingId: ID });
    expect(entry).toMatchObject({ action: 'delete-role', outcome: 'stale' });
    // The card now offers what the setting says: Quarantine role, no Delete role.
    const redrawn = slack
      .byMethod('chat.update')
      .filter((u) => u.args.ts === card.ts)
      .at(-1)!;
    const buttons = JSON.stringify(redrawn.args.blocks);
    expect(buttons).toContain(ACTION_IDS.quarantineRole);
    expect(buttons).not.toContain(ACTION_IDS.deleteRole);
  });

  it('does nothing when the finding is no longer active', async () => {
    aws.data.findings.update(ID, { status: 'RESOLVED' });

    expect(await run(JOBS.deleteRole, request())).toEqual({ outcome: 'stale' });
    expect(mutating()).toEqual([]);
    expect(JSON.stringify(slack.byMethod('chat.update')[0]!.args.blocks)).toMatch(/Resolved/);
  });
});

describe('a restore retried after a step failed', () => {
  it('posts the restore receipt once when the audit append failed after it, and the role stays restored', async () => {
    expect(await run(JOBS.deleteRole, request())).toEqual({ outcome: 'succeeded' });
    const state = (await rt.deps.store.get(ID))!;
    failOnce(rt.deps.audit, 'record');
    const data = { ...request('1795000001.000100'), backupKey: state.backupKey! };
    // The retry follows at once here instead of after the queue's backoff.
    const job = (await rt.queues.actions.add(JOBS.restoreRole, data, {
      jobId: jobId(JOBS.restoreRole, ID, data.requestTs),
      backoff: { type: 'fixed', delay: 10 },
    })) as Job;

    expect(await job.waitUntilFinished(actions.events, 20_000)).toEqual({ outcome: 'succeeded' });

    expect((await rt.queues.actions.getJob(job.id!))!.attemptsMade).toBe(2);
    expect(ciDeployer()).toBeDefined();
    expect((await rt.deps.store.get(ID))?.deletedBy).toBeUndefined();
    const threadTexts = slack.posted
      .filter((p) => p.thread_ts === (state.threadTs ?? state.ts) && !p.text.startsWith('['))
      .map((p) => p.text);
    expect(threadTexts).toEqual([
      expect.stringMatching(/^Backup of role ci-deployer/),
      'Role ci-deployer deleted',
      'Role ci-deployer restored',
    ]);
    const entries = await rt.deps.audit.query({ findingId: ID });
    expect(entries.map((e) => `${e.action} ${e.outcome}`)).toEqual([
      'restore-role succeeded',
      'delete-role succeeded',
    ]);
  });
});
