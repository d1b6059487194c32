// When a failed job stops being retried: the one rule the action, recommendation and policy jobs share.
import { type Job, UnrecoverableError } from 'bullmq';
import { AwsError, type AwsErrorKind } from '../src/aws/errors.ts';
import { isRedisUnavailable, REDIS_UNAVAILABLE } from '../src/store/errors.ts';

/** AWS errors a retry cannot cure: the request is wrong, forbidden, or about something gone. */
export const PERMANENT_AWS_ERRORS: readonly AwsErrorKind[] = ['access-denied', 'invalid', 'not-found'];

/**
 * True when this failure is the job's last: an UnrecoverableError, a permanent AWS error, any other
 * error when `nonAwsIsFinal`, or the job's last attempt. The caller then reports and audits it.
 */
export function isFinalFailure(
  err: unknown,
  job: Pick<Job, 'attemptsMade' | 'opts'>,
  opts: { permanent?: readonly AwsErrorKind[]; nonAwsIsFinal?: boolean } = {},
): boolean {
  if (err instanceof UnrecoverableError) return true;
  if (err instanceof AwsError) {
    if ((opts.permanent ?? PERMANENT_AWS_ERRORS).includes(err.kind)) return true;
  } else if (opts.nonAwsIsFinal) return true;
  return job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
}

/** No retry of a job waits longer than this, whatever the attempt. */
export const MAX_RETRY_DELAY_MS = 60_000;

/**
 * BullMQ backoff strategy for RETRY_BACKOFF: exponential from the job's `backoff.delay` with jitter
 * (`backoff.jitter`, default 0.5), capped at MAX_RETRY_DELAY_MS, and never shorter than the
 * `retryAfterSeconds` AWS sent with a ThrottlingException the SDK's own retries could not outlast.
 */
export function retryBackoff(
  attemptsMade: number,
  _type?: string,
  err?: Error,
  job?: { opts: { backoff?: number | { delay?: number; jitter?: number } } },
): number {
  const b = job?.opts.backoff;
  const base = typeof b === 'number' ? b : (b?.delay ?? 2000);
  const jitter = typeof b === 'object' ? (b.jitter ?? 0.5) : 0.5;
  const max = Math.min(MAX_RETRY_DELAY_MS, base * 2 ** Math.max(0, attemptsMade - 1));
  const delay = Math.floor(max * (1 - jitter) + Math.random() * max * jitter);
  const retryAfter =
    err instanceof AwsError && err.kind === 'throttled' && err.retryAfterSeconds
      ? err.retryAfterSeconds * 1000
      : 0;
  return Math.max(delay, retryAfter);
}

/** A failure in words for the person and the audit log: AWS's code and message, or a Redis outage as such. */
export function failureMessage(err: unknown): string {
  if (err instanceof AwsError) return `${err.code}: ${err.message}`;
  if (isRedisUnavailable(err)) return REDIS_UNAVAILABLE;
  return err instanceof Error ? err.message : String(err);
}
