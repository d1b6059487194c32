// Snooze and Unsnooze on a finding message. Snooze opens a modal (duration and reason); Unsnooze goes
// straight to the queue. Both need the `snooze` permission; the worker re-reads the finding first.
import type { App, BlockAction, ButtonAction } from '@slack/bolt';
import { ACTION_IDS } from '../../../blocks/ids.ts';
import { snoozeModal } from '../../../blocks/modals.ts';
import { JOBS } from '../../queue/index.ts';
import type { ListenerDeps } from '../listeners/common.ts';
import { jobButton, modalButton } from './click.ts';

export function snoozeButton(deps: ListenerDeps) {
  return modalButton(deps, 'snooze', snoozeModal);
}

export function unsnoozeButton(deps: ListenerDeps) {
  return jobButton(deps, {
    permission: 'snooze',
    job: JOBS.unsnooze,
    audited: 'unsnooze',
    accepted: 'Ending the snooze…',
  });
}

export function registerSnoozeButtons(app: App, deps: ListenerDeps): void {
  app.action<BlockAction<ButtonAction>>(ACTION_IDS.snooze, snoozeButton(deps) as never);
  app.action<BlockAction<ButtonAction>>(ACTION_IDS.unsnooze, unsnoozeButton(deps) as never);
}
