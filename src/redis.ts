// The one place that opens Redis connections: a single server, or Redis Cluster (MemoryDB, ElastiCache
// in cluster mode) from one seed URL. On a cluster every key and BullMQ queue sits under the hash tag of
// redis.keyPrefix (`{ap}:`), so they all live in one slot: multi-key commands, Lua scripts and
// pipelines keep working, and SCAN is sent to the node that owns that slot.
import { Cluster, Redis, type RedisOptions } from 'ioredis';

export interface RedisConnectOptions {
  url: string;
  /** Connect to Redis Cluster, `url` being any node (or the cluster's configuration endpoint). */
  cluster?: boolean;
  /** The key prefix: on a cluster, its hash tag decides which node SCAN asks. */
  keyPrefix: string;
  options?: Pick<
    RedisOptions,
    'maxRetriesPerRequest' | 'enableOfflineQueue' | 'retryStrategy' | 'lazyConnect'
  >;
}

/**
 * A connection typed as `Redis`: ioredis's Cluster answers the same commands, BullMQ accepts either,
 * and the bot's SCAN walks go to the slot owner (below), so callers need not know which one they got.
 */
export function connectRedis(opts: RedisConnectOptions): Redis {
  if (!opts.cluster) return new Redis(opts.url, opts.options ?? {});
  const u = new URL(opts.url);
  const { retryStrategy, enableOfflineQueue, ...redisOptions } = opts.options ?? {};
  const cluster = new Cluster([{ host: u.hostname, port: Number(u.port || 6379) }], {
    ...(retryStrategy && { clusterRetryStrategy: retryStrategy }),
    ...(enableOfflineQueue !== undefined && { enableOfflineQueue }),
    // Managed clusters announce their nodes by address; keep TLS checking against the seed's name.
    dnsLookup: (address, callback) => callback(null, address),
    redisOptions: {
      ...redisOptions,
      ...(u.username && { username: decodeURIComponent(u.username) }),
      ...(u.password && { password: decodeURIComponent(u.password) }),
      ...(u.protocol === 'rediss:' && { tls: { servername: u.hostname } }),
    },
  });
  routeScanToSlotOwner(cluster, opts.keyPrefix);
  return cluster as unknown as Redis;
}

/** The hash tag Redis Cluster hashes for a key (`{ap}:finding:1` → `ap`), or undefined when it has none. */
export function hashTag(key: string): string | undefined {
  const open = key.indexOf('{');
  if (open === -1) return undefined;
  const close = key.indexOf('}', open + 1);
  return close > open + 1 ? key.slice(open + 1, close) : undefined;
}

/**
 * SCAN has no key, so a cluster would send it to any node. Every key of the bot hashes to the slot of
 * the prefix's tag: send SCAN to the master that owns it (looked up on each call, so a failover or a
 * resharding is followed).
 */
function routeScanToSlotOwner(cluster: Cluster, keyPrefix: string): void {
  let slot: Promise<number> | undefined;
  const owner = async (): Promise<Redis> => {
    slot ??= cluster.call('CLUSTER', 'KEYSLOT', keyPrefix) as Promise<number>;
    const nodeKey = cluster.slots[await slot]?.[0];
    const node = cluster.nodes('master').find((n) => `${n.options.host}:${n.options.port}` === nodeKey);
    if (!node) throw new Error(`no Redis Cluster node owns slot ${await slot} (prefix ${keyPrefix})`);
    return node;
  };
  (cluster as unknown as { scan: (...args: unknown[]) => Promise<unknown> }).scan = async (...args) =>
    (await owner()).scan(...(args as Parameters<Redis['scan']>));
}
/** Lost or refused Redis connections: the runtime's Redis watch reports those, once per backoff step. */
export function isConnectionError(err: Error & { code?: string }): boolean {
  return (
    /^(ECONNREFUSED|ECONNRESET|ENOTFOUND|ETIMEDOUT|EPIPE|EHOSTUNREACH|EAI_AGAIN)$/.test(err.code ?? '') ||
    /Connection is closed|connect ETIMEDOUT|Stream isn't writeable/.test(err.message)
  );
}
