// Channel ids of `#name` routes (`channel-id:<#name>`), asked of Slack before the first post there
// (jobs/deliver.ts) or learned from a post's answer. Recovering a post whose answer was lost
// (conversations.history) and matching a click's channel to a finding's owner channel both need it.
import type { Redis } from 'ioredis';
import type { Keys } from './keys.ts';

export class ChannelIdStore {
  constructor(
    private readonly redis: Redis,
    private readonly k: Keys,
  ) {}

  /** Records the id Slack answered a post to `name` with (nothing when `name` already is that id). */
  async remember(name: string, id: string): Promise<void> {
    if (name !== id) await this.redis.set(this.k.channelId(name), id);
  }

  /** The id learned for a `#name`, or the channel as given (an id, or a name not posted to yet). */
  async resolve(channel: string): Promise<string> {
    return channel.startsWith('#') ? ((await this.redis.get(this.k.channelId(channel))) ?? channel) : channel;
  }

  /** The ids learned for these names, in their order (null where none was learned). */
  async idsOf(names: readonly string[]): Promise<(string | null)[]> {
    if (names.length === 0) return [];
    return this.redis.mget(...names.map((n) => this.k.channelId(n)));
  }
}
