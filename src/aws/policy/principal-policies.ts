// What an IAM role or user holds today: attached managed policies with their default version's
// document, and inline policies (a user's groups' too). Read in the principal's account.
import { AwsError, toAwsError } from '../errors.ts';
import { managedPolicyDocument } from '../iam/managed-policy.ts';
import { userPolicies } from '../iam/user-policies.ts';
import type { IamGateway } from '../iam.ts';
import { iamNameOf } from '../tags.ts';
import type { PolicyClients } from './client.ts';
import type { PrincipalPolicies } from './types.ts';

/** `arn:aws:iam::123456789012:role/x` → `{ accountId, kind: 'role', name: 'x' }`; null for anything else. */
export function parsePrincipalArn(
  arn: string,
): { accountId: string; kind: 'role' | 'user'; name: string } | null {
  const m = /^arn:aws[-a-z]*:iam::(\d{12}):(role|user)\/\S+$/.exec(arn);
  if (!m) return null;
  return { accountId: m[1]!, kind: m[2] as 'role' | 'user', name: iamNameOf(arn) };
}

/** null when the principal no longer exists. */
export async function principalPolicies(
  clients: PolicyClients,
  iam: Pick<IamGateway, 'inspectRole'>,
  principalArn: string,
): Promise<PrincipalPolicies | null> {
  const p = parsePrincipalArn(principalArn);
  if (!p)
    throw new AwsError(
      'invalid',
      'IAM.principalPolicies',
      'InvalidArn',
      `${principalArn} is not an IAM role or user ARN`,
    );
  let attached: { arn: string; name: string; via?: string }[];
  let inline: PrincipalPolicies['inline'];
  try {
    if (p.kind === 'role') {
      const role = await iam.inspectRole(p.accountId, p.name);
      if (!role) return null;
      attached = role.attachedPolicies;
      inline = role.inlinePolicies;
    } else {
      ({ attached, inline } = await userPolicies(clients.iam(p.accountId), p.name));
    }
  } catch (err) {
    const e = toAwsError(err, p.kind === 'role' ? 'IAM.GetRole' : 'IAM.ListUserPolicies');
    if (e.kind === 'not-found') return null;
    throw e;
  }
  const client = clients.iam(p.accountId);
  const withDocs: PrincipalPolicies['attached'] = [];
  for (const a of attached) withDocs.push({ ...a, ...(await managedPolicyDocument(client, a.arn)) });
  return { principalArn, kind: p.kind, attached: withDocs, inline };
}
