// Messages a retryable job posts at most once. BullMQ retries a job that throws; a job that posted a
// receipt and then failed on a later step (a Redis write, the audit append) would post it again.
//
// Before posting, the job claims a marker keyed by something stable across its retries (its
// deterministic job id and the step, `${job.id}:receipt`) with SET NX; a retry that finds the marker
// skips the post. A failed post drops the marker and rethrows, so the retry posts. A crash between
// the claim and the post loses that one message (at most once, never twice): the same trade as the
// aging reminders and the digest, since Slack's API has no idempotency key and reading the thread
// back would cost a history call per retry.
import { formatISO } from 'date-fns';
import type { PostedMessage } from '../src/slack/client.ts';
import type { JobDeps } from './deps.ts';

/** Markers outlive every retry of a job (backoff is seconds to minutes) by far. */
export const POST_ONCE_TTL_SECONDS = 7 * 86_400;

/**
 * Runs `post` unless an earlier attempt with the same `onceKey` claimed it. Returns the message
 * posted, by this attempt or an earlier one, or null when an earlier attempt claimed the post but
 * did not record where it went (it stopped between the claim and the record).
 */
export async function postOnce(
  deps: Pick<JobDeps, 'redis' | 'keys' | 'now' | 'logger'>,
  onceKey: string,
  post: () => Promise<PostedMessage>,
): Promise<PostedMessage | null> {
  const marker = deps.keys.jobPost(onceKey);
  const took = await deps.redis.set(
    marker,
    `claimed ${formatISO(deps.now())}`,
    'EX',
    POST_ONCE_TTL_SECONDS,
    'NX',
  );
  if (took !== 'OK') {
    const sent = /^sent (\S+) (\S+)$/.exec((await deps.redis.get(marker)) ?? '');
    deps.logger.info({ onceKey }, 'message already posted by an earlier attempt; not posting again');
    return sent ? { channel: sent[1]!, ts: sent[2]! } : null;
  }
  let posted: PostedMessage;
  try {
    posted = await post();
  } catch (err) {
    await deps.redis.del(marker);
    throw err;
  }
  await deps.redis.set(marker, `sent ${posted.channel} ${posted.ts}`, 'KEEPTTL');
  return posted;
}

/** The once-key of one step of a job: its id is deterministic, so every retry gets the same key. */
export function onceKey(job: { id?: string; name: string }, step: string): string {
  if (!job.id) throw new Error(`job ${job.name} has no id; its posts cannot be made once`);
  return `${job.id}:${step}`;
}
