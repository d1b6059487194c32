// The fixes made of several AWS calls, through the real Bolt receiver, real Redis and BullMQ, and the
// AWS sandbox: Quarantine role (PutRolePolicy + TagRole; Still needed lifts it; the quarantine's end
// deletes the role with a backup) and Apply recommendation (CreatePolicy, attach, detach; Undo
// reverses each step). A fix stopped half way by IAM's own limits says what it did and keeps its Undo.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ACTION_IDS } from '../../blocks/ids.ts';
import { QUARANTINE_POLICY_NAME, QUARANTINE_TAG_KEY } from '../../jobs/fixes/specs.ts';
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
import { sandboxRuntime, testConfig } from '../helpers/runtime.ts';
import { displayedBlocks } from '../helpers/slack-display.ts';
import {
  type ActionEvents,
  clickFix,
  lastButton,
  type Receiver,
  recordResponseBodies,
  sandboxRequests,
  startTriage,
  stopTriage,
} from '../helpers/triage.ts';

const SECRET = 'fixes-in-steps-secret';
const ADMIN = 'U0ADMIN01';
const NOBODY = 'U0NOBODY1';
const PROD = DEMO_ACCOUNTS.prod;

let config: AppConfig;
let aws: AwsSandbox;
let slack: FakeSlack;
let rt: Runtime;
let receiver: Receiver;
let actions: ActionEvents;
let responses: Record<string, unknown>[];

const role = (name: string) => aws.data.roles.find((r) => r.account === PROD && r.name === name);

const QUARANTINE: Target = {
  id: DEMO_FINDING_IDS.unusedRoleCiDeployer,
  analyzer: DEMO_ANALYZERS.usUnused,
  actionId: ACTION_IDS.quarantineRole,
};
const APPLY: Target = {
  id: DEMO_FINDING_IDS.unusedPermission,
  analyzer: DEMO_ANALYZERS.usUnused,
  actionId: ACTION_IDS.applyRecommendation,
};
interface Target {
  id: string;
  analyzer: string;
  actionId: string;
}

const OLD_POLICY = `arn:aws:iam::${PROD}:policy/app-backend-broad`;

/** What a quarantine touches on ci-deployer. */
const roleState = () =>
  structuredClone({ inline: role('ci-deployer')!.inlinePolicies, tags: role('ci-deployer')!.tags });
/** What a recommendation touches: app-backend's attached policies and the account's managed policies. */
const policyState = () =>
  structuredClone({ attached: role('app-backend')!.attachedPolicies, managed: aws.data.managedPolicies });

const succeededWrites = (ops: string[]) =>
  aws.requests.filter((r) => ops.includes(r.operation) && r.status < 300).map((r) => r.operation);
const failedWrites = (ops: string[]) =>
  aws.requests.filter((r) => ops.includes(r.operation) && r.status >= 300).map((r) => r.operation);
const QUARANTINE_WRITES = ['PutRolePolicy', 'TagRole', 'DeleteRolePolicy', 'UntagRole', 'DeleteRole'];
const POLICY_WRITES = ['CreatePolicy', 'AttachRolePolicy', 'DetachRolePolicy', 'DeletePolicy'];

/** The fix's button, or with `value` the Undo (or Still needed) button of its receipt. */
const click = (t: Target, actionTs: string, who = ADMIN, value?: string) =>
  clickFix(rt, receiver, t, { actionTs, user: who, undo: value });

/** The Undo (or Still needed) button last posted: its label and value. */
const undoButton = () => lastButton(slack.posted, ACTION_IDS.undoFix);

const audit = async (id: string) =>
  (await rt.deps.audit.query({ findingId: id })).map((e) => `${e.action} ${e.outcome}`).reverse();
/** What a person reads in the thread and channel posts (as the workspace renders them). */
const threadText = () => slack.posted.flatMap((p) => displayedBlocks(p.blocks)).join('\n');

beforeEach(async () => {
  aws = await startAwsSandbox({ data: demoData(new Date(), { burst: false }) });
  slack = fakeSlack();
  config = testConfig({
    regions: ['us-east-1'],
    scan: { expectedAnalyzerKinds: ['external', 'unused'] },
    organization: { memberRoleName: DEMO_MEMBER_ROLE.name, externalId: DEMO_MEMBER_ROLE.externalId },
    permissions: { admins: { users: [ADMIN] } },
    roles: { quarantineDays: 30 },
  });
  responses = recordResponseBodies();
  rt = sandboxRuntime(config, aws);
  ({ actions, receiver } = await startTriage(rt, config, {
    secret: SECRET,
    forget: [slack, sandboxRequests(aws)],
    afterScan: () => {
      // app-backend holds one broad customer managed policy, which AWS recommends replacing.
      role('app-backend')!.attachedPolicies = [OLD_POLICY];
      aws.data.managedPolicies = {
        ...aws.data.managedPolicies,
        [OLD_POLICY]: {
          Version: '2012-10-17',
          Statement: [{ Effect: 'Allow', Action: 's3:*', Resource: '*' }],
        },
      };
    },
  }));
});

afterEach(async () => {
  await stopTriage(rt, config, { actions, receiver });
  await aws.close();
});

describe('Quarantine role', () => {
  it('adds a deny-all policy and the dated tag, shows "quarantined until" with Still needed, and Still needed puts the role back exactly', async () => {
    const original = roleState();
    await click(QUARANTINE, '1795000000.000100');
    await actions.settled(JOBS.fix);

    const r = role('ci-deployer')!;
    expect(r.inlinePolicies?.[QUARANTINE_POLICY_NAME]).toEqual({
      Version: '2012-10-17',
      Statement: [{ Sid: 'AccessPatrolQuarantine', Effect: 'Deny', Action: '*', Resource: '*' }],
    });
    const today = new Date().toISOString().slice(0, 10);
    const until = new Date(Date.now() + 30 * 86_400_000).toISOString().slice(0, 10);
    expect(r.tags?.[QUARANTINE_TAG_KEY]).toBe(`${today}/${until}`);
    expect(succeededWrites(QUARANTINE_WRITES)).toEqual(['PutRolePolicy', 'TagRole']);
    // The card says so and offers Still needed instead of Quarantine role.
    const cardBlocks = slack.byMethod('chat.update').at(-1)!.args.blocks;
    const card = displayedBlocks(cardBlocks).join('\n');
    expect(card).toContain(`Quarantined by @${ADMIN} until ${until}`);
    expect(card).toContain('Still needed');
    expect(JSON.stringify(cardBlocks)).not.toContain(ACTION_IDS.quarantineRole);
    expect(threadText()).toContain(`Quarantined until ${until}`);
    expect(undoButton().label).toBe('Still needed');
    // The end is scheduled for the until date.
    const [end] = await actions.jobsNamed(JOBS.quarantineEnd);
    expect(await end!.getState()).toBe('delayed');
    expect(end!.opts.delay).toBeGreaterThan(29 * 86_400_000);
    expect((await rt.deps.store.get(QUARANTINE.id))?.quarantinedUntil).toBe(until);
    expect(await audit(QUARANTINE.id)).toEqual(['quarantine-role requested', 'quarantine-role succeeded']);

    await click(QUARANTINE, '1795000009.000100', ADMIN, undoButton().value);
    await actions.settled(JOBS.fixUndo);

    expect(roleState()).toEqual(original);
    expect(succeededWrites(QUARANTINE_WRITES)).toEqual([
      'PutRolePolicy',
      'TagRole',
      'DeleteRolePolicy',
      'UntagRole',
    ]);
    expect(await actions.jobsNamed(JOBS.quarantineEnd)).toEqual([]);
    expect((await rt.deps.store.get(QUARANTINE.id))?.quarantineBackupKey).toBeUndefined();
    expect(threadText()).toContain('said it is still needed');
    expect(threadText()).toContain('recorded that the role is still needed; the deletion on');
    const redrawn = JSON.stringify(slack.byMethod('chat.update').at(-1)!.args.blocks);
    expect(redrawn).not.toContain('Quarantined');
    expect(redrawn).toContain(ACTION_IDS.quarantineRole);
    expect(await audit(QUARANTINE.id)).toEqual([
      'quarantine-role requested',
      'quarantine-role succeeded',
      'quarantine-role-undo requested',
      'quarantine-role-undo succeeded',
    ]);
  });

  it('refuses someone who is not allowed: the role is untouched, and the refusal is audited', async () => {
    const original = roleState();
    await click(QUARANTINE, '1795000000.000200', NOBODY);
    await expect.poll(() => responses.length).toBeGreaterThan(0);
    expect(JSON.stringify(responses)).toMatch(/Only admins can quarantine this role/);
    expect(await actions.jobsNamed(JOBS.fix)).toHaveLength(0);
    expect(succeededWrites(QUARANTINE_WRITES)).toEqual([]);
    expect(roleState()).toEqual(original);
    expect(await audit(QUARANTINE.id)).toEqual(['quarantine-role refused']);
  });

  it('changes nothing when the role was used since the finding (a stale click) and says why', async () => {
    role('ci-deployer')!.lastUsed = { date: new Date().toISOString(), region: 'us-east-1' };
    const original = roleState();
    await click(QUARANTINE, '1795000000.000300');
    await actions.settled(JOBS.fix);
    expect(succeededWrites(QUARANTINE_WRITES)).toEqual([]);
    expect(roleState()).toEqual(original);
    const told = slack.byMethod('chat.postEphemeral').map((e) => String(e.args.text));
    expect(told.some((t) => t.startsWith('Nothing was done') && t.includes('is not quarantined'))).toBe(true);
    expect((await audit(QUARANTINE.id)).at(-1)).toBe('quarantine-role stale');
  });

  it('makes one quarantine for a double click (two action_ts)', async () => {
    await click(QUARANTINE, '1795000000.000400');
    await new Promise((r) => setTimeout(r, 100));
    await click(QUARANTINE, '1795000000.000500');
    await actions.settled(JOBS.fix);
    await new Promise((r) => setTimeout(r, 300));
    expect(succeededWrites(QUARANTINE_WRITES)).toEqual(['PutRolePolicy', 'TagRole']);
    expect(await actions.jobsNamed(JOBS.fix)).toHaveLength(1);
    expect(await actions.jobsNamed(JOBS.quarantineEnd)).toHaveLength(1);
  });

  it('stops half way when the role already has 50 tags: the deny-all stays, the thread says what was done, and Still needed puts the role back', async () => {
    const r = role('ci-deployer')!;
    r.tags = Object.fromEntries(Array.from({ length: 50 }, (_, i) => [`k${i}`, `v${i}`]));
    const original = roleState();
    await click(QUARANTINE, '1795000000.000600');
    await actions.settled(JOBS.fix);

    expect(succeededWrites(QUARANTINE_WRITES)).toEqual(['PutRolePolicy']);
    expect(failedWrites(QUARANTINE_WRITES)).toEqual(['TagRole']);
    expect(r.inlinePolicies?.[QUARANTINE_POLICY_NAME]).toBeDefined();
    const receipt = threadText();
    expect(receipt).toContain(`PutRolePolicy ${QUARANTINE_POLICY_NAME} on role ci-deployer`);
    expect(receipt).toContain('Not done');
    expect(receipt).toContain('Cannot exceed quota for TagsPerRole: 50.');
    // Half a quarantine is not on the clock: nothing is scheduled to delete the role.
    expect(await actions.jobsNamed(JOBS.quarantineEnd)).toEqual([]);
    expect((await audit(QUARANTINE.id)).at(-1)).toBe('quarantine-role failed');

    await click(QUARANTINE, '1795000009.000600', ADMIN, undoButton().value);
    await actions.settled(JOBS.fixUndo);
    expect(roleState()).toEqual(original);
    expect((await audit(QUARANTINE.id)).at(-1)).toBe('quarantine-role-undo succeeded');
  });

  it('deletes the role with a backup when the quarantine ends, and Restore gives back the role as it was before', async () => {
    const before = structuredClone(role('ci-deployer')!);
    await click(QUARANTINE, '1795000000.000700');
    await actions.settled(JOBS.fix);
    const [end] = await actions.jobsNamed(JOBS.quarantineEnd);
    await end!.promote();
    await actions.settled(JOBS.quarantineEnd);

    expect(role('ci-deployer')).toBeUndefined();
    const state = (await rt.deps.store.get(QUARANTINE.id))!;
    expect(state.deletedBy).toBe('system');
    expect(state.quarantineBackupKey).toBeUndefined();
    const backup = (await rt.deps.backups.get(state.backupKey!))!;
    expect(backup.inlinePolicies.map((p) => p.name).sort()).toEqual(
      Object.keys(before.inlinePolicies ?? {}).sort(),
    );
    expect(backup.tags.map((t) => t.Key)).not.toContain(QUARANTINE_TAG_KEY);
    expect(threadText()).toContain('The quarantine ended: the bot deleted role');
    expect((await audit(QUARANTINE.id)).at(-1)).toBe('quarantine-end succeeded');
  });

  it('keeps the role when it was used during the quarantine, and says why in the thread', async () => {
    await click(QUARANTINE, '1795000000.000800');
    await actions.settled(JOBS.fix);
    const quarantined = roleState();
    role('ci-deployer')!.lastUsed = {
      date: new Date(Date.now() + 60_000).toISOString(),
      region: 'us-east-1',
    };
    const [end] = await actions.jobsNamed(JOBS.quarantineEnd);
    await end!.promote();
    await actions.settled(JOBS.quarantineEnd);

    expect(role('ci-deployer')).toBeDefined();
    expect(roleState()).toEqual(quarantined);
    expect(succeededWrites(['DeleteRole', 'DetachRolePolicy', 'DeleteRolePolicy'])).toEqual([]);
    expect(threadText()).toContain('the role was not deleted');
    expect(threadText()).toContain('during the quarantine');
    expect((await audit(QUARANTINE.id)).at(-1)).toBe('quarantine-end stale');
  });
});

/** Show recommendation has run: AWS holds a SUCCEEDED recommendation for the finding. */
async function recommendationReady() {
  const analyzer = { arn: APPLY.analyzer, region: 'us-east-1' };
  await rt.deps.analyzers.generateFindingRecommendation(analyzer, APPLY.id);
  await expect
    .poll(async () => (await rt.deps.analyzers.getFindingRecommendation(analyzer, APPLY.id))?.status)
    .toBe('SUCCEEDED');
  aws.requests.length = 0;
}

describe('Apply recommendation', () => {
  it('creates the recommended policy, attaches it, detaches the old one, and Undo reverses each step', async () => {
    await recommendationReady();
    const original = policyState();
    await click(APPLY, '1795000000.001100');
    await actions.settled(JOBS.fix);

    expect(succeededWrites(POLICY_WRITES)).toEqual(['CreatePolicy', 'AttachRolePolicy', 'DetachRolePolicy']);
    const attached = role('app-backend')!.attachedPolicies!;
    expect(attached).toHaveLength(1);
    expect(attached[0]).toMatch(new RegExp(`^arn:aws:iam::${PROD}:policy/app-backend-recommended-1-`));
    expect(aws.data.managedPolicies?.[attached[0]!]).toMatchObject({ Version: '2012-10-17' });
    expect(threadText()).toContain(`detached ${OLD_POLICY} from role app-backend`);
    expect(undoButton().label).toBe('Undo');
    expect(await audit(APPLY.id)).toEqual([
      'apply-recommendation requested',
      'apply-recommendation succeeded',
    ]);

    await click(APPLY, '1795000009.001100', ADMIN, undoButton().value);
    await actions.settled(JOBS.fixUndo);
    expect(policyState()).toEqual(original);
    expect(succeededWrites(POLICY_WRITES)).toEqual([
      'CreatePolicy',
      'AttachRolePolicy',
      'DetachRolePolicy',
      'AttachRolePolicy',
      'DetachRolePolicy',
      'DeletePolicy',
    ]);
    expect((await audit(APPLY.id)).at(-1)).toBe('apply-recommendation-undo succeeded');
  });

  it('refuses someone who is not allowed: nothing changes, and the refusal is audited', async () => {
    await recommendationReady();
    const original = policyState();
    await click(APPLY, '1795000000.001200', NOBODY);
    await expect.poll(() => responses.length).toBeGreaterThan(0);
    expect(JSON.stringify(responses)).toMatch(/Only admins can apply AWS/);
    expect(await actions.jobsNamed(JOBS.fix)).toHaveLength(0);
    expect(succeededWrites(POLICY_WRITES)).toEqual([]);
    expect(policyState()).toEqual(original);
    expect(await audit(APPLY.id)).toEqual(['apply-recommendation refused']);
  });

  it('changes nothing when the old policy was detached meanwhile (a stale recommendation) and says why', async () => {
    await recommendationReady();
    role('app-backend')!.attachedPolicies = [];
    const original = policyState();
    await click(APPLY, '1795000000.001300');
    await actions.settled(JOBS.fix);
    expect(succeededWrites(POLICY_WRITES)).toEqual([]);
    expect(policyState()).toEqual(original);
    const told = slack.byMethod('chat.postEphemeral').map((e) => String(e.args.text));
    expect(told.some((t) => t.startsWith('Nothing was done') && t.includes('no longer attached'))).toBe(true);
    expect((await audit(APPLY.id)).at(-1)).toBe('apply-recommendation stale');
  });

  it('makes one change for a double click (two action_ts)', async () => {
    await recommendationReady();
    await click(APPLY, '1795000000.001400');
    await new Promise((r) => setTimeout(r, 100));
    await click(APPLY, '1795000000.001500');
    await actions.settled(JOBS.fix);
    await new Promise((r) => setTimeout(r, 300));
    expect(succeededWrites(POLICY_WRITES)).toEqual(['CreatePolicy', 'AttachRolePolicy', 'DetachRolePolicy']);
    expect(await actions.jobsNamed(JOBS.fix)).toHaveLength(1);
  });

  /** The intent of an Undo lingers 2 s after its job (a double click's second half): wait it out. */
  const afterDoubleClickWindow = () => new Promise((r) => setTimeout(r, 2_100));
  const told = () => slack.byMethod('chat.postEphemeral').map((e) => String(e.args.text));
  const backupOf = (value: string) => (JSON.parse(value) as { k: string }).k;

  it('Undo after the old policy was deleted meanwhile: AWS refuses the attach (NoSuchEntity), nothing changes, the backup stays, and Undo works once it is back', async () => {
    await recommendationReady();
    const original = policyState();
    await click(APPLY, '1795000000.001700');
    await actions.settled(JOBS.fix);
    const applied = policyState();
    const undo = undoButton().value;
    // Someone deletes the detached broad policy in the console.
    const oldDocument = aws.data.managedPolicies![OLD_POLICY]!;
    delete aws.data.managedPolicies![OLD_POLICY];
    aws.requests.length = 0;

    await click(APPLY, '1795000009.001700', ADMIN, undo);
    await actions.settled(JOBS.fixUndo);
    expect(failedWrites(POLICY_WRITES)).toEqual(['AttachRolePolicy']);
    expect(succeededWrites(POLICY_WRITES)).toEqual([]);
    expect(policyState()).toEqual({ ...applied, managed: aws.data.managedPolicies });
    expect(role('app-backend')!.attachedPolicies).toEqual(applied.attached);
    expect(
      told().some(
        (t) =>
          t.startsWith('Could not undo the fix of') &&
          /NoSuchEntity|does not exist or is not attachable/.test(t),
      ),
    ).toBe(true);
    expect((await audit(APPLY.id)).at(-1)).toBe('apply-recommendation-undo failed');
    expect(await rt.deps.fixBackups.get(backupOf(undo))).not.toBeNull();

    // The policy is made again: the same Undo now puts everything back.
    aws.data.managedPolicies![OLD_POLICY] = oldDocument;
    await afterDoubleClickWindow();
    await click(APPLY, '1795000009.001701', ADMIN, undo);
    await actions.settled(JOBS.fixUndo, { count: 2 });
    expect(policyState()).toEqual(original);
    expect((await audit(APPLY.id)).at(-1)).toBe('apply-recommendation-undo succeeded');
  });

  it('Undo stopped half way by NoSuchEntity: the thread says what was put back and where it stopped, and Undo again finishes it', async () => {
    const EXTRA = `arn:aws:iam::${PROD}:policy/app-backend-extra`;
    role('app-backend')!.attachedPolicies = [OLD_POLICY, EXTRA];
    aws.data.managedPolicies![EXTRA] = {
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Action: 'sqs:*', Resource: '*' }],
    };
    await recommendationReady();
    const original = policyState();
    await click(APPLY, '1795000000.001800');
    await actions.settled(JOBS.fix);
    expect(role('app-backend')!.attachedPolicies).not.toContain(OLD_POLICY);
    expect(role('app-backend')!.attachedPolicies).not.toContain(EXTRA);
    const undo = undoButton().value;
    const extraDocument = aws.data.managedPolicies![EXTRA]!;
    delete aws.data.managedPolicies![EXTRA];
    aws.requests.length = 0;

    await click(APPLY, '1795000009.001800', ADMIN, undo);
    await actions.settled(JOBS.fixUndo);
    // The broad policy is back; the extra one is refused, and nothing after it was touched.
    expect(succeededWrites(POLICY_WRITES)).toEqual(['AttachRolePolicy']);
    expect(failedWrites(POLICY_WRITES)).toEqual(['AttachRolePolicy']);
    expect(role('app-backend')!.attachedPolicies).toContain(OLD_POLICY);
    expect(role('app-backend')!.attachedPolicies!.some((a) => a.includes('-recommended-'))).toBe(true);
    const thread = threadText();
    expect(thread).toContain('AWS stopped it half way');
    expect(thread).toContain(`attached ${OLD_POLICY} again`);
    expect(thread).toMatch(/the rest stopped at: .*does not exist or is not attachable/);
    expect((await audit(APPLY.id)).at(-1)).toBe('apply-recommendation-undo failed');
    expect(await rt.deps.fixBackups.get(backupOf(undo))).not.toBeNull();

    aws.data.managedPolicies![EXTRA] = extraDocument;
    await afterDoubleClickWindow();
    // The half-way receipt carries the Undo for the rest (the same backup).
    expect(backupOf(undoButton().value)).toBe(backupOf(undo));
    await click(APPLY, '1795000009.001801', ADMIN, undoButton().value);
    await actions.settled(JOBS.fixUndo, { count: 2 });
    expect(policyState()).toEqual(original);
    expect((await audit(APPLY.id)).at(-1)).toBe('apply-recommendation-undo succeeded');
  });

  it('stops half way when the role holds 20 policies: says the policies were created but not attached, and Undo deletes them', async () => {
    role('app-backend')!.attachedPolicies = [
      OLD_POLICY,
      ...Array.from({ length: 19 }, (_, i) => `arn:aws:iam::aws:policy/Filler${i}`),
    ];
    await recommendationReady();
    const original = policyState();
    await click(APPLY, '1795000000.001600');
    await actions.settled(JOBS.fix);

    // AWS recommends replacing each of the 20; the first attach is over IAM's quota of 20 per role.
    expect(succeededWrites(POLICY_WRITES)).toEqual(Array(20).fill('CreatePolicy'));
    expect(failedWrites(POLICY_WRITES)).toEqual(['AttachRolePolicy']);
    expect(role('app-backend')!.attachedPolicies).toEqual(original.attached);
    const receipt = threadText();
    expect(receipt).toContain('CreatePolicy app-backend-recommended-1-');
    expect(receipt).toContain('Cannot exceed quota for PoliciesPerRole: 20');
    expect((await audit(APPLY.id)).at(-1)).toBe('apply-recommendation failed');

    await click(APPLY, '1795000009.001600', ADMIN, undoButton().value);
    await actions.settled(JOBS.fixUndo);
    expect(policyState()).toEqual(original);
    expect(succeededWrites(['DeletePolicy'])).toEqual(Array(20).fill('DeletePolicy'));
    expect((await audit(APPLY.id)).at(-1)).toBe('apply-recommendation-undo succeeded');
  });
});
