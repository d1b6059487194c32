// Show recommendation on an unused-permissions finding: needs the `recommend` permission; the
// worker asks AWS (jobs/recommend.ts) and posts the steps in the finding's thread.
import type { App, BlockAction, ButtonAction } from '@slack/bolt';
import { acceptedNote } from '../../../blocks/receipts.ts';
import { JOBS, jobId } from '../../../jobs/queues.ts';
import { ACTION_IDS } from '../ids.ts';
import { enqueue, type ListenerDeps } from '../listeners/common.ts';
import { allowedClick, type ButtonArgs, requestOf } from './finding-buttons.ts';

export function recommendButton(deps: ListenerDeps) {
  return async (args: ButtonArgs) => {
    const allowed = await allowedClick(deps, args, 'recommend');
    if (!allowed) return;
    const { click, reply } = allowed;
    // One job per finding and click: a double click or a Slack retry carries the same action_ts.
    const queued = await enqueue(deps, reply, () =>
      deps.actions.add(JOBS.recommend, requestOf(click), {
        jobId: jobId(JOBS.recommend, click.ref.f, click.actionTs),
      }),
    );
    if (!queued) return;
    await deps.audit
      .record({
        actor: click.userId,
        action: 'recommend',
        outcome: 'requested',
        findingId: click.ref.f,
        region: click.ref.r,
      })
      .catch(() => undefined);
    await reply(acceptedNote('Asking AWS for a recommendation… the steps will appear in the thread.'));
  };
}

export function registerRecommendButton(app: App, deps: ListenerDeps): void {
  app.action<BlockAction<ButtonAction>>(ACTION_IDS.recommend, recommendButton(deps) as never);
}
