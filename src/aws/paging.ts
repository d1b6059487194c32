// How every gateway in src/aws calls AWS: one call, or every page of a listing through the SDK's
// paginators (paginateListAnalyzers, paginateListRolePolicies, ...), with failures mapped to AwsError.
import { AwsError, toAwsError } from './errors.ts';

/** A failure's name (`IAM.GetRole`, mapped by toAwsError) or a mapping of its own. */
export type Operation = string | ((err: unknown) => AwsError);

/**
 * Whether to try a failed call again, given its error and how many retries came before (0 on the
 * first failure). It waits before it answers true.
 */
export type RetryPolicy = (error: AwsError, retries: number) => Promise<boolean>;

function mapError(operation: Operation, err: unknown): AwsError {
  return typeof operation === 'string' ? toAwsError(err, operation) : operation(err);
}

/** Runs one call; a failure is an AwsError, asked for again while `retry` says so. */
export async function call<T>(operation: Operation, run: () => Promise<T>, retry?: RetryPolicy): Promise<T> {
  for (let retries = 0; ; retries++) {
    try {
      return await run();
    } catch (err) {
      const e = mapError(operation, err);
      if (!retry || !(await retry(e, retries))) throw e;
    }
  }
}

/** The pages of a paginator as they are asked for, a failed page as an AwsError. */
export async function* pages<P>(operation: Operation, paginator: AsyncIterable<P>): AsyncGenerator<P> {
  const it = paginator[Symbol.asyncIterator]();
  for (;;) {
    let next: IteratorResult<P>;
    try {
      next = await it.next();
    } catch (err) {
      throw mapError(operation, err);
    }
    if (next.done) return;
    yield next.value;
  }
}

export interface Listing<P, T> {
  operation: Operation;
  /** The SDK paginator, from `startingToken` when a page is asked for again (undefined: the first). */
  paginate(startingToken: string | undefined): AsyncIterable<P>;
  items(page: P): readonly T[] | undefined;
  /** With `retry`: a failed page is asked for again, with the token the page before it gave. */
  retry?: { policy: RetryPolicy; nextToken(page: P): string | undefined };
}

/** Every item of every page. */
export async function collect<P, T>(listing: Listing<P, T>): Promise<T[]> {
  const all: T[] = [];
  let token: string | undefined;
  for (let retries = 0; ; retries++) {
    try {
      for await (const page of listing.paginate(token)) {
        all.push(...(listing.items(page) ?? []));
        token = listing.retry?.nextToken(page);
        retries = 0;
      }
      return all;
    } catch (err) {
      const e = mapError(listing.operation, err);
      if (!listing.retry || !(await listing.retry.policy(e, retries))) throw e;
    }
  }
}

/** The result, or null when AWS says the thing does not exist (an AwsError of kind not-found). */
export async function unlessNotFound<T>(result: Promise<T>): Promise<T | null> {
  try {
    return await result;
  } catch (err) {
    if (err instanceof AwsError && err.kind === 'not-found') return null;
    throw err;
  }
}
