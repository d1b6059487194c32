// Takes a role apart in the order IAM needs (instance profiles, attached policies, inline policies)
// and deletes it. Something already gone counts as done, so a retried job or a double click is harmless.
import {
  DeleteRoleCommand,
  DeleteRolePolicyCommand,
  DetachRolePolicyCommand,
  type IAMClient,
  RemoveRoleFromInstanceProfileCommand,
} from '@aws-sdk/client-iam';
import { AwsError, toAwsError } from '../errors.ts';
import type { IamContext } from './context.ts';
import type { DeleteRoleOptions, DeletionReport, IamGateway, RoleInspection, RoleStep } from './types.ts';

interface Step {
  operation: string;
  target: string;
  /** Past tense, for `done`. */
  done: string;
  /** Imperative, for `notDone`. */
  todo: string;
  run(iam: IAMClient): Promise<unknown>;
}

type Inspect = IamGateway['inspectRole'];

export async function deleteRole(
  ctx: IamContext,
  inspect: Inspect,
  accountId: string,
  roleName: string,
  options: DeleteRoleOptions = {},
): Promise<DeletionReport> {
  const iam = ctx.client(accountId);
  const done: string[] = [];
  const deleteStep = deleteRoleStep(roleName);

  // A second round only when DeleteRole conflicts: something was attached meanwhile.
  for (let round = 0; ; round++) {
    let inspection: RoleInspection | null;
    try {
      inspection = await inspect(accountId, roleName);
    } catch (err) {
      return { ok: false, done, notDone: [deleteStep.todo], error: toAwsError(err, 'IAM.GetRole') };
    }
    if (!inspection) return { ok: true, done, notDone: [], alreadyGone: true };
    const all = [...removalSteps(inspection), deleteStep];
    if (round === 0 && inspection.isServiceLinked) {
      return { ok: false, done, notDone: all.map((s) => s.todo), error: serviceLinkedError(inspection) };
    }
    await options.onInspected?.(inspection);

    const { failed, notFound } = await runSteps(ctx, iam, all, done, options.onStep);
    if (!failed) {
      return notFound.has(deleteStep)
        ? { ok: true, done, notDone: [], alreadyGone: true }
        : { ok: true, done, notDone: [] };
    }
    const rest = all.slice(failed.at);
    const error = mapUnmodifiable(failed.error, roleName);
    const conflictOnDelete = rest[0] === deleteStep && error.code.startsWith('DeleteConflict');
    if (!conflictOnDelete || round > 0) {
      return { ok: false, done, notDone: rest.map((s) => s.todo), error };
    }
  }
}

/** Runs steps in order; not-found counts as done. Stops at the first other failure. */
async function runSteps(
  ctx: IamContext,
  iam: IAMClient,
  steps: Step[],
  done: string[],
  onStep: ((s: RoleStep) => void) | undefined,
): Promise<{ failed?: { at: number; error: AwsError }; notFound: Set<Step> }> {
  const notFound = new Set<Step>();
  for (const [i, step] of steps.entries()) {
    let alreadyDone = false;
    try {
      await ctx.call(step.operation, () => step.run(iam));
    } catch (err) {
      const e = toAwsError(err, `IAM.${step.operation}`);
      if (e.kind !== 'not-found') return { failed: { at: i, error: e }, notFound };
      alreadyDone = true;
      notFound.add(step);
    }
    done.push(step.done);
    onStep?.({ operation: step.operation, target: step.target, text: step.done, alreadyDone });
  }
  return { notFound };
}

/** The steps that must happen before DeleteRole, in the order IAM needs them. */
function removalSteps(inspection: RoleInspection): Step[] {
  const RoleName = inspection.roleName;
  return [
    ...inspection.instanceProfiles.map(
      (p): Step => ({
        operation: 'RemoveRoleFromInstanceProfile',
        target: p.name,
        done: `removed from instance profile ${p.name}`,
        todo: `remove from instance profile ${p.name}`,
        run: (iam) =>
          iam.send(new RemoveRoleFromInstanceProfileCommand({ InstanceProfileName: p.name, RoleName })),
      }),
    ),
    ...inspection.attachedPolicies.map(
      (p): Step => ({
        operation: 'DetachRolePolicy',
        target: p.arn,
        done: `detached ${p.arn}`,
        todo: `detach ${p.arn}`,
        run: (iam) => iam.send(new DetachRolePolicyCommand({ RoleName, PolicyArn: p.arn })),
      }),
    ),
    ...inspection.inlinePolicies.map(
      (p): Step => ({
        operation: 'DeleteRolePolicy',
        target: p.name,
        done: `deleted inline policy ${p.name}`,
        todo: `delete inline policy ${p.name}`,
        run: (iam) => iam.send(new DeleteRolePolicyCommand({ RoleName, PolicyName: p.name })),
      }),
    ),
  ];
}

function deleteRoleStep(roleName: string): Step {
  return {
    operation: 'DeleteRole',
    target: roleName,
    done: `deleted role ${roleName}`,
    todo: `delete role ${roleName}`,
    run: (iam) => iam.send(new DeleteRoleCommand({ RoleName: roleName })),
  };
}

function serviceLinkedError(inspection: RoleInspection): AwsError {
  return new AwsError(
    'invalid',
    'IAM.DeleteRole',
    'UnmodifiableEntity',
    `${inspection.roleName} is a service-linked role (path ${inspection.path}); only its service can delete it (DeleteServiceLinkedRole)`,
  );
}

/** IAM's own UnmodifiableEntity message is terse; say what it means. */
function mapUnmodifiable(e: AwsError, roleName: string): AwsError {
  if (!e.code.startsWith('UnmodifiableEntity')) return e;
  return new AwsError(
    'invalid',
    e.operation,
    e.code,
    `${roleName} is protected (service-linked or AWS-managed) and cannot be changed: ${e.message}`,
  );
}
