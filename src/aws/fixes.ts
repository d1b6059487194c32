// The AWS side of the one-click fixes: a bucket's Block Public Access settings (S3), an IAM user's
// access keys and console password, a role's trust policy, inline policies and tags (quarantine), and
// the managed policies attached to a role or user (a recommendation applied). Each read says what is there now
// (null when there is nothing), each write changes one thing; callers save what a read returned
// before writing, so Undo can put it back.
import {
  AttachRolePolicyCommand,
  AttachUserPolicyCommand,
  CreateLoginProfileCommand,
  CreatePolicyCommand,
  DeleteAccessKeyCommand,
  DeleteLoginProfileCommand,
  DeletePolicyCommand,
  DeleteRolePolicyCommand,
  DetachRolePolicyCommand,
  DetachUserPolicyCommand,
  GetAccessKeyLastUsedCommand,
  GetLoginProfileCommand,
  GetPolicyCommand,
  GetPolicyVersionCommand,
  GetRoleCommand,
  GetRolePolicyCommand,
  PutRolePolicyCommand,
  paginateListAccessKeys,
  paginateListAttachedRolePolicies,
  paginateListAttachedUserPolicies,
  paginateListRoleTags,
  TagRoleCommand,
  UntagRoleCommand,
  UpdateAccessKeyCommand,
  UpdateAssumeRolePolicyCommand,
} from '@aws-sdk/client-iam';
import {
  DeletePublicAccessBlockCommand,
  GetPublicAccessBlockCommand,
  PutPublicAccessBlockCommand,
} from '@aws-sdk/client-s3';
import { GetPublicAccessBlockCommand as GetAccountPublicAccessBlockCommand } from '@aws-sdk/client-s3-control';
import type { AwsClients } from './clients.ts';
import { AwsError } from './errors.ts';
import { iamContext } from './iam/context.ts';
import { decodeDocument } from './iam/documents.ts';
import type { IamGatewayOptions } from './iam/types.ts';
import { call } from './paging.ts';

/** A bucket's four Block Public Access settings (S3 PublicAccessBlockConfiguration). */
export interface PublicAccessBlock {
  BlockPublicAcls: boolean;
  IgnorePublicAcls: boolean;
  BlockPublicPolicy: boolean;
  RestrictPublicBuckets: boolean;
}

export const ALL_BLOCKED: PublicAccessBlock = {
  BlockPublicAcls: true,
  IgnorePublicAcls: true,
  BlockPublicPolicy: true,
  RestrictPublicBuckets: true,
};

export interface AccessKey {
  id: string;
  status: 'Active' | 'Inactive';
}

export interface LoginProfile {
  createDate?: string;
  passwordResetRequired: boolean;
}

export interface FixGateway {
  /** null: the bucket has no configuration (S3 answers NoSuchPublicAccessBlockConfiguration). */
  getPublicAccessBlock(accountId: string, region: string, bucket: string): Promise<PublicAccessBlock | null>;
  putPublicAccessBlock(
    accountId: string,
    region: string,
    bucket: string,
    config: PublicAccessBlock,
  ): Promise<void>;
  deletePublicAccessBlock(accountId: string, region: string, bucket: string): Promise<void>;
  /** The account-level settings (S3 control), which apply to every bucket of the account; null: none. */
  getAccountPublicAccessBlock(accountId: string, region: string): Promise<PublicAccessBlock | null>;
  /** Every access key of the user; throws not-found when the user is gone. */
  listAccessKeys(accountId: string, userName: string): Promise<AccessKey[]>;
  updateAccessKey(
    accountId: string,
    userName: string,
    keyId: string,
    status: AccessKey['status'],
  ): Promise<void>;
  /** Deletes the key for good (IAM cannot bring it back); always with UserName. */
  deleteAccessKey(accountId: string, userName: string, keyId: string): Promise<void>;
  /** When the key last signed a request (ISO), or null when it never did. */
  accessKeyLastUsed(accountId: string, keyId: string): Promise<string | null>;
  /** null: the user has no console password. */
  getLoginProfile(accountId: string, userName: string): Promise<LoginProfile | null>;
  deleteLoginProfile(accountId: string, userName: string): Promise<void>;
  createLoginProfile(
    accountId: string,
    userName: string,
    password: string,
    resetRequired: boolean,
  ): Promise<void>;
  /** The role's trust policy as JSON text, or null when the role is gone. */
  getTrustPolicy(accountId: string, roleName: string): Promise<string | null>;
  updateTrustPolicy(accountId: string, roleName: string, document: string): Promise<void>;
  /** An inline policy of the role as JSON text; null when the role has none of that name. */
  getRoleInlinePolicy(accountId: string, roleName: string, policyName: string): Promise<string | null>;
  putRoleInlinePolicy(
    accountId: string,
    roleName: string,
    policyName: string,
    document: string,
  ): Promise<void>;
  deleteRoleInlinePolicy(accountId: string, roleName: string, policyName: string): Promise<void>;
  /** Every tag of the role (ListRoleTags); throws not-found when the role is gone. */
  listRoleTags(accountId: string, roleName: string): Promise<Record<string, string>>;
  tagRole(accountId: string, roleName: string, tags: Record<string, string>): Promise<void>;
  untagRole(accountId: string, roleName: string, keys: string[]): Promise<void>;
  /** The ARNs of the managed policies attached to a role or user. */
  listAttachedPolicies(accountId: string, principal: IamPrincipal): Promise<string[]>;
  attachPolicy(accountId: string, principal: IamPrincipal, policyArn: string): Promise<void>;
  detachPolicy(accountId: string, principal: IamPrincipal, policyArn: string): Promise<void>;
  /** A customer managed policy's default version as JSON text; null when there is no such policy. */
  getManagedPolicy(accountId: string, policyArn: string): Promise<string | null>;
  /** Creates a customer managed policy; returns its ARN. */
  createManagedPolicy(
    accountId: string,
    name: string,
    document: string,
    description: string,
  ): Promise<string>;
  deleteManagedPolicy(accountId: string, policyArn: string): Promise<void>;
}

/** A role or user, by name. */
export interface IamPrincipal {
  kind: 'role' | 'user';
  name: string;
}

/** A configuration as S3 answers it (an absent setting is off). */
function fourSettings(c: Partial<Record<keyof PublicAccessBlock, boolean>> | undefined): PublicAccessBlock {
  return {
    BlockPublicAcls: c?.BlockPublicAcls ?? false,
    IgnorePublicAcls: c?.IgnorePublicAcls ?? false,
    BlockPublicPolicy: c?.BlockPublicPolicy ?? false,
    RestrictPublicBuckets: c?.RestrictPublicBuckets ?? false,
  };
}

const notFound = (e: unknown) => e instanceof AwsError && e.kind === 'not-found';

export function createFixGateway(
  clients: Pick<AwsClients, 'iam' | 's3' | 's3control'>,
  opts: IamGatewayOptions = {},
): FixGateway {
  const iam = iamContext(clients, opts);
  const s3 = (op: string) => `S3.${op}`;
  return {
    async getPublicAccessBlock(accountId, region, bucket) {
      try {
        const out = await call(s3('GetPublicAccessBlock'), () =>
          clients
            .s3(region, accountId)
            .send(new GetPublicAccessBlockCommand({ Bucket: bucket, ExpectedBucketOwner: accountId })),
        );
        return fourSettings(out.PublicAccessBlockConfiguration);
      } catch (err) {
        if (err instanceof AwsError && err.code === 'NoSuchPublicAccessBlockConfiguration') return null;
        throw err;
      }
    },
    async getAccountPublicAccessBlock(accountId, region) {
      try {
        const out = await call('S3Control.GetPublicAccessBlock', () =>
          clients
            .s3control(region, accountId)
            .send(new GetAccountPublicAccessBlockCommand({ AccountId: accountId })),
        );
        return fourSettings(out.PublicAccessBlockConfiguration);
      } catch (err) {
        if (err instanceof AwsError && err.code === 'NoSuchPublicAccessBlockConfiguration') return null;
        throw err;
      }
    },
    async putPublicAccessBlock(accountId, region, bucket, config) {
      await call(s3('PutPublicAccessBlock'), () =>
        clients.s3(region, accountId).send(
          new PutPublicAccessBlockCommand({
            Bucket: bucket,
            ExpectedBucketOwner: accountId,
            PublicAccessBlockConfiguration: { ...config },
          }),
        ),
      );
    },
    async deletePublicAccessBlock(accountId, region, bucket) {
      await call(s3('DeletePublicAccessBlock'), () =>
        clients
          .s3(region, accountId)
          .send(new DeletePublicAccessBlockCommand({ Bucket: bucket, ExpectedBucketOwner: accountId })),
      );
    },
    async listAccessKeys(accountId, userName) {
      const keys = await iam.list(
        'ListAccessKeys',
        (token) => paginateListAccessKeys(iam.paging(accountId, token), { UserName: userName }),
        (page) => page.AccessKeyMetadata,
      );
      return keys.map((k) => ({
        id: k.AccessKeyId ?? '',
        status: k.Status === 'Active' ? 'Active' : 'Inactive',
      }));
    },
    async updateAccessKey(accountId, userName, keyId, status) {
      // Always with UserName: without it IAM acts on the caller's own keys, not the user's.
      await iam.call('UpdateAccessKey', () =>
        iam
          .client(accountId)
          .send(new UpdateAccessKeyCommand({ UserName: userName, AccessKeyId: keyId, Status: status })),
      );
    },
    async deleteAccessKey(accountId, userName, keyId) {
      // Without UserName IAM would look for the key among the caller's own.
      await iam.call('DeleteAccessKey', () =>
        iam.client(accountId).send(new DeleteAccessKeyCommand({ UserName: userName, AccessKeyId: keyId })),
      );
    },
    async accessKeyLastUsed(accountId, keyId) {
      const out = await iam.call('GetAccessKeyLastUsed', () =>
        iam.client(accountId).send(new GetAccessKeyLastUsedCommand({ AccessKeyId: keyId })),
      );
      const at = out.AccessKeyLastUsed?.LastUsedDate;
      return at ? new Date(at).toISOString() : null;
    },
    async getLoginProfile(accountId, userName) {
      try {
        const out = await iam.call('GetLoginProfile', () =>
          iam.client(accountId).send(new GetLoginProfileCommand({ UserName: userName })),
        );
        const p = out.LoginProfile;
        return {
          ...(p?.CreateDate ? { createDate: p.CreateDate.toISOString() } : {}),
          passwordResetRequired: p?.PasswordResetRequired ?? false,
        };
      } catch (err) {
        if (notFound(err)) return null;
        throw err;
      }
    },
    async deleteLoginProfile(accountId, userName) {
      await iam.call('DeleteLoginProfile', () =>
        iam.client(accountId).send(new DeleteLoginProfileCommand({ UserName: userName })),
      );
    },
    async createLoginProfile(accountId, userName, password, resetRequired) {
      await iam.call('CreateLoginProfile', () =>
        iam.client(accountId).send(
          new CreateLoginProfileCommand({
            UserName: userName,
            Password: password,
            PasswordResetRequired: resetRequired,
          }),
        ),
      );
    },
    async getTrustPolicy(accountId, roleName) {
      try {
        const out = await iam.call('GetRole', () =>
          iam.client(accountId).send(new GetRoleCommand({ RoleName: roleName })),
        );
        return decodeDocument(out.Role?.AssumeRolePolicyDocument ?? '');
      } catch (err) {
        if (notFound(err)) return null;
        throw err;
      }
    },
    async getRoleInlinePolicy(accountId, roleName, policyName) {
      try {
        const out = await iam.call('GetRolePolicy', () =>
          iam
            .client(accountId)
            .send(new GetRolePolicyCommand({ RoleName: roleName, PolicyName: policyName })),
        );
        return decodeDocument(out.PolicyDocument ?? '');
      } catch (err) {
        if (notFound(err)) return null;
        throw err;
      }
    },
    async putRoleInlinePolicy(accountId, roleName, policyName, document) {
      await iam.call('PutRolePolicy', () =>
        iam.client(accountId).send(
          new PutRolePolicyCommand({
            RoleName: roleName,
            PolicyName: policyName,
            PolicyDocument: document,
          }),
        ),
      );
    },
    async deleteRoleInlinePolicy(accountId, roleName, policyName) {
      await iam.call('DeleteRolePolicy', () =>
        iam
          .client(accountId)
          .send(new DeleteRolePolicyCommand({ RoleName: roleName, PolicyName: policyName })),
      );
    },
    async listRoleTags(accountId, roleName) {
      const tags = await iam.list(
        'ListRoleTags',
        (token) => paginateListRoleTags(iam.paging(accountId, token), { RoleName: roleName }),
        (page) => page.Tags,
      );
      return Object.fromEntries(tags.map((t) => [t.Key ?? '', t.Value ?? '']));
    },
    async tagRole(accountId, roleName, tags) {
      await iam.call('TagRole', () =>
        iam.client(accountId).send(
          new TagRoleCommand({
            RoleName: roleName,
            Tags: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })),
          }),
        ),
      );
    },
    async untagRole(accountId, roleName, keys) {
      await iam.call('UntagRole', () =>
        iam.client(accountId).send(new UntagRoleCommand({ RoleName: roleName, TagKeys: keys })),
      );
    },
    async listAttachedPolicies(accountId, principal) {
      const at = (token: string | undefined) => iam.paging(accountId, token);
      const attached =
        principal.kind === 'role'
          ? await iam.list(
              'ListAttachedRolePolicies',
              (token) => paginateListAttachedRolePolicies(at(token), { RoleName: principal.name }),
              (page) => page.AttachedPolicies,
            )
          : await iam.list(
              'ListAttachedUserPolicies',
              (token) => paginateListAttachedUserPolicies(at(token), { UserName: principal.name }),
              (page) => page.AttachedPolicies,
            );
      return attached.map((p) => p.PolicyArn ?? '').filter(Boolean);
    },
    async attachPolicy(accountId, principal, policyArn) {
      const client = iam.client(accountId);
      if (principal.kind === 'role') {
        await iam.call('AttachRolePolicy', () =>
          client.send(new AttachRolePolicyCommand({ RoleName: principal.name, PolicyArn: policyArn })),
        );
      } else {
        await iam.call('AttachUserPolicy', () =>
          client.send(new AttachUserPolicyCommand({ UserName: principal.name, PolicyArn: policyArn })),
        );
      }
    },
    async detachPolicy(accountId, principal, policyArn) {
      const client = iam.client(accountId);
      if (principal.kind === 'role') {
        await iam.call('DetachRolePolicy', () =>
          client.send(new DetachRolePolicyCommand({ RoleName: principal.name, PolicyArn: policyArn })),
        );
      } else {
        await iam.call('DetachUserPolicy', () =>
          client.send(new DetachUserPolicyCommand({ UserName: principal.name, PolicyArn: policyArn })),
        );
      }
    },
    async getManagedPolicy(accountId, policyArn) {
      const client = iam.client(accountId);
      try {
        const out = await iam.call('GetPolicy', () =>
          client.send(new GetPolicyCommand({ PolicyArn: policyArn })),
        );
        const version = out.Policy?.DefaultVersionId;
        if (!version) return null;
        const v = await iam.call('GetPolicyVersion', () =>
          client.send(new GetPolicyVersionCommand({ PolicyArn: policyArn, VersionId: version })),
        );
        return decodeDocument(v.PolicyVersion?.Document ?? '');
      } catch (err) {
        if (notFound(err)) return null;
        throw err;
      }
    },
    async createManagedPolicy(accountId, name, document, description) {
      const out = await iam.call('CreatePolicy', () =>
        iam
          .client(accountId)
          .send(
            new CreatePolicyCommand({ PolicyName: name, PolicyDocument: document, Description: description }),
          ),
      );
      return out.Policy?.Arn ?? '';
    },
    async deleteManagedPolicy(accountId, policyArn) {
      await iam.call('DeletePolicy', () =>
        iam.client(accountId).send(new DeletePolicyCommand({ PolicyArn: policyArn })),
      );
    },
    async updateTrustPolicy(accountId, roleName, document) {
      await iam.call('UpdateAssumeRolePolicy', () =>
        iam
          .client(accountId)
          .send(new UpdateAssumeRolePolicyCommand({ RoleName: roleName, PolicyDocument: document })),
      );
    },
  };
}
