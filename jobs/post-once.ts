// Messages a retryable job posts at most once. BullMQ retries a job that throws; a job that posted a
// receipt and then failed on a later step (a Redis write, the audit append) would post it again.
//
// Before posting, the job claims a marker keyed by something stable across its retries (its
// deterministic job id and the step, `${job.id}:receipt`); a retry that finds the marker `sent` skips
// the post. The message carries the once-key in its metadata: a post whose answer was lost (a 5xx, a
// dropped connection: Slack may have posted it) leaves the marker `pending`, and a retry that finds it
// `pending`, or still `claimed` (a crash between the claim and the record), looks for the message in
// the channel first (SlackGateway.post's `lookFirst`) and posts only if it is not there. A post Slack
// refused (`ok: false`) drops the marker and rethrows, so the retry posts. The protocol, shared with
// the weekly digest, is src/store/once.ts.
import { mayHaveActed, type PostedMessage } from '../src/slack/client.ts';
import type { JobDeps } from './deps.ts';

/**
 * What `post` passes to SlackGateway.post: the metadata key the message carries, and when an earlier
 * attempt may have posted it (look for it first).
 */
export interface PostOnceMarker {
  onceKey: string;
  lookFirst?: number;
}

/**
 * Runs `post` unless an earlier attempt with the same `onceKey` posted it. Returns the message
 * posted, by this attempt or an earlier one (found again by its metadata), or null when an earlier
 * attempt's record says it was posted but not where.
 */
export async function postOnce(
  deps: Pick<JobDeps, 'once' | 'now' | 'logger'>,
  onceKey: string,
  post: (marker: PostOnceMarker) => Promise<PostedMessage>,
): Promise<PostedMessage | null> {
  const outcome = await deps.once.run(
    { kind: 'job-post', onceKey },
    deps.now(),
    ({ lookFirst }) => post({ onceKey, ...(lookFirst !== undefined ? { lookFirst } : {}) }),
    undefined,
    { mayHaveSent: mayHaveActed },
  );
  if (outcome.by === 'earlier-attempt')
    deps.logger.info({ onceKey }, 'message already posted by an earlier attempt; not posting again');
  return outcome.sent;
}

/** The once-key of one step of a job: its id is deterministic, so every retry gets the same key. */
export function onceKey(job: { id?: string; name: string }, step: string): string {
  if (!job.id) throw new Error(`job ${job.name} has no id; its posts cannot be made once`);
  return `${job.id}:${step}`;
}
