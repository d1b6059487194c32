// What each one-click fix reads, changes and puts back. A spec is pure AWS logic over the fix
// gateway: `plan` reads AWS now and says what the fix would change (or why nothing should change),
// `apply` makes the change (a fix of several steps names each one as it is done), `read` says what
// is there now in the same shape as the backup, and `restore` puts the backup's `before` back (from
// wherever a fix that stopped half way left it). jobs/fixes/run.ts does everything around them.
import { randomInt } from 'node:crypto';
import { addDays } from 'date-fns/addDays';
import { AwsError } from '../../src/aws/errors.ts';
import {
  type AccessKey,
  ALL_BLOCKED,
  type IamPrincipal,
  type PublicAccessBlock,
} from '../../src/aws/fixes.ts';
import { sameDocument } from '../../src/aws/iam/documents.ts';
import { iamNameOf } from '../../src/aws/tags.ts';
import type { FixKind } from '../../src/findings/card-actions.ts';
import type { Finding } from '../../src/findings/model.ts';
import { withoutPrincipals } from '../../src/findings/trust-policy.ts';
import {
  cancel,
  enqueue,
  type FixData,
  type FixUndoData,
  JOBS,
  type QuarantineEndData,
} from '../../src/queue/index.ts';
import type { FixBackup } from '../../src/store/backups.ts';
import { shortHash } from '../../src/util/hash.ts';
import type { JobDeps } from '../deps.ts';
import { deletionBlocker } from '../role-actions.ts';

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
  plan(
    deps: JobDeps,
    finding: Finding,
    /** The id and analyzer the action goes through (another analyzer's id of the card, maybe). */
    acting?: { id: string; analyzerArn: string; region: string },
  ): Promise<FixPlan<S> | string>;
  /** A check the change must pass first (CheckNoNewAccess); the reason it failed, or null. */
  prove?(deps: JobDeps, backup: FixBackup<S>): Promise<string | null>;
  /** Makes the change; `step` names each AWS call made (a fix of several steps). */
  apply(deps: JobDeps, backup: FixBackup<S>, step: (done: string) => void): Promise<void>;
  /**
   * Whether `current` is a state only this fix stopping half way leaves (some steps done, not all):
   * Undo may then still put `before` back. Absent: a one-step fix, which is either done or not.
   */
  partial?(current: S, backup: FixBackup<S>): boolean;
  /** Days the backup is kept beyond `fixes.backupRetentionDays` (a quarantine: until it ends). */
  keepDays?(deps: JobDeps): number;
  /** What else the receipt should say about this change (the quarantine's end date). */
  notes?(deps: JobDeps, backup: FixBackup<S>): Promise<string[]>;
  /** After the fix is in place: what follows it (the quarantine's end), in words for the receipt. */
  afterFix?(deps: JobDeps, ctx: { data: FixData; backup: FixBackup<S>; backupKey: string }): Promise<string>;
  /** After Undo put `before` back: what it ends (the quarantine's end), in words for the receipt. */
  afterUndo?(deps: JobDeps, ctx: { data: FixUndoData; backup: FixBackup<S> }): Promise<string>;
  /** What is there now, in the shape of `before` and `after`. */
  read(deps: JobDeps, backup: FixBackup<S>): Promise<S>;
  /**
   * Puts `before` back; a secret it made (a new password) is returned, never logged or stored. A
   * restore of several steps names each AWS call as it is made (`step`), so an Undo that AWS stops
   * half way can say what it did.
   */
  restore(
    deps: JobDeps,
    backup: FixBackup<S>,
    step?: (done: string) => void,
  ): Promise<{ secret?: string; change: string }>;
  same(a: S, b: S): boolean;
  /** Shown as "Before" and "After" in the receipts. */
  show(s: S): string;
  /** External access: AWS rescans the resource after the change. */
  rescan: boolean;
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

/**
 * An access key as IAM lists it now, or undefined where its user has no such key. With
 * `userGone: 'key-gone'` a deleted user (not-found on ListAccessKeys) answers undefined too, as the
 * follow-ups of Deactivate key want; with 'error' that error stands, so the fix itself fails.
 */
export async function accessKeyNow(
  deps: Pick<JobDeps, 'fixes'>,
  key: { accountId: string; userName: string; keyId: string },
  userGone: 'key-gone' | 'error',
): Promise<AccessKey | undefined> {
  try {
    const keys = await deps.fixes.listAccessKeys(key.accountId, key.userName);
    return keys.find((k) => k.id === key.keyId);
  } catch (err) {
    if (userGone === 'key-gone' && err instanceof AwsError && err.kind === 'not-found') return undefined;
    throw err;
  }
}

async function keyStatus(
  deps: JobDeps,
  accountId: string,
  userName: string,
  keyId: string,
): Promise<KeyStatus> {
  return (await accessKeyNow(deps, { accountId, userName, keyId }, 'error'))?.status ?? 'absent';
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
  async afterFix(deps, { data, backupKey }) {
    // Delete key is offered once the key stayed inactive long enough (jobs/fixes/delete-key.ts).
    const days = deps.config.fixes.deleteInactiveKeyAfterDays;
    await enqueue(
      deps.queues,
      JOBS.keyDeletionOffer,
      {
        findingId: data.findingId,
        analyzerArn: data.analyzerArn,
        region: data.region,
        userId: 'system',
        requestTs: `offer-${data.requestTs}`,
        backupKey,
      },
      { delay: days * 86_400_000 },
    );
    return `Delete key will be offered here in ${days} days if the key is still inactive then`;
  },
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

// ---- Quarantine role (an unused role): a deny-all inline policy and a tag with the dates

/** The inline policy a quarantine puts on a role: well known, so anyone reading the role sees why. */
export const QUARANTINE_POLICY_NAME = 'access-patrol-quarantine';
/** The tag a quarantine puts on a role: `<since>/<until>`, both YYYY-MM-DD. */
export const QUARANTINE_TAG_KEY = 'access-patrol:quarantine';
export const DENY_ALL_POLICY = JSON.stringify({
  Version: '2012-10-17',
  Statement: [{ Sid: 'AccessPatrolQuarantine', Effect: 'Deny', Action: '*', Resource: '*' }],
});

/** The quarantine's policy and tag on a role (null: absent), or that the role is gone. */
export interface Quarantine {
  policy: string | null;
  tag: string | null;
  gone?: true;
}

const sameQuarantinePolicy = (a: string | null, b: string | null) =>
  a === null || b === null ? a === b : sameDocument(a, b);

export const quarantineRole: FixSpec<Quarantine> = {
  kind: 'quarantine-role',
  rescan: false,
  async plan(deps, f) {
    const role = iamNameOf(f.resourceArn);
    const inspection = await deps.iam.inspectRole(f.accountId, role);
    if (!inspection) return `role ${role} no longer exists.`;
    // The quarantine ends in a deletion: a role that may not be deleted is not quarantined either.
    const blocker = deletionBlocker(f, inspection, deps.config.roles, deps.now());
    if (blocker) return `role ${role} is not quarantined: ${blocker}`;
    const policy = inspection.inlinePolicies.find((p) => p.name === QUARANTINE_POLICY_NAME)?.document ?? null;
    const tag = inspection.tags.find((t) => t.Key === QUARANTINE_TAG_KEY)?.Value ?? null;
    if (policy !== null && sameDocument(policy, DENY_ALL_POLICY)) {
      return `role ${role} is already quarantined (inline policy ${QUARANTINE_POLICY_NAME}${tag ? `, tag ${QUARANTINE_TAG_KEY}=${tag}` : ''}).`;
    }
    const now = deps.now();
    const since = now.toISOString().slice(0, 10);
    const until = addDays(now, deps.config.roles.quarantineDays).toISOString().slice(0, 10);
    return {
      target: { role, since, until, endsAt: addDays(now, deps.config.roles.quarantineDays).toISOString() },
      what: `role ${role}`,
      before: { policy, tag },
      after: { policy: DENY_ALL_POLICY, tag: `${since}/${until}` },
      change: `PutRolePolicy ${QUARANTINE_POLICY_NAME} (deny every action) and TagRole ${QUARANTINE_TAG_KEY} on role ${role}`,
    };
  },
  async apply(deps, b, step) {
    const role = b.target.role!;
    const policy = await deps.fixes.getRoleInlinePolicy(b.accountId, role, QUARANTINE_POLICY_NAME);
    if (!sameQuarantinePolicy(policy, b.after.policy)) {
      await deps.fixes.putRoleInlinePolicy(b.accountId, role, QUARANTINE_POLICY_NAME, b.after.policy!);
    }
    step(`PutRolePolicy ${QUARANTINE_POLICY_NAME} on role ${role}: every action denied`);
    const tags = await deps.fixes.listRoleTags(b.accountId, role);
    if (tags[QUARANTINE_TAG_KEY] !== b.after.tag) {
      await deps.fixes.tagRole(b.accountId, role, { [QUARANTINE_TAG_KEY]: b.after.tag! });
    }
    step(`TagRole ${role}: ${QUARANTINE_TAG_KEY}=${b.after.tag}`);
  },
  async read(deps, b) {
    const role = b.target.role!;
    try {
      const tags = await deps.fixes.listRoleTags(b.accountId, role);
      const policy = await deps.fixes.getRoleInlinePolicy(b.accountId, role, QUARANTINE_POLICY_NAME);
      return { policy, tag: tags[QUARANTINE_TAG_KEY] ?? null };
    } catch (err) {
      if (err instanceof AwsError && err.kind === 'not-found') return { policy: null, tag: null, gone: true };
      throw err;
    }
  },
  partial: (c, b) =>
    !c.gone &&
    (sameQuarantinePolicy(c.policy, b.before.policy) || sameQuarantinePolicy(c.policy, b.after.policy)) &&
    (c.tag === b.before.tag || c.tag === b.after.tag),
  async restore(deps, b, step) {
    const role = b.target.role!;
    const now = await quarantineRole.read(deps, b);
    const done: string[] = [];
    const did = (what: string) => {
      done.push(what);
      step?.(what);
    };
    if (!sameQuarantinePolicy(now.policy, b.before.policy)) {
      if (b.before.policy === null) {
        await deps.fixes.deleteRoleInlinePolicy(b.accountId, role, QUARANTINE_POLICY_NAME);
        did(`DeleteRolePolicy ${QUARANTINE_POLICY_NAME}`);
      } else {
        await deps.fixes.putRoleInlinePolicy(b.accountId, role, QUARANTINE_POLICY_NAME, b.before.policy);
        did(`PutRolePolicy ${QUARANTINE_POLICY_NAME}: the saved document`);
      }
    }
    if (now.tag !== b.before.tag) {
      if (b.before.tag === null) {
        await deps.fixes.untagRole(b.accountId, role, [QUARANTINE_TAG_KEY]);
        did(`UntagRole ${QUARANTINE_TAG_KEY}`);
      } else {
        await deps.fixes.tagRole(b.accountId, role, { [QUARANTINE_TAG_KEY]: b.before.tag });
        did(`TagRole ${QUARANTINE_TAG_KEY}=${b.before.tag}`);
      }
    }
    return { change: `${done.join(' and ') || 'nothing to change'} on role ${role}` };
  },
  same: (a, b) => !!a.gone === !!b.gone && sameQuarantinePolicy(a.policy, b.policy) && a.tag === b.tag,
  show: (s) =>
    s.gone
      ? '(the role no longer exists)'
      : JSON.stringify(
          {
            [`inline policy ${QUARANTINE_POLICY_NAME}`]: s.policy === null ? null : JSON.parse(s.policy),
            [`tag ${QUARANTINE_TAG_KEY}`]: s.tag,
          },
          null,
          2,
        ),
  keepDays: (deps) => deps.config.roles.quarantineDays,
  async afterFix(deps, { data, backup, backupKey }) {
    await deps.store.set(data.findingId, {
      quarantinedBy: data.userId,
      quarantinedUntil: backup.target.until!,
      quarantineBackupKey: backupKey,
    });
    const delay = Math.max(0, Date.parse(backup.target.endsAt!) - deps.now().getTime());
    await enqueue(deps.queues, JOBS.quarantineEnd, quarantineEndOf(data, backupKey, backup.target.until!), {
      delay,
    });
    return `the deletion is scheduled for ${backup.target.until}`;
  },
  async afterUndo(deps, { data, backup }) {
    const state = await deps.store.get(data.findingId);
    if (state?.quarantineBackupKey === data.backupKey) await deps.store.clearQuarantine(data.findingId);
    const cancelled = await cancel(
      deps.queues,
      JOBS.quarantineEnd,
      quarantineEndOf(data, data.backupKey, backup.target.until!),
    );
    return `recorded that the role is still needed; ${cancelled ? `the deletion on ${backup.target.until} is cancelled` : 'no deletion was still scheduled'}`;
  },
  notes: async (_deps, b) => [
    `Quarantined until ${b.target.until}: the role is then deleted (with a backup), after checking that the quarantine is still in place and the role was not used meanwhile, unless someone clicks Still needed.`,
  ],
};

/** The job that ends a quarantine: the bot's own, on the card the quarantine was made on. */
export function quarantineEndOf(
  d: Pick<FixData, 'findingId' | 'analyzerArn' | 'region'>,
  backupKey: string,
  until: string,
): QuarantineEndData {
  return {
    findingId: d.findingId,
    analyzerArn: d.analyzerArn,
    region: d.region,
    userId: 'system',
    requestTs: until,
    backupKey,
  };
}

// ---- Apply recommendation (unused permissions): AWS's recommended steps, each reversible

/** A policy the recommendation creates: its name, ARN and document. */
interface CreatedPolicy {
  name: string;
  arn: string;
  document: string;
}

/** The managed policies attached to the principal (sorted ARNs), and which created policies exist. */
export interface AttachedPolicies {
  attached: string[];
  created: Record<string, boolean>;
}

const principalOf = (f: Pick<Finding, 'resourceArn' | 'resourceType'>): IamPrincipal => ({
  kind: f.resourceType === 'AWS::IAM::User' ? 'user' : 'role',
  name: iamNameOf(f.resourceArn),
});
const targetPrincipal = (t: Record<string, string>): IamPrincipal => ({
  kind: t.kind === 'user' ? 'user' : 'role',
  name: t.name!,
});
const createdOf = (t: Record<string, string>) => JSON.parse(t.create ?? '[]') as CreatedPolicy[];
const detachedOf = (t: Record<string, string>) => JSON.parse(t.detach ?? '[]') as string[];
const sorted = (a: Iterable<string>) => [...new Set(a)].sort();

/** The name of the n-th policy a recommendation creates: the principal's, numbered, within IAM's 128. */
export function recommendedPolicyName(principal: string, n: number, document: string): string {
  return `${principal.slice(0, 90)}-recommended-${n}-${shortHash(document, 8)}`.replace(/[^\w+=,.@-]/g, '-');
}

export const applyRecommendation: FixSpec<AttachedPolicies> = {
  kind: 'apply-recommendation',
  rescan: false,
  async plan(deps, f, acting) {
    const principal = principalOf(f);
    const through = acting ?? { id: f.id, analyzerArn: f.analyzerArn, region: f.region };
    const rec = await deps.analyzers.getFindingRecommendation(
      { arn: through.analyzerArn, region: through.region },
      through.id,
    );
    if (rec?.status !== 'SUCCEEDED') {
      return `AWS has no finished recommendation for this finding${rec ? ` (it is ${rec.status.toLowerCase()})` : ''}; click Show recommendation first.`;
    }
    const creates = rec.steps.filter((s) => s.action === 'CREATE_POLICY' && s.recommendedPolicy);
    const detaches = rec.steps.filter((s) => s.action === 'DETACH_POLICY' && s.existingPolicyId);
    const unknown = rec.steps.filter((s) => s.action !== 'CREATE_POLICY' && s.action !== 'DETACH_POLICY');
    if (unknown.length)
      return `AWS recommends a step the bot does not know (${unknown.map((s) => s.action).join(', ')}); apply it in the console.`;
    if (!creates.length && !detaches.length) return 'AWS recommends no change.';
    const attached = sorted(await deps.fixes.listAttachedPolicies(f.accountId, principal));
    const detach = sorted(detaches.map((s) => s.existingPolicyId!));
    const gone = detach.filter((arn) => !attached.includes(arn));
    if (gone.length === detach.length && detach.length) {
      return `the policies AWS recommends detaching are no longer attached to ${principal.kind} ${principal.name} (${gone.join(', ')}): the recommendation was applied already or is out of date. Show recommendation again for a fresh one.`;
    }
    if (gone.length) {
      return `${gone.join(', ')} is no longer attached to ${principal.kind} ${principal.name}: the recommendation is out of date. Show recommendation again for a fresh one.`;
    }
    const create: CreatedPolicy[] = creates.map((s, i) => {
      const name = recommendedPolicyName(principal.name, i + 1, s.recommendedPolicy!);
      return { name, arn: `arn:aws:iam::${f.accountId}:policy/${name}`, document: s.recommendedPolicy! };
    });
    for (const c of create) {
      if ((await deps.fixes.getManagedPolicy(f.accountId, c.arn)) !== null) {
        return `a policy named ${c.name} exists already in account ${f.accountId}; the bot does not overwrite it.`;
      }
    }
    return {
      target: {
        kind: principal.kind,
        name: principal.name,
        create: JSON.stringify(create),
        detach: JSON.stringify(detach),
      },
      what: `${principal.kind} ${principal.name}`,
      before: { attached, created: Object.fromEntries(create.map((c) => [c.arn, false])) },
      after: {
        attached: sorted([...attached.filter((a) => !detach.includes(a)), ...create.map((c) => c.arn)]),
        created: Object.fromEntries(create.map((c) => [c.arn, true])),
      },
      change: `CreatePolicy ${create.map((c) => c.name).join(', ')}, attach, detach ${detach.join(', ')}`,
    };
  },
  async apply(deps, b, step) {
    const principal = targetPrincipal(b.target);
    const create = createdOf(b.target);
    for (const c of create) {
      if ((await deps.fixes.getManagedPolicy(b.accountId, c.arn)) === null) {
        await deps.fixes.createManagedPolicy(
          b.accountId,
          c.name,
          c.document,
          `Recommended by IAM Access Analyzer for finding ${b.findingId}; created by access-patrol.`,
        );
      }
      step(`CreatePolicy ${c.name}`);
    }
    const attached = await deps.fixes.listAttachedPolicies(b.accountId, principal);
    for (const c of create) {
      if (!attached.includes(c.arn)) await deps.fixes.attachPolicy(b.accountId, principal, c.arn);
      step(`attached ${c.arn} to ${principal.kind} ${principal.name}`);
    }
    for (const arn of detachedOf(b.target)) {
      if (attached.includes(arn)) await deps.fixes.detachPolicy(b.accountId, principal, arn);
      step(`detached ${arn} from ${principal.kind} ${principal.name}`);
    }
  },
  async read(deps, b) {
    const attached = sorted(await deps.fixes.listAttachedPolicies(b.accountId, targetPrincipal(b.target)));
    const created: Record<string, boolean> = {};
    for (const c of createdOf(b.target)) {
      created[c.arn] = (await deps.fixes.getManagedPolicy(b.accountId, c.arn)) !== null;
    }
    return { attached, created };
  },
  partial(c, b) {
    // Only what the fix touches differs: each attached policy was there before or after, and
    // everything the fix leaves alone is still attached.
    const touched = new Set([...b.before.attached, ...b.after.attached]);
    const kept = b.before.attached.filter((a) => b.after.attached.includes(a));
    return c.attached.every((a) => touched.has(a)) && kept.every((a) => c.attached.includes(a));
  },
  async restore(deps, b, step) {
    const principal = targetPrincipal(b.target);
    const now = await applyRecommendation.read(deps, b);
    const done: string[] = [];
    const did = (what: string) => {
      done.push(what);
      step?.(what);
    };
    for (const arn of detachedOf(b.target)) {
      if (!now.attached.includes(arn)) {
        await deps.fixes.attachPolicy(b.accountId, principal, arn);
        did(`attached ${arn} again`);
      }
    }
    for (const c of createdOf(b.target)) {
      if (now.attached.includes(c.arn)) {
        await deps.fixes.detachPolicy(b.accountId, principal, c.arn);
        did(`detached ${c.arn}`);
      }
      if (now.created[c.arn]) {
        await deps.fixes.deleteManagedPolicy(b.accountId, c.arn);
        did(`DeletePolicy ${c.name}`);
      }
    }
    return { change: `${done.join('; ') || 'nothing to change'} (${principal.kind} ${principal.name})` };
  },
  same: (a, b) =>
    json(a.attached) === json(b.attached) &&
    json(sortedEntries(a.created)) === json(sortedEntries(b.created)),
  show: (s) =>
    JSON.stringify(
      {
        'attached policies': s.attached,
        'policies created by the recommendation': Object.entries(s.created)
          .filter(([, exists]) => exists)
          .map(([arn]) => arn),
      },
      null,
      2,
    ),
};

const sortedEntries = (r: Record<string, boolean>) =>
  Object.entries(r).sort(([a], [b]) => a.localeCompare(b));

export const FIX_SPECS: { [K in FixKind]: FixSpec<unknown> } = {
  'block-public-access': blockPublicAccess as unknown as FixSpec<unknown>,
  'deactivate-key': deactivateKey as unknown as FixSpec<unknown>,
  'remove-password': removePassword as unknown as FixSpec<unknown>,
  'remove-external-access': removeExternalAccess as unknown as FixSpec<unknown>,
  'quarantine-role': quarantineRole as unknown as FixSpec<unknown>,
  'apply-recommendation': applyRecommendation as unknown as FixSpec<unknown>,
};
