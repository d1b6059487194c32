// The one-click fixes and their Undo. A fix goes through the action frame (the card re-read from AWS,
// a stale click refused), then: the fix fits the finding (src/findings/card-actions.ts), AWS is read
// again just before the change (already fixed: nothing is done, and the person is told why), what is
// there is saved (Redis) before the first change, the change is proven where it can be
// (CheckNoNewAccess), made, read back, AWS is asked to rescan, and the thread gets a receipt with an
// Undo button. Undo puts the saved state back only while AWS still shows what the fix left (or, for a
// fix of several steps that stopped half way, a state only those steps leave). A fix that stopped
// half way for good says which steps were done and still gets its Undo.
import { type Job, UnrecoverableError } from 'bullmq';
import { FIX_WORDS, fixNothingDoneNote, fixReceipt, passwordDm, undoReceipt } from '../../blocks/fixes.ts';
import { actionFailedNote } from '../../blocks/receipts.ts';
import { fixFits } from '../../src/findings/card-actions.ts';
import { enqueue, type FixData, type FixUndoData, JOBS } from '../../src/queue/index.ts';
import type { FixBackup } from '../../src/store/backups.ts';
import { type ActionResult, runFindingAction } from '../actions/frame.ts';
import { readCard } from '../card.ts';
import type { JobDeps } from '../deps.ts';
import { afterAwsActed, redraw, threadReplyOnce, withMissed } from '../finding-message.ts';
import { onceKey, postOnce } from '../post-once.ts';
import { failureMessage, isFinalFailure, PERMANENT_AWS_ERRORS } from '../retry.ts';
import { tell } from '../tell.ts';
import { FIX_SPECS, type FixSpec } from './specs.ts';

type AuditOutcome = 'succeeded' | 'failed' | 'stale';

function auditor(
  deps: JobDeps,
  job: Job<FixData | FixUndoData>,
  resource?: { arn: string; account: string },
) {
  return (outcome: AuditOutcome, extra: { detail?: string; error?: string } = {}) =>
    deps.audit.record({
      actor: job.data.userId,
      action: job.name === JOBS.fixUndo ? `${job.data.kind}-undo` : job.data.kind,
      outcome,
      findingId: job.data.findingId,
      region: job.data.region,
      requestId: job.id,
      ...(resource ? { resourceArn: resource.arn, accountId: resource.account } : {}),
      ...extra,
    });
}

/** Asks AWS to rescan the resource and schedules the read that shows what came of it. */
async function rescanAfter(
  deps: JobDeps,
  data: FixData | FixUndoData,
  analyzer: { arn: string; region: string },
  resource: { arn: string; account: string },
  tag: string,
): Promise<void> {
  await deps.analyzers.startResourceScan(analyzer, resource.arn, resource.account);
  const { intent: _intent, ...rest } = data;
  await enqueue(
    deps.queues,
    JOBS.rescanCheck,
    {
      findingId: rest.findingId,
      analyzerArn: rest.analyzerArn,
      region: rest.region,
      userId: rest.userId,
      ...(rest.replyChannel ? { replyChannel: rest.replyChannel } : {}),
      requestTs: `${tag}-${rest.requestTs}`,
    },
    { delay: deps.config.fixes.rescanDelaySeconds * 1000 },
  );
}

export function fixAction(deps: JobDeps, job: Job<FixData>): Promise<ActionResult> {
  const kind = job.data.kind;
  const spec = FIX_SPECS[kind] as FixSpec<unknown>;
  const backupStep = onceKey(job, 'fix-backup');
  return runFindingAction(deps, job, {
    expected: 'ACTIVE',
    audited: kind,
    resumes: async () => (await deps.fixBackups.savedForJob(backupStep)) !== null,
    async step({ data, finding, state, acting, analyzer, receipt, shown, done, succeeded }) {
      const resource = { arn: finding.resourceArn, account: finding.accountId };
      const audit = auditor(deps, job, resource);
      const nothingDone = async (reason: string) => {
        await tell(deps, data, fixNothingDoneNote({ kind, reason }));
        await audit('stale', { detail: reason });
        return { outcome: 'stale' as const, status: finding.status };
      };
      if (!fixFits(kind, finding, deps.config.roles.unusedRole))
        return nothingDone(
          `${kind} does not fit a ${finding.findingType} finding on ${finding.resourceType}.`,
        );

      // A retry of this job after its backup was saved goes on from that backup.
      const savedKey = await deps.fixBackups.savedForJob(backupStep);
      let backup = savedKey ? await deps.fixBackups.get(savedKey) : null;
      let backupKey = savedKey ?? '';
      if (!backup) {
        // The last look at AWS before the change: a finding fixed meanwhile changes nothing.
        const plan = await spec.plan(deps, finding, acting);
        if (typeof plan === 'string') return nothingDone(plan);
        backup = {
          version: 1,
          kind,
          findingId: data.findingId,
          accountId: finding.accountId,
          region: finding.region,
          target: plan.target,
          before: plan.before,
          after: plan.after,
          by: data.userId,
          takenAt: deps.now().toISOString(),
        };
        if (spec.prove) {
          const failed = await spec.prove(deps, backup);
          if (failed) {
            await tell(deps, data, actionFailedNote({ action: FIX_WORDS[kind].verb, error: failed }));
            await audit('failed', { error: failed });
            throw new UnrecoverableError(failed);
          }
        }
        backupKey = await deps.fixBackups.save(backup, spec.keepDays?.(deps) ?? 0);
        await deps.fixBackups.recordForJob(backupStep, backupKey);
      }
      const what = describe(backup);
      const doneSteps: string[] = [
        `saved what was there (kept ${deps.config.fixes.backupRetentionDays} days for Undo)`,
      ];
      const notDone: string[] = [];
      const steps: string[] = [];
      const undo = {
        backupKey,
        findingId: data.findingId,
        analyzerArn: data.analyzerArn,
        region: data.region,
      };
      if (!spec.same(await spec.read(deps, backup), backup.after)) {
        try {
          await spec.apply(deps, backup, (s) => steps.push(s));
        } catch (err) {
          const now = await spec.read(deps, backup).catch(() => undefined);
          // Nothing changed yet, or a retry may still finish it: the frame reports or retries.
          if (
            now === undefined ||
            spec.same(now, backup.before) ||
            !isFinalFailure(err, job, { permanent: [...PERMANENT_AWS_ERRORS, 'quota'] })
          )
            throw err;
          // Stopped half way for good: say what was done, keep the Undo, retry nothing.
          const error = failureMessage(err);
          const { missed, shown: show } = afterAwsActed(deps, job.id, 'half-done fix not shown in Slack');
          const msg = fixReceipt({
            kind,
            userId: data.userId,
            target: what,
            done: [...doneSteps, ...steps],
            notDone: [`the rest stopped at: ${error}`],
            before: spec.show(backup.before),
            after: spec.show(now),
            notes: ['After shows what AWS has now; the button below puts back what was there before.'],
            undo,
          });
          await show(() => threadReplyOnce(deps, state, msg, receipt));
          await tell(deps, data, msg);
          await audit('failed', {
            error,
            ...withMissed(`half way: ${steps.join('; ') || 'no step'}; backup ${backupKey}`, missed),
          });
          return { outcome: 'failed' as const, status: finding.status };
        }
      }
      done(`backup ${backupKey}`);
      const now = await spec.read(deps, backup).catch(() => undefined);
      const change = steps.length ? steps.join('; ') : changeWords(backup);
      doneSteps.push(
        now !== undefined && spec.same(now, backup.after)
          ? `${change}; read back: ${spec.show(now).split('\n').join(' ')}`
          : `${change} (AWS did not show it on reading back yet)`,
      );
      if (spec.rescan) {
        try {
          await rescanAfter(deps, data, analyzer, resource, 'fix');
          doneSteps.push('asked AWS to rescan the resource; the thread says what came of it');
        } catch (err) {
          notDone.push(
            `the rescan: ${failureMessage(err)}. Rescan from the card, or wait for the next scan.`,
          );
        }
      }
      if (spec.afterFix) {
        try {
          doneSteps.push(await spec.afterFix(deps, { data, backup, backupKey }));
        } catch (err) {
          notDone.push(failureMessage(err));
        }
      }
      const card = (await deps.store.get(data.findingId)) ?? state;
      const fresh = await deps.analyzers.getFinding(analyzer, acting.id).catch(() => null);
      const status = fresh?.status ?? finding.status;
      const notes = (await spec.notes?.(deps, backup)) ?? [];
      if (fresh) {
        await shown(() =>
          redraw(deps, fresh, card, status === 'ACTIVE' ? { status } : { status, at: fresh.updatedAt }),
        );
      }
      await shown(() =>
        threadReplyOnce(
          deps,
          card,
          fixReceipt({
            kind,
            userId: data.userId,
            target: what,
            done: doneSteps,
            notDone,
            before: spec.show(backup.before),
            after: spec.show(backup.after),
            notes: [
              status === 'ACTIVE'
                ? kind === 'quarantine-role'
                  ? 'AWS reports the finding as active while the role exists.'
                  : 'AWS still reports the finding as active; the next analysis resolves it.'
                : `AWS now reports the finding as ${status.toLowerCase()}.`,
              ...notes,
            ],
            undo,
          }),
          receipt,
        ),
      );
      return succeeded(
        status,
        `backup ${backupKey}${notDone.length ? `; not done: ${notDone.join('; ')}` : ''}`,
      );
    },
  });
}

function describe(b: FixBackup): string {
  const t = b.target;
  if (b.kind === 'block-public-access') return `bucket ${t.bucket}`;
  if (b.kind === 'deactivate-key') return `access key ${t.keyId} of user ${t.user}`;
  if (b.kind === 'remove-password') return `user ${t.user}`;
  if (b.kind === 'apply-recommendation') return `${t.kind} ${t.name}`;
  return `role ${t.role}`;
}

function changeWords(b: FixBackup): string {
  const t = b.target;
  if (b.kind === 'block-public-access')
    return `PutPublicAccessBlock on bucket ${t.bucket}: all four settings on`;
  if (b.kind === 'deactivate-key') return `UpdateAccessKey ${t.keyId} of user ${t.user}: Inactive`;
  if (b.kind === 'remove-password') return `DeleteLoginProfile of user ${t.user}`;
  if (b.kind === 'quarantine-role') return `PutRolePolicy and TagRole on role ${t.role}`;
  if (b.kind === 'apply-recommendation') return `the recommended steps on ${t.kind} ${t.name}`;
  return `UpdateAssumeRolePolicy of role ${t.role}: removed ${t.removed}`;
}

export async function undoFix(deps: JobDeps, job: Job<FixUndoData>): Promise<{ outcome: string }> {
  const d = job.data;
  const audit = auditor(deps, job);
  const nothing = async (reason: string, outcome: AuditOutcome = 'stale') => {
    await tell(deps, d, fixNothingDoneNote({ kind: d.kind, reason, undo: true }));
    await auditor(deps, job)(outcome, outcome === 'stale' ? { detail: reason } : { error: reason });
    return { outcome };
  };
  const backup = await deps.fixBackups.get(d.backupKey);
  if (!backup) {
    return nothing(
      `no backup at ${d.backupKey} (backups are kept ${deps.config.fixes.backupRetentionDays} days).`,
      'failed',
    );
  }
  if (backup.kind !== d.kind || backup.findingId !== d.findingId) {
    return nothing('the backup named on the button is not of this fix on this finding.', 'failed');
  }
  const spec = FIX_SPECS[d.kind] as FixSpec<unknown>;
  const what = describe(backup);
  const current = await spec.read(deps, backup);
  if (spec.same(current, backup.before)) {
    return nothing(`${what} is already as it was before the fix.`);
  }
  if (!spec.same(current, backup.after) && !spec.partial?.(current, backup)) {
    return nothing(
      `${what} has changed since the fix (now: ${spec.show(current).split('\n').join(' ')}); Undo would overwrite that change.`,
    );
  }
  // A new password goes to the person who clicked, in a DM: open it before making the password.
  let dm: string | undefined;
  if (d.kind === 'remove-password') {
    try {
      dm = await deps.slack.openDm(d.userId);
    } catch (err) {
      return nothing(
        `a direct message to you could not be opened (${failureMessage(err)}), and the new password may go nowhere else. Nothing was changed; Undo again once Slack lets the app message you.`,
        'failed',
      );
    }
  }
  let restored: Awaited<ReturnType<FixSpec<unknown>['restore']>>;
  const steps: string[] = [];
  try {
    restored = await spec.restore(deps, backup, (s) => steps.push(s));
  } catch (err) {
    const message = failureMessage(err);
    if (steps.length === 0 && spec.same(await spec.read(deps, backup).catch(() => current), current)) {
      // AWS refused the first call: nothing changed, and the same Undo works once the cause is gone.
      await audit('failed', { error: message });
      await tell(
        deps,
        d,
        actionFailedNote({
          action: 'undo the fix of',
          error: `${message}. The backup is kept; Undo again once that is fixed.`,
        }),
      );
      throw new UnrecoverableError(message);
    }
    // Stopped half way: say what was done and what AWS has now, and keep the Undo for the rest.
    const now = await spec.read(deps, backup).catch(() => undefined);
    const { missed, shown } = afterAwsActed(deps, job.id, 'half-done undo not shown in Slack');
    const card = await deps.store.get(d.findingId);
    const msg = undoReceipt({
      kind: d.kind,
      userId: d.userId,
      target: what,
      done: steps,
      notDone: [`the rest stopped at: ${message}`],
      before: spec.show(backup.after),
      ...(now !== undefined ? { after: spec.show(now) } : {}),
      notes: [
        'After shows what AWS has now. The backup is kept: Undo again puts back the rest once that is fixed.',
      ],
      stopped: {
        backupKey: d.backupKey,
        findingId: d.findingId,
        analyzerArn: d.analyzerArn,
        region: d.region,
      },
    });
    if (card) await shown(() => threadReplyOnce(deps, card, msg, onceKey(job, 'receipt')));
    await tell(deps, d, msg);
    await audit('failed', {
      error: message,
      ...withMissed(`half way: ${steps.join('; ')}; backup ${d.backupKey}`, missed),
    });
    throw new UnrecoverableError(message);
  }
  // AWS has acted: nothing after this is retried (a retry would act again); Slack trouble is noted.
  const { missed, shown } = afterAwsActed(deps, job.id, 'undo not shown in Slack');
  const doneSteps = [restored.change];
  const notDone: string[] = [];
  if (spec.afterUndo) {
    try {
      doneSteps.push(await spec.afterUndo(deps, { data: d, backup }));
    } catch (err) {
      notDone.push(failureMessage(err));
    }
  }
  if (restored.secret && dm) {
    const secret = restored.secret;
    await shown(() =>
      postOnce(deps, onceKey(job, 'password'), () =>
        deps.slack.post(
          dm,
          passwordDm({ userName: backup.target.user!, accountId: backup.accountId, password: secret }),
        ),
      ),
    );
    if (missed.length) notDone.push('sending the new password: reset it in the IAM console');
    // Rich text shows <@U…> as written: the receipt names no one (its headline says who clicked).
    else doneSteps.push('sent the new password to the person who clicked Undo only, by direct message');
  }
  const now = await spec.read(deps, backup).catch(() => undefined);
  if (now !== undefined && !spec.same(now, backup.before))
    notDone.push('AWS does not show the saved state on reading back yet');
  const { finding, state, acting } = await readCard(deps, d, 'ACTIVE').catch(() => ({
    finding: null,
    state: null,
    acting: null,
  }));
  if (spec.rescan && acting) {
    try {
      await rescanAfter(
        deps,
        d,
        { arn: acting.analyzerArn, region: acting.region },
        { arn: finding?.resourceArn ?? '', account: backup.accountId },
        'undo',
      );
    } catch (err) {
      notDone.push(`the rescan: ${failureMessage(err)}`);
    }
  }
  const card = (await deps.store.get(d.findingId)) ?? state;
  if (finding) {
    await shown(() =>
      redraw(
        deps,
        finding,
        card,
        finding.status === 'ACTIVE'
          ? { status: 'ACTIVE' }
          : { status: finding.status, at: finding.updatedAt },
      ),
    );
  }
  await shown(() =>
    threadReplyOnce(
      deps,
      card,
      undoReceipt({
        kind: d.kind,
        userId: d.userId,
        target: what,
        done: doneSteps,
        notDone,
        before: spec.show(backup.after),
        after: spec.show(backup.before),
      }),
      onceKey(job, 'receipt'),
    ),
  );
  await audit('succeeded', withMissed(`from ${d.backupKey}`, [...missed, ...notDone]));
  return { outcome: 'succeeded' };
}
