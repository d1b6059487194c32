// Finds a Redis for the demo and the benchmark: the one at REDIS_URL when it answers, otherwise a
// throw-away redis-server started on a free port (nothing kept on disk).
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { Redis } from 'ioredis';

async function answers(url: string): Promise<boolean> {
  const r = new Redis(url, {
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    connectTimeout: 1000,
  });
  r.on('error', () => undefined);
  try {
    await r.connect();
    return (await r.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    r.disconnect();
  }
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

export async function ensureRedis(
  url: string,
): Promise<{ url: string; stop(): Promise<void>; started: boolean }> {
  if (await answers(url)) return { url, started: false, stop: async () => {} };
  const port = await freePort();
  const child = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    {
      stdio: 'ignore',
    },
  );
  const failed = new Promise<never>((_, reject) =>
    child.on('error', (err) =>
      reject(
        new Error(
          `no Redis answers at ${url} and redis-server could not be started (${err.message}). ` +
            'Install Redis (apt-get install redis-server, brew install redis) or run `docker compose up -d redis`.',
        ),
      ),
    ),
  );
  const local = `redis://127.0.0.1:${port}`;
  for (let i = 0; i < 50; i++) {
    const ok = await Promise.race([answers(local), failed]);
    if (ok) return { url: local, started: true, stop: async () => void child.kill('SIGTERM') };
    await new Promise((r) => setTimeout(r, 100));
  }
  child.kill('SIGTERM');
  throw new Error(`redis-server on port ${port} did not answer`);
}

/** Deletes every key under a prefix (the demo's and `npm run try`'s state, when they stop). */
export async function wipePrefix(url: string, prefix: string): Promise<void> {
  const r = new Redis(url);
  try {
    let cursor = '0';
    do {
      const [next, batch] = await r.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
      cursor = next;
      if (batch.length) await r.del(...batch);
    } while (cursor !== '0');
  } finally {
    await r.quit();
  }
}
