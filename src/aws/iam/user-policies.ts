// What an IAM user holds: its own attached and inline policies, and those of every group it is in
// (which it holds as well). Documents are decoded JSON text.
import {
  GetGroupPolicyCommand,
  GetUserPolicyCommand,
  type IAMClient,
  paginateListAttachedGroupPolicies,
  paginateListAttachedUserPolicies,
  paginateListGroupPolicies,
  paginateListGroupsForUser,
  paginateListUserPolicies,
} from '@aws-sdk/client-iam';
import { call, collect, unlessNotFound } from '../paging.ts';
import { decodeDocument } from './documents.ts';

export interface UserPolicies {
  /** `via` names the group a user holds it through. */
  attached: { arn: string; name: string; via?: string }[];
  inline: { name: string; document: string; via?: string }[];
}

/** Throws AwsError; a user that does not exist is an AwsError of kind not-found. */
export async function userPolicies(client: IAMClient, userName: string): Promise<UserPolicies> {
  const UserName = userName;
  const attached: UserPolicies['attached'] = [];
  const inline: UserPolicies['inline'] = [];
  /** Inline documents by name; one deleted since it was listed is left out. */
  const readInline = async (
    operation: string,
    names: string[],
    get: (name: string) => Promise<string | undefined>,
    via?: string,
  ) => {
    for (const name of names) {
      const doc = await unlessNotFound(call(`IAM.${operation}`, () => get(name)));
      if (doc === null) continue;
      inline.push({ name, document: decodeDocument(doc ?? ''), ...(via ? { via } : {}) });
    }
  };

  const own = await collect({
    operation: 'IAM.ListAttachedUserPolicies',
    paginate: () => paginateListAttachedUserPolicies({ client }, { UserName }),
    items: (o) => o.AttachedPolicies,
  });
  attached.push(...own.map((p) => ({ arn: p.PolicyArn ?? '', name: p.PolicyName ?? '' })));
  const ownNames = await collect({
    operation: 'IAM.ListUserPolicies',
    paginate: () => paginateListUserPolicies({ client }, { UserName }),
    items: (o) => o.PolicyNames,
  });
  await readInline(
    'GetUserPolicy',
    ownNames,
    async (PolicyName) =>
      (await client.send(new GetUserPolicyCommand({ UserName, PolicyName }))).PolicyDocument,
  );

  const groups = await collect({
    operation: 'IAM.ListGroupsForUser',
    paginate: () => paginateListGroupsForUser({ client }, { UserName }),
    items: (o) => o.Groups,
  });
  for (const g of groups) {
    const GroupName = g.GroupName ?? '';
    const via = `group ${GroupName}`;
    const groupAttached = await collect({
      operation: 'IAM.ListAttachedGroupPolicies',
      paginate: () => paginateListAttachedGroupPolicies({ client }, { GroupName }),
      items: (o) => o.AttachedPolicies,
    });
    attached.push(...groupAttached.map((p) => ({ arn: p.PolicyArn ?? '', name: p.PolicyName ?? '', via })));
    const groupNames = await collect({
      operation: 'IAM.ListGroupPolicies',
      paginate: () => paginateListGroupPolicies({ client }, { GroupName }),
      items: (o) => o.PolicyNames,
    });
    await readInline(
      'GetGroupPolicy',
      groupNames,
      async (PolicyName) =>
        (await client.send(new GetGroupPolicyCommand({ GroupName, PolicyName }))).PolicyDocument,
      via,
    );
  }
  return { attached, inline };
}
