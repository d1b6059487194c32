// The buttons on a finding message. Each acks at once, checks the permission, and either opens a
// modal (archive) or enqueues the job (unarchive, rescan); the worker does the AWS work.
import type { App, BlockAction, ButtonAction, SlackActionMiddlewareArgs } from '@slack/bolt';
import { deleteRoleLoadingModal } from '../../../blocks/delete-role.ts';
import { code } from '../../../blocks/escape.ts';
import { type ArchiveModalMetadata, archiveModal } from '../../../blocks/modals.ts';
import { unavailableNote } from '../../../blocks/receipts.ts';
import {
  type ActionRequest,
  type DeleteRolePreviewData,
  enqueue as enqueueJob,
  JOBS,
  type RestoreRoleData,
} from '../../queue/index.ts';
import { shortHash } from '../../util/hash.ts';
import { ACTION_IDS, decodeFindingRef, type FindingRef } from '../ids.ts';
import {
  enqueue,
  findingJobRequest,
  firstClick,
  intentOf,
  type ListenerDeps,
  permittedOnFinding,
  type RequestedFinding,
  requestAction,
} from '../listeners/common.ts';
import type { Action } from '../permissions.ts';
import { generatePolicyButton } from './generate-policy.ts';

export type ButtonArgs = SlackActionMiddlewareArgs<BlockAction<ButtonAction>> & {
  client: {
    views: { open(args: { trigger_id: string; view: unknown }): Promise<{ view?: { id?: string } }> };
  };
};

export interface Click {
  ref: FindingRef;
  userId: string;
  channel?: string;
  messageTs?: string;
  actionTs: string;
}

function clickOf(args: ButtonArgs): Click | null {
  const ref = decodeFindingRef(args.action.value ?? '');
  if (!ref) return null;
  return {
    ref,
    userId: args.body.user.id,
    channel: args.body.channel?.id,
    messageTs: args.body.message?.ts,
    actionTs: args.action.action_ts,
  };
}

const replyVia = (args: ButtonArgs) => (msg: { text: string; blocks: unknown[] }) =>
  args.respond({
    response_type: 'ephemeral',
    replace_original: false,
    text: msg.text,
    blocks: msg.blocks as never,
  });

type Reply = ReturnType<typeof replyVia>;

/**
 * The start every finding button shares: ack, read the finding reference, read the finding and check
 * the permission against its stored owner, wherever the click came from (its own message, a digest,
 * a fallback channel; a refusal is answered and audited). Returns null when the click goes no further.
 */
export async function allowedClick(
  deps: ListenerDeps,
  args: ButtonArgs,
  action: Action,
): Promise<{ click: Click; reply: Reply; card: RequestedFinding } | null> {
  await args.ack();
  const click = clickOf(args);
  const reply = replyVia(args);
  if (!click) {
    await reply(unavailableNote('This button carries no finding reference.'));
    return null;
  }
  const card = await permittedOnFinding(deps, reply, {
    action,
    userId: click.userId,
    findingId: click.ref.f,
  });
  return card ? { click, reply, card } : null;
}

/** The job payload for a click on a finding: the stored card's id, analyzer and region. */
export function requestOf(click: Click, card: RequestedFinding): ActionRequest {
  return findingJobRequest(card, {
    userId: click.userId,
    ...(click.channel ? { replyChannel: click.channel } : {}),
    requestTs: click.actionTs,
  });
}

/** What a modal opened from a finding button carries in its private_metadata. */
export function modalMetaOf(click: Click, card: RequestedFinding): ArchiveModalMetadata {
  return {
    f: card.cardId,
    a: card.state.analyzerArn,
    r: card.state.region,
    c: click.channel,
    t: click.messageTs,
  };
}

/**
 * A button that opens a modal on the finding once the permission is checked; the modal is headed by
 * the finding's resource.
 */
export function modalButton(
  deps: ListenerDeps,
  action: Action,
  modal: (input: { meta: ArchiveModalMetadata; headline: string }) => unknown,
) {
  return async (args: ButtonArgs) => {
    const allowed = await allowedClick(deps, args, action);
    if (!allowed) return;
    const { click, card } = allowed;
    if (!(await firstClick(deps, action, card.cardId, click.userId))) return;
    const headline = `${card.state.resourceType} ${code(card.state.resourceArn, 300)}`;
    await args.client.views.open({
      trigger_id: args.body.trigger_id,
      view: modal({ meta: modalMetaOf(click, card), headline }),
    });
  };
}

export function archiveButton(deps: ListenerDeps) {
  return modalButton(deps, 'archive', (input) => archiveModal({ ...input, now: deps.now() }));
}

/**
 * A button that goes straight to the queue: the job carries the click's request and is recorded in
 * the audit log as `audited` (the permission needed can differ, as Unsnooze needs `snooze`).
 */
export function jobButton(
  deps: ListenerDeps,
  spec: {
    permission: Action;
    job: typeof JOBS.unarchive | typeof JOBS.rescan | typeof JOBS.unsnooze | typeof JOBS.recommend;
    audited: string;
    accepted: string;
  },
) {
  return async (args: ButtonArgs) => {
    const allowed = await allowedClick(deps, args, spec.permission);
    if (!allowed) return;
    const { click, reply, card } = allowed;
    await requestAction(deps, reply, {
      // One job per card while one runs: every click has its own action_ts, so a double click is
      // caught by the intent, a Slack retry (same action_ts) by the job id.
      intent: intentOf(spec.job, card.cardId, click.userId),
      job: {
        name: spec.job,
        data: requestOf(click, card),
      },
      audit: { actor: click.userId, action: spec.audited, findingId: card.cardId, region: card.state.region },
      accepted: spec.accepted,
    });
  };
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
    const allowed = await allowedClick(deps, args, 'delete-role');
    if (!allowed) return;
    const { click, reply, card } = allowed;
    if (!(await firstClick(deps, 'delete-role', card.cardId, click.userId))) return;
    const opened = await args.client.views.open({
      trigger_id: args.body.trigger_id,
      view: deleteRoleLoadingModal(modalMetaOf(click, card)),
    });
    const viewId = opened.view?.id;
    if (!viewId) return void (await reply(unavailableNote('Slack did not open the confirm dialog.')));
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
