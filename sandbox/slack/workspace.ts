// The state of the sandbox workspace that every Web API family reads and changes: channels and their
// messages, ephemeral messages, the people, Home tabs, modals (sandbox/slack/surfaces.ts), the calls
// answered and the Block Kit violations refused. Changes are announced to onChange listeners.
import { createHash } from 'node:crypto';
import { createSurfaces, SlackFault } from './surfaces.ts';
import {
  APP_ID,
  BOT_ID,
  BOT_USER,
  type SandboxChange,
  type SandboxEphemeral,
  type SandboxMessage,
  type SandboxUser,
  type SlackCall,
  type SlackSandbox,
  type SlackSandboxOptions,
  TEAM_ID,
} from './types.ts';
import { bool } from './wire.ts';

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

export type Workspace = ReturnType<typeof createWorkspace>;

export function createWorkspace(opts: SlackSandboxOptions) {
  const messages: SandboxMessage[] = [];
  const calls: SlackCall[] = [];
  const violations: SlackSandbox['violations'] = [];
  const byChannel = new Map<string, SandboxMessage[]>();
  const names = new Map<string, string>(); // id → name (without #)
  let lastTsMicros = 0;
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
    // A DM id conversations.open gave out is an id, however short the user's id it comes from.
    if (CHANNEL_ID.test(channel) || users.some((u) => dmChannelId(u.id) === channel)) return channel;
    const id = opts.channelIdOf ? opts.channelIdOf(channel) : fakeChannelId(channel);
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

  /**
   * Keeps a new message (the bot's, or a person's with `user`), as a reply when `parent` is given.
   * `ts` is given only for a message from before the sandbox started (a test's seeded card).
   */
  const store = (
    channel: string,
    body: Record<string, unknown>,
    parent: SandboxMessage | undefined,
    user?: string,
    ts?: string,
  ): SandboxMessage => {
    const m: SandboxMessage = {
      channel,
      ts: ts ?? nextTs(),
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

  const addEphemeral = (e: Omit<SandboxEphemeral, 'ts'>): SandboxEphemeral => {
    const full = { ...e, ts: nextTs() };
    ephemerals.push(full);
    emit({ kind: 'ephemeral', channel: e.channel, user: e.user });
    return full;
  };

  return {
    opts,
    messages,
    calls,
    violations,
    byChannel,
    names,
    users,
    homes,
    ephemerals,
    surfaces,
    now,
    emit,
    onChange(fn: (change: SandboxChange) => void): () => void {
      listeners.add(fn);
      return () => listeners.delete(fn);
    },
    dmChannelId,
    userJson,
    userById,
    channelId,
    resolveChannel,
    nextTs,
    find,
    store,
    messageJson,
    addEphemeral,
  };
}

/** Web API methods by name: the decoded body in, the answer's fields (besides `ok`) out; a SlackFault is an error answer. */
export type Methods = Record<string, (body: Record<string, unknown>) => Record<string, unknown>>;
