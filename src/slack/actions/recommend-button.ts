// Show recommendation on an unused-permissions finding: needs the `recommend` permission; the
// worker asks AWS (jobs/recommend.ts) and posts the steps in the finding's thread.
import type { App, BlockAction, ButtonAction } from '@slack/bolt';
import { ACTION_IDS } from '../../../blocks/ids.ts';
import { JOBS } from '../../queue/index.ts';
import type { ListenerDeps } from '../listeners/common.ts';
import { jobButton } from './click.ts';

export function recommendButton(deps: ListenerDeps) {
  return jobButton(deps, {
    permission: 'recommend',
    job: JOBS.recommend,
    audited: 'recommend',
    accepted: 'Asking AWS for a recommendation… the steps will appear in the thread.',
  });
}

export function registerRecommendButton(app: App, deps: ListenerDeps): void {
  app.action<BlockAction<ButtonAction>>(ACTION_IDS.recommend, recommendButton(deps) as never);
}
