// A role backup is what an inspection shows, as plain JSON that restoreRole can rebuild from.
import type { RoleBackup, RoleInspection } from './types.ts';

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
