// Messages sent at most once across a job's retries: a message a retryable job posts (its receipt, a
// notice, a policy progress note: `job-post:<job id>:<step>`) and one owner's weekly digest
// (`digest:<owner>:<week>`). Both follow one protocol:
//
//   claim   SET NX `claimed <time>` with a TTL that outlives every retry; taken -> not sent again
//   send    fails -> DEL the claim and rethrow, so the retry sends it
//   record  SET `sent <channel> <ts>` (KEEPTTL), so a retry learns where the earlier attempt posted
//
// Without recovery (the digest), a crash between the claim and the record leaves `claimed`: that
// message is lost (at most once, never twice). With recovery (job posts, whose messages carry their
// once-key in Slack metadata), a send whose answer was lost leaves `pending <epoch s>`, and a retry
// that finds `pending` or `claimed` looks for the message in the channel before posting again
// (SlackGateway.post's `lookFirst`): exactly once, at the cost of a history read on such retries only.
import { formatISO } from 'date-fns/formatISO';
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

/** What `send` is told about earlier attempts. */
export interface OnceAttempt {
  /** An earlier attempt may have sent it at or after this time (epoch seconds): look for it first. */
  lookFirst?: number;
}

/**
 * For senders that can find an earlier send again (a message carrying its once-key in its metadata):
 * a send whose answer was lost leaves the marker `pending` instead of dropping it, and a retry that
 * finds `pending` or a bare `claimed` sends with `lookFirst` instead of giving up.
 */
export interface OnceRecovery {
  /** Whether a failed send may still have been carried out (a 5xx, a dropped connection). */
  mayHaveSent(err: unknown): boolean;
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
const PENDING = /^pending (\d+)$/;

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
    send: (attempt: OnceAttempt) => Promise<SentMessage | null>,
    afterSend?: () => Promise<void> | void,
    recovery?: OnceRecovery,
  ): Promise<OnceOutcome> {
    const { key, ttlSeconds } = this.marker(subject);
    const nowSec = Math.floor(now.getTime() / 1000);
    const took = await this.redis.set(key, `claimed ${formatISO(now)}`, 'EX', ttlSeconds, 'NX');
    const attempt: OnceAttempt = {};
    if (took !== 'OK') {
      const state = (await this.redis.get(key)) ?? '';
      const sent = SENT.exec(state);
      if (sent || !recovery)
        return { by: 'earlier-attempt', sent: sent ? { channel: sent[1]!, ts: sent[2]! } : null };
      // `pending <epoch s>` (the answer was lost) or `claimed <time>` (a crash before the record): an
      // earlier attempt may have sent it, so the sender looks for it from then on before sending.
      const since = PENDING.exec(state)?.[1] ?? Date.parse(state.replace(/^claimed /, '')) / 1000;
      attempt.lookFirst = Number.isFinite(Number(since)) ? Math.floor(Number(since)) : nowSec - 3600;
    }
    let sent: SentMessage | null;
    try {
      sent = await send(attempt);
    } catch (err) {
      if (recovery?.mayHaveSent(err))
        await this.redis.set(key, `pending ${attempt.lookFirst ?? nowSec}`, 'EX', ttlSeconds);
      else await this.redis.del(key);
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
