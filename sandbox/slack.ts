// A local Slack Web API for the demo, end-to-end tests and the benchmark: point a real WebClient at
// `apiUrl` (slackApiUrl). Speaks what @slack/web-api 8 sends: POST /api/<method> with an
// application/x-www-form-urlencoded body whose nested fields (blocks, metadata, ...) are
// JSON-stringified, and a Bearer token. JSON bodies (application/json) are accepted too.
// Answers like Slack: HTTP 200 with `{ ok: false, error }` for API errors, 429 + Retry-After when rate-limited.
// Besides the Web API it keeps what Slack keeps per person (modals, ephemeral messages, the Home tab)
// and serves each interaction's response_url at /response/<token> (sandbox/slack-surfaces.ts), so a
// workspace page (sandbox/workspace/) can send real interactions to the bot (sandbox/slack-dispatch.ts).
import { createHash } from 'node:crypto';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { blockProblems, viewProblems } from './block-kit-rules.ts';
import {
  createSurfaces,
  type ResponseTarget,
  type SandboxView,
  SlackFault,
  type Surfaces,
} from './slack-surfaces.ts';

export type { ResponseTarget, SandboxView };
export { blockProblems, viewProblems };

export interface SandboxMessage {
  /** Channel id (C…). */
  channel: string;
  /** The name it was posted to, when posted by name (`#sec-alerts`). */
  channelName?: string;
  ts: string;
  text: string;
  blocks: Record<string, unknown>[];
  metadata?: { event_type: string; event_payload: Record<string, unknown> };
  /** Set on replies (and on parents once they have replies). */
  thread_ts?: string;
  reply_count?: number;
  reply_users?: string[];
  latest_reply?: string;
  unfurl_links?: boolean;
  unfurl_media?: boolean;
  /** How many times chat.update changed it. */
  updates: number;
  edited?: { user: string; ts: string };
  /** The message as first posted, for tests that check what changed. */
  history: { text: string; blocks: Record<string, unknown>[] }[];
  /** Set on messages a person typed (the workspace page's message box); absent on the bot's. */
  user?: string;
}

/** A message only one person sees: chat.postEphemeral, a response_url answer, or Slackbot's own note. */
export interface SandboxEphemeral {
  channel: string;
  user: string;
  ts: string;
  text: string;
  blocks: Record<string, unknown>[];
  thread_ts?: string;
  /** Who it is from: the app (bot) or Slack itself (a failed command, an unknown command). */
  from: 'app' | 'slackbot';
}

/** What changed, for a page that shows the workspace live. */
export type SandboxChange =
  | { kind: 'message'; channel: string; ts: string }
  | { kind: 'ephemeral'; channel: string; user: string }
  | { kind: 'view'; user: string }
  | { kind: 'home'; user: string };

export interface SlackSandboxOptions {
  port?: number;
  /** Default false (no limit). Slack allows about one message per second per channel. */
  rateLimit?: { perChannelPerSecond: number } | false;
  /** Known channel ids or #names; any other channel → channel_not_found. Default: every channel exists. */
  channels?: string[];
  /** Channels (ids or #names) the bot is not a member of → not_in_channel. */
  notInChannel?: string[];
  /** When set, only this token is accepted (others → invalid_auth). Default: any Bearer token. */
  token?: string;
  /** Tokens Slack has revoked (→ token_revoked), as after an app is reinstalled or a token rotated. */
  revokedTokens?: string[];
  /** People of the workspace (users.lookupByEmail, users.info, users.conversations, conversations.open). */
  users?: SandboxUser[];
  /** User groups (usergroups.users.list): group id → user ids. */
  usergroups?: Record<string, string[]>;
  /** Clock for trigger_id and response_url lifetimes (tests move it). Default Date.now. */
  now?: () => number;
}

export interface SandboxUser {
  /** U… */
  id: string;
  name: string;
  email: string;
  /** Channels (ids or #names) the person is a member of. */
  channels?: string[];
}

export interface SlackCall {
  method: string;
  body: Record<string, unknown>;
  /** The error code answered, if any (`ratelimited` for 429s). */
  error?: string;
}

export interface SlackSandbox {
  /** Base URL, e.g. http://127.0.0.1:PORT */
  url: string;
  /** `${url}/api/`: the WebClient's slackApiUrl. */
  apiUrl: string;
  close(): Promise<void>;
  /** Every message posted (top-level and replies), in posting order (live). */
  messages: SandboxMessage[];
  /** Every API call with its decoded body (blocks/metadata parsed), in arrival order (live). */
  calls: SlackCall[];
  /** Block Kit problems found in rejected (invalid_blocks) calls. */
  violations: { method: string; channel: string; problems: string[] }[];
  /** Messages of one channel (by id or #name), top-level and replies, in posting order. */
  channelMessages(channel: string): SandboxMessage[];
  /** A thread's replies (without the parent), oldest first. */
  threadReplies(channel: string, threadTs: string): SandboxMessage[];
  /** The stable fake id for a channel name (`#sec-alerts` → C…). Ids are returned unchanged. */
  channelId(channel: string): string;
  /** Count of 429 answers. */
  rateLimited(): number;
  /** Home tabs published (views.publish) per user id, last one last. */
  homes: Record<string, { type: string; blocks: Record<string, unknown>[] }[]>;
  /** The DM channel id conversations.open gives for a user. */
  dmChannelId(userId: string): string;
  /** Ephemeral messages, in posting order (live). */
  ephemerals: SandboxEphemeral[];
  /** Modals, trigger_ids and response_urls (sandbox/slack-surfaces.ts). */
  surfaces: Surfaces;
  /** A response_url for an interaction, served by this sandbox. */
  responseUrl(target: ResponseTarget): string;
  /** Adds an ephemeral message (Slack's own notes about a failed interaction). */
  addEphemeral(e: Omit<SandboxEphemeral, 'ts'>): SandboxEphemeral;
  /** A message a person typed into a channel (or a thread). */
  postAsUser(channel: string, user: string, text: string, threadTs?: string): SandboxMessage;
  /** A message from the app that did not come through the Web API (a slash command's in_channel answer). */
  postAsApp(channel: string, msg: { text: string; blocks: Record<string, unknown>[] }): SandboxMessage;
  /** The people of the workspace, as configured. */
  users: SandboxUser[];
  /** The name (without #) the sandbox knows for a channel id. */
  channelName(id: string): string | undefined;
  /** Calls `fn` on every change; returns the unsubscribe function. */
  onChange(fn: (change: SandboxChange) => void): () => void;
}

const BOT_USER = 'U0SANDBOXBOT';
const BOT_ID = 'B0SANDBOXBOT';
const APP_ID = 'A0SANDBOXAPP';
const TEAM_ID = 'T0SANDBOX';
/** The sandbox workspace and the bot's identity in it, as interaction payloads carry them. */
export const SANDBOX_WORKSPACE = {
  teamId: TEAM_ID,
  teamDomain: 'sandbox',
  appId: APP_ID,
  botId: BOT_ID,
  botUserId: BOT_USER,
} as const;
const CHANNEL_ID = /^[CGD][A-Z0-9]{6,}$/;

/** The fake id of a channel name: `C` + 10 upper-case base-32 characters of its hash. Stable across runs. */
export function fakeChannelId(name: string): string {
  const n = name.replace(/^#/, '').toLowerCase();
  const digest = createHash('sha256').update(n).digest();
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let s = 'C';
  for (let i = 0; i < 10; i++) s += alphabet[digest[i]! % 32];
  return s;
}

export async function startSlackSandbox(opts: SlackSandboxOptions = {}): Promise<SlackSandbox> {
  const messages: SandboxMessage[] = [];
  const calls: SlackCall[] = [];
  const violations: SlackSandbox['violations'] = [];
  const byChannel = new Map<string, SandboxMessage[]>();
  const names = new Map<string, string>(); // id → name (without #)
  const postTimes = new Map<string, number[]>();
  let lastTsMicros = 0;
  let rateLimitedCount = 0;
  const users = opts.users ?? [];
  const homes: SlackSandbox['homes'] = {};
  const dmChannelId = (userId: string) => `D${userId.replace(/^[UW]/, '')}`;
  const now = opts.now ?? Date.now;
  const ephemerals: SandboxEphemeral[] = [];
  const listeners = new Set<(change: SandboxChange) => void>();
  const emit = (change: SandboxChange) => {
    for (const fn of listeners) fn(change);
  };
  const surfaces = createSurfaces({
    teamId: TEAM_ID,
    appId: APP_ID,
    botId: BOT_ID,
    now,
    changed: (user) => emit({ kind: 'view', user }),
  });
  let baseUrl = '';
  const userJson = (u: SandboxUser) => ({
    id: u.id,
    team_id: TEAM_ID,
    name: u.name,
    real_name: u.name,
    deleted: false,
    is_bot: false,
    profile: { email: u.email, real_name: u.name, display_name: u.name },
  });
  const userById = (id: unknown): SandboxUser => {
    const u = users.find((x) => x.id === id);
    if (!u) throw new SlackFault('user_not_found');
    return u;
  };

  const channelId = (channel: string): string => {
    if (CHANNEL_ID.test(channel)) return channel;
    const id = fakeChannelId(channel);
    names.set(id, channel.replace(/^#/, '').toLowerCase());
    return id;
  };
  const known = opts.channels ? new Set(opts.channels.map(channelId)) : undefined;
  const notIn = new Set((opts.notInChannel ?? []).map(channelId));

  /** Resolves a channel argument; throws channel_not_found / not_in_channel. */
  const resolveChannel = (raw: unknown): string => {
    if (typeof raw !== 'string' || raw === '') throw new SlackFault('channel_not_found');
    const id = channelId(raw);
    const isUserDm = users.some((u) => dmChannelId(u.id) === id);
    if (known && !known.has(id) && !isUserDm) throw new SlackFault('channel_not_found');
    if (notIn.has(id)) throw new SlackFault('not_in_channel');
    return id;
  };

  const nextTs = (): string => {
    const nowMicros = Date.now() * 1000;
    lastTsMicros = Math.max(nowMicros, lastTsMicros + 1);
    const secs = Math.floor(lastTsMicros / 1_000_000);
    return `${secs}.${String(lastTsMicros % 1_000_000).padStart(6, '0')}`;
  };

  const find = (channel: string, ts: unknown): SandboxMessage | undefined =>
    byChannel.get(channel)?.find((m) => m.ts === ts);

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

  /** Keeps a new message (the bot's, or a person's with `user`), as a reply when `parent` is given. */
  const store = (
    channel: string,
    body: Record<string, unknown>,
    parent: SandboxMessage | undefined,
    user?: string,
  ): SandboxMessage => {
    const m: SandboxMessage = {
      channel,
      ts: nextTs(),
      text: typeof body.text === 'string' ? body.text : '',
      blocks: Array.isArray(body.blocks) ? (body.blocks as Record<string, unknown>[]) : [],
      updates: 0,
      history: [],
    };
    if (user) m.user = user;
    const name = names.get(channel);
    if (name) m.channelName = `#${name}`;
    if (body.metadata) m.metadata = body.metadata as SandboxMessage['metadata'] & object;
    if (body.unfurl_links !== undefined) m.unfurl_links = bool(body.unfurl_links);
    if (body.unfurl_media !== undefined) m.unfurl_media = bool(body.unfurl_media);
    if (parent) {
      m.thread_ts = parent.ts;
      parent.thread_ts = parent.ts;
      parent.reply_count = (parent.reply_count ?? 0) + 1;
      parent.reply_users = [...new Set([...(parent.reply_users ?? []), user ?? BOT_USER])];
      parent.latest_reply = m.ts;
    }
    messages.push(m);
    let list = byChannel.get(channel);
    if (!list) {
      list = [];
      byChannel.set(channel, list);
    }
    list.push(m);
    emit({ kind: 'message', channel, ts: m.ts });
    return m;
  };

  const messageJson = (m: SandboxMessage, withMetadata: boolean): Record<string, unknown> => {
    const out: Record<string, unknown> = m.user
      ? { type: 'message', user: m.user, team: TEAM_ID, text: m.text, ts: m.ts, blocks: m.blocks }
      : {
          type: 'message',
          user: BOT_USER,
          bot_id: BOT_ID,
          app_id: APP_ID,
          team: TEAM_ID,
          text: m.text,
          ts: m.ts,
          blocks: m.blocks,
        };
    if (m.thread_ts) out.thread_ts = m.thread_ts;
    if (m.reply_count !== undefined) {
      out.reply_count = m.reply_count;
      out.reply_users = m.reply_users;
      out.reply_users_count = 1;
      out.latest_reply = m.latest_reply;
    }
    if (m.edited) out.edited = m.edited;
    if (withMetadata && m.metadata) out.metadata = m.metadata;
    return out;
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

  const methods: Record<string, (body: Record<string, unknown>) => Record<string, unknown>> = {
    'auth.test': () => ({
      url: 'https://sandbox.slack.com/',
      team: 'Sandbox',
      user: 'access-patrol',
      team_id: TEAM_ID,
      user_id: BOT_USER,
      bot_id: BOT_ID,
      is_enterprise_install: false,
    }),

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

    'conversations.info': (body) => {
      const channel = resolveChannel(body.channel);
      const name = names.get(channel) ?? channel.toLowerCase();
      return { channel: { id: channel, name, is_channel: true, is_member: true, is_archived: false } };
    },

    'conversations.history': (body) => {
      const channel = resolveChannel(body.channel);
      const withMeta = bool(body.include_all_metadata);
      const all = (byChannel.get(channel) ?? []).filter((m) => !m.thread_ts || m.thread_ts === m.ts);
      const inRange = window(all, body);
      const newestFirst = [...inRange].reverse();
      return page(newestFirst, body, (m) => messageJson(m, withMeta));
    },

    'conversations.replies': (body) => {
      const channel = resolveChannel(body.channel);
      const withMeta = bool(body.include_all_metadata);
      const parent = find(channel, body.ts);
      if (!parent) throw new SlackFault('thread_not_found');
      const replies = (byChannel.get(channel) ?? []).filter((m) => m.thread_ts === parent.ts && m !== parent);
      // Slack always returns the parent first, then replies in the oldest/latest window, oldest first.
      const thread = [parent, ...window(replies, body)];
      return page(thread, body, (m) => messageJson(m, withMeta));
    },
  };

  const addEphemeral = (e: Omit<SandboxEphemeral, 'ts'>): SandboxEphemeral => {
    const full = { ...e, ts: nextTs() };
    ephemerals.push(full);
    emit({ kind: 'ephemeral', channel: e.channel, user: e.user });
    return full;
  };

  /** Members of a channel: the people whose `channels` include it. */
  const membersOf = (channel: string): string[] =>
    users.filter((u) => (u.channels ?? []).some((c) => channelId(c) === channel)).map((u) => u.id);

  // Modals (views.open, views.push, views.update), channel members and user groups.
  Object.assign(methods, surfaces.methods, {
    'conversations.members': (body: Record<string, unknown>) => {
      const channel = resolveChannel(body.channel);
      return { members: membersOf(channel), response_metadata: { next_cursor: '' } };
    },
    'usergroups.users.list': (body: Record<string, unknown>) => {
      const group = opts.usergroups?.[String(body.usergroup ?? '')];
      if (!group) throw new SlackFault('no_such_subteam');
      return { users: [...group] };
    },
  } satisfies typeof methods);

  // People, DMs and the Home tab.
  Object.assign(methods, {
    'users.lookupByEmail': (body: Record<string, unknown>) => {
      const email = String(body.email ?? '').toLowerCase();
      const u = users.find((x) => x.email.toLowerCase() === email);
      if (!u) throw new SlackFault('users_not_found');
      return { user: userJson(u) };
    },
    'users.info': (body: Record<string, unknown>) => ({ user: userJson(userById(body.user)) }),
    'users.conversations': (body: Record<string, unknown>) => {
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
    'conversations.open': (body: Record<string, unknown>) => {
      const ids = String(body.users ?? '')
        .split(',')
        .filter(Boolean);
      if (ids.length === 0) throw new SlackFault('users_list_not_supplied');
      if (ids.length > 1) throw new SlackFault('not_enough_users'); // group DMs are not needed here
      const u = userById(ids[0]);
      return { channel: { id: dmChannelId(u.id) } };
    },
    'views.publish': (body: Record<string, unknown>) => {
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
  } satisfies typeof methods);

  const postAsUser = (channel: string, user: string, text: string, threadTs?: string): SandboxMessage => {
    const id = resolveChannel(channel);
    const parent = threadTs ? find(id, threadTs) : undefined;
    if (threadTs && !parent) throw new SlackFault('thread_not_found');
    return store(id, { text }, parent, user);
  };

  /**
   * A POST to an interaction's response_url (JSON, as Bolt's respond() sends it). Slack checks the
   * message like chat.postMessage does, then replaces or deletes the message the interaction came
   * from, posts in the channel (response_type in_channel), or shows an ephemeral reply (default).
   */
  const respond = (res: ServerResponse, token: string, raw: string) => {
    let body: Record<string, unknown>;
    try {
      body = JSON.parse(raw) as Record<string, unknown>;
      if (!body || typeof body !== 'object' || Array.isArray(body)) throw new Error('not an object');
    } catch {
      return sendText(res, 400, 'invalid_payload');
    }
    let target: ResponseTarget;
    try {
      target = surfaces.useResponseUrl(token);
    } catch (err) {
      return sendText(res, 404, (err as SlackFault).error);
    }
    calls.push({ method: 'response_url', body });
    const text = typeof body.text === 'string' ? body.text : '';
    const blocks = Array.isArray(body.blocks) ? (body.blocks as Record<string, unknown>[]) : [];
    const del = bool(body.delete_original);
    if (!del) {
      if (text === '' && blocks.length === 0) return sendText(res, 400, 'no_text');
      const problems = body.blocks === undefined ? [] : blockProblems(blocks);
      if (problems.length > 0) {
        violations.push({ method: 'response_url', channel: target.channel, problems });
        return sendText(res, 400, 'invalid_blocks');
      }
    }
    const replace = bool(body.replace_original);
    if ((del || replace) && target.messageTs) {
      if (target.ephemeral) {
        const i = ephemerals.findIndex((e) => e.user === target.user && e.ts === target.messageTs);
        if (i >= 0) {
          if (del) ephemerals.splice(i, 1);
          else Object.assign(ephemerals[i]!, { text, blocks });
          emit({ kind: 'ephemeral', channel: target.channel, user: target.user });
        }
      } else {
        const m = find(target.channel, target.messageTs);
        if (m && del) {
          byChannel.get(target.channel)!.splice(byChannel.get(target.channel)!.indexOf(m), 1);
          messages.splice(messages.indexOf(m), 1);
        } else if (m) {
          m.history.push({ text: m.text, blocks: m.blocks });
          Object.assign(m, { text, blocks, updates: m.updates + 1 });
        }
        emit({ kind: 'message', channel: target.channel, ts: target.messageTs });
      }
      return sendText(res, 200, 'ok');
    }
    if (del) return sendText(res, 200, 'ok');
    const threadTs =
      typeof body.thread_ts === 'string' && body.thread_ts !== '' ? body.thread_ts : target.threadTs;
    if (body.response_type === 'in_channel') {
      store(target.channel, { text, blocks }, threadTs ? find(target.channel, threadTs) : undefined);
    } else {
      addEphemeral({
        channel: target.channel,
        user: target.user,
        text,
        blocks,
        ...(threadTs && { thread_ts: threadTs }),
        from: 'app',
      });
    }
    return sendText(res, 200, 'ok');
  };

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://sandbox');
      const method = url.pathname.replace(/^\/api\//, '');
      const raw = Buffer.concat(chunks).toString('utf8');
      if (url.pathname.startsWith('/response/')) return respond(res, url.pathname.slice(10), raw);
      let body: Record<string, unknown>;
      try {
        body = decodeBody(raw, String(req.headers['content-type'] ?? ''));
        for (const [k, v] of url.searchParams) body[k] ??= v;
      } catch {
        calls.push({ method, body: {}, error: 'invalid_form_data' });
        return send(res, 200, { ok: false, error: 'invalid_form_data' });
      }
      const call: SlackCall = { method, body };
      calls.push(call);
      const auth = String(req.headers.authorization ?? '');
      const token = auth.startsWith('Bearer ')
        ? auth.slice(7)
        : typeof body.token === 'string'
          ? body.token
          : '';
      if (opts.revokedTokens?.includes(token)) {
        call.error = 'token_revoked';
        return send(res, 200, { ok: false, error: 'token_revoked' });
      }
      if (!token || (opts.token !== undefined && token !== opts.token)) {
        call.error = 'invalid_auth';
        return send(res, 200, { ok: false, error: 'invalid_auth' });
      }
      const handler = methods[method];
      if (!url.pathname.startsWith('/api/') || !handler) {
        call.error = 'unknown_method';
        return send(res, 200, { ok: false, error: 'unknown_method' });
      }
      try {
        const out = handler(body);
        return send(res, 200, { ok: true, ...out });
      } catch (err) {
        if (err instanceof SlackFault) {
          call.error = err.error;
          if (err.error === 'ratelimited') {
            rateLimitedCount++;
            return send(res, 429, { ok: false, error: 'ratelimited' }, { 'Retry-After': '1' });
          }
          return send(res, 200, { ok: false, error: err.error, ...err.extra });
        }
        call.error = 'internal_error';
        return send(res, 500, { ok: false, error: 'internal_error', detail: String(err) });
      }
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const url = `http://127.0.0.1:${port}`;
  baseUrl = url;

  return {
    url,
    apiUrl: `${url}/api/`,
    messages,
    calls,
    violations,
    channelId,
    channelMessages: (channel) => [...(byChannel.get(channelId(channel)) ?? [])],
    threadReplies: (channel, threadTs) =>
      (byChannel.get(channelId(channel)) ?? []).filter((m) => m.thread_ts === threadTs && m.ts !== threadTs),
    rateLimited: () => rateLimitedCount,
    homes,
    dmChannelId,
    ephemerals,
    surfaces,
    responseUrl: (target) => surfaces.issueResponseUrl(baseUrl, target),
    addEphemeral,
    postAsUser,
    postAsApp: (channel, msg) => store(resolveChannel(channel), msg, undefined),
    users,
    channelName: (id) => names.get(id),
    onChange(fn) {
      listeners.add(fn);
      return () => listeners.delete(fn);
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      }),
  };
}

// -------------------------------------------------------------------- helpers

const JSON_FIELDS = new Set(['blocks', 'attachments', 'metadata', 'view']);

/** Form fields are strings; the WebClient JSON-stringifies objects and arrays, so parse those back. */
function decodeBody(raw: string, contentType: string): Record<string, unknown> {
  if (raw.trim() === '') return {};
  if (contentType.includes('application/json')) return JSON.parse(raw) as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const [k, v] of new URLSearchParams(raw)) {
    if (JSON_FIELDS.has(k)) {
      try {
        out[k] = JSON.parse(v);
        continue;
      } catch {
        // not JSON: keep the string (Slack would answer invalid_blocks_format)
      }
    }
    out[k] = v;
  }
  return out;
}

function bool(v: unknown): boolean {
  return v === true || v === 'true' || v === '1' || v === 1;
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

function sendText(res: ServerResponse, status: number, text: string): void {
  res.writeHead(status, {
    'content-type': 'text/plain; charset=utf-8',
    'content-length': Buffer.byteLength(text),
  });
  res.end(text);
}

function send(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    ...headers,
  });
  res.end(text);
}
