// Admin notices are sent when what they report changes, not on every scan: this store keeps the state
// each one last reported (`notice:<id>`, src/store/keys.ts names them by subject).
import type { Redis } from 'ioredis';
import { type Keys, type NoticeSubject, noticeId } from './keys.ts';

/** The state that means "no problem": reported only when it ends a problem reported before. */
export const NOTICE_OK = 'ok';

export interface NoticeChange {
  /** The notice's id (its outbox key). */
  id: string;
  /** The state reported last time, or null when nothing was reported about this subject yet. */
  previous: string | null;
}

export class NoticeStore {
  constructor(
    private readonly redis: Redis,
    private readonly k: Keys,
  ) {}

  /**
   * Calls `report` when `state` differs from the state last reported about `subject` (a first
   * NOTICE_OK reports nothing: there was no problem to clear), then records `state`. The state is
   * recorded only after `report` returned, so a report that failed is made again by the retry.
   * True when `report` was called.
   */
  async reportOnChange(
    subject: NoticeSubject,
    state: string,
    report: (change: NoticeChange) => Promise<void>,
  ): Promise<boolean> {
    const key = this.k.notice(subject);
    const previous = await this.redis.get(key);
    if (previous === state) return false;
    if (state === NOTICE_OK && previous === null) return false;
    await report({ id: noticeId(subject), previous });
    await this.redis.set(key, state);
    return true;
  }

  /** Forgets what was reported, so the next problem about `subject` is reported again. */
  /** The state last reported for each subject (null where nothing was), in order. */
  async statesOf(subjects: NoticeSubject[]): Promise<(string | null)[]> {
    if (subjects.length === 0) return [];
    return this.redis.mget(...subjects.map((s) => this.k.notice(s)));
  }

  async clear(subject: NoticeSubject): Promise<void> {
    await this.redis.del(this.k.notice(subject));
  }
}
