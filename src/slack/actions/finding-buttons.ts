// The buttons on a finding message. Each acks at once, checks the permission, and either opens a
// modal (archive) or enqueues the job (unarchive, rescan); the worker does the AWS work.
import type { App, BlockAction, ButtonAction } from '@slack/bolt';
import { deleteRoleLoadingModal } from '../../../blocks/delete-role.ts';
import { ACTION_IDS } from '../../../blocks/ids.ts';
import { archiveModal } from '../../../blocks/modals.ts';
import { unavailableNote } from '../../../blocks/receipts.ts';
import {
  type DeleteRolePreviewData,
  enqueue as enqueueJob,
  JOBS,
  type RestoreRoleData,
} from '../../queue/index.ts';
import { shortHash } from '../../util/hash.ts';
import { enqueue, intentOf, type ListenerDeps, requestAction } from '../listeners/common.ts';
import {
  allowedClick,
  allowedDialogClick,
  type ButtonArgs,
  jobButton,
  modalButton,
  modalMetaOf,
  openLoadingModal,
  requestOf,
} from './click.ts';
import { generatePolicyButton } from './generate-policy.ts';

export function archiveButton(deps: ListenerDeps) {
  return modalButton(deps, 'archive', (input) => archiveModal({ ...input, now: deps.now() }));
}

/** Unarchive and rescan: no modal, straight to the queue. */
export function queuedButton(deps: ListenerDeps, action: 'unarchive' | 'rescan') {
  return jobButton(deps, {
    permission: action,
    job: action === 'unarchive' ? JOBS.unarchive : JOBS.rescan,
    audited: action,
    accepted:
      action === 'unarchive'
        ? 'Unarchiving…'
        : 'Rescanning… the message updates when AWS has re-analyzed the resource.',
  });
}

/** Delete role: admins only; a modal opens at once and a worker fills it in after reading the role. */
export function deleteRoleButton(deps: ListenerDeps) {
  return async (args: ButtonArgs) => {
    const allowed = await allowedDialogClick(deps, args, 'delete-role');
    if (!allowed) return;
    const { click, reply, card } = allowed;
    const viewId = await openLoadingModal(
      args,
      reply,
      deleteRoleLoadingModal(modalMetaOf(click, card)),
      'Slack did not open the confirm dialog.',
    );
    if (!viewId) return;
    const data: DeleteRolePreviewData = { ...requestOf(click, card), viewId };
    await enqueue(deps, reply, () => enqueueJob({ actions: deps.actions }, JOBS.deleteRolePreview, data));
  };
}

/** Restore role: admins only; recreates the role from the backup named on the button. */
export function restoreRoleButton(deps: ListenerDeps) {
  return async (args: ButtonArgs) => {
    let backupKey: unknown;
    try {
      backupKey = (JSON.parse(args.action.value ?? '{}') as { k?: unknown }).k;
    } catch {
      backupKey = undefined;
    }
    const allowed = await allowedClick(deps, args, 'restore-role');
    if (!allowed) return;
    const { click, reply, card } = allowed;
    if (typeof backupKey !== 'string') {
      return void (await reply(unavailableNote('This button carries no backup reference.')));
    }
    const data: RestoreRoleData = { ...requestOf(click, card), backupKey };
    await requestAction(deps, reply, {
      // One restore per backup at a time, whoever clicks.
      intent: intentOf(JOBS.restoreRole, shortHash(backupKey), click.userId),
      job: { name: JOBS.restoreRole, data },
      accepted: 'Restoring the role from its backup…',
    });
  };
}

export function registerFindingButtons(app: App, deps: ListenerDeps): void {
  app.action<BlockAction<ButtonAction>>(ACTION_IDS.archive, archiveButton(deps) as never);
  app.action<BlockAction<ButtonAction>>(ACTION_IDS.unarchive, queuedButton(deps, 'unarchive') as never);
  app.action<BlockAction<ButtonAction>>(ACTION_IDS.rescan, queuedButton(deps, 'rescan') as never);
  app.action<BlockAction<ButtonAction>>(ACTION_IDS.deleteRole, deleteRoleButton(deps) as never);
  app.action<BlockAction<ButtonAction>>(ACTION_IDS.restoreRole, restoreRoleButton(deps) as never);
  app.action<BlockAction<ButtonAction>>(ACTION_IDS.generatePolicy, generatePolicyButton(deps) as never);
  // The console link button also sends an action; acknowledge it so Slack shows no error.
  app.action(ACTION_IDS.openConsole, async ({ ack }) => {
    await ack();
  });
}
