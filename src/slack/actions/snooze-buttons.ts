// Snooze and Unsnooze on a finding message. Snooze opens a modal (duration and reason); Unsnooze goes
// straight to the queue. Both need the `snooze` permission; the worker re-reads the finding first.
import type { App, BlockAction, ButtonAction } from '@slack/bolt';
import { code } from '../../../blocks/escape.ts';
import { snoozeModal } from '../../../blocks/modals.ts';
import { JOBS, jobId } from '../../../jobs/queues.ts';
import { ACTION_IDS } from '../ids.ts';
import { type ListenerDeps, requestAction } from '../listeners/common.ts';
import { allowedClick, type ButtonArgs, requestOf } from './finding-buttons.ts';

export function snoozeButton(deps: ListenerDeps) {
  return async (args: ButtonArgs) => {
    const allowed = await allowedClick(deps, args, 'snooze');
    if (!allowed) return;
    const { click } = allowed;
    const state = await deps.store.get(click.ref.f).catch(() => null);
    const headline = state
      ? `${state.resourceType} ${code(state.resourceArn, 300)}`
      : `finding ${code(click.ref.f)}`;
    await args.client.views.open({
      trigger_id: args.body.trigger_id,
      view: snoozeModal({
        meta: { f: click.ref.f, a: click.ref.a, r: click.ref.r, c: click.channel, t: click.messageTs },
        headline,
      }),
    });
  };
}

export function unsnoozeButton(deps: ListenerDeps) {
  return async (args: ButtonArgs) => {
    const allowed = await allowedClick(deps, args, 'snooze');
    if (!allowed) return;
    const { click, reply } = allowed;
    await requestAction(deps, reply, {
      // One job per finding and click: a double click or a Slack retry carries the same action_ts.
      job: {
        name: JOBS.unsnooze,
        data: requestOf(click),
        id: jobId(JOBS.unsnooze, click.ref.f, click.actionTs),
      },
      audit: { actor: click.userId, action: 'unsnooze', findingId: click.ref.f, region: click.ref.r },
      accepted: 'Ending the snooze…',
    });
  };
}

export function registerSnoozeButtons(app: App, deps: ListenerDeps): void {
  app.action<BlockAction<ButtonAction>>(ACTION_IDS.snooze, snoozeButton(deps) as never);
  app.action<BlockAction<ButtonAction>>(ACTION_IDS.unsnooze, unsnoozeButton(deps) as never);
}
