// views.*: modals (views.open, views.push, views.update: sandbox/slack/surfaces.ts) and the Home tab
// (views.publish), refused with invalid_blocks when they break Slack's Block Kit rules.
import { viewProblems } from '../block-kit-rules.ts';
import { SlackFault } from './surfaces.ts';
import { TEAM_ID } from './types.ts';
import type { Methods, Workspace } from './workspace.ts';

export function viewMethods(ws: Workspace): Methods {
  const { homes, violations } = ws;
  const { userById, emit, nextTs } = ws;

  return {
    ...ws.surfaces.methods,
    'views.publish': (body) => {
      const u = userById(body.user_id);
      const view = body.view as { type?: unknown; blocks?: unknown } | undefined;
      if (!view || typeof view !== 'object') throw new SlackFault('invalid_arguments');
      if (view.type !== 'home' || !Array.isArray(view.blocks)) throw new SlackFault('invalid_arguments');
      const blocks = view.blocks as Record<string, unknown>[];
      const problems = viewProblems(view, 'home');
      if (problems.length > 0) {
        violations.push({ method: 'views.publish', channel: u.id, problems });
        throw new SlackFault('invalid_blocks', { errors: problems });
      }
      homes[u.id] = [...(homes[u.id] ?? []), { type: 'home', blocks }];
      emit({ kind: 'home', user: u.id });
      return { view: { id: `V${nextTs().replace('.', '')}`, type: 'home', blocks, team_id: TEAM_ID } };
    },
  };
}
