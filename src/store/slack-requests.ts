// Slack requests already handled (`slack-request:<sha256 of body>`), so a replayed or retried body is
// acknowledged and dropped (src/slack/request-guard.ts).
import type { Redis } from 'ioredis';
import type { Keys } from './keys.ts';

export class SlackRequestStore {
  constructor(
    private readonly redis: Redis,
    private readonly k: Keys,
  ) {}

  /** Claims a body's hash for `ttlSeconds`; false when it was claimed before. */
  async claim(bodyHash: string, ttlSeconds: number): Promise<boolean> {
    return (await this.redis.set(this.k.slackRequest(bodyHash), '1', 'EX', ttlSeconds, 'NX')) === 'OK';
  }
}
