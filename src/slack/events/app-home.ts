// The App Home tab: when a person opens it, publish their findings and the last digest (views.publish).
// Reads state only; events need no ack, and Bolt answers Slack's HTTP request before this runs.
import type { AllMiddlewareArgs, App, SlackEventMiddlewareArgs } from '@slack/bolt';
import type { ListenerDeps } from '../listeners/common.ts';

type HomeArgs = SlackEventMiddlewareArgs<'app_home_opened'> & Pick<AllMiddlewareArgs, 'client'>;

export function appHomeOpened(deps: ListenerDeps) {
  return async ({ event, client }: HomeArgs) => {
    // The Messages and About tabs send the same event.
    if (event.tab !== 'home' || !deps.homeView) return;
    try {
      const view = await deps.homeView(event.user);
      await client.views.publish({ user_id: event.user, view: view as never });
    } catch (err) {
      deps.logger.error({ err: (err as Error).message, user: event.user }, 'App Home not published');
    }
  };
}

export function registerAppHome(app: App, deps: ListenerDeps): void {
  app.event('app_home_opened', appHomeOpened(deps));
}
