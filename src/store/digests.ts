// What the weekly digest remembers besides its send claims (src/store/once.ts): each owner's counts
// of a week for next week's trend, the last digest an owner got (for the App Home), and the owner
// e-mails already reported to the admin channel as unknown to Slack.
import type { Redis } from 'ioredis';
import type { DigestCounts } from '../findings/digest.ts';
import type { Keys } from './keys.ts';

/** A week's snapshot outlives the week after it, whose trend it is. */
export const DIGEST_SNAPSHOT_TTL_SECONDS = 35 * 86_400;

/** What the App Home shows of the last digest an owner got. */
export interface LastDigest {
  week: string;
  at: string;
  channel: string;
  ts: string;
  text: string;
}

export class DigestStore {
  constructor(
    private readonly redis: Redis,
    private readonly k: Keys,
  ) {}

  /** Records one owner's counts for `week` (`digest-snapshot:<owner>:<week>`). */
  async saveSnapshot(ownerKey: string, week: string, counts: DigestCounts): Promise<void> {
    const key = this.k.digestSnapshot(ownerKey, week);
    await this.redis
      .multi()
      .hset(key, { ...counts })
      .expire(key, DIGEST_SNAPSHOT_TTL_SECONDS)
      .exec();
  }

  /** One owner's counts of `week`, or undefined when none were recorded. */
  async snapshot(ownerKey: string, week: string): Promise<DigestCounts | undefined> {
    const h = await this.redis.hgetall(this.k.digestSnapshot(ownerKey, week));
    if (!h.open) return undefined;
    const n = (k: string) => Number(h[k] ?? 0) || 0;
    return {
      open: n('open'),
      overdue: n('overdue'),
      new: n('new'),
      resolved: n('resolved'),
      archived: n('archived'),
    };
  }

  /** Replaces the last digest an owner got (`digest-last:<owner>`). */
  async saveLast(ownerKey: string, last: LastDigest): Promise<void> {
    await this.redis.set(this.k.digestLast(ownerKey), JSON.stringify(last));
  }

  /** The most recent of the last digests these owners got (`digest-last:*`), if any got one. */
  async latestLast(ownerKeys: readonly string[]): Promise<LastDigest | undefined> {
    if (ownerKeys.length === 0) return undefined;
    let latest: LastDigest | undefined;
    for (const raw of await this.redis.mget(...ownerKeys.map((o) => this.k.digestLast(o)))) {
      if (!raw) continue;
      const d = JSON.parse(raw) as LastDigest;
      if (!latest || d.at > latest.at) latest = d;
    }
    return latest;
  }

  /** Remembers an e-mail Slack does not know; true when it was not remembered yet (report it). */
  async rememberUnknownEmail(email: string): Promise<boolean> {
    return (await this.redis.sadd(this.k.digestUnknownEmails(), email)) === 1;
  }

  /** Forgets e-mails whose report failed, so the retry reports them. */
  async forgetUnknownEmails(emails: readonly string[]): Promise<void> {
    if (emails.length === 0) return;
    await this.redis.srem(this.k.digestUnknownEmails(), ...emails);
  }
}
