import { UnrecoverableError } from 'bullmq';
import { describe, expect, it } from 'vitest';
import { isFinalFailure } from '../../jobs/retry.ts';
import { AwsError, type AwsErrorKind } from '../../src/aws/errors.ts';

const aws = (kind: AwsErrorKind) => new AwsError(kind, 'AccessAnalyzer.GetFindingV2', 'SomeException', 'no');
const attempt = (n: number) => ({ attemptsMade: n - 1, opts: { attempts: 3 } });

describe('isFinalFailure', () => {
  it('retries transient failures until the last attempt', () => {
    expect(isFinalFailure(aws('throttled'), attempt(1))).toBe(false);
    expect(isFinalFailure(new Error('redis down'), attempt(2))).toBe(false);
    expect(isFinalFailure(aws('unavailable'), attempt(3))).toBe(true);
  });

  it('stops at once on what a retry cannot cure', () => {
    for (const kind of ['access-denied', 'invalid', 'not-found'] as const) {
      expect(isFinalFailure(aws(kind), attempt(1))).toBe(true);
    }
    expect(isFinalFailure(new UnrecoverableError('bad job'), attempt(1))).toBe(true);
  });

  it('takes the permanent kinds and the fate of non-AWS errors from the caller', () => {
    expect(isFinalFailure(aws('invalid'), attempt(1), { permanent: ['not-found'] })).toBe(false);
    expect(isFinalFailure(new Error('slack down'), attempt(1), { nonAwsIsFinal: true })).toBe(true);
    expect(isFinalFailure(aws('throttled'), attempt(1), { nonAwsIsFinal: true })).toBe(false);
  });
});
