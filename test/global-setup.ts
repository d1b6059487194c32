// Runs once before the suite: the integration and end-to-end tests need a real Redis. Without one the
// suite stops here, in a second, saying how to start one, instead of every test retrying a refused
// connection until its timeout.
import { Redis } from 'ioredis';

export default async function checkRedis(): Promise<void> {
  const url = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
  const redis = new Redis(url, {
    lazyConnect: true,
    connectTimeout: 2000,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  let cause: Error | undefined;
  redis.on('error', (err) => {
    cause ??= err;
  });
  try {
    await redis.connect();
    await redis.ping();
  } catch (err) {
    const u = new URL(url);
    const shown = url.replace(/\/\/[^@/]*@/, '//***@');
    // A thrown error would be followed by vitest's "no test files found" and a stack; this is the message.
    process.stderr.write(
      `\nno Redis answers at ${shown} (${(cause ?? (err as Error)).message}); the tests need one. Start it with\n` +
        `  redis-server --daemonize yes --bind ${u.hostname || '127.0.0.1'} --port ${u.port || 6379} --save "" --appendonly no\n` +
        'or `docker compose up -d redis`, or set REDIS_URL to a Redis that answers.\n\n',
    );
    process.exit(1);
  } finally {
    redis.disconnect();
  }
}
