// The sandbox's IAM role lifecycle (list, take apart, delete, create, put back), driven by the real IAMClient.
import {
  AddRoleToInstanceProfileCommand,
  AttachRolePolicyCommand,
  AttachUserPolicyCommand,
  CreateInstanceProfileCommand,
  CreatePolicyCommand,
  CreateRoleCommand,
  DeleteConflictException,
  DeletePolicyCommand,
  DeleteRoleCommand,
  DeleteRolePolicyCommand,
  DetachRolePolicyCommand,
  DetachUserPolicyCommand,
  EntityAlreadyExistsException,
  GetInstanceProfileCommand,
  GetRoleCommand,
  GetRolePolicyCommand,
  IAMClient,
  LimitExceededException,
  ListAttachedRolePoliciesCommand,
  ListInstanceProfilesForRoleCommand,
  ListRolePoliciesCommand,
  ListRoleTagsCommand,
  MalformedPolicyDocumentException,
  NoSuchEntityException,
  PutRolePolicyCommand,
  RemoveRoleFromInstanceProfileCommand,
  TagRoleCommand,
  UnmodifiableEntityException,
  UntagRoleCommand,
} from '@aws-sdk/client-iam';
import { afterEach, describe, expect, it } from 'vitest';
import { type AwsSandbox, type SandboxData, startAwsSandbox } from '../../sandbox/aws.ts';
import { DEMO_ACCOUNTS, demoData } from '../../sandbox/fixtures/demo-org.ts';

const NOW = new Date('2026-11-29T12:00:00.000Z');
const CREDS = {
  accessKeyId: 'AKIAIOSFODNN7EXAMPLE',
  secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
};
const TRUST = {
  Version: '2012-10-17',
  Statement: [{ Effect: 'Allow', Principal: { Service: 'ec2.amazonaws.com' }, Action: 'sts:AssumeRole' }],
};

let sandbox: AwsSandbox | undefined;
afterEach(async () => {
  await sandbox?.close();
  sandbox = undefined;
});

async function start(data: SandboxData = demoData(NOW)) {
  sandbox = await startAwsSandbox({ data });
  return sandbox;
}

// maxAttempts 1: the SDK retries LimitExceeded as throttling.
const iam = () =>
  new IAMClient({ region: 'us-east-1', endpoint: sandbox!.url, credentials: CREDS, maxAttempts: 1 });

async function caught(p: Promise<unknown>): Promise<Error & { $metadata?: { httpStatusCode?: number } }> {
  try {
    await p;
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected a rejection');
}

describe('sandbox IAM: reading what a role holds', () => {
  it('ListAttachedRolePolicies pages with Marker/IsTruncated and names each policy', async () => {
    await start();
    const first = await iam().send(
      new ListAttachedRolePoliciesCommand({ RoleName: 'ci-deployer', MaxItems: 1 }),
    );
    expect(first.AttachedPolicies).toEqual([
      { PolicyName: 'ReadOnlyAccess', PolicyArn: 'arn:aws:iam::aws:policy/ReadOnlyAccess' },
    ]);
    expect(first.IsTruncated).toBe(true);
    const second = await iam().send(
      new ListAttachedRolePoliciesCommand({ RoleName: 'ci-deployer', MaxItems: 1, Marker: first.Marker }),
    );
    expect(second.AttachedPolicies).toEqual([
      {
        PolicyName: 'ci-deploy-artifacts',
        PolicyArn: `arn:aws:iam::${DEMO_ACCOUNTS.prod}:policy/ci-deploy-artifacts`,
      },
    ]);
    expect(second.IsTruncated).toBe(false);
    expect(second.Marker).toBeUndefined();
  });

  it('ListRolePolicies and GetRolePolicy serve inline policies, documents URL-encoded', async () => {
    await start();
    const names = await iam().send(new ListRolePoliciesCommand({ RoleName: 'ci-deployer' }));
    expect(names).toMatchObject({ PolicyNames: ['ecr-push', 'deploy-bucket-write'], IsTruncated: false });

    const out = await iam().send(
      new GetRolePolicyCommand({ RoleName: 'ci-deployer', PolicyName: 'ecr-push' }),
    );
    expect(out.RoleName).toBe('ci-deployer');
    expect(out.PolicyDocument).toMatch(/^%7B%22Version%22/);
    expect(JSON.parse(decodeURIComponent(out.PolicyDocument!))).toMatchObject({ Version: '2012-10-17' });

    const missing = await caught(
      iam().send(new GetRolePolicyCommand({ RoleName: 'ci-deployer', PolicyName: 'nope' })),
    );
    expect(missing).toBeInstanceOf(NoSuchEntityException);
    expect(missing.message).toBe('The role policy with name nope cannot be found.');
  });

  it('ListInstanceProfilesForRole and GetInstanceProfile show the profile with its role', async () => {
    await start();
    const out = await iam().send(new ListInstanceProfilesForRoleCommand({ RoleName: 'old-migration-role' }));
    expect(out.IsTruncated).toBe(false);
    expect(out.InstanceProfiles).toHaveLength(1);
    expect(out.InstanceProfiles?.[0]).toMatchObject({
      InstanceProfileName: 'migration-runner',
      Path: '/',
      Arn: `arn:aws:iam::${DEMO_ACCOUNTS.sandbox}:instance-profile/migration-runner`,
      Roles: [{ RoleName: 'old-migration-role' }],
    });
    expect(out.InstanceProfiles?.[0]?.CreateDate).toBeInstanceOf(Date);

    const profile = await iam().send(
      new GetInstanceProfileCommand({ InstanceProfileName: 'migration-runner' }),
    );
    expect(profile.InstanceProfile?.Roles?.map((r) => r.RoleName)).toEqual(['old-migration-role']);
    const none = await iam().send(new ListInstanceProfilesForRoleCommand({ RoleName: 'ci-deployer' }));
    expect(none.InstanceProfiles).toEqual([]);
    expect(
      await caught(iam().send(new GetInstanceProfileCommand({ InstanceProfileName: 'nope' }))),
    ).toBeInstanceOf(NoSuchEntityException);
  });
});

describe('sandbox IAM: deleting a role', () => {
  it('DeleteRole answers DeleteConflict until profiles, managed and inline policies are gone', async () => {
    const s = await start();
    const RoleName = 'old-migration-role';
    const conflict = async () => {
      const err = await caught(iam().send(new DeleteRoleCommand({ RoleName })));
      expect(err).toBeInstanceOf(DeleteConflictException);
      expect(err.$metadata?.httpStatusCode).toBe(409);
      return err.message;
    };

    expect(await conflict()).toBe('Cannot delete entity, must remove roles from instance profile first.');
    await iam().send(
      new RemoveRoleFromInstanceProfileCommand({ InstanceProfileName: 'migration-runner', RoleName }),
    );
    expect(await conflict()).toBe('Cannot delete entity, must detach all policies first.');
    for (const PolicyArn of [
      'arn:aws:iam::aws:policy/service-role/AmazonDMSVPCManagementRole',
      'arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess',
    ]) {
      await iam().send(new DetachRolePolicyCommand({ RoleName, PolicyArn }));
    }
    expect(await conflict()).toBe('Cannot delete entity, must delete policies first.');
    await iam().send(new DeleteRolePolicyCommand({ RoleName, PolicyName: 'migration-target-write' }));

    await iam().send(new DeleteRoleCommand({ RoleName }));

    expect(await caught(iam().send(new GetRoleCommand({ RoleName })))).toBeInstanceOf(NoSuchEntityException);
    expect(s.data.roles.some((r) => r.name === RoleName)).toBe(false);
    // The profile stays, empty, as in IAM.
    expect(s.data.instanceProfiles?.find((p) => p.name === 'migration-runner')?.roles).toEqual([]);
    expect(s.requests.filter((r) => r.operation === 'DeleteRole').map((r) => r.status)).toEqual([
      409, 409, 409, 200,
    ]);
  });

  it('answers NoSuchEntity (404) for each step that is already done', async () => {
    await start();
    const RoleName = 'old-migration-role';
    await iam().send(
      new RemoveRoleFromInstanceProfileCommand({ InstanceProfileName: 'migration-runner', RoleName }),
    );
    const again = await caught(
      iam().send(
        new RemoveRoleFromInstanceProfileCommand({ InstanceProfileName: 'migration-runner', RoleName }),
      ),
    );
    expect(again).toBeInstanceOf(NoSuchEntityException);
    expect(again.$metadata?.httpStatusCode).toBe(404);
    const detach = await caught(
      iam().send(
        new DetachRolePolicyCommand({ RoleName, PolicyArn: 'arn:aws:iam::aws:policy/AdministratorAccess' }),
      ),
    );
    expect(detach).toBeInstanceOf(NoSuchEntityException);
    expect(detach.message).toBe('Policy arn:aws:iam::aws:policy/AdministratorAccess was not found.');
    expect(
      await caught(iam().send(new DeleteRolePolicyCommand({ RoleName, PolicyName: 'nope' }))),
    ).toBeInstanceOf(NoSuchEntityException);
    expect(await caught(iam().send(new DeleteRoleCommand({ RoleName: 'never-existed' })))).toBeInstanceOf(
      NoSuchEntityException,
    );
  });

  it('refuses to change a service-linked role (UnmodifiableEntity, 400)', async () => {
    const s = await start();
    const RoleName = 'AWSServiceRoleForSupport';
    const role = await iam().send(new GetRoleCommand({ RoleName }));
    expect(role.Role?.Path).toBe('/aws-service-role/support.amazonaws.com/');
    expect(role.Role?.Arn).toBe(
      `arn:aws:iam::${DEMO_ACCOUNTS.prod}:role/aws-service-role/support.amazonaws.com/AWSServiceRoleForSupport`,
    );

    for (const command of [
      new DetachRolePolicyCommand({
        RoleName,
        PolicyArn: 'arn:aws:iam::aws:policy/aws-service-role/AWSSupportServiceRolePolicy',
      }),
      new DeleteRoleCommand({ RoleName }),
    ]) {
      const err = await caught(iam().send(command as DeleteRoleCommand));
      expect(err).toBeInstanceOf(UnmodifiableEntityException);
      expect(err.$metadata?.httpStatusCode).toBe(400);
      expect(err.message).toContain("protected role 'AWSServiceRoleForSupport'");
    }
    expect(s.data.roles.find((r) => r.name === RoleName)?.attachedPolicies).toHaveLength(1);
  });
});

describe('sandbox IAM: creating a role and putting things back', () => {
  it('CreateRole stores path, trust, description, duration, boundary and tags; GetRole serves them', async () => {
    const s = await start();
    const out = await iam().send(
      new CreateRoleCommand({
        RoleName: 'batch-runner',
        Path: '/jobs/',
        AssumeRolePolicyDocument: JSON.stringify(TRUST),
        Description: 'Runs <nightly> batch jobs',
        MaxSessionDuration: 7200,
        PermissionsBoundary: `arn:aws:iam::${DEMO_ACCOUNTS.securityTooling}:policy/boundary`,
        Tags: [
          { Key: 'team', Value: 'data' },
          { Key: 'owner', Value: 'dave@example.com' },
        ],
      }),
    );
    expect(out.Role).toMatchObject({
      RoleName: 'batch-runner',
      Path: '/jobs/',
      Arn: `arn:aws:iam::${DEMO_ACCOUNTS.securityTooling}:role/jobs/batch-runner`,
    });
    expect(out.Role?.RoleId).toMatch(/^AROA/);

    const { Role } = await iam().send(new GetRoleCommand({ RoleName: 'batch-runner' }));
    expect(Role).toMatchObject({
      Description: 'Runs <nightly> batch jobs',
      MaxSessionDuration: 7200,
      PermissionsBoundary: {
        PermissionsBoundaryType: 'Policy',
        PermissionsBoundaryArn: `arn:aws:iam::${DEMO_ACCOUNTS.securityTooling}:policy/boundary`,
      },
      Tags: [
        { Key: 'team', Value: 'data' },
        { Key: 'owner', Value: 'dave@example.com' },
      ],
    });
    expect(JSON.parse(decodeURIComponent(Role!.AssumeRolePolicyDocument!))).toEqual(TRUST);
    expect(s.data.roles.at(-1)?.account).toBe(DEMO_ACCOUNTS.securityTooling);
  });

  it('CreateRole answers EntityAlreadyExists (409) and MalformedPolicyDocument (400)', async () => {
    await start();
    // Roles are per account: the member role exists in the member accounts, not yet in the caller's.
    await iam().send(
      new CreateRoleCommand({
        RoleName: 'AccessPatrolMember',
        AssumeRolePolicyDocument: JSON.stringify(TRUST),
      }),
    );
    const again = await caught(
      iam().send(
        new CreateRoleCommand({
          RoleName: 'AccessPatrolMember',
          AssumeRolePolicyDocument: JSON.stringify(TRUST),
        }),
      ),
    );
    expect(again).toBeInstanceOf(EntityAlreadyExistsException);
    expect(again.$metadata?.httpStatusCode).toBe(409);
    expect(again.message).toBe('Role with name AccessPatrolMember already exists.');

    const malformed = await caught(
      iam().send(new CreateRoleCommand({ RoleName: 'broken', AssumeRolePolicyDocument: '{"Version":' })),
    );
    expect(malformed).toBeInstanceOf(MalformedPolicyDocumentException);
    expect(malformed.$metadata?.httpStatusCode).toBe(400);
  });

  it('PutRolePolicy and AttachRolePolicy are idempotent; AddRoleToInstanceProfile holds one role', async () => {
    const s = await start();
    const RoleName = 'batch-runner';
    await iam().send(new CreateRoleCommand({ RoleName, AssumeRolePolicyDocument: JSON.stringify(TRUST) }));
    const doc = JSON.stringify({
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Action: 's3:ListBucket', Resource: '*' }],
    });
    await iam().send(new PutRolePolicyCommand({ RoleName, PolicyName: 'list', PolicyDocument: doc }));
    await iam().send(new PutRolePolicyCommand({ RoleName, PolicyName: 'list', PolicyDocument: doc }));
    const arn = 'arn:aws:iam::aws:policy/ReadOnlyAccess';
    await iam().send(new AttachRolePolicyCommand({ RoleName, PolicyArn: arn }));
    await iam().send(new AttachRolePolicyCommand({ RoleName, PolicyArn: arn }));
    expect((await iam().send(new ListRolePoliciesCommand({ RoleName }))).PolicyNames).toEqual(['list']);
    expect((await iam().send(new ListAttachedRolePoliciesCommand({ RoleName }))).AttachedPolicies).toEqual([
      { PolicyName: 'ReadOnlyAccess', PolicyArn: arn },
    ]);
    expect(
      await caught(
        iam().send(new PutRolePolicyCommand({ RoleName, PolicyName: 'bad', PolicyDocument: 'not json' })),
      ),
    ).toBeInstanceOf(MalformedPolicyDocumentException);

    const created = await iam().send(new CreateInstanceProfileCommand({ InstanceProfileName: 'batch-host' }));
    expect(created.InstanceProfile).toMatchObject({ InstanceProfileName: 'batch-host', Roles: [] });
    expect(
      await caught(iam().send(new CreateInstanceProfileCommand({ InstanceProfileName: 'batch-host' }))),
    ).toBeInstanceOf(EntityAlreadyExistsException);
    expect(
      await caught(
        iam().send(new AddRoleToInstanceProfileCommand({ InstanceProfileName: 'nope', RoleName })),
      ),
    ).toBeInstanceOf(NoSuchEntityException);
    await iam().send(new AddRoleToInstanceProfileCommand({ InstanceProfileName: 'batch-host', RoleName }));
    const full = await caught(
      iam().send(new AddRoleToInstanceProfileCommand({ InstanceProfileName: 'batch-host', RoleName })),
    );
    expect(full).toBeInstanceOf(LimitExceededException);
    expect(full.$metadata?.httpStatusCode).toBe(409);
    expect(full.message).toBe('Cannot exceed quota for InstanceSessionsPerInstanceProfile: 1');

    const profiles = await iam().send(new ListInstanceProfilesForRoleCommand({ RoleName }));
    expect(profiles.InstanceProfiles?.map((p) => p.InstanceProfileName)).toEqual(['batch-host']);
    expect(s.counts()).toMatchObject({ CreateRole: 1, PutRolePolicy: 3, AttachRolePolicy: 2 });
  });

  it('keeps changes to generated (lookupRole) roles and does not revive a deleted one', async () => {
    const data: SandboxData = { ...demoData(NOW), roles: [] };
    data.lookupRole = (account, name) =>
      name === 'generated' ? { account, name, createDate: NOW.toISOString() } : undefined;
    await start(data);
    await iam().send(
      new AttachRolePolicyCommand({
        RoleName: 'generated',
        PolicyArn: 'arn:aws:iam::aws:policy/ReadOnlyAccess',
      }),
    );
    expect(await caught(iam().send(new DeleteRoleCommand({ RoleName: 'generated' })))).toBeInstanceOf(
      DeleteConflictException,
    );
    await iam().send(
      new DetachRolePolicyCommand({
        RoleName: 'generated',
        PolicyArn: 'arn:aws:iam::aws:policy/ReadOnlyAccess',
      }),
    );
    await iam().send(new DeleteRoleCommand({ RoleName: 'generated' }));
    expect(await caught(iam().send(new GetRoleCommand({ RoleName: 'generated' })))).toBeInstanceOf(
      NoSuchEntityException,
    );
  });
});

describe('sandbox IAM: quarantine calls (inline policy and tags) and managed policies', () => {
  const DENY = JSON.stringify({
    Version: '2012-10-17',
    Statement: [{ Effect: 'Deny', Action: '*', Resource: '*' }],
  });

  it('PutRolePolicy and DeleteRolePolicy put and remove a named inline policy; GetRolePolicy reads it back', async () => {
    const s = await start();
    await iam().send(
      new PutRolePolicyCommand({ RoleName: 'ci-deployer', PolicyName: 'q', PolicyDocument: DENY }),
    );
    const read = await iam().send(new GetRolePolicyCommand({ RoleName: 'ci-deployer', PolicyName: 'q' }));
    expect(JSON.parse(decodeURIComponent(read.PolicyDocument!))).toEqual(JSON.parse(DENY));
    await iam().send(new DeleteRolePolicyCommand({ RoleName: 'ci-deployer', PolicyName: 'q' }));
    const role = s.data.roles.find((r) => r.name === 'ci-deployer')!;
    expect(Object.keys(role.inlinePolicies ?? {})).not.toContain('q');
    const again = await caught(
      iam().send(new DeleteRolePolicyCommand({ RoleName: 'ci-deployer', PolicyName: 'q' })),
    );
    expect(again).toBeInstanceOf(NoSuchEntityException);
  });

  it('PutRolePolicy refuses what IAM refuses: a missing role, invalid JSON, a statement without Resource, a Principal', async () => {
    await start();
    const put = (RoleName: string, PolicyDocument: string) =>
      caught(iam().send(new PutRolePolicyCommand({ RoleName, PolicyName: 'q', PolicyDocument })));
    expect(await put('no-such-role', DENY)).toBeInstanceOf(NoSuchEntityException);
    expect(await put('ci-deployer', '{not json')).toBeInstanceOf(MalformedPolicyDocumentException);
    const noResource = JSON.stringify({
      Version: '2012-10-17',
      Statement: [{ Effect: 'Deny', Action: '*' }],
    });
    expect(await put('ci-deployer', noResource)).toBeInstanceOf(MalformedPolicyDocumentException);
    const withPrincipal = JSON.stringify({
      Version: '2012-10-17',
      Statement: [{ Effect: 'Deny', Principal: '*', Action: '*', Resource: '*' }],
    });
    expect(await put('ci-deployer', withPrincipal)).toBeInstanceOf(MalformedPolicyDocumentException);
  });

  it('TagRole adds or overwrites tags up to 50, answers LimitExceeded beyond, and UntagRole removes keys (absent ones too)', async () => {
    const s = await start();
    const role = s.data.roles.find((r) => r.name === 'ci-deployer')!;
    const before = Object.keys(role.tags ?? {}).length;
    await iam().send(
      new TagRoleCommand({
        RoleName: 'ci-deployer',
        Tags: [{ Key: 'access-patrol:quarantine', Value: '2026-11-29/2026-12-29' }],
      }),
    );
    const listed = await iam().send(new ListRoleTagsCommand({ RoleName: 'ci-deployer' }));
    expect(listed.Tags).toContainEqual({ Key: 'access-patrol:quarantine', Value: '2026-11-29/2026-12-29' });
    const fill = Array.from({ length: 50 - before - 1 }, (_, i) => ({ Key: `k${i}`, Value: 'v' }));
    await iam().send(new TagRoleCommand({ RoleName: 'ci-deployer', Tags: fill }));
    expect(Object.keys(role.tags ?? {})).toHaveLength(50);
    // Overwriting an existing key is no new tag.
    await iam().send(new TagRoleCommand({ RoleName: 'ci-deployer', Tags: [{ Key: 'k0', Value: 'w' }] }));
    const over = await caught(
      iam().send(new TagRoleCommand({ RoleName: 'ci-deployer', Tags: [{ Key: 'one-more', Value: 'v' }] })),
    );
    expect(over).toBeInstanceOf(LimitExceededException);
    expect(over.message).toBe('Cannot exceed quota for TagsPerRole: 50.');
    await iam().send(
      new UntagRoleCommand({ RoleName: 'ci-deployer', TagKeys: ['access-patrol:quarantine', 'never-there'] }),
    );
    expect(role.tags?.['access-patrol:quarantine']).toBeUndefined();
    expect(
      await caught(iam().send(new TagRoleCommand({ RoleName: 'nobody', Tags: [{ Key: 'a', Value: 'b' }] }))),
    ).toBeInstanceOf(NoSuchEntityException);
    expect(
      await caught(iam().send(new UntagRoleCommand({ RoleName: 'nobody', TagKeys: ['a'] }))),
    ).toBeInstanceOf(NoSuchEntityException);
    expect(await caught(iam().send(new ListRoleTagsCommand({ RoleName: 'nobody' })))).toBeInstanceOf(
      NoSuchEntityException,
    );
  });

  it('AttachRolePolicy and AttachUserPolicy of a policy IAM does not have answer NoSuchEntity (404) and attach nothing', async () => {
    const s = await start();
    const missing = `arn:aws:iam::${s.data.callerAccount}:policy/never-created`;
    const role = s.data.roles.find((r) => r.name === 'ci-deployer')!;
    const user = s.data.users.find((u) => u.name === 'alice.admin')!;
    const roleBefore = [...(role.attachedPolicies ?? [])];
    const userBefore = [...(user.attachedPolicies ?? [])];
    for (const send of [
      () => iam().send(new AttachRolePolicyCommand({ RoleName: 'ci-deployer', PolicyArn: missing })),
      () => iam().send(new AttachUserPolicyCommand({ UserName: 'alice.admin', PolicyArn: missing })),
      () =>
        iam().send(
          new AttachRolePolicyCommand({
            RoleName: 'ci-deployer',
            PolicyArn: 'arn:aws:iam::aws:policy/NoSuchThing',
          }),
        ),
    ]) {
      const err = await caught(send());
      expect(err).toBeInstanceOf(NoSuchEntityException);
      expect(err.$metadata?.httpStatusCode).toBe(404);
      expect(err.message).toMatch(/does not exist or is not attachable/);
    }
    expect(role.attachedPolicies ?? []).toEqual(roleBefore);
    expect(user.attachedPolicies ?? []).toEqual(userBefore);

    // A policy that exists attaches: AWS's own, and a customer managed one detached (it stays) but
    // not one deleted after.
    await iam().send(
      new AttachUserPolicyCommand({
        UserName: 'alice.admin',
        PolicyArn: 'arn:aws:iam::aws:policy/ReadOnlyAccess',
      }),
    );
    const allow = JSON.stringify({
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Action: 's3:GetObject', Resource: '*' }],
    });
    const arn = (await iam().send(new CreatePolicyCommand({ PolicyName: 'kept', PolicyDocument: allow })))
      .Policy!.Arn!;
    await iam().send(new AttachUserPolicyCommand({ UserName: 'alice.admin', PolicyArn: arn }));
    await iam().send(new DetachUserPolicyCommand({ UserName: 'alice.admin', PolicyArn: arn }));
    await iam().send(new AttachRolePolicyCommand({ RoleName: 'ci-deployer', PolicyArn: arn }));
    await iam().send(new DetachRolePolicyCommand({ RoleName: 'ci-deployer', PolicyArn: arn }));
    await iam().send(new DeletePolicyCommand({ PolicyArn: arn }));
    expect(
      await caught(iam().send(new AttachRolePolicyCommand({ RoleName: 'ci-deployer', PolicyArn: arn }))),
    ).toBeInstanceOf(NoSuchEntityException);
  });

  it('CreatePolicy makes a customer managed policy (EntityAlreadyExists for the same name); DeletePolicy refuses one still attached', async () => {
    const s = await start();
    const allow = JSON.stringify({
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Action: 's3:GetObject', Resource: '*' }],
    });
    const made = await iam().send(new CreatePolicyCommand({ PolicyName: 'scoped', PolicyDocument: allow }));
    const arn = made.Policy!.Arn!;
    expect(arn).toBe(`arn:aws:iam::${s.data.callerAccount}:policy/scoped`);
    expect(
      await caught(iam().send(new CreatePolicyCommand({ PolicyName: 'scoped', PolicyDocument: allow }))),
    ).toBeInstanceOf(EntityAlreadyExistsException);
    expect(
      await caught(iam().send(new CreatePolicyCommand({ PolicyName: 'bad', PolicyDocument: '[]' }))),
    ).toBeInstanceOf(MalformedPolicyDocumentException);
    await iam().send(new AttachRolePolicyCommand({ RoleName: 'ci-deployer', PolicyArn: arn }));
    expect(await caught(iam().send(new DeletePolicyCommand({ PolicyArn: arn })))).toBeInstanceOf(
      DeleteConflictException,
    );
    await iam().send(new DetachRolePolicyCommand({ RoleName: 'ci-deployer', PolicyArn: arn }));
    await iam().send(new DeletePolicyCommand({ PolicyArn: arn }));
    expect(s.data.managedPolicies?.[arn]).toBeUndefined();
    expect(await caught(iam().send(new DeletePolicyCommand({ PolicyArn: arn })))).toBeInstanceOf(
      NoSuchEntityException,
    );
  });
});
