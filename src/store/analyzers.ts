// Which analyzers are service-linked (managed by another AWS service): the scan records them, the
// action jobs look them up, because a click carries only the analyzer's ARN.
import type { Redis } from 'ioredis';
import type { AnalyzerInfo } from '../findings/model.ts';
import type { Keys } from './keys.ts';

/** Records the service-linked analyzers a scan listed (ARN -> managing service). */
export async function recordServiceLinked(
  redis: Redis,
  keys: Keys,
  analyzers: readonly AnalyzerInfo[],
): Promise<void> {
  const linked = analyzers.filter((a) => a.managedBy);
  if (linked.length === 0) return;
  await redis.hset(
    keys.serviceLinkedAnalyzers(),
    Object.fromEntries(linked.map((a) => [a.arn, a.managedBy!])),
  );
}

/** The analyzer of a click, with `managedBy` when the scan saw it is service-linked. */
export async function analyzerRef(
  redis: Redis,
  keys: Keys,
  arn: string,
  region: string,
): Promise<{ arn: string; region: string; managedBy?: string }> {
  const managedBy = await redis.hget(keys.serviceLinkedAnalyzers(), arn);
  return managedBy ? { arn, region, managedBy } : { arn, region };
}

/** The ARNs of every service-linked analyzer a scan has seen. */
export async function serviceLinkedAnalyzers(redis: Redis, keys: Keys): Promise<Set<string>> {
  return new Set(Object.keys(await redis.hgetall(keys.serviceLinkedAnalyzers())));
}
