// Builds the Bolt app for the web role: HTTP receiver (signed requests on /slack/events) or Socket Mode,
// plus /healthz and /readyz, which Bolt serves in HTTP mode and a small side server serves in Socket Mode.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { App, type AppOptions } from '@slack/bolt';
import type { Logger } from 'pino';
import type { SlackReceiverEnv } from '../config/env.ts';
import { boltLogger, scrubSecrets } from '../log.ts';

export interface SlackAppOptions {
  receiver: SlackReceiverEnv;
  botToken: string;
  /** Web API base (`https://slack.com/api/` by default, or a sandbox). */
  slackApiUrl?: string;
  /** HTTP port: the Slack receiver in HTTP mode, the health server in Socket Mode. 0 picks a free one. */
  port: number;
  logger: Logger;
  /** True when the process can do its work (Redis reachable, config loaded). */
  ready: () => Promise<boolean>;
  /** Adds the listeners; called once, before the receiver starts. */
  register: (app: App) => void;
  /** With botUserId: skips the auth.test call Bolt would otherwise make. */
  botId?: string;
  botUserId?: string;
  /** How long /readyz waits for `ready()` before answering 503. */
  readyTimeoutMs?: number;
}

export interface SlackApp {
  app: App;
  /** Starts the receiver (and the health server in Socket Mode); resolves with the bound HTTP port. */
  start(): Promise<{ port: number }>;
  /** Stops the receiver (and the health server); safe to call when not started. */
  stop(): Promise<void>;
}

export const HEALTH_PATHS = { live: '/healthz', ready: '/readyz' } as const;

export function createSlackApp(opts: SlackAppOptions): SlackApp {
  const { logger, receiver } = opts;
  const slackLog = boltLogger(logger);
  const health = healthHandlers(opts.ready, opts.readyTimeoutMs ?? 2000, logger);
  const knownBot = opts.botId !== undefined && opts.botUserId !== undefined;

  const common: AppOptions = {
    token: opts.botToken,
    ...(knownBot && { botId: opts.botId, botUserId: opts.botUserId }),
    // Without a known bot identity, Bolt calls auth.test from the constructor and a failure becomes an
    // unhandled rejection; deferring lets start() await it and fail with a clear error instead.
    deferInitialization: !knownBot,
    logger: slackLog,
    // Match pino's level, or Bolt resets the adapter to INFO.
    logLevel: slackLog.getLevel(),
    clientOptions: {
      ...(opts.slackApiUrl !== undefined && { slackApiUrl: opts.slackApiUrl }),
      retryConfig: { retries: 2 },
      // Listeners have 3 s to answer; a 429 pause of a minute helps nobody.
      rejectRateLimitedCalls: true,
    },
  };
  const app =
    receiver.mode === 'http'
      ? new App({
          ...common,
          signingSecret: receiver.signingSecret,
          endpoints: '/slack/events',
          customRoutes: [
            { path: HEALTH_PATHS.live, method: ['GET', 'HEAD'], handler: health.live },
            { path: HEALTH_PATHS.ready, method: ['GET', 'HEAD'], handler: health.ready },
          ],
        })
      : new App({ ...common, socketMode: true, appToken: receiver.appToken });

  app.error(async (error) => {
    const e = error as Error & { code?: string; original?: unknown };
    logger.error(
      { err: { name: e.name, code: e.code, message: scrubSecrets(String(e.message)) } },
      'slack listener failed',
    );
    // Rethrow so the receiver answers as Bolt does by default (500 unless already acked, 401 on authorize).
    throw error;
  });

  opts.register(app);

  let healthServer: Server | undefined;
  let started = false;

  return {
    app,
    async start() {
      if (!knownBot) await app.init();
      if (receiver.mode === 'http') {
        const server = await app.start(opts.port);
        started = true;
        const port = (server.address() as AddressInfo).port;
        logger.info({ port, mode: 'http' }, 'slack receiver listening');
        return { port };
      }
      healthServer = createServer((req, res) => {
        const path = new URL(req.url ?? '/', 'http://localhost').pathname;
        if (req.method !== 'GET' && req.method !== 'HEAD') res.writeHead(405).end();
        else if (path === HEALTH_PATHS.live) health.live(req, res);
        else if (path === HEALTH_PATHS.ready) health.ready(req, res);
        else res.writeHead(404).end();
      });
      const port = await listen(healthServer, opts.port);
      try {
        await app.start();
      } catch (err) {
        await close(healthServer);
        healthServer = undefined;
        throw err;
      }
      started = true;
      logger.info({ port, mode: 'socket' }, 'slack socket mode connected; health server listening');
      return { port };
    },
    async stop() {
      if (started) {
        started = false;
        await app.stop();
      }
      if (healthServer) {
        const s = healthServer;
        healthServer = undefined;
        await close(s);
      }
    },
  };
}

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

function healthHandlers(
  ready: () => Promise<boolean>,
  timeoutMs: number,
  logger: Logger,
): { live: Handler; ready: Handler } {
  return {
    live: (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
    },
    ready: (_req, res) => {
      let timer: NodeJS.Timeout | undefined;
      const timedOut = new Promise<string>((r) => {
        timer = setTimeout(() => r(`readiness check timed out after ${timeoutMs} ms`), timeoutMs);
      });
      const checked = ready().then(
        (ok) => (ok ? undefined : 'not ready: Redis unreachable or config not loaded'),
        (err: unknown) => `readiness check failed: ${scrubSecrets((err as Error)?.message ?? String(err))}`,
      );
      void Promise.race([checked, timedOut]).then((reason) => {
        clearTimeout(timer);
        if (reason) logger.warn({ reason }, 'readiness check failed');
        res.writeHead(reason ? 503 : 200, { 'content-type': 'text/plain' }).end(reason ?? 'ready');
      });
    },
  };
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
  return new Promise((resolve, reject) => server.close((err) => (err ? reject(err) : resolve())));
}
