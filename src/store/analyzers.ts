// Which analyzers are service-linked (managed by another AWS service): the scan records them, the
// action jobs look them up, because a click carries only the analyzer's ARN.
import type { Redis } from 'ioredis';
import type { AnalyzerInfo } from '../findings/model.ts';
import type { Keys } from './keys.ts';

export class ServiceLinkedAnalyzers {
  constructor(
    private readonly redis: Redis,
    private readonly k: Keys,
  ) {}

  /** Records the service-linked analyzers a scan listed (ARN -> managing service). */
  async record(analyzers: readonly AnalyzerInfo[]): Promise<void> {
    const linked = analyzers.filter((a) => a.managedBy);
    if (linked.length === 0) return;
    await this.redis.hset(
      this.k.serviceLinkedAnalyzers(),
      Object.fromEntries(linked.map((a) => [a.arn, a.managedBy!])),
    );
  }

  /** The analyzer of a click, with `managedBy` when the scan saw it is service-linked. */
  async ref(arn: string, region: string): Promise<{ arn: string; region: string; managedBy?: string }> {
    const managedBy = await this.redis.hget(this.k.serviceLinkedAnalyzers(), arn);
    return managedBy ? { arn, region, managedBy } : { arn, region };
  }

  /** The ARNs of every service-linked analyzer a scan has seen. */
  async all(): Promise<Set<string>> {
    return new Set(Object.keys(await this.redis.hgetall(this.k.serviceLinkedAnalyzers())));
  }
}
