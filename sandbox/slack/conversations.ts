// conversations.*: a channel's info, history and thread replies (oldest/latest windows, cursor
// paging), its members, the workspace's channels (conversations.list), and opening a DM. History
// and replies take a channel id only, as Slack's do: a `#name` is channel_not_found.
import { SlackFault } from './surfaces.ts';
import type { SandboxMessage } from './types.ts';
import { bool } from './wire.ts';
import type { Methods, Workspace } from './workspace.ts';

export function conversationMethods(ws: Workspace): Methods {
  const { byChannel, names, users } = ws;
  const { resolveChannel, find, messageJson, channelId, userById, dmChannelId } = ws;

  /** Members of a channel: the people whose `channels` include it, and those listed in `members`. */
  const membersOf = (channel: string): string[] => {
    const listed = Object.entries(ws.opts.members ?? {})
      .filter(([c]) => channelId(c) === channel)
      .flatMap(([, ids]) => ids);
    const people = users
      .filter((u) => (u.channels ?? []).some((c) => channelId(c) === channel))
      .map((u) => u.id);
    return [...new Set([...listed, ...people])];
  };

  /** conversations.history and conversations.replies want the id: Slack finds no channel by name. */
  const byId = (raw: unknown): string => {
    if (typeof raw === 'string' && raw.startsWith('#')) throw new SlackFault('channel_not_found');
    return resolveChannel(raw);
  };

  return {
    'conversations.list': (body) => {
      // The workspace's channels: the configured ones, or every channel named so far.
      const ids = ws.opts.channels ? ws.opts.channels.map(channelId) : [...names.keys()];
      const notIn = new Set((ws.opts.notInChannel ?? []).map(channelId));
      const channels = [...new Set(ids)]
        .filter((id) => id.startsWith('C') && names.has(id))
        .map((id) => ({
          id,
          name: names.get(id),
          is_channel: true,
          is_private: false,
          is_archived: false,
          is_member: !notIn.has(id),
        }));
      const limit = Number(body.limit ?? 100);
      if (!Number.isInteger(limit) || limit < 1 || limit > 1000) throw new SlackFault('invalid_limit');
      const paged = page(channels, { ...body, limit: Math.min(limit, 999) }, (c) => c);
      return { channels: paged.messages, response_metadata: paged.response_metadata };
    },

    'conversations.info': (body) => {
      const channel = resolveChannel(body.channel);
      const name = names.get(channel) ?? channel.toLowerCase();
      return { channel: { id: channel, name, is_channel: true, is_member: true, is_archived: false } };
    },

    'conversations.history': (body) => {
      const channel = byId(body.channel);
      const withMeta = bool(body.include_all_metadata);
      const all = (byChannel.get(channel) ?? []).filter((m) => !m.thread_ts || m.thread_ts === m.ts);
      const inRange = window(all, body);
      const newestFirst = [...inRange].reverse();
      return page(newestFirst, body, (m) => messageJson(m, withMeta));
    },

    'conversations.replies': (body) => {
      const channel = byId(body.channel);
      const withMeta = bool(body.include_all_metadata);
      const parent = find(channel, body.ts);
      if (!parent) throw new SlackFault('thread_not_found');
      const replies = (byChannel.get(channel) ?? []).filter((m) => m.thread_ts === parent.ts && m !== parent);
      // Slack always returns the parent first, then replies in the oldest/latest window, oldest first.
      const thread = [parent, ...window(replies, body)];
      return page(thread, body, (m) => messageJson(m, withMeta));
    },
    'conversations.members': (body) => {
      const channel = resolveChannel(body.channel);
      return { members: membersOf(channel), response_metadata: { next_cursor: '' } };
    },
    'conversations.open': (body) => {
      const ids = String(body.users ?? '')
        .split(',')
        .filter(Boolean);
      if (ids.length === 0) throw new SlackFault('users_list_not_supplied');
      if (ids.length > 1) throw new SlackFault('not_enough_users'); // group DMs are not needed here
      const u = userById(ids[0]);
      return { channel: { id: dmChannelId(u.id) } };
    },
  };
}

/** oldest/latest/inclusive window over messages sorted oldest first. */
function window(list: SandboxMessage[], body: Record<string, unknown>): SandboxMessage[] {
  const inclusive = bool(body.inclusive);
  const oldest = body.oldest !== undefined ? Number(body.oldest) : undefined;
  const latest = body.latest !== undefined ? Number(body.latest) : undefined;
  return list.filter((m) => {
    const t = Number(m.ts);
    if (oldest !== undefined && (inclusive ? t < oldest : t <= oldest)) return false;
    if (latest !== undefined && (inclusive ? t > latest : t >= latest)) return false;
    return true;
  });
}

/** `limit` (default 100, max 999) and an opaque `cursor`. */
function page<T>(
  items: T[],
  body: Record<string, unknown>,
  render: (t: T) => Record<string, unknown>,
): Record<string, unknown> {
  const limit = Math.min(Math.max(Number(body.limit ?? 100) || 100, 1), 999);
  let start = 0;
  if (typeof body.cursor === 'string' && body.cursor !== '') {
    start = Number(
      Buffer.from(body.cursor, 'base64url')
        .toString('utf8')
        .replace(/^next:/, ''),
    );
    if (!Number.isInteger(start) || start < 0) throw new SlackFault('invalid_cursor');
  }
  const slice = items.slice(start, start + limit);
  const hasMore = start + limit < items.length;
  return {
    messages: slice.map(render),
    has_more: hasMore,
    pin_count: 0,
    response_metadata: {
      next_cursor: hasMore ? Buffer.from(`next:${start + limit}`).toString('base64url') : '',
    },
  };
}
