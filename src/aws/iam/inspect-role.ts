// Everything a role holds, read from GetRole and the role's List* calls (every page of each).
import {
  GetRoleCommand,
  GetRolePolicyCommand,
  paginateListAttachedRolePolicies,
  paginateListInstanceProfilesForRole,
  paginateListRolePolicies,
} from '@aws-sdk/client-iam';
import { AwsError, toAwsError } from '../errors.ts';
import type { IamContext } from './context.ts';
import { decodeDocument } from './documents.ts';
import { type RoleInspection, SERVICE_LINKED_PREFIX } from './types.ts';

/** null when the role does not exist, or vanished during the reads. */
export async function inspectRole(
  ctx: IamContext,
  accountId: string,
  roleName: string,
): Promise<RoleInspection | null> {
  const client = ctx.client(accountId);
  const RoleName = roleName;
  const paging = (startingToken: string | undefined) => ctx.paging(accountId, startingToken);
  try {
    const { Role: role } = await ctx.call('GetRole', () => client.send(new GetRoleCommand({ RoleName })));
    if (!role?.Arn) {
      throw new AwsError(
        'unavailable',
        'IAM.GetRole',
        'EmptyResponse',
        `GetRole of ${roleName} returned no role`,
      );
    }
    const attached = await ctx.list(
      'ListAttachedRolePolicies',
      (t) => paginateListAttachedRolePolicies(paging(t), { RoleName }),
      (o) => o.AttachedPolicies,
    );
    const inlineNames = await ctx.list(
      'ListRolePolicies',
      (t) => paginateListRolePolicies(paging(t), { RoleName }),
      (o) => o.PolicyNames,
    );
    const inlinePolicies: RoleInspection['inlinePolicies'] = [];
    for (const name of inlineNames) {
      try {
        const out = await ctx.call('GetRolePolicy', () =>
          client.send(new GetRolePolicyCommand({ RoleName, PolicyName: name })),
        );
        inlinePolicies.push({ name, document: decodeDocument(out.PolicyDocument ?? '') });
      } catch (err) {
        // Deleted between the list and the read: it is no longer part of the role.
        if (toAwsError(err, 'IAM.GetRolePolicy').kind !== 'not-found') throw err;
      }
    }
    const profiles = await ctx.list(
      'ListInstanceProfilesForRole',
      (t) => paginateListInstanceProfilesForRole(paging(t), { RoleName }),
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
}
