// What the IAM gateway reads about a role, keeps of it, and reports of a deletion or a restore.
import type { AwsError } from '../errors.ts';

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

/** Roles under this path are service-linked: only their service may create or delete them. */
export const SERVICE_LINKED_PREFIX = '/aws-service-role/';
