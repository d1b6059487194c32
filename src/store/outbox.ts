// Finding events waiting for delivery, one Redis list per (scan, channel). The scan fills it,
// the channel's deliver job drains it head first, removing an event only after it is handled.
// `outbox:<scanId>:<channel>` holds the events, `scan:<scanId>:channels` the channels that have any.
import type { KnownBlock } from '@slack/types';
import type { Redis } from 'ioredis';
import type { Finding, Route } from '../findings/model.ts';
import type { Assessed } from '../findings/severity.ts';
import { type Keys, SCAN_SCRATCH_TTL_SECONDS } from './keys.ts';

export type OutboxEvent =
  /**
   * A new finding, or an ACTIVE one whose AWS updatedAt moved: post it or update its message.
   * `finding.id` is the card's id; `via` is set when another id of the card is what changed (the
   * card's first id is closed, or the card reopens through it); `naturalKey` for a new card.
   */
  | { kind: 'finding'; finding: Finding; route: Route; severity: Assessed; via?: string; naturalKey?: string }
  /** A finding that left the ACTIVE list; `finding` is null when AWS no longer has it at all. */
  | { kind: 'closed'; id: string; status: 'RESOLVED' | 'ARCHIVED'; at: string; finding: Finding | null }
  /** An admin-channel note; `key` is its notice id (src/store/keys.ts, noticeId). */
  | { kind: 'notice'; key: string; text: string; blocks: KnownBlock[] };

/** LPOP then LINDEX 0 of KEYS[1], atomically: the event after the one removed, or nil. */
const POP_AND_HEAD = `redis.call('LPOP', KEYS[1])
return redis.call('LINDEX', KEYS[1], 0)`;
const POP_AND_HEAD_NAME = 'apOutboxPopAndHead';

export class Outbox {
  constructor(
    private readonly redis: Redis,
    private readonly k: Keys,
  ) {
    // A script, not a MULTI: ioredis copies every script defined on the connection (BullMQ's
    // too) into each MULTI it builds, which cost more than the two commands, once per delivered event.
    if (!(POP_AND_HEAD_NAME in redis))
      redis.defineCommand(POP_AND_HEAD_NAME, { numberOfKeys: 1, lua: POP_AND_HEAD });
  }

  async push(scanId: string, channel: string, events: OutboxEvent[]): Promise<void> {
    if (events.length === 0) return;
    const key = this.k.outbox(scanId, channel);
    await this.redis
      .multi()
      .rpush(key, ...events.map((e) => JSON.stringify(e)))
      .expire(key, SCAN_SCRATCH_TTL_SECONDS)
      .sadd(this.k.scanChannels(scanId), channel)
      .expire(this.k.scanChannels(scanId), SCAN_SCRATCH_TTL_SECONDS)
      .exec();
  }

  async head(scanId: string, channel: string): Promise<OutboxEvent | null> {
    const raw = await this.redis.lindex(this.k.outbox(scanId, channel), 0);
    return raw ? (JSON.parse(raw) as OutboxEvent) : null;
  }

  async pop(scanId: string, channel: string): Promise<void> {
    await this.redis.lpop(this.k.outbox(scanId, channel));
  }

  /** Removes the head and returns the event after it, in one round trip (one script). */
  async popAndHead(scanId: string, channel: string): Promise<OutboxEvent | null> {
    const run = (this.redis as unknown as Record<string, (key: string) => Promise<string | null>>)[
      POP_AND_HEAD_NAME
    ]!;
    const raw = await run.call(this.redis, this.k.outbox(scanId, channel));
    return raw ? (JSON.parse(raw) as OutboxEvent) : null;
  }

  async channels(scanId: string): Promise<string[]> {
    return (await this.redis.smembers(this.k.scanChannels(scanId))).sort();
  }

  /**
   * The channels with events, the most events first (then by name): the order their deliveries are
   * queued in, so that the longest ones start first and a short one fills a slot near the end,
   * instead of a long one starting last and running alone.
   */
  async channelsLongestFirst(scanId: string): Promise<string[]> {
    const channels = await this.channels(scanId);
    if (channels.length < 2) return channels;
    const pipe = this.redis.pipeline();
    for (const ch of channels) pipe.llen(this.k.outbox(scanId, ch));
    const res = (await pipe.exec()) ?? [];
    const len = new Map(channels.map((ch, i) => [ch, Number(res[i]?.[1] ?? 0)]));
    return channels.sort((x, y) => len.get(y)! - len.get(x)! || (x < y ? -1 : 1));
  }
}
