// What the Slack sandbox keeps and shows: messages, ephemeral messages, the people of the workspace,
// the calls it answered, and the sandbox's own interface. The workspace and the bot's identity in it.
import type { ResponseTarget, Surfaces } from './surfaces.ts';

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
  /**
   * Channel members besides the people whose `channels` include the channel (conversations.members):
   * channel id or #name → user ids. Read at each call, so a test may change it.
   */
  members?: Record<string, string[]>;
  /** The id Slack gives a channel posted to by name. Default fakeChannelId (`#sec-alerts` → C…). */
  channelIdOf?: (name: string) => string;
  /** Clock for trigger_id and response_url lifetimes (tests move it). Default Date.now. */
  now?: () => number;
  /** Lost answers and 429 storms for a seeded fraction of calls (live afterwards: `sandbox.faults`). */
  faults?: SlackFaults;
  /**
   * Milliseconds every Web API call takes before it is answered (Slack's own latency, for load
   * tests); the call takes effect when it is answered. Default 0.
   */
  latencyMs?: number;
}

/**
 * One kind of fault: a fraction of the calls of some methods get a bad answer. `after` is Slack
 * having acted (the message is posted) and the answer lost on the way back, the case that makes a
 * retried post a second message; `before` is Slack failing without acting.
 */
export interface SlackFaultRule {
  /** Web API methods it picks from (default `['chat.postMessage']`). */
  methods?: string[];
  /** Fraction of those calls, 0..1. */
  fraction: number;
  /** Default `after`. A call Slack refuses anyway (`ok: false`) is answered as usual. */
  when?: 'before' | 'after';
  /**
   * An HTTP status (500, 502, 503, 504; 429 answers `ratelimited` with Retry-After, always before
   * acting), or `drop`: the connection is closed without an answer. Default 500.
   */
  answer?: number | 'drop';
  /** Retry-After of a 429 answer, in seconds. Default 1. */
  retryAfterSeconds?: number;
  /** Only calls whose arguments it accepts (a channel, top-level posts only, the second one ...). */
  match?: (body: Record<string, unknown>) => boolean;
  /** At most this many picks, then the rule is spent. Default: no limit. */
  times?: number;
}

export interface SlackFaults {
  /** Seed of the draws (default 1): the same seed and calls pick the same calls. */
  seed?: number;
  rules: SlackFaultRule[];
}

/** A call a fault rule picked. */
export interface SlackFaulted {
  method: string;
  when: 'before' | 'after';
  answer: number | 'drop';
  /** The message Slack posted anyway (`after` on chat.postMessage). */
  ts?: string;
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
  /** When the call arrived (ms since the epoch). */
  at?: number;
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
  /** Posting to this channel fails with `error` from now on (sandbox/slack/api.ts). */
  failChannel(channel: string, error: string): void;
  /** The next `times` calls of `method` fail with `error` (`ratelimited`: HTTP 429). */
  failNext(method: string, times: number, error: string): void;
  /** Home tabs published (views.publish) per user id, last one last. */
  homes: Record<string, { type: string; blocks: Record<string, unknown>[] }[]>;
  /** The DM channel id conversations.open gives for a user. */
  dmChannelId(userId: string): string;
  /** Ephemeral messages, in posting order (live). */
  ephemerals: SandboxEphemeral[];
  /** Modals, trigger_ids and response_urls (sandbox/slack/surfaces.ts). */
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
  /** The fault rules in force (live: change `rules` between calls). */
  faults: SlackFaults;
  /** Every call a fault rule picked, in order (live). */
  faulted: SlackFaulted[];
}

export const BOT_USER = 'U0SANDBOXBOT';
export const BOT_ID = 'B0SANDBOXBOT';
export const APP_ID = 'A0SANDBOXAPP';
export const TEAM_ID = 'T0SANDBOX';
/** The sandbox workspace and the bot's identity in it, as interaction payloads carry them. */
export const SANDBOX_WORKSPACE = {
  teamId: TEAM_ID,
  teamDomain: 'sandbox',
  appId: APP_ID,
  botId: BOT_ID,
  botUserId: BOT_USER,
} as const;
