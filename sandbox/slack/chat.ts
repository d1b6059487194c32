// chat.*: posting, updating and deleting messages (thread replies included), ephemeral messages and
// permalinks, with Slack's checks (text or blocks, Block Kit rules, metadata, the per-channel rate).
import { blockProblems } from '../block-kit-rules.ts';
import { SlackFault } from './surfaces.ts';
import { BOT_USER, type SandboxMessage } from './types.ts';
import type { Methods, Workspace } from './workspace.ts';

export function chatMethods(ws: Workspace): Methods {
  const { opts, byChannel, messages, violations, users } = ws;
  const { resolveChannel, find, store, messageJson, nextTs, emit, channelId, addEphemeral } = ws;
  const postTimes = new Map<string, number[]>();

  const checkRate = (channel: string): boolean => {
    if (!opts.rateLimit) return true;
    const now = Date.now();
    const times = (postTimes.get(channel) ?? []).filter((t) => now - t < 1000);
    if (times.length >= opts.rateLimit.perChannelPerSecond) {
      postTimes.set(channel, times);
      return false;
    }
    times.push(now);
    postTimes.set(channel, times);
    return true;
  };

  const checkMessage = (
    method: string,
    channel: string,
    body: Record<string, unknown>,
    isUpdate: boolean,
  ) => {
    const blocks = body.blocks;
    const text = body.text;
    if (blocks !== undefined && !Array.isArray(blocks)) throw new SlackFault('invalid_blocks_format');
    if (
      !isUpdate &&
      (typeof text !== 'string' || text === '') &&
      (!Array.isArray(blocks) || blocks.length === 0)
    ) {
      throw new SlackFault('no_text');
    }
    if (typeof text === 'string' && text.length > 40_000) throw new SlackFault('msg_too_long');
    if (Array.isArray(blocks)) {
      const problems = blockProblems(blocks as unknown[]);
      if (problems.length > 0) {
        violations.push({ method, channel, problems });
        throw new SlackFault('invalid_blocks', {
          errors: problems,
          response_metadata: { messages: problems.map((p) => `[ERROR] ${p}`) },
        });
      }
    }
    if (body.metadata !== undefined) {
      const md = body.metadata as Record<string, unknown> | null;
      if (!md || typeof md.event_type !== 'string' || typeof md.event_payload !== 'object') {
        throw new SlackFault('invalid_metadata_format');
      }
    }
  };

  return {
    'chat.postMessage': (body) => {
      const channel = resolveChannel(body.channel);
      checkMessage('chat.postMessage', channel, body, false);
      let parent: SandboxMessage | undefined;
      if (body.thread_ts !== undefined && body.thread_ts !== '') {
        parent = find(channel, body.thread_ts);
        if (!parent || (parent.thread_ts && parent.thread_ts !== parent.ts)) {
          throw new SlackFault('thread_not_found');
        }
      }
      if (!checkRate(channel)) throw new SlackFault('ratelimited');
      const m = store(channel, body, parent);
      return { channel, ts: m.ts, message: messageJson(m, false) };
    },

    'chat.update': (body) => {
      const channel = resolveChannel(body.channel);
      const m = find(channel, body.ts);
      if (!m) throw new SlackFault('message_not_found');
      checkMessage('chat.update', channel, body, true);
      m.history.push({ text: m.text, blocks: m.blocks });
      if (typeof body.text === 'string') m.text = body.text;
      if (Array.isArray(body.blocks)) m.blocks = body.blocks as Record<string, unknown>[];
      if (body.metadata) m.metadata = body.metadata as SandboxMessage['metadata'] & object;
      m.updates++;
      m.edited = { user: BOT_USER, ts: nextTs() };
      emit({ kind: 'message', channel, ts: m.ts });
      return { channel, ts: m.ts, text: m.text, message: messageJson(m, false) };
    },

    'chat.delete': (body) => {
      const channel = resolveChannel(body.channel);
      const m = find(channel, body.ts);
      if (!m) throw new SlackFault('message_not_found');
      const list = byChannel.get(channel)!;
      list.splice(list.indexOf(m), 1);
      messages.splice(messages.indexOf(m), 1);
      emit({ kind: 'message', channel, ts: m.ts });
      return { channel, ts: m.ts };
    },

    'chat.postEphemeral': (body) => {
      const channel = resolveChannel(body.channel);
      if (typeof body.user !== 'string') throw new SlackFault('user_not_in_channel');
      const person = users.find((u) => u.id === body.user);
      if (person?.channels && !person.channels.map(channelId).includes(channel)) {
        throw new SlackFault('user_not_in_channel');
      }
      checkMessage('chat.postEphemeral', channel, body, false);
      const e = addEphemeral({
        channel,
        user: body.user,
        text: typeof body.text === 'string' ? body.text : '',
        blocks: Array.isArray(body.blocks) ? (body.blocks as Record<string, unknown>[]) : [],
        ...(typeof body.thread_ts === 'string' && body.thread_ts !== '' && { thread_ts: body.thread_ts }),
        from: 'app',
      });
      return { message_ts: e.ts };
    },

    'chat.getPermalink': (body) => {
      const channel = resolveChannel(body.channel);
      if (!find(channel, body.message_ts)) throw new SlackFault('message_not_found');
      return {
        channel,
        permalink: `https://sandbox.slack.com/archives/${channel}/p${String(body.message_ts).replace('.', '')}`,
      };
    },
  };
}
