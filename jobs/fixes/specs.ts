// What each one-click fix reads, changes and puts back. A spec is pure AWS logic over the fix
// gateway: `plan` reads AWS now and says what the fix would change (or why nothing should change),
// `apply` makes the change, `read` says what is there now in the same shape as the backup, and
// `restore` puts the backup's `before` back. jobs/fixes/run.ts does everything around them.
import { randomInt } from 'node:crypto';
import { ALL_BLOCKED, type PublicAccessBlock } from '../../src/aws/fixes.ts';
import { sameDocument } from '../../src/aws/iam/documents.ts';
import { iamNameOf } from '../../src/aws/tags.ts';
import type { FixKind } from '../../src/findings/card-actions.ts';
import type { Finding } from '../../src/findings/model.ts';
import { withoutPrincipals } from '../../src/findings/trust-policy.ts';
import type { FixBackup } from '../../src/store/backups.ts';
import type { JobDeps } from '../deps.ts';

export interface FixPlan<S> {
  target: Record<string, string>;
  /** What the fix acts on, in words: "bucket logs-prod". */
  what: string;
  before: S;
  after: S;
  /** The AWS call it makes, in words, for the receipt. */
  change: string;
}

export interface FixSpec<S> {
  kind: FixKind;
  /** Reads AWS now: the plan, or why nothing should change (already fixed, gone). */
  plan(deps: JobDeps, finding: Finding): Promise<FixPlan<S> | string>;
  /** A check the change must pass first (CheckNoNewAccess); the reason it failed, or null. */
  prove?(deps: JobDeps, backup: FixBackup<S>): Promise<string | null>;
  apply(deps: JobDeps, backup: FixBackup<S>): Promise<void>;
  /** What is there now, in the shape of `before` and `after`. */
  read(deps: JobDeps, backup: FixBackup<S>): Promise<S>;
  /** Puts `before` back; a secret it made (a new password) is returned, never logged or stored. */
  restore(deps: JobDeps, backup: FixBackup<S>): Promise<{ secret?: string; change: string }>;
  same(a: S, b: S): boolean;
  /** Shown as "Before" and "After" in the receipts. */
  show(s: S): string;
  /** External access: AWS rescans the resource after the change. */
  rescan: boolean;
  /** What else the receipt should say about this change, read from AWS after it. */
  notes?(deps: JobDeps, backup: FixBackup<S>): Promise<string[]>;
}

const json = (v: unknown) => JSON.stringify(v ?? null);

// ---- Block public access (a public S3 bucket)

type Pab = PublicAccessBlock | null;

const bucketOf = (f: Finding) => f.resourceArn.replace(/^arn:aws[\w-]*:s3:::/, '').split('/')[0]!;

/** Whether settings stop public access (S3: RestrictPublicBuckets for policies, IgnorePublicAcls for ACLs). */
const blocksPublic = (c: Pab) => Boolean(c?.RestrictPublicBuckets && c.IgnorePublicAcls);

/** The account-level settings, or why they could not be read (the fix does not depend on them). */
async function accountLevel(
  deps: JobDeps,
  accountId: string,
  region: string,
): Promise<Pab | { unread: string }> {
  try {
    return await deps.fixes.getAccountPublicAccessBlock(accountId, region);
  } catch (err) {
    return { unread: err instanceof Error ? err.message : String(err) };
  }
}

export const blockPublicAccess: FixSpec<Pab> = {
  kind: 'block-public-access',
  rescan: true,
  async plan(deps, f) {
    const bucket = bucketOf(f);
    const before = await deps.fixes.getPublicAccessBlock(f.accountId, f.region, bucket);
    if (before && Object.values(before).every(Boolean)) {
      return `bucket ${bucket} already has all four Block Public Access settings on. If AWS still reports it public, account-level Block Public Access (S3 control GetPublicAccessBlock) or the bucket policy and ACLs are where to look; a rescan shows what AWS sees now.`;
    }
    const account = await accountLevel(deps, f.accountId, f.region);
    if (account && !('unread' in account) && blocksPublic(account)) {
      return `account ${f.accountId} has account-level Block Public Access on (IgnorePublicAcls and RestrictPublicBuckets), which already blocks public access to bucket ${bucket} and every other bucket of the account. AWS reports the finding until it analyzes the bucket again: Rescan asks it now.`;
    }
    return {
      target: { bucket },
      what: `bucket ${bucket}`,
      before,
      after: { ...ALL_BLOCKED },
      change: `PutPublicAccessBlock on bucket ${bucket} (account ${f.accountId}, ${f.region}): all four settings on`,
    };
  },
  apply: (deps, b) =>
    deps.fixes.putPublicAccessBlock(b.accountId, b.region, b.target.bucket!, { ...ALL_BLOCKED }),
  read: (deps, b) => deps.fixes.getPublicAccessBlock(b.accountId, b.region, b.target.bucket!),
  async restore(deps, b) {
    const bucket = b.target.bucket!;
    if (b.before === null) {
      await deps.fixes.deletePublicAccessBlock(b.accountId, b.region, bucket);
      return { change: `DeletePublicAccessBlock on bucket ${bucket}: it had no configuration before` };
    }
    await deps.fixes.putPublicAccessBlock(b.accountId, b.region, bucket, b.before);
    return { change: `PutPublicAccessBlock on bucket ${bucket}: the saved settings` };
  },
  same: (a, b) => json(a) === json(b),
  show: (s) => (s === null ? '(no Block Public Access configuration)' : JSON.stringify(s, null, 2)),
  async notes(deps, b) {
    const account = await accountLevel(deps, b.accountId, b.region);
    if (account && 'unread' in account) {
      return [
        `Account-level Block Public Access of account ${b.accountId} could not be read (${account.unread}); the bucket's own settings now block public access either way.`,
      ];
    }
    if (account === null) {
      return [
        `Account ${b.accountId} has no account-level Block Public Access: the bucket's own settings are what blocks public access now, and Undo makes it public again.`,
      ];
    }
    const on = Object.entries(account)
      .filter(([, v]) => v)
      .map(([k]) => k);
    return [
      `Account-level Block Public Access of account ${b.accountId}: ${on.length ? on.join(', ') : 'all four off'}. ${
        blocksPublic(account)
          ? 'It blocks public access too, so Undo leaves the bucket blocked by the account.'
          : "It does not block public access on its own: the bucket's settings do."
      }`,
    ];
  },
};

// ---- Deactivate key (an unused access key)

type KeyStatus = 'Active' | 'Inactive' | 'absent';

async function keyStatus(deps: JobDeps, accountId: string, user: string, keyId: string): Promise<KeyStatus> {
  const keys = await deps.fixes.listAccessKeys(accountId, user);
  return keys.find((k) => k.id === keyId)?.status ?? 'absent';
}

export const deactivateKey: FixSpec<KeyStatus> = {
  kind: 'deactivate-key',
  rescan: false,
  async plan(deps, f) {
    if (f.details.kind !== 'unusedAccessKey') return 'the finding names no access key.';
    const user = iamNameOf(f.resourceArn);
    const keyId = f.details.accessKeyId;
    const before = await keyStatus(deps, f.accountId, user, keyId);
    if (before === 'absent') return `access key ${keyId} of user ${user} no longer exists.`;
    if (before === 'Inactive') return `access key ${keyId} of user ${user} is already inactive.`;
    return {
      target: { user, keyId },
      what: `access key ${keyId} of user ${user}`,
      before,
      after: 'Inactive',
      change: `UpdateAccessKey ${keyId} of user ${user}: Inactive`,
    };
  },
  apply: (deps, b) => deps.fixes.updateAccessKey(b.accountId, b.target.user!, b.target.keyId!, 'Inactive'),
  read: (deps, b) => keyStatus(deps, b.accountId, b.target.user!, b.target.keyId!),
  async restore(deps, b) {
    const status = b.before === 'Inactive' ? 'Inactive' : 'Active';
    await deps.fixes.updateAccessKey(b.accountId, b.target.user!, b.target.keyId!, status);
    return { change: `UpdateAccessKey ${b.target.keyId} of user ${b.target.user}: ${status}` };
  },
  same: (a, b) => a === b,
  show: (s) => s,
};

// ---- Remove password (an unused console password)

/** Whether the user has a console password (a new one cannot be the old one: only its presence is kept). */
type Password = 'present' | 'none';

/** A password IAM's strictest policy takes: 24 characters, every character class. */
export function randomPassword(): string {
  const sets = ['ABCDEFGHJKLMNPQRSTUVWXYZ', 'abcdefghijkmnopqrstuvwxyz', '23456789', '!@#$%^*()-_=+'];
  const all = sets.join('');
  const chars = sets.map((s) => s[randomInt(s.length)]!);
  while (chars.length < 24) chars.push(all[randomInt(all.length)]!);
  for (let i = chars.length - 1; i > 0; i--) {
    const j = randomInt(i + 1);
    [chars[i], chars[j]] = [chars[j]!, chars[i]!];
  }
  return chars.join('');
}

export const removePassword: FixSpec<Password> = {
  kind: 'remove-password',
  rescan: false,
  async plan(deps, f) {
    const user = iamNameOf(f.resourceArn);
    const profile = await deps.fixes.getLoginProfile(f.accountId, user);
    if (!profile) return `user ${user} has no console password any more.`;
    return {
      target: { user },
      what: `user ${user}`,
      before: 'present',
      after: 'none',
      change: `DeleteLoginProfile of user ${user}`,
    };
  },
  apply: (deps, b) => deps.fixes.deleteLoginProfile(b.accountId, b.target.user!),
  async read(deps, b) {
    return (await deps.fixes.getLoginProfile(b.accountId, b.target.user!)) ? 'present' : 'none';
  },
  async restore(deps, b) {
    const secret = randomPassword();
    await deps.fixes.createLoginProfile(b.accountId, b.target.user!, secret, true);
    return {
      secret,
      change: `CreateLoginProfile of user ${b.target.user}: a new random password, to be changed at first sign-in`,
    };
  },
  same: (a, b) => a === b,
  show: (s) => (s === 'present' ? 'console password set' : 'no console password'),
};

// ---- Remove external access (a role's trust policy)

const pretty = (doc: string) => {
  try {
    return JSON.stringify(JSON.parse(doc), null, 2);
  } catch {
    return doc;
  }
};

export const removeExternalAccess: FixSpec<string> = {
  kind: 'remove-external-access',
  rescan: true,
  async plan(deps, f) {
    if (f.details.kind !== 'externalAccess') return 'the finding names no external principal.';
    const role = iamNameOf(f.resourceArn);
    const before = await deps.fixes.getTrustPolicy(f.accountId, role);
    if (before === null) return `role ${role} no longer exists.`;
    const change = withoutPrincipals(before, f.details.grants);
    if (!change.document)
      return `the trust policy of role ${role} no longer trusts the finding's principals.`;
    return {
      target: { role, removed: change.removed.join(', ') },
      what: `role ${role}`,
      before,
      after: change.document,
      change: `UpdateAssumeRolePolicy of role ${role}: removed ${change.removed.join(', ')}`,
    };
  },
  async prove(deps, b) {
    const check = await deps.policy.checkNoNewAccess({
      accountId: b.accountId,
      region: b.region,
      newDocument: b.after,
      existingDocument: b.before,
      policyType: 'RESOURCE_POLICY',
    });
    if (check.result === 'PASS') return null;
    return `CheckNoNewAccess says the new trust policy grants new access: ${check.reasons.map((r) => r.description).join(' ') || check.message}`;
  },
  apply: (deps, b) => deps.fixes.updateTrustPolicy(b.accountId, b.target.role!, b.after),
  async read(deps, b) {
    return (await deps.fixes.getTrustPolicy(b.accountId, b.target.role!)) ?? '';
  },
  async restore(deps, b) {
    await deps.fixes.updateTrustPolicy(b.accountId, b.target.role!, b.before);
    return { change: `UpdateAssumeRolePolicy of role ${b.target.role}: the saved trust policy` };
  },
  same: (a, b) => sameDocument(a, b),
  show: pretty,
};

export const FIX_SPECS: { [K in FixKind]: FixSpec<unknown> } = {
  'block-public-access': blockPublicAccess as unknown as FixSpec<unknown>,
  'deactivate-key': deactivateKey as unknown as FixSpec<unknown>,
  'remove-password': removePassword as unknown as FixSpec<unknown>,
  'remove-external-access': removeExternalAccess as unknown as FixSpec<unknown>,
};
