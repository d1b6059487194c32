// The end of a role's quarantine (scheduled by Quarantine role, cancelled by Still needed). The role
// is deleted with a backup, as Delete role does, only if the quarantine is still what the bot put
// there, the role was not used since it began, and every check of a deletion passes; otherwise the
// card's thread says why the role was kept.
import type { Job } from 'bullmq';
import { quarantineKeptNote } from '../blocks/fixes.ts';
import { iamNameOf } from '../src/aws/tags.ts';
import type { QuarantineEndData } from '../src/queue/index.ts';
import { readCard } from './card.ts';
import type { JobDeps } from './deps.ts';
import { showInSlack, threadReplyOnce } from './finding-message.ts';
import { QUARANTINE_POLICY_NAME, QUARANTINE_TAG_KEY, quarantineRole } from './fixes/specs.ts';
import { onceKey } from './post-once.ts';
import { deleteRole, deletionBlocker } from './role-actions.ts';

export async function endQuarantine(
  deps: JobDeps,
  job: Job<QuarantineEndData>,
): Promise<{ outcome: string }> {
  const d = job.data;
  const state = await deps.store.get(d.findingId);
  const roleName = state?.resourceArn ? iamNameOf(state.resourceArn) : d.findingId;
  const kept = async (reason: string) => {
    await showInSlack(deps, [], () =>
      threadReplyOnce(
        deps,
        state,
        quarantineKeptNote({ roleName, until: d.requestTs, reason }),
        onceKey(job, 'kept'),
      ),
    );
    await deps.audit.record({
      actor: d.userId,
      action: job.name,
      outcome: 'stale',
      findingId: d.findingId,
      region: d.region,
      requestId: job.id,
      detail: `role kept: ${reason}`,
    });
    return { outcome: 'kept' };
  };
  const backup = await deps.fixBackups.get(d.backupKey);
  if (backup?.kind !== 'quarantine-role') {
    return kept(
      `the record of the quarantine (${d.backupKey}) is gone; fix backups are kept ${deps.config.fixes.backupRetentionDays} days.`,
    );
  }
  if (state?.quarantineBackupKey !== d.backupKey) {
    return kept('the quarantine was lifted (Still needed) or replaced by a newer one.');
  }
  const spec = quarantineRole;
  const now = await spec.read(deps, backup as Parameters<typeof spec.read>[1]);
  if (now.gone) {
    await deps.store.clearQuarantine(d.findingId);
    return kept('the role no longer exists.');
  }
  if (!spec.same(now, backup.after as typeof now)) {
    return kept(
      `the quarantine is no longer as the bot left it (inline policy ${QUARANTINE_POLICY_NAME} or its tag changed): someone changed the role by hand. Now: ${spec.show(now).split('\n').join(' ')}`,
    );
  }
  const { finding } = await readCard(deps, d, 'ACTIVE');
  const role = finding ? await deps.iam.inspectRole(backup.accountId, backup.target.role!) : null;
  const used = role?.lastUsed.date;
  if (used && used.getTime() > Date.parse(backup.takenAt)) {
    return kept(
      `the role was used on ${used.toISOString().slice(0, 10)}, during the quarantine (its calls were refused): something still needs it. Click Still needed to lift the quarantine, or find what uses it.`,
    );
  }
  const blocker = deletionBlocker(finding, role, deps.config.roles, deps.now());
  if (blocker) return kept(blocker);
  // Restore gives back the role as it was before the quarantine: without its policy and tag.
  const result = await deleteRole(deps, job, (b) => ({
    ...b,
    inlinePolicies: b.inlinePolicies.filter((p) => p.name !== QUARANTINE_POLICY_NAME),
    tags: b.tags.filter((t) => t.Key !== QUARANTINE_TAG_KEY),
  }));
  if (result.outcome === 'succeeded') await deps.store.clearQuarantine(d.findingId);
  return result;
}
