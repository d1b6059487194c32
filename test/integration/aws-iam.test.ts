// IamGateway: inspecting, deleting and restoring a role, with the exact IAM requests (nock), and a
// backup → delete → restore round trip against the AWS sandbox over real HTTP.
import nock from 'nock';
import { afterEach, describe, expect, it } from 'vitest';
import { type AwsSandbox, startAwsSandbox } from '../../sandbox/aws.ts';
import { DEMO_ACCOUNTS, DEMO_MEMBER_ROLE, demoData } from '../../sandbox/fixtures/demo-org.ts';
import { createAwsClients } from '../../src/aws/clients.ts';
import { AwsError } from '../../src/aws/errors.ts';
import { backupFromInspection, createIamGateway, type RoleBackup, type RoleStep } from '../../src/aws/iam.ts';
import {
  awsQueryErrorXml,
  CALLER_ACCOUNT,
  EC2_TRUST,
  FAKE_CREDENTIALS,
  getRoleDetailXml,
  getRolePolicyXml,
  iamResponseXml,
  listAttachedRolePoliciesXml,
  listInstanceProfilesForRoleXml,
  listRolePoliciesXml,
} from '../factories/aws.ts';

const IAM = 'https://iam.amazonaws.com';
const XML = { 'content-type': 'text/xml' };
const V = { Version: '2010-05-08' };
const ROLE = 'batch-runner';
const READ_ONLY = 'arn:aws:iam::aws:policy/ReadOnlyAccess';
const S3_READ = 'arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess';
const CUSTOM = `arn:aws:iam::${CALLER_ACCOUNT}:policy/batch-artifacts`;
const INLINE_DOC = {
  Version: '2012-10-17',
  Statement: [{ Effect: 'Allow', Action: 's3:PutObject', Resource: 'arn:aws:s3:::batch-out/*' }],
};
const NOW = new Date('2026-11-29T12:00:00.000Z');

type Body = Record<string, string>;
type Reply = [number, string];

const ok = (action: string) => [200, iamResponseXml(action)] as Reply;
const fault = (status: number, code: string, message: string): Reply => [
  status,
  awsQueryErrorXml(code, message),
];
const noSuchRole = fault(404, 'NoSuchEntity', `The role with name ${ROLE} cannot be found.`);

/** Answers every IAM request with `respond(body)` and records the bodies in arrival order. */
function fakeIam(respond: (b: Body) => Reply): Body[] {
  const seen: Body[] = [];
  nock(IAM)
    .persist()
    .post('/')
    .reply((_uri, body) => {
      const b = typeof body === 'string' ? Object.fromEntries(new URLSearchParams(body)) : (body as Body);
      seen.push(b);
      const [status, xml] = respond(b);
      return [status, xml, XML];
    });
  return seen;
}

/** A role as IAM would answer the read calls about it; mutable so a test can change it between calls. */
interface FakeRole {
  path?: string;
  attached: string[];
  inline: string[];
  profiles: string[];
}

function reads(role: FakeRole, b: Body): Reply | undefined {
  switch (b.Action) {
    case 'GetRole':
      return [200, getRoleDetailXml({ roleName: ROLE, ...(role.path ? { path: role.path } : {}) })];
    case 'ListAttachedRolePolicies':
      return [200, listAttachedRolePoliciesXml(role.attached)];
    case 'ListRolePolicies':
      return [200, listRolePoliciesXml(role.inline)];
    case 'GetRolePolicy':
      return [200, getRolePolicyXml(ROLE, b.PolicyName ?? '', INLINE_DOC)];
    case 'ListInstanceProfilesForRole':
      return [200, listInstanceProfilesForRoleXml(role.profiles)];
    default:
      return undefined;
  }
}

const INSPECT_CALLS = (inline: string[]) => [
  'GetRole',
  'ListAttachedRolePolicies',
  'ListRolePolicies',
  ...inline.map(() => 'GetRolePolicy'),
  'ListInstanceProfilesForRole',
];

/** `Action target` for compact order assertions. */
const calls = (seen: Body[]) =>
  seen.map((b) =>
    [b.Action, b.InstanceProfileName ?? b.PolicyArn ?? b.PolicyName ?? ''].filter(Boolean).join(' '),
  );

const sleeps: number[] = [];
function gateway(maxAttempts = 1) {
  sleeps.length = 0;
  return createIamGateway(createAwsClients({ credentials: FAKE_CREDENTIALS, maxAttempts }), {
    sleep: async (ms) => {
      sleeps.push(ms);
    },
  });
}

describe('IamGateway.inspectRole', () => {
  it('reads the role, every page of attached policies, inline documents and instance profiles', async () => {
    const seen = fakeIam((b) => {
      switch (b.Action) {
        case 'GetRole':
          return [
            200,
            getRoleDetailXml({
              roleName: ROLE,
              path: '/jobs/',
              description: 'Runs nightly batches',
              maxSessionDuration: 7200,
              permissionsBoundaryArn: `arn:aws:iam::${CALLER_ACCOUNT}:policy/boundary`,
              tags: { team: 'data', owner: 'dave@example.com' },
              lastUsed: { date: '2025-08-01T10:00:00Z', region: 'eu-west-1' },
            }),
          ];
        case 'ListAttachedRolePolicies':
          return b.Marker === undefined
            ? [200, listAttachedRolePoliciesXml([READ_ONLY, S3_READ], 'page-2')]
            : [200, listAttachedRolePoliciesXml([CUSTOM])];
        case 'ListRolePolicies':
          return [200, listRolePoliciesXml(['write-out'])];
        case 'GetRolePolicy':
          return [200, getRolePolicyXml(ROLE, 'write-out', INLINE_DOC)];
        case 'ListInstanceProfilesForRole':
          return [200, listInstanceProfilesForRoleXml(['batch-host'])];
        default:
          throw new Error(`unexpected ${b.Action}`);
      }
    });

    const inspection = await gateway().inspectRole(CALLER_ACCOUNT, ROLE);

    expect(seen).toEqual([
      { Action: 'GetRole', ...V, RoleName: ROLE },
      { Action: 'ListAttachedRolePolicies', ...V, RoleName: ROLE },
      { Action: 'ListAttachedRolePolicies', ...V, RoleName: ROLE, Marker: 'page-2' },
      { Action: 'ListRolePolicies', ...V, RoleName: ROLE },
      { Action: 'GetRolePolicy', ...V, RoleName: ROLE, PolicyName: 'write-out' },
      { Action: 'ListInstanceProfilesForRole', ...V, RoleName: ROLE },
    ]);
    expect(inspection).toEqual({
      accountId: CALLER_ACCOUNT,
      roleName: ROLE,
      arn: `arn:aws:iam::${CALLER_ACCOUNT}:role/jobs/${ROLE}`,
      roleId: 'AROADBQP57FF2AEXAMPLE',
      path: '/jobs/',
      description: 'Runs nightly batches',
      maxSessionDuration: 7200,
      createDate: new Date('2023-04-10T09:00:00Z'),
      lastUsed: { date: new Date('2025-08-01T10:00:00Z'), region: 'eu-west-1' },
      assumeRolePolicyDocument: JSON.stringify(EC2_TRUST),
      permissionsBoundaryArn: `arn:aws:iam::${CALLER_ACCOUNT}:policy/boundary`,
      tags: [
        { Key: 'team', Value: 'data' },
        { Key: 'owner', Value: 'dave@example.com' },
      ],
      attachedPolicies: [
        { name: 'ReadOnlyAccess', arn: READ_ONLY },
        { name: 'AmazonS3ReadOnlyAccess', arn: S3_READ },
        { name: 'batch-artifacts', arn: CUSTOM },
      ],
      inlinePolicies: [{ name: 'write-out', document: JSON.stringify(INLINE_DOC) }],
      instanceProfiles: [
        { name: 'batch-host', arn: `arn:aws:iam::${CALLER_ACCOUNT}:instance-profile/batch-host`, path: '/' },
      ],
      isServiceLinked: false,
    });

    expect(backupFromInspection(inspection!, NOW)).toEqual({
      version: 1,
      accountId: CALLER_ACCOUNT,
      roleName: ROLE,
      arn: `arn:aws:iam::${CALLER_ACCOUNT}:role/jobs/${ROLE}`,
      path: '/jobs/',
      description: 'Runs nightly batches',
      maxSessionDuration: 7200,
      assumeRolePolicyDocument: JSON.stringify(EC2_TRUST),
      permissionsBoundaryArn: `arn:aws:iam::${CALLER_ACCOUNT}:policy/boundary`,
      tags: [
        { Key: 'team', Value: 'data' },
        { Key: 'owner', Value: 'dave@example.com' },
      ],
      inlinePolicies: [{ name: 'write-out', document: JSON.stringify(INLINE_DOC) }],
      attachedPolicyArns: [READ_ONLY, S3_READ, CUSTOM],
      instanceProfileNames: ['batch-host'],
      takenAt: '2026-11-29T12:00:00.000Z',
    } satisfies RoleBackup);
  });

  it('asks again for the page of a listing that IAM answered ConcurrentModification, from its marker', async () => {
    let second = 0;
    const seen = fakeIam((b) => {
      if (b.Action === 'ListAttachedRolePolicies') {
        if (b.Marker === undefined) return [200, listAttachedRolePoliciesXml([READ_ONLY], 'page-2')];
        if (++second === 1)
          return fault(409, 'ConcurrentModification', 'Concurrent modification of the role');
        return [200, listAttachedRolePoliciesXml([CUSTOM])];
      }
      return reads({ attached: [], inline: [], profiles: [] }, b) ?? ok(b.Action ?? '');
    });

    const inspection = await gateway().inspectRole(CALLER_ACCOUNT, ROLE);

    expect(inspection?.attachedPolicies.map((p) => p.arn)).toEqual([READ_ONLY, CUSTOM]);
    expect(sleeps).toEqual([500]);
    expect(seen.filter((b) => b.Action === 'ListAttachedRolePolicies')).toEqual([
      { Action: 'ListAttachedRolePolicies', ...V, RoleName: ROLE },
      { Action: 'ListAttachedRolePolicies', ...V, RoleName: ROLE, Marker: 'page-2' },
      { Action: 'ListAttachedRolePolicies', ...V, RoleName: ROLE, Marker: 'page-2' },
    ]);
  });

  it('returns null for a role that does not exist, and throws AwsError for other failures', async () => {
    fakeIam(() => noSuchRole);
    expect(await gateway().inspectRole(CALLER_ACCOUNT, ROLE)).toBeNull();
    nock.cleanAll();

    fakeIam(() => fault(403, 'AccessDenied', 'not authorized to perform: iam:GetRole'));
    await expect(gateway().inspectRole(CALLER_ACCOUNT, ROLE)).rejects.toMatchObject({
      name: 'AwsError',
      kind: 'access-denied',
      operation: 'IAM.GetRole',
    });
  });

  it('lets the SDK retry IAM throttling (HTTP 400 Throttling)', async () => {
    const role: FakeRole = { attached: [], inline: [], profiles: [] };
    let throttled = false;
    const seen = fakeIam((b) => {
      if (b.Action === 'GetRole' && !throttled) {
        throttled = true;
        return fault(400, 'Throttling', 'Rate exceeded');
      }
      return reads(role, b) ?? ok(b.Action ?? '');
    });

    const inspection = await gateway(2).inspectRole(CALLER_ACCOUNT, ROLE);

    expect(inspection?.roleName).toBe(ROLE);
    expect(calls(seen)).toEqual(['GetRole', ...INSPECT_CALLS([])]);
  });
});

describe('IamGateway.deleteRole', () => {
  it('removes the instance profile, detaches, deletes inline policies, then deletes the role', async () => {
    const role: FakeRole = { attached: [READ_ONLY, CUSTOM], inline: ['write-out'], profiles: ['batch-host'] };
    const seen = fakeIam((b) => reads(role, b) ?? ok(b.Action ?? ''));
    const steps: RoleStep[] = [];
    const inspected: string[] = [];

    const report = await gateway().deleteRole(CALLER_ACCOUNT, ROLE, {
      onStep: (s) => steps.push(s),
      onInspected: (i) => {
        inspected.push(i.roleName);
      },
    });

    expect(report).toEqual({
      ok: true,
      done: [
        'removed from instance profile batch-host',
        `detached ${READ_ONLY}`,
        `detached ${CUSTOM}`,
        'deleted inline policy write-out',
        `deleted role ${ROLE}`,
      ],
      notDone: [],
    });
    expect(seen.slice(5)).toEqual([
      { Action: 'RemoveRoleFromInstanceProfile', ...V, InstanceProfileName: 'batch-host', RoleName: ROLE },
      { Action: 'DetachRolePolicy', ...V, RoleName: ROLE, PolicyArn: READ_ONLY },
      { Action: 'DetachRolePolicy', ...V, RoleName: ROLE, PolicyArn: CUSTOM },
      { Action: 'DeleteRolePolicy', ...V, RoleName: ROLE, PolicyName: 'write-out' },
      { Action: 'DeleteRole', ...V, RoleName: ROLE },
    ]);
    expect(calls(seen.slice(0, 5))).toEqual(
      INSPECT_CALLS(['write-out']).map((a) => (a === 'GetRolePolicy' ? `${a} write-out` : a)),
    );
    expect(inspected).toEqual([ROLE]);
    expect(steps.map((s) => s.operation)).toEqual([
      'RemoveRoleFromInstanceProfile',
      'DetachRolePolicy',
      'DetachRolePolicy',
      'DeleteRolePolicy',
      'DeleteRole',
    ]);
    expect(steps[1]).toEqual({
      operation: 'DetachRolePolicy',
      target: READ_ONLY,
      text: `detached ${READ_ONLY}`,
      alreadyDone: false,
    });
  });

  it('on DeleteConflict looks again, detaches the policy attached meanwhile, and deletes the role', async () => {
    const role: FakeRole = { attached: [READ_ONLY], inline: [], profiles: [] };
    let deletes = 0;
    const seen = fakeIam((b) => {
      if (b.Action === 'DetachRolePolicy') {
        role.attached = role.attached.filter((a) => a !== b.PolicyArn);
        // Someone attaches another policy right after our detach.
        if (b.PolicyArn === READ_ONLY) role.attached.push(S3_READ);
        return ok('DetachRolePolicy');
      }
      if (b.Action === 'DeleteRole') {
        deletes++;
        return role.attached.length > 0
          ? fault(409, 'DeleteConflict', 'Cannot delete entity, must detach all policies first.')
          : ok('DeleteRole');
      }
      return reads(role, b) ?? ok(b.Action ?? '');
    });

    const report = await gateway().deleteRole(CALLER_ACCOUNT, ROLE);

    expect(report).toEqual({
      ok: true,
      done: [`detached ${READ_ONLY}`, `detached ${S3_READ}`, `deleted role ${ROLE}`],
      notDone: [],
    });
    expect(calls(seen)).toEqual([
      ...INSPECT_CALLS([]),
      `DetachRolePolicy ${READ_ONLY}`,
      'DeleteRole',
      ...INSPECT_CALLS([]),
      `DetachRolePolicy ${S3_READ}`,
      'DeleteRole',
    ]);
    expect(deletes).toBe(2);
  });

  it('gives up after one second look when DeleteRole still conflicts', async () => {
    const role: FakeRole = { attached: [], inline: [], profiles: [] };
    const seen = fakeIam((b) =>
      b.Action === 'DeleteRole'
        ? fault(409, 'DeleteConflict', 'Cannot delete entity, must detach all policies first.')
        : (reads(role, b) ?? ok(b.Action ?? '')),
    );

    const report = await gateway().deleteRole(CALLER_ACCOUNT, ROLE);

    expect(report).toMatchObject({ ok: false, done: [], notDone: [`delete role ${ROLE}`] });
    expect(report.ok || report.error).toMatchObject({ kind: 'conflict', operation: 'IAM.DeleteRole' });
    expect(calls(seen).filter((c) => c === 'DeleteRole')).toHaveLength(2);
  });

  it('counts NoSuchEntity on a step as already done and carries on', async () => {
    const role: FakeRole = { attached: [READ_ONLY, CUSTOM], inline: ['write-out'], profiles: [] };
    const steps: RoleStep[] = [];
    const seen = fakeIam((b) =>
      b.Action === 'DetachRolePolicy' && b.PolicyArn === READ_ONLY
        ? fault(404, 'NoSuchEntity', `Policy ${READ_ONLY} was not found.`)
        : (reads(role, b) ?? ok(b.Action ?? '')),
    );

    const report = await gateway().deleteRole(CALLER_ACCOUNT, ROLE, { onStep: (s) => steps.push(s) });

    expect(report).toEqual({
      ok: true,
      done: [
        `detached ${READ_ONLY}`,
        `detached ${CUSTOM}`,
        'deleted inline policy write-out',
        `deleted role ${ROLE}`,
      ],
      notDone: [],
    });
    expect(steps.map((s) => s.alreadyDone)).toEqual([true, false, false, false]);
    expect(calls(seen).slice(-4)).toEqual([
      `DetachRolePolicy ${READ_ONLY}`,
      `DetachRolePolicy ${CUSTOM}`,
      'DeleteRolePolicy write-out',
      'DeleteRole',
    ]);
  });

  it('reports a role that is already gone without changing anything', async () => {
    const seen = fakeIam(() => noSuchRole);
    expect(await gateway().deleteRole(CALLER_ACCOUNT, ROLE)).toEqual({
      ok: true,
      done: [],
      notDone: [],
      alreadyGone: true,
    });
    expect(calls(seen)).toEqual(['GetRole']);
  });

  it('refuses a service-linked role before any change', async () => {
    const role: FakeRole = {
      path: '/aws-service-role/support.amazonaws.com/',
      attached: ['arn:aws:iam::aws:policy/aws-service-role/AWSSupportServiceRolePolicy'],
      inline: [],
      profiles: [],
    };
    const seen = fakeIam((b) => reads(role, b) ?? fault(400, 'UnmodifiableEntity', 'protected role'));

    const report = await gateway().deleteRole(CALLER_ACCOUNT, ROLE);

    expect(report.ok).toBe(false);
    if (report.ok) return;
    expect(report.done).toEqual([]);
    expect(report.notDone).toEqual([
      'detach arn:aws:iam::aws:policy/aws-service-role/AWSSupportServiceRolePolicy',
      `delete role ${ROLE}`,
    ]);
    expect(report.error).toBeInstanceOf(AwsError);
    expect(report.error).toMatchObject({
      kind: 'invalid',
      code: 'UnmodifiableEntity',
      operation: 'IAM.DeleteRole',
    });
    expect(report.error.message).toContain('service-linked role');
    expect(report.error.message).toContain('DeleteServiceLinkedRole');
    expect(calls(seen)).toEqual(INSPECT_CALLS([]));
  });

  it('maps UnmodifiableEntity from IAM itself to an invalid error', async () => {
    const role: FakeRole = { attached: [], inline: [], profiles: [] };
    fakeIam((b) =>
      b.Action === 'DeleteRole'
        ? fault(400, 'UnmodifiableEntity', `Cannot perform the operation on the protected role '${ROLE}'`)
        : (reads(role, b) ?? ok(b.Action ?? '')),
    );

    const report = await gateway().deleteRole(CALLER_ACCOUNT, ROLE);

    expect(report).toMatchObject({ ok: false, done: [], notDone: [`delete role ${ROLE}`] });
    expect(report.ok || report.error).toMatchObject({ kind: 'invalid', operation: 'IAM.DeleteRole' });
  });

  it('stops at AccessDenied and reports what was and was not done', async () => {
    const role: FakeRole = { attached: [READ_ONLY, CUSTOM], inline: ['write-out'], profiles: ['batch-host'] };
    const seen = fakeIam((b) =>
      b.Action === 'DetachRolePolicy' && b.PolicyArn === CUSTOM
        ? fault(403, 'AccessDenied', 'not authorized to perform: iam:DetachRolePolicy')
        : (reads(role, b) ?? ok(b.Action ?? '')),
    );

    const report = await gateway().deleteRole(CALLER_ACCOUNT, ROLE);

    expect(report.ok).toBe(false);
    if (report.ok) return;
    expect(report.done).toEqual(['removed from instance profile batch-host', `detached ${READ_ONLY}`]);
    expect(report.notDone).toEqual([
      `detach ${CUSTOM}`,
      'delete inline policy write-out',
      `delete role ${ROLE}`,
    ]);
    expect(report.error).toMatchObject({
      kind: 'access-denied',
      operation: 'IAM.DetachRolePolicy',
      code: 'AccessDenied',
    });
    expect(calls(seen).at(-1)).toBe(`DetachRolePolicy ${CUSTOM}`);
  });

  it('retries ConcurrentModification on a step with a growing delay', async () => {
    const role: FakeRole = { attached: [READ_ONLY], inline: [], profiles: [] };
    let detaches = 0;
    const seen = fakeIam((b) => {
      if (b.Action === 'DetachRolePolicy' && ++detaches < 3) {
        return fault(409, 'ConcurrentModification', 'Concurrent modification of the role');
      }
      return reads(role, b) ?? ok(b.Action ?? '');
    });

    const report = await gateway().deleteRole(CALLER_ACCOUNT, ROLE);

    expect(report.ok).toBe(true);
    expect(sleeps).toEqual([500, 1000]);
    expect(calls(seen).slice(-4)).toEqual([
      `DetachRolePolicy ${READ_ONLY}`,
      `DetachRolePolicy ${READ_ONLY}`,
      `DetachRolePolicy ${READ_ONLY}`,
      'DeleteRole',
    ]);
  });

  it('gives up on EntityTemporarilyUnmodifiable after 3 retries', async () => {
    const role: FakeRole = { attached: [], inline: [], profiles: [] };
    const seen = fakeIam((b) =>
      b.Action === 'DeleteRole'
        ? fault(409, 'EntityTemporarilyUnmodifiable', 'try again later')
        : (reads(role, b) ?? ok(b.Action ?? '')),
    );

    const report = await gateway().deleteRole(CALLER_ACCOUNT, ROLE);

    expect(report).toMatchObject({ ok: false, notDone: [`delete role ${ROLE}`] });
    expect(report.ok || report.error).toMatchObject({ kind: 'conflict', operation: 'IAM.DeleteRole' });
    expect(calls(seen).filter((c) => c === 'DeleteRole')).toHaveLength(4);
    expect(sleeps).toEqual([500, 1000, 1500]);
  });
});

describe('IamGateway against the sandbox: backup, delete, restore', () => {
  let sandbox: AwsSandbox | undefined;
  afterEach(async () => {
    await sandbox?.close();
    sandbox = undefined;
  });

  async function sandboxGateway() {
    const data = demoData(NOW);
    data.strictAccounts = true;
    const role = data.roles.find((r) => r.name === 'old-migration-role')!;
    role.description = 'DMS migration of <legacy> orders';
    role.maxSessionDuration = 7200;
    role.permissionsBoundaryArn = `arn:aws:iam::${DEMO_ACCOUNTS.sandbox}:policy/sandbox-boundary`;
    sandbox = await startAwsSandbox({ data });
    const clients = createAwsClients({
      credentials: FAKE_CREDENTIALS,
      maxAttempts: 1,
      endpoints: { iam: sandbox.url, sts: sandbox.url },
      organization: {
        memberRoleName: DEMO_MEMBER_ROLE.name,
        externalId: DEMO_MEMBER_ROLE.externalId,
        sessionDurationSeconds: 3600,
      },
    });
    return { gw: createIamGateway(clients), sandbox };
  }

  it('restores a deleted role with its trust, boundary, tags, policies and instance profile', async () => {
    const { gw, sandbox: s } = await sandboxGateway();
    const account = DEMO_ACCOUNTS.sandbox;

    const before = await gw.inspectRole(account, 'old-migration-role');
    expect(before).not.toBeNull();
    const backup = backupFromInspection(before!, NOW);
    expect(backup).toMatchObject({
      path: '/',
      description: 'DMS migration of <legacy> orders',
      maxSessionDuration: 7200,
      attachedPolicyArns: [
        'arn:aws:iam::aws:policy/service-role/AmazonDMSVPCManagementRole',
        'arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess',
      ],
      instanceProfileNames: ['migration-runner'],
    });
    expect(backup.inlinePolicies.map((p) => p.name)).toEqual(['migration-target-write']);

    const deleted = await gw.deleteRole(account, 'old-migration-role');
    expect(deleted).toEqual({
      ok: true,
      done: [
        'removed from instance profile migration-runner',
        'detached arn:aws:iam::aws:policy/service-role/AmazonDMSVPCManagementRole',
        'detached arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess',
        'deleted inline policy migration-target-write',
        'deleted role old-migration-role',
      ],
      notDone: [],
    });
    expect(await gw.inspectRole(account, 'old-migration-role')).toBeNull();
    expect(await gw.deleteRole(account, 'old-migration-role')).toMatchObject({ ok: true, alreadyGone: true });

    const restored = await gw.restoreRole(backup);
    expect(restored).toEqual({
      ok: true,
      done: [
        'created role old-migration-role',
        'put inline policy migration-target-write',
        'attached arn:aws:iam::aws:policy/service-role/AmazonDMSVPCManagementRole',
        'attached arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess',
        'added to instance profile migration-runner',
      ],
      notDone: [],
    });

    const after = await gw.inspectRole(account, 'old-migration-role');
    expect(backupFromInspection(after!, NOW)).toEqual(backup);
    expect(after?.roleId).not.toBe(before?.roleId);
    // Every call ran in the member account, through the assumed member role.
    expect(new Set(s.requests.filter((r) => r.service === 'iam').map((r) => r.account))).toEqual(
      new Set([account]),
    );
  });

  it('restores again without harm, and recreates a missing instance profile', async () => {
    const { gw, sandbox: s } = await sandboxGateway();
    const account = DEMO_ACCOUNTS.sandbox;
    const backup = backupFromInspection((await gw.inspectRole(account, 'old-migration-role'))!, NOW);
    expect((await gw.deleteRole(account, 'old-migration-role')).ok).toBe(true);
    s.data.instanceProfiles = [];

    const first = await gw.restoreRole(backup);
    expect(first.done).toContain('created instance profile migration-runner');
    expect(first.ok).toBe(true);

    const second = await gw.restoreRole(backup);
    expect(second).toEqual({
      ok: true,
      alreadyExisted: true,
      done: [
        'role old-migration-role already existed',
        'put inline policy migration-target-write',
        'attached arn:aws:iam::aws:policy/service-role/AmazonDMSVPCManagementRole',
        'attached arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess',
        'added to instance profile migration-runner',
      ],
      notDone: [],
    });
    expect(backupFromInspection((await gw.inspectRole(account, 'old-migration-role'))!, NOW)).toEqual(backup);
    expect(s.counts().AddRoleToInstanceProfile).toBe(1);
  });

  it('reports the instance profile as not done when it now holds another role', async () => {
    const { gw, sandbox: s } = await sandboxGateway();
    const account = DEMO_ACCOUNTS.sandbox;
    const backup = backupFromInspection((await gw.inspectRole(account, 'old-migration-role'))!, NOW);
    await gw.deleteRole(account, 'old-migration-role');
    s.data.instanceProfiles![0]!.roles = ['@here-ops'];

    const report = await gw.restoreRole(backup);

    expect(report.ok).toBe(false);
    if (report.ok) return;
    expect(report.done).toHaveLength(4);
    expect(report.notDone).toEqual(['add to instance profile migration-runner']);
    expect(report.error).toMatchObject({ kind: 'conflict', operation: 'IAM.AddRoleToInstanceProfile' });
    expect(report.error.message).toContain('already holds role @here-ops');
    expect(s.counts().AddRoleToInstanceProfile).toBeUndefined();
  });

  it('does not restore over a different role with the same name', async () => {
    const { gw } = await sandboxGateway();
    const account = DEMO_ACCOUNTS.sandbox;
    const backup = backupFromInspection((await gw.inspectRole(account, 'old-migration-role'))!, NOW);
    const impostor: RoleBackup = { ...backup, assumeRolePolicyDocument: JSON.stringify(EC2_TRUST) };

    const report = await gw.restoreRole(impostor);

    expect(report.ok).toBe(false);
    if (report.ok) return;
    expect(report.done).toEqual([]);
    expect(report.notDone[0]).toBe('create role old-migration-role');
    expect(report.error).toMatchObject({ kind: 'conflict', code: 'EntityAlreadyExists' });
  });
});
