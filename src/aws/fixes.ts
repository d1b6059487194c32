// The AWS side of the one-click fixes: a bucket's Block Public Access settings (S3), an IAM user's
// access keys and console password, and a role's trust policy. Each read says what is there now
// (null when there is nothing), each write changes one thing; callers save what a read returned
// before writing, so Undo can put it back.
import {
  CreateLoginProfileCommand,
  DeleteAccessKeyCommand,
  DeleteLoginProfileCommand,
  GetAccessKeyLastUsedCommand,
  GetLoginProfileCommand,
  GetRoleCommand,
  paginateListAccessKeys,
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
        (token) =>
          paginateListAccessKeys(
            { client: iam.client(accountId), ...(token ? { startingToken: token } : {}) },
            { UserName: userName },
          ),
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
    async updateTrustPolicy(accountId, roleName, document) {
      await iam.call('UpdateAssumeRolePolicy', () =>
        iam
          .client(accountId)
          .send(new UpdateAssumeRolePolicyCommand({ RoleName: roleName, PolicyDocument: document })),
      );
    },
  };
}
