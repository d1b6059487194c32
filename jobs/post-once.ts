// Messages a retryable job posts at most once. BullMQ retries a job that throws; a job that posted a
// receipt and then failed on a later step (a Redis write, the audit append) would post it again.
//
// Before posting, the job claims a marker keyed by something stable across its retries (its
// deterministic job id and the step, `${job.id}:receipt`); a retry that finds the marker skips the
// post. The protocol, shared with the weekly digest, is src/store/once.ts.
import type { PostedMessage } from '../src/slack/client.ts';
import type { JobDeps } from './deps.ts';

/**
 * Runs `post` unless an earlier attempt with the same `onceKey` claimed it. Returns the message
 * posted, by this attempt or an earlier one, or null when an earlier attempt claimed the post but
 * did not record where it went (it stopped between the claim and the record).
 */
export async function postOnce(
  deps: Pick<JobDeps, 'once' | 'now' | 'logger'>,
  onceKey: string,
  post: () => Promise<PostedMessage>,
): Promise<PostedMessage | null> {
  const outcome = await deps.once.run({ kind: 'job-post', onceKey }, deps.now(), post);
  if (outcome.by === 'earlier-attempt')
    deps.logger.info({ onceKey }, 'message already posted by an earlier attempt; not posting again');
  return outcome.sent;
}

/** The once-key of one step of a job: its id is deterministic, so every retry gets the same key. */
export function onceKey(job: { id?: string; name: string }, step: string): string {
  if (!job.id) throw new Error(`job ${job.name} has no id; its posts cannot be made once`);
  return `${job.id}:${step}`;
}
