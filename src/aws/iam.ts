// IAM roles for the "delete unused role" remediation: read everything a role holds, keep it as a
// backup, take the role apart and delete it, and rebuild it from the backup. Every step is
// idempotent (something already gone counts as done), so a retried job or a double click is harmless.
import {
  AddRoleToInstanceProfileCommand,
  AttachRolePolicyCommand,
  CreateInstanceProfileCommand,
  CreateRoleCommand,
  DeleteRoleCommand,
  DeleteRolePolicyCommand,
  DetachRolePolicyCommand,
  GetInstanceProfileCommand,
  GetRoleCommand,
  GetRolePolicyCommand,
  type IAMClient,
  ListAttachedRolePoliciesCommand,
  ListInstanceProfilesForRoleCommand,
  ListRolePoliciesCommand,
  PutRolePolicyCommand,
  RemoveRoleFromInstanceProfileCommand,
} from '@aws-sdk/client-iam';
import type { AwsClients } from './clients.ts';
import { AwsError, toAwsError } from './errors.ts';

export interface RoleTag {
  Key: string;
  Value: string;
}

/** Everything GetRole and the role's List* calls say about one role. Documents are decoded JSON text. */
export interface RoleInspection {
  accountId: string;
  roleName: string;
  arn: string;
  roleId: string;
  path: string;
  description?: string;
  maxSessionDuration?: number;
  createDate?: Date;
  /** `LastUsedDate` is absent when the role was not used in the trailing 400 days. */
  lastUsed: { date?: Date; region?: string };
  assumeRolePolicyDocument: string;
  permissionsBoundaryArn?: string;
  tags: RoleTag[];
  attachedPolicies: { name: string; arn: string }[];
  inlinePolicies: { name: string; document: string }[];
  instanceProfiles: { name: string; arn: string; path: string }[];
  /** Path under /aws-service-role/: only the service can delete it (DeleteServiceLinkedRole). */
  isServiceLinked: boolean;
}

/** What restoreRole needs to rebuild a deleted role. Plain JSON, safe to store. */
export interface RoleBackup {
  version: 1;
  accountId: string;
  roleName: string;
  arn: string;
  path: string;
  description?: string;
  maxSessionDuration?: number;
  assumeRolePolicyDocument: string;
  permissionsBoundaryArn?: string;
  tags: RoleTag[];
  inlinePolicies: { name: string; document: string }[];
  attachedPolicyArns: string[];
  instanceProfileNames: string[];
  /** ISO-8601. */
  takenAt: string;
}

/** One finished step, for progress messages. */
export interface RoleStep {
  /** The IAM operation, e.g. DetachRolePolicy. */
  operation: string;
  /** What it acted on: a policy ARN, inline policy name, instance profile name or the role name. */
  target: string;
  /** Human-readable, e.g. `detached arn:aws:iam::aws:policy/ReadOnlyAccess`. */
  text: string;
  /** True when AWS said the thing was already gone or already there. */
  alreadyDone: boolean;
}

/**
 * `done` and `notDone` are human-readable steps. A failure never throws: it is `ok: false` with the
 * steps that did and did not happen and the AwsError that stopped it.
 */
export type DeletionReport =
  | { ok: true; done: string[]; notDone: []; alreadyGone?: boolean }
  | { ok: false; done: string[]; notDone: string[]; error: AwsError };

export type RestoreReport =
  | { ok: true; done: string[]; notDone: []; alreadyExisted?: boolean }
  | { ok: false; done: string[]; notDone: string[]; error: AwsError; alreadyExisted?: boolean };

export interface DeleteRoleOptions {
  onStep?(step: RoleStep): void;
  /**
   * Called with what is about to be removed, before the first change (and again, with the fresh
   * inspection, before removing what was attached meanwhile). Save the backup here: if it throws,
   * nothing more is changed and the error propagates.
   */
  onInspected?(inspection: RoleInspection): Promise<void> | void;
}

export interface RestoreRoleOptions {
  onStep?(step: RoleStep): void;
}

export interface IamGateway {
  /** null when the role does not exist (NoSuchEntity). Throws AwsError otherwise. */
  inspectRole(accountId: string, roleName: string): Promise<RoleInspection | null>;
  deleteRole(accountId: string, roleName: string, opts?: DeleteRoleOptions): Promise<DeletionReport>;
  restoreRole(backup: RoleBackup, opts?: RestoreRoleOptions): Promise<RestoreReport>;
}

export interface IamGatewayOptions {
  /** Waits between retries of ConcurrentModification / EntityTemporarilyUnmodifiable. Tests pass a fake. */
  sleep?: (ms: number) => Promise<void>;
  /** Base delay of those retries (multiplied by the attempt number). Default 500 ms. */
  retryDelayMs?: number;
}

/** The SDK does not retry these (409); IAM asks the caller to try again shortly. */
const TRANSIENT_CODES = new Set([
  'ConcurrentModification',
  'ConcurrentModificationException',
  'EntityTemporarilyUnmodifiable',
  'EntityTemporarilyUnmodifiableException',
]);
const TRANSIENT_RETRIES = 3;
const SERVICE_LINKED_PREFIX = '/aws-service-role/';

interface Step {
  operation: string;
  target: string;
  /** Past tense, for `done`. */
  done: string;
  /** Imperative, for `notDone`. */
  todo: string;
  run(iam: IAMClient): Promise<unknown>;
}

export function createIamGateway(clients: Pick<AwsClients, 'iam'>, opts: IamGatewayOptions = {}): IamGateway {
  const sleep = opts.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const retryDelayMs = opts.retryDelayMs ?? 500;

  /** One IAM call, its error mapped to AwsError, retried a few times when IAM says "try again". */
  const call = async <T>(operation: string, run: () => Promise<T>): Promise<T> => {
    for (let attempt = 0; ; attempt++) {
      try {
        return await run();
      } catch (err) {
        const e = toAwsError(err, `IAM.${operation}`);
        if (!TRANSIENT_CODES.has(e.code) || attempt >= TRANSIENT_RETRIES) throw e;
        await sleep(retryDelayMs * (attempt + 1));
      }
    }
  };

  /** Follows Marker/IsTruncated over every page. */
  const allPages = async <O extends { IsTruncated?: boolean | undefined; Marker?: string | undefined }, T>(
    operation: string,
    fetch: (marker: string | undefined) => Promise<O>,
    items: (out: O) => T[] | undefined,
  ): Promise<T[]> => {
    const all: T[] = [];
    let marker: string | undefined;
    do {
      const out = await call(operation, () => fetch(marker));
      all.push(...(items(out) ?? []));
      marker = out.IsTruncated ? out.Marker : undefined;
    } while (marker);
    return all;
  };

  const inspect = async (accountId: string, roleName: string): Promise<RoleInspection | null> => {
    const iam = clients.iam(accountId);
    const RoleName = roleName;
    const withMarker = (marker: string | undefined) => ({ RoleName, ...(marker ? { Marker: marker } : {}) });
    try {
      const { Role: role } = await call('GetRole', () => iam.send(new GetRoleCommand({ RoleName })));
      if (!role?.Arn) {
        throw new AwsError(
          'unavailable',
          'IAM.GetRole',
          'EmptyResponse',
          `GetRole of ${roleName} returned no role`,
        );
      }
      const attached = await allPages(
        'ListAttachedRolePolicies',
        (m) => iam.send(new ListAttachedRolePoliciesCommand(withMarker(m))),
        (o) => o.AttachedPolicies,
      );
      const inlineNames = await allPages(
        'ListRolePolicies',
        (m) => iam.send(new ListRolePoliciesCommand(withMarker(m))),
        (o) => o.PolicyNames,
      );
      const inlinePolicies: RoleInspection['inlinePolicies'] = [];
      for (const name of inlineNames) {
        try {
          const out = await call('GetRolePolicy', () =>
            iam.send(new GetRolePolicyCommand({ RoleName, PolicyName: name })),
          );
          inlinePolicies.push({ name, document: decodeDocument(out.PolicyDocument ?? '') });
        } catch (err) {
          // Deleted between the list and the read: it is no longer part of the role.
          if (toAwsError(err, 'IAM.GetRolePolicy').kind !== 'not-found') throw err;
        }
      }
      const profiles = await allPages(
        'ListInstanceProfilesForRole',
        (m) => iam.send(new ListInstanceProfilesForRoleCommand(withMarker(m))),
        (o) => o.InstanceProfiles,
      );

      const path = role.Path ?? '/';
      const inspection: RoleInspection = {
        accountId,
        roleName: role.RoleName ?? roleName,
        arn: role.Arn,
        roleId: role.RoleId ?? '',
        path,
        lastUsed: {},
        assumeRolePolicyDocument: decodeDocument(role.AssumeRolePolicyDocument ?? ''),
        // GetRole returns every tag (a role holds at most 50), so ListRoleTags is not needed.
        tags: (role.Tags ?? []).map((t) => ({ Key: t.Key ?? '', Value: t.Value ?? '' })),
        attachedPolicies: attached.map((p) => ({ name: p.PolicyName ?? '', arn: p.PolicyArn ?? '' })),
        inlinePolicies,
        instanceProfiles: profiles.map((p) => ({
          name: p.InstanceProfileName ?? '',
          arn: p.Arn ?? '',
          path: p.Path ?? '/',
        })),
        isServiceLinked: path.startsWith(SERVICE_LINKED_PREFIX),
      };
      if (role.Description !== undefined) inspection.description = role.Description;
      if (role.MaxSessionDuration !== undefined) inspection.maxSessionDuration = role.MaxSessionDuration;
      if (role.CreateDate) inspection.createDate = role.CreateDate;
      if (role.RoleLastUsed?.LastUsedDate) inspection.lastUsed.date = role.RoleLastUsed.LastUsedDate;
      if (role.RoleLastUsed?.Region) inspection.lastUsed.region = role.RoleLastUsed.Region;
      if (role.PermissionsBoundary?.PermissionsBoundaryArn) {
        inspection.permissionsBoundaryArn = role.PermissionsBoundary.PermissionsBoundaryArn;
      }
      return inspection;
    } catch (err) {
      // The role vanished before or during the reads.
      if (err instanceof AwsError && err.kind === 'not-found') return null;
      throw err;
    }
  };

  /** Runs steps in order; not-found counts as done. Stops at the first other failure. */
  const runSteps = async (
    iam: IAMClient,
    steps: Step[],
    done: string[],
    onStep: ((s: RoleStep) => void) | undefined,
  ): Promise<{ failed?: { at: number; error: AwsError }; notFound: Set<Step> }> => {
    const notFound = new Set<Step>();
    for (const [i, step] of steps.entries()) {
      let alreadyDone = false;
      try {
        await call(step.operation, () => step.run(iam));
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
  };

  return {
    inspectRole: inspect,

    async deleteRole(accountId, roleName, options = {}) {
      const iam = clients.iam(accountId);
      const done: string[] = [];
      const deleteStep = deleteRoleStep(roleName);

      let inspection: RoleInspection | null;
      try {
        inspection = await inspect(accountId, roleName);
      } catch (err) {
        return { ok: false, done, notDone: [deleteStep.todo], error: toAwsError(err, 'IAM.GetRole') };
      }
      if (!inspection) return { ok: true, done, notDone: [], alreadyGone: true };
      let steps = removalSteps(inspection);
      if (inspection.isServiceLinked) {
        return {
          ok: false,
          done,
          notDone: [...steps, deleteStep].map((s) => s.todo),
          error: serviceLinkedError(inspection),
        };
      }
      await options.onInspected?.(inspection);

      for (let round = 0; ; round++) {
        const all = [...steps, deleteStep];
        const { failed, notFound } = await runSteps(iam, all, done, options.onStep);
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
        // Something was attached meanwhile: look again and remove that too, once.
        let again: RoleInspection | null;
        try {
          again = await inspect(accountId, roleName);
        } catch (err) {
          return { ok: false, done, notDone: [deleteStep.todo], error: toAwsError(err, 'IAM.GetRole') };
        }
        if (!again) return { ok: true, done, notDone: [], alreadyGone: true };
        await options.onInspected?.(again);
        steps = removalSteps(again);
      }
    },

    async restoreRole(backup, options = {}) {
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
      const iam = clients.iam(backup.accountId);
      let alreadyExisted = false;

      try {
        await call('CreateRole', () =>
          iam.send(
            new CreateRoleCommand({
              Path: backup.path,
              RoleName,
              AssumeRolePolicyDocument: backup.assumeRolePolicyDocument,
              ...(backup.description !== undefined ? { Description: backup.description } : {}),
              ...(backup.maxSessionDuration !== undefined
                ? { MaxSessionDuration: backup.maxSessionDuration }
                : {}),
              ...(backup.permissionsBoundaryArn
                ? { PermissionsBoundary: backup.permissionsBoundaryArn }
                : {}),
              ...(backup.tags.length > 0 ? { Tags: backup.tags } : {}),
            }),
          ),
        );
        step('CreateRole', RoleName, `created role ${RoleName}`);
      } catch (err) {
        const e = toAwsError(err, 'IAM.CreateRole');
        if (!e.code.startsWith('EntityAlreadyExists'))
          return { ok: false, done, notDone: todoAll(), error: e };
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
          await call(operation, run);
          step(operation, target, text);
        } catch (err) {
          errors.push(toAwsError(err, `IAM.${operation}`));
          notDone.push(todo);
        }
      };
      for (const p of backup.inlinePolicies) {
        await attempt(
          'PutRolePolicy',
          p.name,
          `put inline policy ${p.name}`,
          `put inline policy ${p.name}`,
          () =>
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
          await addToInstanceProfile(iam, RoleName, name, step);
        } catch (err) {
          errors.push(toAwsError(err, 'IAM.AddRoleToInstanceProfile'));
          notDone.push(todo);
        }
      }

      const extra = alreadyExisted ? { alreadyExisted } : {};
      const [error] = errors;
      if (error) return { ok: false, done, notDone, error, ...extra };
      return { ok: true, done, notDone: [], ...extra };
    },
  };

  /**
   * Puts the role back into its instance profile, creating the profile if it is gone. Reads the
   * profile first: AddRoleToInstanceProfile answers LimitExceeded for a profile that already holds a
   * role, and the SDK retries LimitExceeded as throttling.
   */
  async function addToInstanceProfile(
    iam: IAMClient,
    roleName: string,
    profileName: string,
    step: (operation: string, target: string, text: string, alreadyDone?: boolean) => void,
  ): Promise<void> {
    const InstanceProfileName = profileName;
    let holders: string[] = [];
    try {
      const out = await call('GetInstanceProfile', () =>
        iam.send(new GetInstanceProfileCommand({ InstanceProfileName })),
      );
      holders = (out.InstanceProfile?.Roles ?? []).map((r) => r.RoleName ?? '');
    } catch (err) {
      if (!(err instanceof AwsError) || err.kind !== 'not-found') throw err;
      try {
        await call('CreateInstanceProfile', () =>
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
      await call('AddRoleToInstanceProfile', () =>
        iam.send(new AddRoleToInstanceProfileCommand({ InstanceProfileName, RoleName: roleName })),
      );
    } catch (err) {
      const e = toAwsError(err, 'IAM.AddRoleToInstanceProfile');
      throw e.code.startsWith('LimitExceeded') ? inUse('another role') : e;
    }
    step('AddRoleToInstanceProfile', profileName, `added to instance profile ${profileName}`);
  }
}

/** A backup of what `inspection` shows; `now` stamps it. */
export function backupFromInspection(inspection: RoleInspection, now: Date): RoleBackup {
  const backup: RoleBackup = {
    version: 1,
    accountId: inspection.accountId,
    roleName: inspection.roleName,
    arn: inspection.arn,
    path: inspection.path,
    assumeRolePolicyDocument: inspection.assumeRolePolicyDocument,
    tags: inspection.tags.map((t) => ({ ...t })),
    inlinePolicies: inspection.inlinePolicies.map((p) => ({ ...p })),
    attachedPolicyArns: inspection.attachedPolicies.map((p) => p.arn),
    instanceProfileNames: inspection.instanceProfiles.map((p) => p.name),
    takenAt: now.toISOString(),
  };
  if (inspection.description !== undefined) backup.description = inspection.description;
  if (inspection.maxSessionDuration !== undefined) backup.maxSessionDuration = inspection.maxSessionDuration;
  if (inspection.permissionsBoundaryArn) backup.permissionsBoundaryArn = inspection.permissionsBoundaryArn;
  return backup;
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

/** IAM returns policy documents URL-encoded (RFC 3986). */
function decodeDocument(encoded: string): string {
  try {
    return decodeURIComponent(encoded);
  } catch {
    return encoded;
  }
}

/** Same policy, ignoring whitespace and key order. */
function sameDocument(a: string, b: string): boolean {
  try {
    return canonical(JSON.parse(a)) === canonical(JSON.parse(b));
  } catch {
    return a === b;
  }
}

function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v && typeof v === 'object') {
    const entries = Object.entries(v as Record<string, unknown>).sort(([x], [y]) =>
      x < y ? -1 : x > y ? 1 : 0,
    );
    return `{${entries.map(([k, x]) => `${JSON.stringify(k)}:${canonical(x)}`).join(',')}}`;
  }
  return JSON.stringify(v);
}
