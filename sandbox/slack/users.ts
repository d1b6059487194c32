// Who is who: the bot (auth.test), the people of the workspace (users.*) and user groups.
import { SlackFault } from './surfaces.ts';
import { BOT_ID, BOT_USER, TEAM_ID } from './types.ts';
import type { Methods, Workspace } from './workspace.ts';

export function userMethods(ws: Workspace): Methods {
  const { opts, users, names } = ws;
  const { userJson, userById, channelId } = ws;

  return {
    'auth.test': () => ({
      url: 'https://sandbox.slack.com/',
      team: 'Sandbox',
      user: 'access-patrol',
      team_id: TEAM_ID,
      user_id: BOT_USER,
      bot_id: BOT_ID,
      is_enterprise_install: false,
    }),

    'users.lookupByEmail': (body) => {
      const email = String(body.email ?? '').toLowerCase();
      const u = users.find((x) => x.email.toLowerCase() === email);
      if (!u) throw new SlackFault('users_not_found');
      return { user: userJson(u) };
    },
    'users.info': (body) => ({ user: userJson(userById(body.user)) }),
    'users.conversations': (body) => {
      const u = body.user === undefined ? undefined : userById(body.user);
      const list = (u?.channels ?? []).map((c) => {
        const id = channelId(c);
        return {
          id,
          name: names.get(id) ?? id.toLowerCase(),
          is_channel: true,
          is_private: false,
          is_archived: false,
          is_member: true,
        };
      });
      return { channels: list, response_metadata: { next_cursor: '' } };
    },
    'usergroups.users.list': (body) => {
      const group = opts.usergroups?.[String(body.usergroup ?? '')];
      if (!group) throw new SlackFault('no_such_subteam');
      return { users: [...group] };
    },
  };
}
