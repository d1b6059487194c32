// Deactivate key's follow-ups. The fix schedules an offer for `fixes.deleteInactiveKeyAfterDays`
// later; if the key is still inactive then, the card's thread gets a Delete key button (admins and
// those under `permissions.delete-key`). Deleting re-reads IAM just before it acts: the key must
// still be there, inactive since the fix for long enough, and unused since it was made inactive.
// It cannot be undone (AWS cannot bring a key back), so it is never automatic.
import { type Job, UnrecoverableError } from 'bullmq';
import {
  fixNothingDoneNote,
  type InactiveKey,
  keyDeletedReceipt,
  keyDeletionOffer,
} from '../../blocks/fixes.ts';
import { actionFailedNote } from '../../blocks/receipts.ts';
import { JOBS, type KeyDeletionData } from '../../src/queue/index.ts';
import type { FixBackup } from '../../src/store/backups.ts';
import type { JobDeps } from '../deps.ts';
import { afterAwsActed, threadReplyOnce, withMissed } from '../finding-message.ts';
import { onceKey } from '../post-once.ts';
import { failureMessage } from '../retry.ts';
import { tell } from '../tell.ts';
import { accessKeyNow } from './specs.ts';

const DAY_MS = 86_400_000;

/** The key a Deactivate key backup is about, as the follow-ups name it. */
function inactiveKey(backup: FixBackup, d: KeyDeletionData): InactiveKey {
  return {
    keyId: backup.target.keyId ?? '',
    userName: backup.target.user ?? '',
    accountId: backup.accountId,
    deactivatedBy: backup.by,
    deactivatedAt: backup.takenAt,
    ref: { findingId: d.findingId, analyzerArn: d.analyzerArn, region: d.region, backupKey: d.backupKey },
  };
}

async function deactivationBackup(deps: JobDeps, d: KeyDeletionData): Promise<FixBackup | string> {
  const backup = await deps.fixBackups.get(d.backupKey);
  if (!backup) {
    return `the backup of the deactivation is gone (backups are kept ${deps.config.fixes.backupRetentionDays} days), so the bot no longer knows when the key was made inactive.`;
  }
  if (backup.kind !== 'deactivate-key' || backup.findingId !== d.findingId || !backup.target.keyId) {
    return 'the reference on the button is not a Deactivate key of this finding.';
  }
  return backup;
}

/** Scheduled by Deactivate key: offers Delete key in the card's thread if the key is still inactive. */
export async function offerKeyDeletion(
  deps: JobDeps,
  job: Job<KeyDeletionData>,
): Promise<{ outcome: string }> {
  const backup = await deactivationBackup(deps, job.data);
  if (typeof backup === 'string') {
    deps.logger.info({ jobId: job.id, reason: backup }, 'no key deletion offer');
    return { outcome: 'no-backup' };
  }
  const k = inactiveKey(backup, job.data);
  const key = await accessKeyNow(deps, k, 'key-gone');
  if (!key) return { outcome: 'gone' };
  if (key.status !== 'Inactive') return { outcome: 'active-again' };
  const card = await deps.store.get(job.data.findingId);
  await threadReplyOnce(
    deps,
    card,
    keyDeletionOffer(k, deps.config.fixes.deleteInactiveKeyAfterDays),
    onceKey(job, 'offer'),
  );
  return { outcome: card ? 'offered' : 'no-card' };
}

/** Delete key: re-checks IAM, deletes the key with its user name, audits and says so in the thread. */
export async function deleteKey(deps: JobDeps, job: Job<KeyDeletionData>): Promise<{ outcome: string }> {
  const d = job.data;
  const audit = (
    outcome: 'succeeded' | 'failed' | 'stale',
    extra: { detail?: string; error?: string; accountId?: string } = {},
  ) =>
    deps.audit.record({
      actor: d.userId,
      action: JOBS.deleteKey,
      outcome,
      findingId: d.findingId,
      region: d.region,
      requestId: job.id,
      ...extra,
    });
  const nothing = async (reason: string, outcome: 'stale' | 'failed' = 'stale') => {
    await tell(deps, d, fixNothingDoneNote({ kind: 'deactivate-key', reason, asked: 'delete the key' }));
    await audit(outcome, outcome === 'stale' ? { detail: reason } : { error: reason });
    return { outcome };
  };

  const backup = await deactivationBackup(deps, d);
  if (typeof backup === 'string') return nothing(backup, 'failed');
  const k = inactiveKey(backup, d);
  const name = `access key ${k.keyId} of user ${k.userName}`;
  const key = await accessKeyNow(deps, k, 'key-gone');
  if (!key) return nothing(`${name} no longer exists: it was deleted already.`);
  if (key.status !== 'Inactive') {
    return nothing(
      `${name} is active again (someone turned it back on after the fix), so it is not deleted.`,
    );
  }
  const days = deps.config.fixes.deleteInactiveKeyAfterDays;
  const since = Date.parse(k.deactivatedAt);
  if (deps.now().getTime() - since < days * DAY_MS) {
    return nothing(
      `${name} has been inactive only since ${k.deactivatedAt.slice(0, 10)}; Delete key is for keys inactive ${days} days.`,
    );
  }
  const lastUsed = await deps.fixes.accessKeyLastUsed(k.accountId, k.keyId);
  if (lastUsed && Date.parse(lastUsed) > since) {
    return nothing(
      `${name} signed a request on ${lastUsed.slice(0, 10)}, after it was made inactive: it was turned on and used since, so it is not deleted.`,
    );
  }

  try {
    await deps.fixes.deleteAccessKey(k.accountId, k.userName, k.keyId);
  } catch (err) {
    const message = failureMessage(err);
    await audit('failed', { error: message, accountId: k.accountId });
    await tell(deps, d, actionFailedNote({ action: 'delete the key of', error: message }));
    throw new UnrecoverableError(message);
  }
  // AWS has acted: nothing after this is retried (a retry would find the key gone); Slack trouble is noted.
  const { missed, shown } = afterAwsActed(deps, job.id, 'key deletion not shown in Slack');
  await shown(async () =>
    threadReplyOnce(
      deps,
      await deps.store.get(d.findingId),
      keyDeletedReceipt(k, d.userId),
      onceKey(job, 'receipt'),
    ),
  );
  await audit('succeeded', {
    accountId: k.accountId,
    ...withMissed(`deleted ${name}, inactive since ${k.deactivatedAt}`, missed),
  });
  return { outcome: 'succeeded' };
}
