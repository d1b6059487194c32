// How the IAM gateway's modules call IAM: in the role's account, errors mapped to AwsError, and
// retried a few times when IAM says "try again" (the SDK does not retry those 409s).
import type { IAMClient } from '@aws-sdk/client-iam';
import type { AwsClients } from '../clients.ts';
import { call, collect, type RetryPolicy } from '../paging.ts';
import type { IamGatewayOptions } from './types.ts';

const TRANSIENT_CODES = new Set([
  'ConcurrentModification',
  'ConcurrentModificationException',
  'EntityTemporarilyUnmodifiable',
  'EntityTemporarilyUnmodifiableException',
]);
const TRANSIENT_RETRIES = 3;

/** A page of an IAM List* call: Marker names the next one. */
interface MarkedPage {
  Marker?: string | undefined;
}

export interface IamContext {
  client(accountId: string): IAMClient;
  /** An SDK paginator's config in `accountId`, from `startingToken` when a page is asked for again. */
  paging(accountId: string, startingToken: string | undefined): { client: IAMClient; startingToken?: string };
  /** One IAM call (`operation` without the `IAM.` prefix). */
  call<T>(operation: string, run: () => Promise<T>): Promise<T>;
  /** Every item of an IAM listing; `paginate` is the SDK's paginator from a Marker. */
  list<P extends MarkedPage, T>(
    operation: string,
    paginate: (startingToken: string | undefined) => AsyncIterable<P>,
    items: (page: P) => readonly T[] | undefined,
  ): Promise<T[]>;
}

export function iamContext(clients: Pick<AwsClients, 'iam'>, opts: IamGatewayOptions = {}): IamContext {
  const sleep = opts.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const retryDelayMs = opts.retryDelayMs ?? 500;
  const transient: RetryPolicy = async (e, retries) => {
    if (!TRANSIENT_CODES.has(e.code) || retries >= TRANSIENT_RETRIES) return false;
    await sleep(retryDelayMs * (retries + 1));
    return true;
  };
  return {
    client: (accountId) => clients.iam(accountId),
    paging: (accountId, startingToken) => ({
      client: clients.iam(accountId),
      ...(startingToken ? { startingToken } : {}),
    }),
    call: (operation, run) => call(`IAM.${operation}`, run, transient),
    list: (operation, paginate, items) =>
      collect({
        operation: `IAM.${operation}`,
        paginate,
        items,
        retry: { policy: transient, nextToken: (page) => page.Marker },
      }),
  };
}
