// What an IAM user holds: its own attached and inline policies, and those of every group it is in
// (which it holds as well). Documents are decoded JSON text.
import {
  type AttachedPolicy,
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

/** One holder's policies: a user's own, or a group's (`via` names the group). */
interface Holder {
  attached(): Promise<AttachedPolicy[]>;
  inlineNames(): Promise<string[]>;
  /** GetUserPolicy or GetGroupPolicy. */
  getInline: { operation: string; document(name: string): Promise<string | undefined> };
  via?: string;
}

/** Throws AwsError; a user that does not exist is an AwsError of kind not-found. */
export async function userPolicies(client: IAMClient, userName: string): Promise<UserPolicies> {
  const UserName = userName;
  const held: UserPolicies = { attached: [], inline: [] };
  await addHeld(held, {
    attached: () =>
      collect({
        operation: 'IAM.ListAttachedUserPolicies',
        paginate: () => paginateListAttachedUserPolicies({ client }, { UserName }),
        items: (o) => o.AttachedPolicies,
      }),
    inlineNames: () =>
      collect({
        operation: 'IAM.ListUserPolicies',
        paginate: () => paginateListUserPolicies({ client }, { UserName }),
        items: (o) => o.PolicyNames,
      }),
    getInline: {
      operation: 'IAM.GetUserPolicy',
      document: async (PolicyName) =>
        (await client.send(new GetUserPolicyCommand({ UserName, PolicyName }))).PolicyDocument,
    },
  });

  const groups = await collect({
    operation: 'IAM.ListGroupsForUser',
    paginate: () => paginateListGroupsForUser({ client }, { UserName }),
    items: (o) => o.Groups,
  });
  for (const g of groups) {
    const GroupName = g.GroupName ?? '';
    await addHeld(held, {
      attached: () =>
        collect({
          operation: 'IAM.ListAttachedGroupPolicies',
          paginate: () => paginateListAttachedGroupPolicies({ client }, { GroupName }),
          items: (o) => o.AttachedPolicies,
        }),
      inlineNames: () =>
        collect({
          operation: 'IAM.ListGroupPolicies',
          paginate: () => paginateListGroupPolicies({ client }, { GroupName }),
          items: (o) => o.PolicyNames,
        }),
      getInline: {
        operation: 'IAM.GetGroupPolicy',
        document: async (PolicyName) =>
          (await client.send(new GetGroupPolicyCommand({ GroupName, PolicyName }))).PolicyDocument,
      },
      via: `group ${GroupName}`,
    });
  }
  return held;
}

/** Lists what `holder` holds into `held`; an inline policy deleted since it was listed is left out. */
async function addHeld(held: UserPolicies, holder: Holder): Promise<void> {
  const via = holder.via ? { via: holder.via } : {};
  const attached = await holder.attached();
  held.attached.push(...attached.map((p) => ({ arn: p.PolicyArn ?? '', name: p.PolicyName ?? '', ...via })));
  for (const name of await holder.inlineNames()) {
    const doc = await unlessNotFound(call(holder.getInline.operation, () => holder.getInline.document(name)));
    if (doc !== null) held.inline.push({ name, document: decodeDocument(doc ?? ''), ...via });
  }
}
