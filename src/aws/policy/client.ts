// Access Analyzer's policy tools belong to no analyzer: they run in the principal's account (through
// the member role, as other gateways do) and in one region. Their conflict and quota errors say what
// they mean for policy generation.
import type { AccessAnalyzerClient } from '@aws-sdk/client-accessanalyzer';
import type { AwsClients } from '../clients.ts';
import { AwsError, toAwsError } from '../errors.ts';

export type PolicyClients = Pick<AwsClients, 'accessAnalyzerIn' | 'accessAnalyzer' | 'iam'>;

/** Access Analyzer in `accountId`, or in the caller's account when none is given. */
export function accessAnalyzerFor(
  clients: PolicyClients,
  region: string,
  accountId: string | undefined,
): AccessAnalyzerClient {
  return accountId ? clients.accessAnalyzerIn(region, accountId) : clients.accessAnalyzer(region);
}

/** AWS error codes mapped to a plain explanation of what they mean for policy generation. */
export function policyError(operation: string, accountId: string | undefined): (err: unknown) => AwsError {
  return (err) => {
    const e = toAwsError(err, operation);
    const status = (err as { $metadata?: { httpStatusCode?: number } })?.$metadata?.httpStatusCode;
    const where = accountId ? ` in account ${accountId}` : '';
    if (e.kind === 'conflict' || status === 409) {
      return new AwsError(
        'conflict',
        operation,
        e.code,
        `another policy generation is running${where} (AWS runs one at a time per account): ${e.message}`,
        e.retryAfterSeconds,
      );
    }
    if (e.kind === 'quota' || status === 402) {
      return new AwsError(
        'quota',
        operation,
        e.code,
        `the daily limit of policy generations${where} is reached (canceled ones count): ${e.message}`,
        e.retryAfterSeconds,
      );
    }
    return e;
  };
}
