// The one-click fix buttons and their Undo. Slack's confirm dialog has been answered when the click
// arrives; the listener checks the fix's permission against the finding's stored owner, holds the
// intent (a double click is one change) and queues the job, which re-reads AWS before changing it.
import type { App, BlockAction, ButtonAction } from '@slack/bolt';
import { ACTION_IDS, decodeUndoRef } from '../../../blocks/ids.ts';
import { unavailableNote } from '../../../blocks/receipts.ts';
import { FIX_KINDS, type FixKind, isFixKind } from '../../findings/card-actions.ts';
import { type FixData, type FixUndoData, JOBS, type KeyDeletionData } from '../../queue/index.ts';
import { shortHash } from '../../util/hash.ts';
import { intentOf, type ListenerDeps, requestAction } from '../listeners/common.ts';
import { allowedClick, type ButtonArgs, replyVia, requestOf } from './click.ts';

export const FIX_ACTION_IDS: Record<FixKind, string> = {
  'block-public-access': ACTION_IDS.blockPublicAccess,
  'deactivate-key': ACTION_IDS.deactivateKey,
  'remove-password': ACTION_IDS.removePassword,
  'remove-external-access': ACTION_IDS.removeExternalAccess,
  'quarantine-role': ACTION_IDS.quarantineRole,
  'apply-recommendation': ACTION_IDS.applyRecommendation,
};

const ACCEPTED: Record<FixKind, string> = {
  'block-public-access':
    'Blocking public access: reading the bucket’s settings once more, saving them, then turning all four on…',
  'deactivate-key': 'Deactivating the key: checking it once more, then making it inactive…',
  'remove-password': 'Removing the password: checking it once more, then deleting it…',
  'remove-external-access':
    'Removing external access: reading the trust policy once more, checking the new one with CheckNoNewAccess, then updating it…',
  'quarantine-role':
    'Quarantining the role: checking once more that it is unused, saving what is there, then adding the deny-all policy and the quarantine tag…',
  'apply-recommendation':
    "Applying AWS's recommendation: reading the recommendation and the attached policies once more, saving them, then creating, attaching and detaching…",
};

export function fixButton(deps: ListenerDeps, kind: FixKind) {
  return async (args: ButtonArgs) => {
    const allowed = await allowedClick(deps, args, kind);
    if (!allowed) return;
    const { click, reply, card } = allowed;
    const data: FixData = { ...requestOf(click, card), kind };
    await requestAction(deps, reply, {
      // One change per card and fix: a double click (two action_ts) queues one job.
      intent: intentOf(`fix-${kind}`, card.cardId, click.userId),
      job: { name: JOBS.fix, data },
      audit: { actor: click.userId, action: kind, findingId: card.cardId, region: card.state.region },
      accepted: ACCEPTED[kind],
    });
  };
}

/** A button whose value names no backup (forged or from an older message): answered, nothing queued. */
async function noBackupReference(args: ButtonArgs): Promise<void> {
  await args.ack();
  await replyVia(args)(unavailableNote('This button carries no backup reference.'));
}

/** Undo: the same permission as the fix; puts back the backup named on the button. */
export function undoFixButton(deps: ListenerDeps) {
  return async (args: ButtonArgs) => {
    const ref = decodeUndoRef(args.action.value ?? '');
    let kind: unknown;
    try {
      kind = (JSON.parse(args.action.value ?? '{}') as { x?: unknown }).x;
    } catch {
      kind = undefined;
    }
    if (!ref || !isFixKind(kind)) return noBackupReference(args);
    const allowed = await allowedClick(deps, args, kind);
    if (!allowed) return;
    const { click, reply, card } = allowed;
    const data: FixUndoData = { ...requestOf(click, card), kind, backupKey: ref.k };
    await requestAction(deps, reply, {
      // One Undo per backup at a time, whoever clicks.
      intent: intentOf(`fix-undo-${kind}`, shortHash(ref.k), click.userId),
      job: { name: JOBS.fixUndo, data },
      audit: {
        actor: click.userId,
        action: `${kind}-undo`,
        findingId: card.cardId,
        region: card.state.region,
      },
      accepted:
        kind === 'quarantine-role'
          ? 'Lifting the quarantine: checking that the deny-all policy is still there, then removing it and the quarantine tag…'
          : 'Undoing the fix: checking that AWS still shows what the fix left, then putting back what was there…',
    });
  };
}

/** Delete key (offered in the thread after Deactivate key): admins only by default; cannot be undone. */
export function deleteKeyButton(deps: ListenerDeps) {
  return async (args: ButtonArgs) => {
    const ref = decodeUndoRef(args.action.value ?? '');
    if (!ref) return noBackupReference(args);
    const allowed = await allowedClick(deps, args, 'delete-key');
    if (!allowed) return;
    const { click, reply, card } = allowed;
    const data: KeyDeletionData = { ...requestOf(click, card), backupKey: ref.k };
    await requestAction(deps, reply, {
      // One deletion per key, whoever clicks.
      intent: intentOf('delete-key', shortHash(ref.k), click.userId),
      job: { name: JOBS.deleteKey, data },
      audit: { actor: click.userId, action: 'delete-key', findingId: card.cardId, region: card.state.region },
      accepted:
        'Deleting the key: checking once more that it is still inactive and unused, then deleting it…',
    });
  };
}

export function registerFixButtons(app: App, deps: ListenerDeps): void {
  for (const kind of FIX_KINDS) {
    app.action<BlockAction<ButtonAction>>(FIX_ACTION_IDS[kind], fixButton(deps, kind) as never);
  }
  app.action<BlockAction<ButtonAction>>(ACTION_IDS.undoFix, undoFixButton(deps) as never);
  app.action<BlockAction<ButtonAction>>(ACTION_IDS.deleteKey, deleteKeyButton(deps) as never);
}
