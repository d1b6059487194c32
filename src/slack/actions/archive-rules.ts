// Archive similar (a card button: a modal opens at once, a worker fills in what the rule would
// archive today), the Delete button of `/access rules`, and the coverage notice's Create analyzer.
// Each acks, checks its permission, holds the intent (a double click is one change) and queues.
import type { App, BlockAction, ButtonAction } from '@slack/bolt';
import { archiveRuleLoadingModal, decodeRuleRef } from '../../../blocks/archive-rules.ts';
import { ACTION_IDS } from '../../../blocks/ids.ts';
import { unavailableNote } from '../../../blocks/receipts.ts';
import { analyzerOfArn } from '../../findings/archive-rule.ts';
import {
  type ArchiveRuleDeleteData,
  type ArchiveRulePreviewData,
  type CreateAnalyzerData,
  enqueue as enqueueJob,
  JOBS,
} from '../../queue/index.ts';
import { shortHash } from '../../util/hash.ts';
import { enqueue, intentOf, type ListenerDeps, requestAction } from '../listeners/common.ts';
import { allowedDialogClick, type ButtonArgs, openLoadingModal, replyVia, requestOf } from './click.ts';

/** Archive similar: admins (and those listed under `archive-rule`); the rule reaches past this card. */
export function archiveSimilarButton(deps: ListenerDeps) {
  return async (args: ButtonArgs) => {
    const allowed = await allowedDialogClick(deps, args, 'archive-rule', 'archive-similar');
    if (!allowed) return;
    const { click, reply, card } = allowed;
    const viewId = await openLoadingModal(
      args,
      reply,
      archiveRuleLoadingModal(),
      'Slack did not open the dialog.',
    );
    if (!viewId) return;
    const data: ArchiveRulePreviewData = {
      ...requestOf(click, card),
      viewId,
      ...(click.messageTs ? { messageTs: click.messageTs } : {}),
    };
    await enqueue(deps, reply, () => enqueueJob({ actions: deps.actions }, JOBS.archiveRulePreview, data));
  };
}

/** Delete rule (from `/access rules`, after Slack's confirm dialog). */
export function deleteArchiveRuleButton(deps: ListenerDeps) {
  return async (args: ButtonArgs) => {
    await args.ack();
    const reply = replyVia(args);
    const ref = decodeRuleRef(args.action.value ?? '');
    if (!ref) return void (await reply(unavailableNote('This button carries no archive rule reference.')));
    const userId = args.body.user.id;
    const channel = args.body.channel?.id;
    const data: ArchiveRuleDeleteData = {
      analyzerArn: ref.a,
      region: ref.r,
      ruleName: ref.n,
      userId,
      ...(channel ? { replyChannel: channel } : {}),
      requestTs: args.action.action_ts,
    };
    await requestAction(deps, reply, {
      permission: { action: 'archive-rule', userId, region: ref.r },
      // One deletion per rule at a time, whoever clicks.
      intent: intentOf('archive-rule-delete', shortHash(`${ref.a}\n${ref.n}`), userId),
      job: { name: JOBS.archiveRuleDelete, data },
      audit: {
        actor: userId,
        action: 'archive-rule-delete',
        region: ref.r,
        detail: `${ref.n} in ${analyzerOfArn(ref.a, ref.r).name}`,
      },
      accepted: `Deleting archive rule ${ref.n}: checking it is still there first…`,
    });
  };
}

const KINDS = ['external', 'internal', 'unused'] as const;

/** Create analyzer (on a coverage notice, after Slack's confirm dialog): admins only by default. */
export function createAnalyzerButton(deps: ListenerDeps) {
  return async (args: ButtonArgs) => {
    await args.ack();
    const reply = replyVia(args);
    let value: { r?: unknown; k?: unknown } = {};
    try {
      value = JSON.parse(args.action.value ?? '{}') as typeof value;
    } catch {
      value = {};
    }
    const kind = KINDS.find((k) => k === value.k);
    if (typeof value.r !== 'string' || !kind) {
      return void (await reply(unavailableNote('This button names no region and analyzer kind.')));
    }
    const userId = args.body.user.id;
    const channel = args.body.channel?.id;
    const data: CreateAnalyzerData = {
      region: value.r,
      kind,
      userId,
      ...(channel ? { replyChannel: channel } : {}),
      requestTs: args.action.action_ts,
    };
    // Unused access is one analyzer per zone of trust, whichever region's notice was clicked.
    const subject = kind === 'unused' ? 'unused' : `${kind}-${value.r}`;
    await requestAction(deps, reply, {
      permission: { action: 'create-analyzer', userId, region: value.r },
      intent: intentOf('create-analyzer', subject, userId),
      job: { name: JOBS.createAnalyzer, data },
      audit: { actor: userId, action: 'create-analyzer', region: value.r, detail: `${kind} access` },
      accepted: `Creating the ${kind}-access analyzer: checking coverage once more first…`,
    });
  };
}

export function registerArchiveRuleButtons(app: App, deps: ListenerDeps): void {
  app.action<BlockAction<ButtonAction>>(ACTION_IDS.archiveSimilar, archiveSimilarButton(deps) as never);
  app.action<BlockAction<ButtonAction>>(ACTION_IDS.deleteArchiveRule, deleteArchiveRuleButton(deps) as never);
  app.action<BlockAction<ButtonAction>>(ACTION_IDS.createAnalyzer, createAnalyzerButton(deps) as never);
}
