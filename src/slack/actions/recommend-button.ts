// Show recommendation on an unused-permissions finding: needs the `recommend` permission; the
// worker asks AWS (jobs/recommend.ts) and posts the steps in the finding's thread.
import type { App, BlockAction, ButtonAction } from '@slack/bolt';
import { JOBS, jobId } from '../../../jobs/queues.ts';
import { ACTION_IDS } from '../ids.ts';
import { type ListenerDeps, requestAction } from '../listeners/common.ts';
import { allowedClick, type ButtonArgs, requestOf } from './finding-buttons.ts';

export function recommendButton(deps: ListenerDeps) {
  return async (args: ButtonArgs) => {
    const allowed = await allowedClick(deps, args, 'recommend');
    if (!allowed) return;
    const { click, reply } = allowed;
    await requestAction(deps, reply, {
      // One job per finding and click: a double click or a Slack retry carries the same action_ts.
      job: {
        name: JOBS.recommend,
        data: requestOf(click),
        id: jobId(JOBS.recommend, click.ref.f, click.actionTs),
      },
      audit: { actor: click.userId, action: 'recommend', findingId: click.ref.f, region: click.ref.r },
      accepted: 'Asking AWS for a recommendation… the steps will appear in the thread.',
    });
  };
}

export function registerRecommendButton(app: App, deps: ListenerDeps): void {
  app.action<BlockAction<ButtonAction>>(ACTION_IDS.recommend, recommendButton(deps) as never);
}
