// Health endpoints every role serves on PORT: /healthz (liveness: the event loop keeps turning) and
// /readyz (readiness: each check passes: Redis answers, the Slack receiver listens or Socket Mode is
// connected, the workers run), plus any extra route (/metrics). The web role mounts the handlers on
// Bolt's HTTP receiver; Socket Mode and worker-only processes use the small server here.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { scrubSecrets } from './log.ts';

export const HEALTH_PATHS = { live: '/healthz', ready: '/readyz', metrics: '/metrics' } as const;

export type Handler = (req: IncomingMessage, res: ServerResponse) => void;
export interface Route {
  path: string;
  handler: Handler;
}

/** True when ready; false or a reason (shown in the 503 body and the log) when not. */
export type ReadinessCheck = () => Promise<boolean | string> | boolean | string;

export interface HealthOptions {
  checks: Record<string, ReadinessCheck>;
  logger: Logger;
  /** How long /readyz waits for the checks before answering 503. Default 2 s. */
  timeoutMs?: number;
  /** /healthz fails when the event loop was blocked this long in the last window. Default 10 s. */
  maxEventLoopDelayMs?: number;
}

export interface Health {
  live: Handler;
  ready: Handler;
  /** Runs every check; undefined when all pass, else the reasons, `; `-separated. */
  notReady(): Promise<string | undefined>;
  stop(): void;
}

/** Several named checks as one: true, or the reasons of those that fail. */
export function allChecks(checks: Record<string, ReadinessCheck>, timeoutMs = 2000): ReadinessCheck {
  return async () => (await runChecks(checks, timeoutMs)) ?? true;
}

async function runChecks(
  checks: Record<string, ReadinessCheck>,
  timeoutMs: number,
): Promise<string | undefined> {
  const reasons = await Promise.all(
    Object.entries(checks).map(async ([name, check]) => {
      let timer: NodeJS.Timeout | undefined;
      const timedOut = new Promise<string>((r) => {
        timer = setTimeout(() => r(`no answer within ${timeoutMs} ms`), timeoutMs);
      });
      const result = await Promise.race([
        Promise.resolve()
          .then(check)
          .catch((err: unknown) => `check failed: ${(err as Error)?.message ?? String(err)}`),
        timedOut,
      ]);
      clearTimeout(timer);
      if (result === true) return undefined;
      return `${name}: ${result === false ? 'not ready' : scrubSecrets(result)}`;
    }),
  );
  const failed = reasons.filter((r): r is string => r !== undefined);
  return failed.length ? failed.join('; ') : undefined;
}

/** The /healthz and /readyz handlers over a set of named checks. */
export function createHealth(opts: HealthOptions): Health {
  const timeoutMs = opts.timeoutMs ?? 2000;
  const loop = eventLoopWatch(opts.maxEventLoopDelayMs ?? 10_000);
  let lastReason: string | undefined;

  const notReady = () => runChecks(opts.checks, timeoutMs);

  return {
    notReady,
    live: (_req, res) => {
      const blocked = loop.blockedMs();
      if (blocked !== undefined) {
        res.writeHead(503, { 'content-type': 'text/plain' }).end(`event loop blocked for ${blocked} ms`);
        return;
      }
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
    },
    ready: (_req, res) => {
      void notReady().then((reason) => {
        // One log line when readiness changes, not one per probe.
        if (reason !== lastReason) {
          if (reason) opts.logger.warn({ reason }, 'not ready');
          else opts.logger.info('ready');
          lastReason = reason;
        }
        res
          .writeHead(reason ? 503 : 200, { 'content-type': 'text/plain' })
          .end(reason ? `not ready: ${reason}` : 'ready');
      });
    },
    stop: () => loop.stop(),
  };
}

/**
 * Watches the event loop with a heartbeat every quarter of `maxMs`: a beat that comes `maxMs` or more
 * late is the loop that was stuck, and liveness fails for three windows after it, so a probe that
 * arrives a little late (a loaded host, the probe's own delay) still hears of it.
 */
function eventLoopWatch(maxMs: number): { blockedMs(): number | undefined; stop(): void } {
  const beatMs = Math.max(1, Math.floor(maxMs / 4));
  let last = performance.now();
  let stall: { ms: number; at: number } | undefined;
  const timer = setInterval(() => {
    const now = performance.now();
    const late = now - last - beatMs;
    if (late >= maxMs) stall = { ms: Math.round(late), at: now };
    last = now;
  }, beatMs);
  timer.unref();
  return {
    blockedMs() {
      return stall && performance.now() - stall.at < 3 * maxMs ? stall.ms : undefined;
    },
    stop() {
      clearInterval(timer);
    },
  };
}

export interface HealthServer {
  port: number;
  close(): Promise<void>;
}

/** A plain HTTP server for the health routes (and /metrics), for processes without Bolt's receiver. */
export async function startHealthServer(
  health: Health,
  port: number,
  extra: Route[] = [],
): Promise<HealthServer> {
  const routes = new Map<string, Handler>([
    [HEALTH_PATHS.live, health.live],
    [HEALTH_PATHS.ready, health.ready],
    ...extra.map((r) => [r.path, r.handler] as const),
  ]);
  const server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    const handler = routes.get(path);
    if (req.method !== 'GET' && req.method !== 'HEAD') res.writeHead(405).end();
    else if (handler) handler(req, res);
    else res.writeHead(404).end();
  });
  const bound = await listen(server, port);
  return { port: bound, close: () => close(server) };
}

function listen(server: Server, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, () => {
      server.off('error', reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

function close(server: Server): Promise<void> {
  return new Promise((resolve, reject) => {
    server.close((err) => (err ? reject(err) : resolve()));
    server.closeAllConnections();
  });
}
