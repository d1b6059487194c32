// Slack Web API behind nock, answered by the Slack sandbox's own Web API (sandbox/slack/api.ts): the
// same methods, checks and errors as the sandbox server the end-to-end tests and the demo use
// (Block Kit rules, unknown messages and threads, trigger_id rules, users and channels), without a
// port. This keeps what integration tests read: the calls made, the messages posted (updated in
// place), channel members, user groups, people by e-mail, Home tabs, and injected faults.
import nock from 'nock';
import { createSlackApi, tokenOf } from '../../sandbox/slack/api.ts';
import type { SandboxMessage, SandboxUser } from '../../sandbox/slack/types.ts';
import { decodeBody } from '../../sandbox/slack/wire.ts';

export interface SlackCall {
  method: string;
  args: Record<string, unknown>;
}

export interface PostedMessage {
  channel: string;
  ts: string;
  text: string;
  blocks: unknown[];
  /** Set on thread replies only (not on a parent that has replies). */
  thread_ts?: string;
  metadata?: unknown;
}

export interface FakeSlack {
  calls: SlackCall[];
  /** The bot's messages, in posting order, as they are now (chat.update changes them in place). */
  readonly posted: PostedMessage[];
  /** Channel members (conversations.members) and user group members (usergroups.users.list). */
  members: Record<string, string[]>;
  groups: Record<string, string[]>;
  /** Users by e-mail (users.lookupByEmail, users.info) and the channels each is in (users.conversations). */
  users: Record<string, { id: string; channels?: { id: string; name: string }[] }>;
  /** Home views published per user id (views.publish), last one last. */
  homes: Record<string, { type: string; blocks: unknown[] }[]>;
  /**
   * Make every post, update and ephemeral message in this channel fail with this Slack error (as a
   * channel the bot was removed from, or that was archived or deleted, does); `channel_not_found`
   * fails every call naming the channel (conversations.members too).
   */
  failChannel(channel: string, error: string): void;
  /** Answer the next N chat.postMessage calls with this Slack error (ok: false). */
  failPostsNext(times: number, error: string): void;
  /** Answer the next N chat.postMessage calls with HTTP 429 Retry-After: 1. */
  rateLimitNext(times: number): void;
  /** Answer the next N calls of `method` with this Slack error (`ratelimited`: HTTP 429). */
  failNext(method: string, times: number, error: string): void;
  /**
   * A message the bot posted before the test began (the card of a finding a test seeds in Redis):
   * thread replies and updates find it; `posted` leaves it out, as it lists what the test saw posted.
   */
  existing(channel: string, ts: string, text?: string): void;
  byMethod(method: string): SlackCall[];
  /**
   * Slack does what the next `times` calls of `method` ask (those `match` accepts), then the answer
   * is lost: HTTP `status` (default 500) instead of Slack's answer, as after a 5xx or a timeout.
   */
  loseAnswers(
    method: string,
    times: number,
    opts?: { status?: number; match?: (args: Record<string, unknown>) => boolean },
  ): void;
  /** The calls whose answers were lost, in order. */
  lost: SlackCall[];
  reset(): void;
}

/** A call's arguments as tests read them: form fields, with `blocks` and `metadata` parsed (a `view` stays JSON text). */
function recorded(body: unknown): Record<string, unknown> {
  const raw: Record<string, unknown> =
    typeof body === 'string'
      ? Object.fromEntries(new URLSearchParams(body))
      : { ...((body ?? {}) as Record<string, unknown>) };
  for (const key of ['blocks', 'metadata']) {
    if (typeof raw[key] === 'string') raw[key] = JSON.parse(raw[key] as string);
  }
  return raw;
}

export const SLACK_API = 'https://slack.com';

/**
 * The person a test's own interaction payload (test/helpers/slack-requests.ts) hands its trigger_id
 * to: the payload was made outside the sandbox, so the sandbox adopts the id when the bot uses it.
 */
const TRIGGER_USER = 'U0TRIGGER';

/** `channelIds` maps names the bot posts to (`#team-x`) to the id Slack answers; unmapped names are kept as given. */
export function fakeSlack(channelIds: Record<string, string> = {}): FakeSlack {
  const members: Record<string, string[]> = {};
  const groups: Record<string, string[]> = {};
  const people: SandboxUser[] = [];
  const api = createSlackApi({
    channelIdOf: (name) => channelIds[name] ?? name,
    members,
    usergroups: groups,
    users: people,
  });
  const { ws } = api;

  /** The workspace's people, from `fake.users` as the test has set them by now. */
  const syncPeople = () => {
    people.length = 0;
    for (const [email, u] of Object.entries(fake.users)) {
      people.push({
        id: u.id,
        name: email.split('@')[0] ?? u.id,
        email,
        ...(u.channels && { channels: u.channels.map((c) => c.id) }),
      });
      for (const c of u.channels ?? []) ws.names.set(c.id, c.name);
    }
  };

  const seeded = new WeakSet<SandboxMessage>();
  const views = new WeakMap<SandboxMessage, PostedMessage>();
  const postedOf = (m: SandboxMessage): PostedMessage => {
    let v = views.get(m);
    if (!v) {
      const live = (get: () => unknown) => ({ get, enumerable: true });
      v = Object.defineProperties({} as PostedMessage, {
        channel: live(() => m.channel),
        ts: live(() => m.ts),
        text: live(() => m.text),
        blocks: live(() => m.blocks),
        thread_ts: live(() => (m.thread_ts !== m.ts ? m.thread_ts : undefined)),
        metadata: live(() => m.metadata),
      });
      views.set(m, v);
    }
    return v;
  };

  const losing: {
    method: string;
    times: number;
    status: number;
    match?: (args: Record<string, unknown>) => boolean;
  }[] = [];
  const fake: FakeSlack = {
    calls: [],
    lost: [],
    loseAnswers(method, times, opts = {}) {
      losing.push({
        method,
        times,
        status: opts.status ?? 500,
        ...(opts.match ? { match: opts.match } : {}),
      });
    },
    get posted() {
      return ws.messages.filter((m) => m.user === undefined && !seeded.has(m)).map(postedOf);
    },
    members,
    groups,
    users: {},
    homes: ws.homes,
    failChannel: (channel, error) => api.failChannel(channel, error),
    failPostsNext: (times, error) => api.failNext('chat.postMessage', times, error),
    rateLimitNext: (times) => api.failNext('chat.postMessage', times, 'ratelimited'),
    failNext: (method, times, error) => api.failNext(method, times, error),
    existing(channel, ts, text = 'finding') {
      seeded.add(ws.store(ws.channelId(channel), { text }, undefined, undefined, ts));
    },
    byMethod: (m) => fake.calls.filter((c) => c.method === m),
    reset() {
      fake.calls.length = 0;
    },
  };

  nock(SLACK_API)
    .persist()
    .post(/^\/api\/[a-zA-Z.]+$/)
    .reply(function (uri, body) {
      const method = uri.replace('/api/', '');
      const headers = this.req.headers as Record<string, string | undefined>;
      const decoded: Record<string, unknown> =
        typeof body === 'string'
          ? decodeBody(body, String(headers['content-type'] ?? ''))
          : { ...((body ?? {}) as Record<string, unknown>) };
      const args = recorded(body);
      syncPeople();
      if ((method === 'views.open' || method === 'views.push') && typeof decoded.trigger_id === 'string')
        ws.surfaces.adoptTrigger(decoded.trigger_id, TRIGGER_USER);
      const answer = api.call(method, decoded, tokenOf(headers.authorization, decoded));
      fake.calls.push({ method: answer.status === 429 ? `${method} (429)` : method, args });
      const lose = losing.find((l) => l.method === method && l.times > 0 && (!l.match || l.match(args)));
      if (lose && answer.status === 200) {
        lose.times--;
        fake.lost.push({ method, args });
        return [lose.status, `${lose.status} answer lost`, { 'content-type': 'text/plain' }];
      }
      return [answer.status, answer.body, answer.headers];
    });
  return fake;
}
