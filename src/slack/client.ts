// The only place that builds the Slack Web API client and owns its retry policy.
// 429s are not left to the WebClient (its default pauses every call for up to ~30 minutes):
// each call waits out Retry-After itself and tries again a bounded number of times (a 429 means
// Slack did nothing, so even a post is safe to repeat).
// The WebClient itself never retries: a post whose answer was lost (a 5xx, a dropped connection)
// may have been posted, and posting it again would make a second message. Calls that are safe to
// repeat (reads, chat.update, conversations.open, views.publish) are retried here after 5xx and
// network failures; a post is retried only when it carries a metadata key, and only after looking
// for that key in the channel (findPosted), the same recovery a retried job makes.
import type { KnownBlock } from '@slack/types';
import {
  ErrorCode,
  type Logger as SlackLogger,
  type WebAPIPlatformError,
  type WebAPIRateLimitedError,
  WebClient,
} from '@slack/web-api';
import { FINDING_MESSAGE_EVENT, ONCE_POST_EVENT } from '../../blocks/ids.ts';
import type { Metrics } from '../metrics.ts';

export interface SlackClientOptions {
  token: string;
  /** Web API base, e.g. https://slack.com/api/ (default) or a local stand-in. */
  apiUrl?: string;
  /**
   * Retries of network failures and 5xx inside one call (BullMQ retries the job beyond that): plain
   * retries for calls safe to repeat, look-then-post for posts carrying a metadata key.
   */
  retries?: number;
  /** How many 429s in a row one call sits out before giving up. */
  maxRateLimitWaits?: number;
  sleep?: (ms: number) => Promise<void>;
  /** Where the Web API client logs (its own default is the console, i.e. stdout). */
  logger?: SlackLogger;
  /** Counts calls, errors and 429 waits per method (src/metrics.ts). */
  metrics?: Pick<Metrics, 'slackCalls' | 'slackErrors' | 'slackRateLimited'>;
}

export interface PostedMessage {
  channel: string;
  ts: string;
}

export interface OutgoingMessage {
  text: string;
  blocks: KnownBlock[];
}

/** Slack errors that mean "this channel cannot take our messages"; the finding goes elsewhere. */
export const CHANNEL_UNUSABLE_ERRORS = new Set([
  'channel_not_found',
  'not_in_channel',
  'is_archived',
  'channel_is_archived',
  'restricted_action',
  'restricted_action_read_only_channel',
]);

export class SlackError extends Error {
  override readonly name = 'SlackError';
  constructor(
    readonly method: string,
    readonly code: string,
  ) {
    super(`Slack ${method} failed: ${code}`);
  }
}

const defaultSleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Web API methods that change something each time they are called (a second call, a second message). */
const NOT_REPEATABLE = new Set(['chat.postMessage', 'chat.postEphemeral', 'chat.scheduleMessage']);

/**
 * Whether Slack may have done what a failed call asked: the answer was lost (a 5xx, a dropped or
 * timed-out connection). An `ok: false` answer or a 429 means it did nothing.
 */
export function mayHaveActed(err: unknown): boolean {
  const code = (err as { code?: string } | null)?.code;
  return code === ErrorCode.HTTPError || code === ErrorCode.RequestError;
}

/** Pause before the n-th retry (0-based) of a call whose answer was lost: 0.5 s doubling, at most 5 s, jittered. */
export function lostAnswerDelayMs(n: number): number {
  const base = Math.min(5000, 500 * 2 ** n);
  return Math.round(base / 2 + Math.random() * (base / 2));
}

/**
 * Blocks as the JSON text a form-encoded Web API call carries them in: the request is byte for byte
 * what WebClient sends for the array (it would JSON.stringify it the same way). Given the text, the
 * client does not copy the block tree and serialise it a second time for its `http request body`
 * debug line, which it builds at every log level (about 2% of a first scan's CPU for nothing).
 */
function blocksParam(blocks: KnownBlock[]): KnownBlock[] {
  return JSON.stringify(blocks) as unknown as KnownBlock[];
}

export function createWebClient(opts: SlackClientOptions): WebClient {
  return new WebClient(opts.token, {
    slackApiUrl: opts.apiUrl,
    ...(opts.logger && { logger: opts.logger, logLevel: opts.logger.getLevel() }),
    rejectRateLimitedCalls: true,
    // Never inside the client: SlackGateway.call decides per method (see the top of this file).
    retryConfig: { retries: 0 },
    // A call that hangs would hold its job (and the channel's delivery) forever.
    timeout: 30_000,
  });
}

/** findPosted's key for a message posted with a once-key (never a finding id: those have no colon). */
export const ONCE_PREFIX = 'once:';

/** Pages of 200 messages findPosted reads at most (a burst thread holds up to a few thousand replies). */
const FIND_POSTED_PAGES = 25;

export class SlackGateway {
  readonly web: WebClient;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly maxWaits: number;
  /** Every Retry-After honoured, for reporting. */
  rateLimitedWaits = 0;
  private readonly metrics: SlackClientOptions['metrics'];
  private readonly retries: number;

  constructor(opts: SlackClientOptions) {
    this.web = createWebClient(opts);
    this.sleep = opts.sleep ?? defaultSleep;
    this.maxWaits = opts.maxRateLimitWaits ?? 10;
    this.metrics = opts.metrics;
    this.retries = opts.retries ?? 4;
  }

  /**
   * One Web API call: 429s wait Retry-After and try again (Slack did nothing); a lost answer (5xx,
   * network) is tried again only for methods that are safe to repeat. Posts are never repeated here.
   */
  private async call<T>(method: string, fn: () => Promise<T>): Promise<T> {
    this.metrics?.slackCalls.inc({ method });
    for (let waits = 0, lost = 0; ; ) {
      try {
        return await fn();
      } catch (err) {
        const code = (err as { code?: string }).code;
        if (code === ErrorCode.RateLimitedError && waits < this.maxWaits) {
          waits++;
          this.rateLimitedWaits++;
          this.metrics?.slackRateLimited.inc({ method });
          await this.sleep(Math.max(1, (err as WebAPIRateLimitedError).retryAfter) * 1000);
          continue;
        }
        if (mayHaveActed(err) && !NOT_REPEATABLE.has(method) && lost < this.retries) {
          this.metrics?.slackErrors.inc({ method, error: code ?? 'unknown' });
          await this.sleep(lostAnswerDelayMs(lost++));
          continue;
        }
        if (code === ErrorCode.PlatformError) {
          const error = (err as WebAPIPlatformError).data.error;
          this.metrics?.slackErrors.inc({ method, error });
          throw new SlackError(method, error);
        }
        this.metrics?.slackErrors.inc({
          method,
          error: code === ErrorCode.RateLimitedError ? 'ratelimited' : (code ?? 'unknown'),
        });
        throw err;
      }
    }
  }

  /**
   * Posts a message. `findingId` goes into the message metadata, which is how a retried delivery
   * recognises a message it already posted (see findPosted). With it, a post whose answer was lost
   * (a 5xx, a dropped connection) is looked for in the channel (or thread) and adopted when Slack
   * had posted it, else posted again, up to `retries` times; without it the error is thrown (the
   * caller's job retry decides). `lookFirst` (epoch seconds of an earlier attempt) looks before
   * the first post too.
   */
  async post(
    channel: string,
    msg: OutgoingMessage,
    opts: { threadTs?: string; findingId?: string; onceKey?: string; lookFirst?: number } = {},
  ): Promise<PostedMessage> {
    const since = opts.lookFirst ?? Math.floor(Date.now() / 1000);
    // The key the message is found again by: a finding (or summary) id, or a job's once-key.
    const findingId = opts.findingId ?? (opts.onceKey ? `${ONCE_PREFIX}${opts.onceKey}` : undefined);
    if (findingId && opts.lookFirst !== undefined) {
      // Slack refusing the look (a user id or #name where history wants a channel id): posting
      // again is the lesser harm. A lost answer is thrown, so the caller's retry looks again.
      const found = await this.findPosted(channel, findingId, {
        sinceEpochSeconds: since,
        threadTs: opts.threadTs,
      }).catch((err: unknown) => {
        if (err instanceof SlackError) return null;
        throw err;
      });
      if (found) return found;
    }
    for (let lost = 0; ; lost++) {
      try {
        const res = await this.call('chat.postMessage', () =>
          this.web.chat.postMessage({
            channel,
            text: msg.text,
            blocks: blocksParam(msg.blocks),
            thread_ts: opts.threadTs,
            unfurl_links: false,
            unfurl_media: false,
            metadata: opts.findingId
              ? { event_type: FINDING_MESSAGE_EVENT, event_payload: { finding_id: opts.findingId } }
              : opts.onceKey
                ? { event_type: ONCE_POST_EVENT, event_payload: { once_key: opts.onceKey } }
                : undefined,
          }),
        );
        return { channel: res.channel ?? channel, ts: res.ts ?? '' } satisfies PostedMessage;
      } catch (err) {
        if (!findingId || !mayHaveActed(err) || lost >= this.retries) throw err;
        await this.sleep(lostAnswerDelayMs(lost));
        // Unable to look (Slack still failing, or a #name where history wants an id): the post's
        // own error goes to the caller, whose retry looks again from its pending marker.
        const found = await this.findPosted(channel, findingId, {
          sinceEpochSeconds: since,
          threadTs: opts.threadTs,
        }).catch(() => {
          throw err;
        });
        if (found) return found;
      }
    }
  }

  /** A message only `user` sees; Slack does not guarantee delivery, so never the only record. */
  async ephemeral(channel: string, user: string, msg: OutgoingMessage): Promise<void> {
    await this.call('chat.postEphemeral', () =>
      this.web.chat.postEphemeral({ channel, user, text: msg.text, blocks: blocksParam(msg.blocks) }),
    );
  }

  async update(channel: string, ts: string, msg: OutgoingMessage): Promise<void> {
    await this.call('chat.update', () =>
      this.web.chat.update({ channel, ts, text: msg.text, blocks: blocksParam(msg.blocks) }),
    );
  }

  /**
   * Looks for a message this bot already posted for a finding (by metadata), in the channel since
   * `since` or in a thread. Used only to recover from a crash between posting and saving the ts.
   */
  async findPosted(
    channel: string,
    findingId: string,
    /** `skip`: messages (by ts) that carry the key but are known to be another's. */
    opts: { sinceEpochSeconds: number; threadTs?: string; skip?: ReadonlySet<string> },
  ): Promise<PostedMessage | null> {
    const oldest = String(Math.max(0, opts.sinceEpochSeconds - 60));
    // Every page since `oldest` (history is newest first, so the message sought is on the last
    // page when many were posted after it), at most FIND_POSTED_PAGES of them.
    let cursor: string | undefined;
    for (let page = 0; page < FIND_POSTED_PAGES; page++) {
      const res = opts.threadTs
        ? await this.call('conversations.replies', () =>
            this.web.conversations.replies({
              channel,
              ts: opts.threadTs!,
              oldest,
              include_all_metadata: true,
              limit: 200,
              ...(cursor ? { cursor } : {}),
            }),
          )
        : await this.call('conversations.history', () =>
            this.web.conversations.history({
              channel,
              oldest,
              include_all_metadata: true,
              limit: 200,
              ...(cursor ? { cursor } : {}),
            }),
          );
      for (const m of res.messages ?? []) {
        const meta = m.metadata as
          | { event_type?: string; event_payload?: { finding_id?: string; once_key?: string } }
          | undefined;
        const key =
          meta?.event_type === FINDING_MESSAGE_EVENT
            ? meta.event_payload?.finding_id
            : meta?.event_type === ONCE_POST_EVENT && meta.event_payload?.once_key
              ? `${ONCE_PREFIX}${meta.event_payload.once_key}`
              : undefined;
        if (key === findingId && m.ts && !opts.skip?.has(m.ts)) {
          return { channel, ts: m.ts };
        }
      }
      cursor = res.response_metadata?.next_cursor || undefined;
      if (!cursor) return null;
    }
    return null;
  }

  /**
   * The id of the channel called `#name` (public, or private with the bot in it), or null when the
   * workspace has none by that name. Slack has no lookup by name: this pages through
   * conversations.list (channels:read, groups:read), so callers keep what it finds.
   */
  async channelIdByName(name: string): Promise<string | null> {
    const wanted = name.replace(/^#/, '').toLowerCase();
    let cursor: string | undefined;
    do {
      const res = await this.call('conversations.list', () =>
        this.web.conversations.list({
          types: 'public_channel,private_channel',
          exclude_archived: true,
          limit: 1000,
          ...(cursor ? { cursor } : {}),
        }),
      );
      const hit = (res.channels ?? []).find((c) => c.name === wanted && c.id);
      if (hit?.id) return hit.id;
      cursor = res.response_metadata?.next_cursor || undefined;
    } while (cursor);
    return null;
  }

  /** The user with this e-mail address, or null when Slack has none (`users_not_found`). Needs users:read.email. */
  async lookupUserByEmail(email: string): Promise<string | null> {
    try {
      const res = await this.call('users.lookupByEmail', () => this.web.users.lookupByEmail({ email }));
      return res.user?.id ?? null;
    } catch (err) {
      if (err instanceof SlackError && err.code === 'users_not_found') return null;
      throw err;
    }
  }

  /** The DM channel with a user (conversations.open; needs im:write). */
  async openDm(userId: string): Promise<string> {
    const res = await this.call('conversations.open', () => this.web.conversations.open({ users: userId }));
    const id = res.channel?.id;
    if (!id) throw new SlackError('conversations.open', 'no_channel_returned');
    return id;
  }

  /** A user's profile e-mail (users.info; needs users:read.email), or undefined. */
  async userEmail(userId: string): Promise<string | undefined> {
    const res = await this.call('users.info', () => this.web.users.info({ user: userId }));
    return res.user?.profile?.email || undefined;
  }

  /** Channels (public and private) a user is a member of, as ids and #names (users.conversations, all pages). */
  async userChannels(userId: string): Promise<string[]> {
    const out: string[] = [];
    let cursor: string | undefined;
    do {
      const res = await this.call('users.conversations', () =>
        this.web.users.conversations({
          user: userId,
          types: 'public_channel,private_channel',
          exclude_archived: true,
          limit: 200,
          ...(cursor ? { cursor } : {}),
        }),
      );
      for (const c of res.channels ?? []) {
        if (c.id) out.push(c.id);
        if (c.name) out.push(`#${c.name}`);
      }
      cursor = res.response_metadata?.next_cursor || undefined;
    } while (cursor);
    return out;
  }

  /** Publishes a user's App Home tab (views.publish). */
  async publishHome(userId: string, view: { type: 'home'; blocks: KnownBlock[] }): Promise<void> {
    await this.call('views.publish', () => this.web.views.publish({ user_id: userId, view }));
  }
}
