// Snooze and Unsnooze on a finding message. Snooze opens a modal (duration and reason); Unsnooze goes
// straight to the queue. Both need the `snooze` permission; the worker re-reads the finding first.
import type { App, BlockAction, ButtonAction } from '@slack/bolt';
import { snoozeModal } from '../../../blocks/modals.ts';
import { JOBS, jobId } from '../../../jobs/queues.ts';
import { ACTION_IDS } from '../ids.ts';
import { type ListenerDeps, requestAction } from '../listeners/common.ts';
import { allowedClick, type ButtonArgs, modalButton, requestOf } from './finding-buttons.ts';

export function snoozeButton(deps: ListenerDeps) {
  return modalButton(deps, 'snooze', snoozeModal);
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
