// Registry of the bot's Slack listeners (commands, actions, views). The web role calls
// registerListeners once, before the receiver starts.
import type { App } from '@slack/bolt';
import { registerArchiveRuleButtons } from '../actions/archive-rules.ts';
import { registerFindingButtons } from '../actions/finding-buttons.ts';
import { registerFixButtons } from '../actions/fix-buttons.ts';
import { registerRecommendButton } from '../actions/recommend-button.ts';
import { registerSnoozeButtons } from '../actions/snooze-buttons.ts';
import { registerAccessCommand } from '../commands/access.ts';
import { registerAppHome } from '../events/app-home.ts';
import { authorize, slackMembership } from '../permissions.ts';
import { registerArchiveRuleView } from '../views/archive-rule-submit.ts';
import { registerArchiveView } from '../views/archive-submit.ts';
import { registerDeleteRoleView } from '../views/delete-role-submit.ts';
import { registerGeneratePolicyView } from '../views/generate-policy-submit.ts';
import { registerSnoozeView } from '../views/snooze-submit.ts';
import { registerValidatePolicyView } from '../views/validate-policy-submit.ts';
import type { ListenerDeps } from './common.ts';

export type { ListenerDeps };

/** `authorize` defaults to the config's permissions checked against Slack membership. */
export function registerListeners(
  app: App,
  deps: Omit<ListenerDeps, 'authorize'> & Partial<Pick<ListenerDeps, 'authorize'>>,
): void {
  const membership = slackMembership(app.client);
  const full: ListenerDeps = {
    ...deps,
    authorize:
      deps.authorize ?? ((input) => authorize(input, { config: deps.config.permissions, membership })),
  };
  registerAccessCommand(app, full);
  registerFindingButtons(app, full);
  registerFixButtons(app, full);
  registerArchiveRuleButtons(app, full);
  registerArchiveRuleView(app, full);
  registerArchiveView(app, full);
  registerDeleteRoleView(app, full);
  registerSnoozeButtons(app, full);
  registerSnoozeView(app, full);
  registerRecommendButton(app, full);
  registerAppHome(app, full);
  registerGeneratePolicyView(app, full);
  registerValidatePolicyView(app, full);
}
