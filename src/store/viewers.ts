// The App Home's short cache of who is looking (`user-channels:<user id>`): the person's e-mail and
// channel memberships as Slack answered them, so opening the Home tab twice does not read them again.
import type { Redis } from 'ioredis';
import type { Keys } from './keys.ts';

/** Channel membership and e-mail change rarely; a cached answer is kept this long. */
export const VIEWER_TTL_SECONDS = 300;

export interface Viewer {
  email?: string;
  /** Channel ids and #names the person is a member of. */
  channels: string[];
}

export class ViewerCache {
  constructor(
    private readonly redis: Redis,
    private readonly k: Keys,
  ) {}

  /** The cached viewer, or null when none is cached (or it expired). */
  async get(userId: string): Promise<Viewer | null> {
    const cached = await this.redis.get(this.k.userChannels(userId));
    return cached ? (JSON.parse(cached) as Viewer) : null;
  }

  async save(userId: string, viewer: Viewer): Promise<void> {
    await this.redis.set(this.k.userChannels(userId), JSON.stringify(viewer), 'EX', VIEWER_TTL_SECONDS);
  }
}
