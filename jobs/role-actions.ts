// Deleting an unused role from Slack, and restoring it. The preview job reads the role and fills in
// the confirm modal; the delete job checks everything again just before deleting, saves a complete
// backup (Redis and the thread) before the first change, then deletes; restore recreates the role.

import { type Job, UnrecoverableError } from 'bullmq';
import { differenceInDays } from 'date-fns/differenceInDays';
import {
  backupSnippet,
  deleteRoleBlockedModal,
  deleteRoleConfirmModal,
  deletionReceipt,
  restoreReceipt,
} from '../blocks/delete-role.ts';
import { actionFailedNote, staleNote } from '../blocks/receipts.ts';
import { backupFromInspection, type RoleBackup, type RoleInspection } from '../src/aws/iam.ts';
import { iamNameOf } from '../src/aws/tags.ts';
import type { AppConfig } from '../src/config/schema.ts';
import type { Finding } from '../src/findings/model.ts';
import {
  type ActionRequest,
  type DeleteRolePreviewData,
  JOBS,
  type RestoreRoleData,
} from '../src/queue/index.ts';
import { shortHash } from '../src/util/hash.ts';
import { readCard } from './card.ts';
import type { JobDeps } from './deps.ts';
import { afterAwsActed, redraw, showInSlack, threadReplyOnce, withMissed } from './finding-message.ts';
import { onceKey } from './post-once.ts';
import { failureMessage } from './retry.ts';
import { tell } from './tell.ts';

/** Why a role must not be deleted now, or null when every check passes. */
export function deletionBlocker(
  finding: Finding | null,
  role: RoleInspection | null,
  rules: AppConfig['roles'],
  now: Date,
): string | null {
  if (!finding) return 'AWS no longer reports this finding.';
  if (finding.status !== 'ACTIVE') return `the finding is ${finding.status.toLowerCase()}.`;
  if (finding.findingType !== 'UnusedIAMRole') return 'only unused-role findings can delete a role.';
  if (!role) return 'the role no longer exists.';
  if (role.isServiceLinked)
    return `it is a service-linked role (path ${role.path}); only its AWS service can delete it.`;
  const tag = role.tags.find((t) => rules.protectTagKeys.includes(t.Key));
  if (tag) return `it carries the protection tag ${tag.Key}.`;
  if (role.lastUsed.date && differenceInDays(now, role.lastUsed.date) < rules.minUnusedDays) {
    return `it was used on ${role.lastUsed.date.toISOString().slice(0, 10)}, less than ${rules.minUnusedDays} days ago.`;
  }
  return null;
}

/**
 * Why Delete role is not offered now (roles.unusedRole `quarantine`), or null. A Delete role button
 * on a message posted before the setting changed, or a typed command, must not delete what the
 * setting says to quarantine. The end of a quarantine deletes through deleteRole on its own terms.
 */
export function deleteRoleOff(config: Pick<AppConfig, 'roles'>): string | null {
  if (config.roles.unusedRole !== 'quarantine') return null;
  return 'unused roles are quarantined here, not deleted from Slack (roles.unusedRole is quarantine; this Delete role button is from a message posted before that changed). The role was left as it is. Use Quarantine role on the card, now redrawn with the buttons it offers today: Still needed undoes it in one click, and when the quarantine ends the role is deleted if it is still unused.';
}

class Blocked extends Error {}

function roleOf(finding: Pick<Finding, 'resourceArn' | 'accountId'>) {
  return { accountId: finding.accountId, roleName: iamNameOf(finding.resourceArn) };
}

async function audit(
  deps: JobDeps,
  job: Job<ActionRequest>,
  outcome: 'succeeded' | 'failed' | 'stale',
  extra: { detail?: string; error?: string; resourceArn?: string; accountId?: string } = {},
) {
  await deps.audit.record({
    actor: job.data.userId,
    action: job.name,
    outcome,
    findingId: job.data.findingId,
    region: job.data.region,
    requestId: job.id,
    ...extra,
  });
}

export async function deleteRolePreview(deps: JobDeps, job: Job<DeleteRolePreviewData>): Promise<string> {
  const d = job.data;
  const meta = { f: d.findingId, a: d.analyzerArn, r: d.region, c: d.replyChannel };
  const { finding, state } = await readCard(deps, d, 'ACTIVE');
  const unusedRole = finding?.status === 'ACTIVE' && finding.findingType === 'UnusedIAMRole';
  const off = unusedRole ? deleteRoleOff(deps.config) : null;
  if (finding && off) {
    await showInSlack(deps, [], () => redraw(deps, finding, state, { status: 'ACTIVE' }));
    await deps.slack.web.views.update({
      view_id: d.viewId,
      view: deleteRoleBlockedModal(meta, off) as never,
    });
    return 'blocked';
  }
  let inspection: RoleInspection | null = null;
  let blocker: string | null;
  try {
    // Read the role only for a finding that could lead to a deletion at all.
    if (finding?.status === 'ACTIVE' && finding.findingType === 'UnusedIAMRole') {
      inspection = await deps.iam.inspectRole(roleOf(finding).accountId, roleOf(finding).roleName);
    }
    blocker = deletionBlocker(finding, inspection, deps.config.roles, deps.now());
  } catch (err) {
    blocker = failureMessage(err);
  }
  const view =
    blocker || !inspection
      ? deleteRoleBlockedModal(meta, blocker ?? 'the role could not be read.')
      : deleteRoleConfirmModal({ meta, inspection, minUnusedDays: deps.config.roles.minUnusedDays });
  await deps.slack.web.views.update({ view_id: d.viewId, view: view as never });
  return blocker ? 'blocked' : 'confirm';
}

/**
 * `backupOf` shapes the backup Restore recreates the role from (the end of a quarantine leaves its
 * deny-all policy and tag out, so a restored role works again).
 */
export async function deleteRole(
  deps: JobDeps,
  job: Job<ActionRequest>,
  backupOf: (b: RoleBackup) => RoleBackup = (b) => b,
): Promise<{ outcome: string }> {
  const d = job.data;
  const { finding, state } = await readCard(deps, d, 'ACTIVE');
  if (state?.deletedBy) {
    await tell(deps, d, staleNote({ status: 'deleted already', action: 'delete-role' }));
    return { outcome: 'stale' };
  }
  if (finding?.status !== 'ACTIVE') {
    if (finding) await showInSlack(deps, [], () => redraw(deps, finding, state, { status: finding.status }));
    await tell(deps, d, staleNote({ status: finding?.status ?? 'GONE', action: 'delete-role' }));
    await audit(deps, job, 'stale', { detail: `finding is ${finding?.status ?? 'gone'}` });
    return { outcome: 'stale' };
  }
  const off =
    job.name === JOBS.deleteRole && finding.findingType === 'UnusedIAMRole'
      ? deleteRoleOff(deps.config)
      : null;
  if (off) {
    // Before anything in AWS: the setting says quarantine. The card is redrawn with what it offers now.
    await showInSlack(deps, [], () => redraw(deps, finding, state, { status: 'ACTIVE' }));
    await tell(deps, d, actionFailedNote({ action: 'delete the role of', error: off }));
    await audit(deps, job, 'stale', { detail: 'roles.unusedRole is quarantine: Delete role is not offered' });
    return { outcome: 'stale' };
  }
  const { accountId, roleName } = roleOf(finding);
  const now = deps.now();
  let backupKey: string | undefined;
  let report: Awaited<ReturnType<JobDeps['iam']['deleteRole']>>;
  try {
    report = await deps.iam.deleteRole(accountId, roleName, {
      onInspected: async (inspection) => {
        // The last check, on the role as it is right now, before the first change.
        const blocker = deletionBlocker(finding, inspection, deps.config.roles, deps.now());
        if (blocker) throw new Blocked(blocker);
        const backup = backupOf(backupFromInspection(inspection, now));
        backupKey = await deps.backups.save(backup);
        // The snippet too goes out before the first change (a failed post stops the deletion). Once
        // per content: a retry, or a re-inspection after DeleteConflict that found the same role,
        // does not post it again.
        const content = shortHash(JSON.stringify({ ...backup, takenAt: '' }));
        for (const [i, part] of backupSnippet(backup, backupKey).entries()) {
          await threadReplyOnce(deps, state, part, onceKey(job, `backup-${content}${i ? `-${i + 1}` : ''}`));
        }
      },
    });
  } catch (err) {
    const message = failureMessage(err);
    await audit(deps, job, err instanceof Blocked ? 'stale' : 'failed', {
      error: message,
      resourceArn: finding.resourceArn,
      accountId,
    });
    await tell(deps, d, actionFailedNote({ action: 'delete the role of', error: message }));
    throw new UnrecoverableError(message);
  }
  // IAM has done what the report says. Nothing after this is retried (a retry would delete again):
  // a message Slack does not take is logged and noted in the audit entry, never reported as the
  // deletion failing.
  const { missed, shown } = afterAwsActed(deps, job.id, 'role deletion not shown in Slack');
  const receipt = {
    userId: d.userId,
    roleName,
    done: report.done,
    notDone: report.notDone,
    ...(report.ok ? {} : { error: `${report.error.code}: ${report.error.message}` }),
  };
  await shown(() => threadReplyOnce(deps, state, deletionReceipt(receipt), onceKey(job, 'receipt')));
  if (!report.ok) {
    await audit(deps, job, 'failed', {
      error: receipt.error,
      resourceArn: finding.resourceArn,
      accountId,
      ...withMissed(undefined, missed),
    });
    await tell(deps, d, actionFailedNote({ action: 'delete the role of', error: receipt.error ?? '' }));
    return { outcome: 'failed' };
  }
  if (backupKey) {
    await deps.store.set(d.findingId, { deletedBy: d.userId, deletedAt: now.toISOString(), backupKey });
    await shown(() =>
      redraw(deps, finding, state, {
        status: 'ACTIVE',
        deleted: { by: d.userId, at: now.toISOString(), backupKey: backupKey! },
      }),
    );
  }
  await audit(deps, job, 'succeeded', {
    resourceArn: finding.resourceArn,
    accountId,
    ...withMissed(report.alreadyGone ? 'role was already gone' : `backup ${backupKey}`, missed),
  });
  return { outcome: 'succeeded' };
}

export async function restoreRole(deps: JobDeps, job: Job<RestoreRoleData>): Promise<{ outcome: string }> {
  const d = job.data;
  const backup = await deps.backups.get(d.backupKey);
  if (!backup) {
    const message = `no backup at ${d.backupKey} (backups are kept ${deps.config.roles.backupRetentionDays} days)`;
    await audit(deps, job, 'failed', { error: message });
    await tell(deps, d, actionFailedNote({ action: 'restore the role of', error: message }));
    throw new UnrecoverableError(message);
  }
  const report = await deps.iam.restoreRole(backup);
  // IAM has done what the report says; a retry would create the role again, so Slack trouble from
  // here on is logged and noted in the audit entry, not thrown.
  const { missed, shown } = afterAwsActed(deps, job.id, 'role restore not shown in Slack');
  const state = await deps.store.get(d.findingId);
  const receipt = {
    userId: d.userId,
    roleName: backup.roleName,
    done: report.done,
    notDone: report.notDone,
    ...(report.ok ? {} : { error: `${report.error.code}: ${report.error.message}` }),
  };
  await shown(() => threadReplyOnce(deps, state, restoreReceipt(receipt), onceKey(job, 'receipt')));
  if (report.ok) {
    await deps.store.clearDeleted(d.findingId);
    const { finding } = await readCard(deps, d, 'ACTIVE').catch(() => ({ finding: null }));
    if (finding) await shown(() => redraw(deps, finding, state, { status: finding.status }));
  }
  await audit(deps, job, report.ok ? 'succeeded' : 'failed', {
    resourceArn: backup.arn,
    accountId: backup.accountId,
    ...(receipt.error ? { error: receipt.error } : {}),
    ...withMissed(undefined, missed),
  });
  return { outcome: report.ok ? 'succeeded' : 'failed' };
}
