// Slack Web API behind nock: records chat.postMessage / chat.update / conversations.* calls,
// answers like Slack (ok:false errors, 429 with Retry-After) and keeps posted messages for history.
import nock from 'nock';

export interface SlackCall {
  method: string;
  args: Record<string, unknown>;
}

export interface FakeSlack {
  calls: SlackCall[];
  posted: {
    channel: string;
    ts: string;
    text: string;
    blocks: unknown[];
    thread_ts?: string;
    metadata?: unknown;
  }[];
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
   * also fails conversations.members.
   */
  failChannel(channel: string, error: string): void;
  /** Answer the next N chat.postMessage calls with this Slack error (ok: false). */
  failPostsNext(times: number, error: string): void;
  /** Answer the next N chat.postMessage calls with HTTP 429 Retry-After: 1. */
  rateLimitNext(times: number): void;
  byMethod(method: string): SlackCall[];
  reset(): void;
}

function parse(body: unknown): Record<string, unknown> {
  const raw: Record<string, unknown> =
    typeof body === 'string'
      ? Object.fromEntries(new URLSearchParams(body))
      : ((body ?? {}) as Record<string, unknown>);
  for (const key of ['blocks', 'metadata']) {
    if (typeof raw[key] === 'string') raw[key] = JSON.parse(raw[key] as string);
  }
  return raw;
}

export const SLACK_API = 'https://slack.com';

export function fakeSlack(channelIds: Record<string, string> = {}): FakeSlack {
  let seq = 1_700_000_000;
  let rateLimited = 0;
  let failPosts: { times: number; error: string } = { times: 0, error: '' };
  const failing = new Map<string, string>();
  const idOf = (c: string) => channelIds[c] ?? c;
  const fake: FakeSlack = {
    calls: [],
    posted: [],
    members: {},
    groups: {},
    users: {},
    homes: {},
    failChannel: (c, e) => failing.set(c, e),
    failPostsNext: (times, error) => {
      failPosts = { times, error };
    },
    rateLimitNext: (n) => {
      rateLimited = n;
    },
    byMethod: (m) => fake.calls.filter((c) => c.method === m),
    reset() {
      fake.calls.length = 0;
    },
  };
  nock(SLACK_API)
    .persist()
    .post(/^\/api\/[a-zA-Z.]+$/)
    .reply((uri, body) => {
      const method = uri.replace('/api/', '');
      const args = parse(body);
      if (method === 'chat.postMessage' && rateLimited > 0) {
        rateLimited--;
        fake.calls.push({ method: `${method} (429)`, args });
        return [429, '', { 'retry-after': '1' }];
      }
      fake.calls.push({ method, args });
      const channel = String(args.channel);
      switch (method) {
        case 'chat.postMessage': {
          const error = failing.get(channel);
          if (error) return [200, { ok: false, error }];
          if (failPosts.times > 0) {
            failPosts.times--;
            return [200, { ok: false, error: failPosts.error }];
          }
          const ts = `${++seq}.000100`;
          fake.posted.push({
            channel: idOf(channel),
            ts,
            text: String(args.text),
            blocks: (args.blocks as unknown[]) ?? [],
            thread_ts: args.thread_ts as string | undefined,
            metadata: args.metadata,
          });
          return [200, { ok: true, channel: idOf(channel), ts }];
        }
        case 'chat.update': {
          const error = failing.get(channel);
          if (error) return [200, { ok: false, error }];
          const m = fake.posted.find((p) => p.channel === channel && p.ts === args.ts);
          if (!m) return [200, { ok: false, error: 'message_not_found' }];
          m.text = String(args.text);
          m.blocks = (args.blocks as unknown[]) ?? [];
          return [200, { ok: true, channel, ts: args.ts }];
        }
        case 'conversations.members':
          if (failing.get(channel) === 'channel_not_found')
            return [200, { ok: false, error: 'channel_not_found' }];
          return [
            200,
            { ok: true, members: fake.members[channel] ?? [], response_metadata: { next_cursor: '' } },
          ];
        case 'usergroups.users.list':
          return [200, { ok: true, users: fake.groups[String(args.usergroup)] ?? [] }];
        case 'views.open':
        case 'views.update':
          return [200, { ok: true, view: { id: String(args.view_id ?? `V${++seq}`) } }];
        case 'chat.postEphemeral': {
          const error = failing.get(channel);
          if (error) return [200, { ok: false, error }];
          return [200, { ok: true, message_ts: `${++seq}.000200` }];
        }
        case 'conversations.history':
        case 'conversations.replies': {
          const msgs = fake.posted
            .filter((p) => p.channel === channel)
            .filter((p) =>
              method === 'conversations.replies' ? p.thread_ts === args.ts || p.ts === args.ts : !p.thread_ts,
            )
            .reverse();
          return [
            200,
            {
              ok: true,
              messages: msgs.map((m) => ({ type: 'message', ts: m.ts, text: m.text, metadata: m.metadata })),
            },
          ];
        }
        case 'users.lookupByEmail': {
          const u = fake.users[String(args.email).toLowerCase()];
          return u
            ? [200, { ok: true, user: { id: u.id, profile: { email: args.email } } }]
            : [200, { ok: false, error: 'users_not_found' }];
        }
        case 'users.info': {
          const found = Object.entries(fake.users).find(([, u]) => u.id === args.user);
          return found
            ? [200, { ok: true, user: { id: found[1].id, profile: { email: found[0] } } }]
            : [200, { ok: false, error: 'user_not_found' }];
        }
        case 'users.conversations': {
          const found = Object.values(fake.users).find((u) => u.id === args.user);
          return [200, { ok: true, channels: found?.channels ?? [], response_metadata: { next_cursor: '' } }];
        }
        case 'conversations.open':
          return [200, { ok: true, channel: { id: `D${String(args.users).slice(1)}` } }];
        case 'views.publish': {
          const user = String(args.user_id);
          const view = typeof args.view === 'string' ? JSON.parse(args.view) : args.view;
          fake.homes[user] = [...(fake.homes[user] ?? []), view as { type: string; blocks: unknown[] }];
          return [200, { ok: true, view: { id: `V${++seq}` } }];
        }
        default:
          return [200, { ok: false, error: 'unknown_method' }];
      }
    });
  return fake;
}
