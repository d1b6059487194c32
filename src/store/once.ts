// Messages sent at most once across a job's retries: a message a retryable job posts (its receipt, a
// notice, a policy progress note: `job-post:<job id>:<step>`) and one owner's weekly digest
// (`digest:<owner>:<week>`). Both follow one protocol:
//
//   claim   SET NX `claimed <time>` with a TTL that outlives every retry; taken -> not sent again
//   send    fails -> DEL the claim and rethrow, so the retry sends it
//   record  SET `sent <channel> <ts>` (KEEPTTL), so a retry learns where the earlier attempt posted
//
// A crash between the claim and the record leaves `claimed`: that message is lost (at most once,
// never twice). Slack's API has no idempotency key, and reading channel history back to find an
// earlier post would cost a history call per retry.
import { formatISO } from 'date-fns';
import type { Redis } from 'ioredis';
import type { Keys } from './keys.ts';

/** Markers outlive every retry of a job (backoff is seconds to minutes) by far. */
export const JOB_POST_TTL_SECONDS = 7 * 86_400;
/** A digest claim outlives the ISO week it belongs to. */
export const DIGEST_CLAIM_TTL_SECONDS = 14 * 86_400;

export type OnceSubject =
  /** One step of a job: its id is deterministic, so every retry has the same `onceKey`. */
  | { kind: 'job-post'; onceKey: string }
  /** One owner's digest for one ISO week. */
  | { kind: 'digest'; ownerKey: string; week: string };

export interface SentMessage {
  channel: string;
  ts: string;
}

export type OnceOutcome =
  /**
   * This attempt sent it; `sent` is null when `send` had nothing to send to (the claim stays, so it
   * is not tried again while the marker lives).
   */
  | { by: 'this-attempt'; sent: SentMessage | null }
  /** An earlier attempt claimed it; `sent` is where it went, null when that was never recorded. */
  | { by: 'earlier-attempt'; sent: SentMessage | null };

const SENT = /^sent (\S+) (\S+)$/;

export class OnceStore {
  constructor(
    private readonly redis: Redis,
    private readonly k: Keys,
  ) {}

  /**
   * Runs `send` unless an attempt claimed `subject` before. `afterSend` runs between a successful
   * send and its record (a crash there loses the record, not the message).
   */
  async run(
    subject: OnceSubject,
    now: Date,
    send: () => Promise<SentMessage | null>,
    afterSend?: () => Promise<void> | void,
  ): Promise<OnceOutcome> {
    const { key, ttlSeconds } = this.marker(subject);
    const took = await this.redis.set(key, `claimed ${formatISO(now)}`, 'EX', ttlSeconds, 'NX');
    if (took !== 'OK') {
      const sent = SENT.exec((await this.redis.get(key)) ?? '');
      return { by: 'earlier-attempt', sent: sent ? { channel: sent[1]!, ts: sent[2]! } : null };
    }
    let sent: SentMessage | null;
    try {
      sent = await send();
    } catch (err) {
      await this.redis.del(key);
      throw err;
    }
    await afterSend?.();
    if (!sent) return { by: 'this-attempt', sent: null };
    await this.redis.set(key, `sent ${sent.channel} ${sent.ts}`, 'KEEPTTL');
    return { by: 'this-attempt', sent };
  }

  /** Drops claims, so the next attempt sends again (the digest, when reporting its outcome failed). */
  async release(...subjects: OnceSubject[]): Promise<void> {
    if (subjects.length === 0) return;
    await this.redis.del(...subjects.map((s) => this.marker(s).key));
  }

  private marker(subject: OnceSubject): { key: string; ttlSeconds: number } {
    return subject.kind === 'job-post'
      ? { key: this.k.jobPost(subject.onceKey), ttlSeconds: JOB_POST_TTL_SECONDS }
      : { key: this.k.digestSent(subject.ownerKey, subject.week), ttlSeconds: DIGEST_CLAIM_TTL_SECONDS };
  }
}
