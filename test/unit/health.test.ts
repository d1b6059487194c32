// /healthz follows the event loop; /readyz runs every named check, with a deadline.
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { createHealth, type HealthServer, startHealthServer } from '../../src/health.ts';

let server: HealthServer | undefined;
let stop: (() => void) | undefined;
afterEach(async () => {
  stop?.();
  await server?.close();
  server = undefined;
});

const get = (path: string) =>
  fetch(`http://127.0.0.1:${server!.port}${path}`).then(async (r) => [r.status, await r.text()]);

describe('health endpoints', () => {
  it('answers ready only when every check passes, naming each that fails', async () => {
    let redis: boolean | string = 'Redis at redis://127.0.0.1:1 unreachable (ECONNREFUSED)';
    const health = createHealth({
      checks: {
        redis: () => redis,
        workers: async () => true,
        slow: () => new Promise<boolean>((r) => setTimeout(() => r(true), redis === true ? 0 : 500)),
      },
      logger: pino({ level: 'silent' }),
      timeoutMs: 100,
    });
    stop = health.stop;
    server = await startHealthServer(health, 0, [
      { path: '/metrics', handler: (_q, res) => res.end('m 1\n') },
    ]);
    expect(await get('/readyz')).toEqual([
      503,
      'not ready: redis: Redis at redis://127.0.0.1:1 unreachable (ECONNREFUSED); slow: no answer within 100 ms',
    ]);
    redis = true;
    expect(await get('/readyz')).toEqual([200, 'ready']);
    expect(await get('/healthz')).toEqual([200, 'ok']);
    expect(await get('/metrics')).toEqual([200, 'm 1\n']);
    expect((await get('/nope'))[0]).toBe(404);
  });

  it('fails liveness after the event loop was blocked longer than the limit', async () => {
    const health = createHealth({ checks: {}, logger: pino({ level: 'silent' }), maxEventLoopDelayMs: 200 });
    stop = health.stop;
    server = await startHealthServer(health, 0);
    expect(await get('/healthz')).toEqual([200, 'ok']);
    await new Promise((r) => setTimeout(r, 60)); // the monitor measures from its first tick on
    const until = Date.now() + 400;
    while (Date.now() < until) {
      // a job that never yields
    }
    // While the loop is stuck the probe gets no answer at all (a probe timeout); the first turn after
    // it records the delay, and the next probe is told.
    await new Promise((r) => setTimeout(r, 30));
    const [status, text] = await get('/healthz');
    expect(status).toBe(503);
    expect(text).toMatch(/^event loop blocked for \d+ ms$/);
  });
});
