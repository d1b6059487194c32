// Messages a retryable job posts at most once. BullMQ retries a job that throws; a job that posted a
// receipt and then failed on a later step (a Redis write, the audit append) would post it again.
//
// Before posting, the job claims a marker keyed by something stable across its retries (its
// deterministic job id and the step, `${job.id}:receipt`) with SET NX; a retry that finds the marker
// `sent` skips the post. The message carries the once-key in its metadata: a post whose answer was
// lost (a 5xx, a dropped connection: Slack may have posted it) leaves the marker `pending`, and a
// retry that finds it `pending`, or still `claimed` (a crash between the claim and the record), looks
// for the message in the channel first (SlackGateway.post's `lookFirst`) and posts only if it is
// not there. A post Slack refused (`ok: false`) drops the marker and rethrows, so the retry posts.
import { formatISO } from 'date-fns';
import { mayHaveActed, type PostedMessage } from '../src/slack/client.ts';
import type { JobDeps } from './deps.ts';

/** Markers outlive every retry of a job (backoff is seconds to minutes) by far. */
export const POST_ONCE_TTL_SECONDS = 7 * 86_400;

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
 * posted, by this attempt or an earlier one (found again by its metadata).
 */
export async function postOnce(
  deps: Pick<JobDeps, 'redis' | 'keys' | 'now' | 'logger'>,
  onceKey: string,
  post: (marker: PostOnceMarker) => Promise<PostedMessage>,
): Promise<PostedMessage | null> {
  const marker = deps.keys.jobPost(onceKey);
  const nowSec = Math.floor(deps.now().getTime() / 1000);
  const took = await deps.redis.set(
    marker,
    `claimed ${formatISO(deps.now())}`,
    'EX',
    POST_ONCE_TTL_SECONDS,
    'NX',
  );
  let lookFirst: number | undefined;
  if (took !== 'OK') {
    const state = (await deps.redis.get(marker)) ?? '';
    const sent = /^sent (\S+) (\S+)$/.exec(state);
    if (sent) {
      deps.logger.info({ onceKey }, 'message already posted by an earlier attempt; not posting again');
      return { channel: sent[1]!, ts: sent[2]! };
    }
    // `pending <epoch s>` or `claimed <ISO time>`: an earlier attempt may have posted it.
    const since = /^pending (\d+)$/.exec(state)?.[1] ?? Date.parse(state.replace(/^claimed /, '')) / 1000;
    lookFirst = Number.isFinite(Number(since)) ? Math.floor(Number(since)) : nowSec - 3600;
  }
  let posted: PostedMessage;
  try {
    posted = await post({ onceKey, ...(lookFirst !== undefined ? { lookFirst } : {}) });
  } catch (err) {
    if (mayHaveActed(err))
      await deps.redis.set(marker, `pending ${lookFirst ?? nowSec}`, 'EX', POST_ONCE_TTL_SECONDS);
    else await deps.redis.del(marker);
    throw err;
  }
  await deps.redis.set(marker, `sent ${posted.channel} ${posted.ts}`, 'EX', POST_ONCE_TTL_SECONDS);
  return posted;
}

/** The once-key of one step of a job: its id is deterministic, so every retry gets the same key. */
export function onceKey(job: { id?: string; name: string }, step: string): string {
  if (!job.id) throw new Error(`job ${job.name} has no id; its posts cannot be made once`);
  return `${job.id}:${step}`;
}
