// Rebuilds a deleted role from its backup: the role first (carrying on only over the same role),
// then its inline policies, attached policies and instance profiles, each on its own (best effort).
import {
  AddRoleToInstanceProfileCommand,
  AttachRolePolicyCommand,
  CreateInstanceProfileCommand,
  CreateRoleCommand,
  GetInstanceProfileCommand,
  type IAMClient,
  PutRolePolicyCommand,
} from '@aws-sdk/client-iam';
import { AwsError, toAwsError } from '../errors.ts';
import type { IamContext } from './context.ts';
import { sameDocument } from './documents.ts';
import {
  type IamGateway,
  type RestoreReport,
  type RestoreRoleOptions,
  type RoleBackup,
  type RoleInspection,
  SERVICE_LINKED_PREFIX,
} from './types.ts';

type Inspect = IamGateway['inspectRole'];
type Step = (operation: string, target: string, text: string, alreadyDone?: boolean) => void;

export async function restoreRole(
  ctx: IamContext,
  inspect: Inspect,
  backup: RoleBackup,
  options: RestoreRoleOptions = {},
): Promise<RestoreReport> {
  const done: string[] = [];
  const notDone: string[] = [];
  const errors: AwsError[] = [];
  const step = (operation: string, target: string, text: string, alreadyDone = false) => {
    done.push(text);
    options.onStep?.({ operation, target, text, alreadyDone });
  };
  const RoleName = backup.roleName;
  const todoAll = () => [
    `create role ${RoleName}`,
    ...backup.inlinePolicies.map((p) => `put inline policy ${p.name}`),
    ...backup.attachedPolicyArns.map((a) => `attach ${a}`),
    ...backup.instanceProfileNames.map((n) => `add to instance profile ${n}`),
  ];
  if (backup.version !== 1) {
    const error = new AwsError(
      'invalid',
      'IAM.CreateRole',
      'UnsupportedBackup',
      `backup version ${String(backup.version)} is not supported`,
    );
    return { ok: false, done, notDone: todoAll(), error };
  }
  if (backup.path.startsWith(SERVICE_LINKED_PREFIX)) {
    const error = new AwsError(
      'invalid',
      'IAM.CreateRole',
      'UnmodifiableEntity',
      `${RoleName} is a service-linked role; only its service can create it`,
    );
    return { ok: false, done, notDone: todoAll(), error };
  }
  const iam = ctx.client(backup.accountId);
  let alreadyExisted = false;

  try {
    await ctx.call('CreateRole', () =>
      iam.send(
        new CreateRoleCommand({
          Path: backup.path,
          RoleName,
          AssumeRolePolicyDocument: backup.assumeRolePolicyDocument,
          ...(backup.description !== undefined ? { Description: backup.description } : {}),
          ...(backup.maxSessionDuration !== undefined
            ? { MaxSessionDuration: backup.maxSessionDuration }
            : {}),
          ...(backup.permissionsBoundaryArn ? { PermissionsBoundary: backup.permissionsBoundaryArn } : {}),
          ...(backup.tags.length > 0 ? { Tags: backup.tags } : {}),
        }),
      ),
    );
    step('CreateRole', RoleName, `created role ${RoleName}`);
  } catch (err) {
    const e = toAwsError(err, 'IAM.CreateRole');
    if (!e.code.startsWith('EntityAlreadyExists')) return { ok: false, done, notDone: todoAll(), error: e };
    // A retried restore, or someone recreated it: carry on only if it is the same role.
    let existing: RoleInspection | null;
    try {
      existing = await inspect(backup.accountId, RoleName);
    } catch (err2) {
      return { ok: false, done, notDone: todoAll(), error: toAwsError(err2, 'IAM.GetRole') };
    }
    if (!existing || !sameDocument(existing.assumeRolePolicyDocument, backup.assumeRolePolicyDocument)) {
      const error = new AwsError(
        'conflict',
        'IAM.CreateRole',
        'EntityAlreadyExists',
        existing
          ? `a different role named ${RoleName} exists (its trust policy differs from the backup); not restoring over it`
          : `role ${RoleName} was being deleted while restoring it; try again`,
      );
      return { ok: false, done, notDone: todoAll(), error };
    }
    // Only the trust policy is compared; tags, description and boundary of the existing role stay as they are.
    alreadyExisted = true;
    step('CreateRole', RoleName, `role ${RoleName} already existed`, true);
  }

  // The rest is best effort: one failing step does not stop the others.
  const attempt = async (
    operation: string,
    target: string,
    text: string,
    todo: string,
    run: () => Promise<unknown>,
  ) => {
    try {
      await ctx.call(operation, run);
      step(operation, target, text);
    } catch (err) {
      errors.push(toAwsError(err, `IAM.${operation}`));
      notDone.push(todo);
    }
  };
  for (const p of backup.inlinePolicies) {
    await attempt('PutRolePolicy', p.name, `put inline policy ${p.name}`, `put inline policy ${p.name}`, () =>
      iam.send(new PutRolePolicyCommand({ RoleName, PolicyName: p.name, PolicyDocument: p.document })),
    );
  }
  for (const arn of backup.attachedPolicyArns) {
    await attempt('AttachRolePolicy', arn, `attached ${arn}`, `attach ${arn}`, () =>
      iam.send(new AttachRolePolicyCommand({ RoleName, PolicyArn: arn })),
    );
  }
  for (const name of backup.instanceProfileNames) {
    const todo = `add to instance profile ${name}`;
    try {
      await addToInstanceProfile(ctx, iam, RoleName, name, step);
    } catch (err) {
      errors.push(toAwsError(err, 'IAM.AddRoleToInstanceProfile'));
      notDone.push(todo);
    }
  }

  const extra = alreadyExisted ? { alreadyExisted } : {};
  const [error] = errors;
  if (error) return { ok: false, done, notDone, error, ...extra };
  return { ok: true, done, notDone: [], ...extra };
}

/**
 * Puts the role back into its instance profile, creating the profile if it is gone. Reads the
 * profile first: AddRoleToInstanceProfile answers LimitExceeded for a profile that already holds a
 * role, and the SDK retries LimitExceeded as throttling.
 */
async function addToInstanceProfile(
  ctx: IamContext,
  iam: IAMClient,
  roleName: string,
  profileName: string,
  step: Step,
): Promise<void> {
  const InstanceProfileName = profileName;
  let holders: string[] = [];
  try {
    const out = await ctx.call('GetInstanceProfile', () =>
      iam.send(new GetInstanceProfileCommand({ InstanceProfileName })),
    );
    holders = (out.InstanceProfile?.Roles ?? []).map((r) => r.RoleName ?? '');
  } catch (err) {
    if (!(err instanceof AwsError) || err.kind !== 'not-found') throw err;
    try {
      await ctx.call('CreateInstanceProfile', () =>
        iam.send(new CreateInstanceProfileCommand({ InstanceProfileName })),
      );
      step('CreateInstanceProfile', profileName, `created instance profile ${profileName}`);
    } catch (err2) {
      const e = toAwsError(err2, 'IAM.CreateInstanceProfile');
      if (!e.code.startsWith('EntityAlreadyExists')) throw e;
    }
  }
  if (holders.includes(roleName)) {
    step('AddRoleToInstanceProfile', profileName, `added to instance profile ${profileName}`, true);
    return;
  }
  const inUse = (other: string) =>
    new AwsError(
      'conflict',
      'IAM.AddRoleToInstanceProfile',
      'LimitExceeded',
      `instance profile ${profileName} already holds ${other} (a profile holds one role)`,
    );
  if (holders.length > 0) throw inUse(`role ${holders.join(', ')}`);
  try {
    await ctx.call('AddRoleToInstanceProfile', () =>
      iam.send(new AddRoleToInstanceProfileCommand({ InstanceProfileName, RoleName: roleName })),
    );
  } catch (err) {
    const e = toAwsError(err, 'IAM.AddRoleToInstanceProfile');
    throw e.code.startsWith('LimitExceeded') ? inUse('another role') : e;
  }
  step('AddRoleToInstanceProfile', profileName, `added to instance profile ${profileName}`);
}
