// What every button on a finding does first: ack, read the finding reference, check the permission
// against the finding's stored owner, and either open a modal or queue the job.
import type { BlockAction, ButtonAction, SlackActionMiddlewareArgs } from '@slack/bolt';
import type { View } from '@slack/types';
import { code } from '../../../blocks/escape.ts';
import { decodeFindingRef, type FindingRef } from '../../../blocks/ids.ts';
import type { ArchiveModalMetadata } from '../../../blocks/modals.ts';
import { unavailableNote } from '../../../blocks/receipts.ts';
import type { ActionRequest, JOBS } from '../../queue/index.ts';
import {
  findingJobRequest,
  firstClick,
  intentOf,
  type ListenerDeps,
  permittedOnFinding,
  type RequestedFinding,
  requestAction,
} from '../listeners/common.ts';
import type { Action } from '../permissions.ts';

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

/** Answers the person who clicked, ephemerally, leaving the message they clicked as it is. */
export const replyVia = (args: ButtonArgs) => (msg: { text: string; blocks: unknown[] }) =>
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

/**
 * allowedClick for a button that opens a dialog: also null for the second click of a double click on
 * the same card (`dialog` names it), so one dialog opens.
 */
export async function allowedDialogClick(
  deps: ListenerDeps,
  args: ButtonArgs,
  action: Action,
  dialog: string = action,
): Promise<{ click: Click; reply: Reply; card: RequestedFinding } | null> {
  const allowed = await allowedClick(deps, args, action);
  if (!allowed) return null;
  return (await firstClick(deps, dialog, allowed.card.cardId, allowed.click.userId)) ? allowed : null;
}

/**
 * Opens a loading modal that a worker fills in once it has read AWS: the view id, or undefined when
 * Slack opened none (the person is told `failed`).
 */
export async function openLoadingModal(
  args: ButtonArgs,
  reply: Reply,
  view: View,
  failed: string,
): Promise<string | undefined> {
  const opened = await args.client.views.open({ trigger_id: args.body.trigger_id, view });
  const viewId = opened.view?.id;
  if (!viewId) await reply(unavailableNote(failed));
  return viewId;
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
    const allowed = await allowedDialogClick(deps, args, action);
    if (!allowed) return;
    const { click, card } = allowed;
    const headline = `${card.state.resourceType} ${code(card.state.resourceArn, 300)}`;
    await args.client.views.open({
      trigger_id: args.body.trigger_id,
      view: modal({ meta: modalMetaOf(click, card), headline }),
    });
  };
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
