// When a failed job stops being retried: the one rule the action, recommendation and policy jobs share.
import { type Job, UnrecoverableError } from 'bullmq';
import { AwsError, type AwsErrorKind } from '../src/aws/errors.ts';

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
