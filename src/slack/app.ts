// Builds the Bolt app for the web role: HTTP receiver (signed requests on /slack/events) or Socket Mode,
// plus /healthz and /readyz (src/health.ts), which Bolt serves in HTTP mode and a small side server
// serves in Socket Mode. Readiness includes the receiver itself: listening, or Socket Mode connected.
import type { AddressInfo } from 'node:net';
import { App, type AppOptions, HTTPReceiver, SocketModeReceiver } from '@slack/bolt';
import type { Logger } from 'pino';
import type { SlackReceiverEnv } from '../config/env.ts';
import {
  createHealth,
  HEALTH_PATHS,
  type HealthServer,
  type ReadinessCheck,
  type Route,
  startHealthServer,
} from '../health.ts';
import { boltLogger, scrubSecrets } from '../log.ts';
import { guardSlackRequests, MAX_SLACK_BODY_BYTES, type RequestGuardOptions } from './request-guard.ts';

export interface SlackAppOptions {
  receiver: SlackReceiverEnv;
  botToken: string;
  /** Web API base (`https://slack.com/api/` by default, or a sandbox). */
  slackApiUrl?: string;
  /** HTTP port: the Slack receiver in HTTP mode, the health server in Socket Mode. 0 picks a free one. */
  port: number;
  logger: Logger;
  /**
   * What else readiness needs besides the receiver: one check (true when the process can do its work,
   * else false or why not), or named checks (`{ redis, workers }`).
   */
  ready: ReadinessCheck | Record<string, ReadinessCheck>;
  /** More routes on the same port (GET), e.g. /metrics. */
  routes?: Route[];
  /** Adds the listeners; called once, before the receiver starts. */
  register: (app: App) => void;
  /** With botUserId: skips the auth.test call Bolt would otherwise make. */
  botId?: string;
  botUserId?: string;
  /** How long /readyz waits for `ready()` before answering 503. */
  readyTimeoutMs?: number;
  /** Claims a request by its body's hash, so a replay or a Slack retry is acknowledged and ignored. */
  claimRequest?: RequestGuardOptions['claimRequest'];
}

export interface SlackApp {
  app: App;
  /** Starts the receiver (and the health server in Socket Mode); resolves with the bound HTTP port. */
  start(): Promise<{ port: number }>;
  /** Stops the receiver (and the health server); safe to call when not started. */
  stop(): Promise<void>;
  /** Why the receiver cannot take requests now (not listening yet, Socket Mode not connected), or undefined. */
  receiverProblem(): string | undefined;
}

export { HEALTH_PATHS };
export const SLACK_EVENTS_PATH = '/slack/events';

export function createSlackApp(opts: SlackAppOptions): SlackApp {
  const { logger, receiver } = opts;
  const slackLog = boltLogger(logger);
  const knownBot = opts.botId !== undefined && opts.botUserId !== undefined;
  /** The receiver's state as readiness sees it. */
  let receiverState: string | undefined = 'not started';
  const health = createHealth({
    checks: {
      receiver: () => receiverState ?? true,
      ...(typeof opts.ready === 'function' ? { app: opts.ready } : opts.ready),
    },
    logger,
    ...(opts.readyTimeoutMs !== undefined && { timeoutMs: opts.readyTimeoutMs }),
  });

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
  // Socket Mode: the receiver is built here so readiness can follow its client's connection.
  const socket =
    receiver.mode === 'socket'
      ? new SocketModeReceiver({
          appToken: receiver.appToken,
          logger: slackLog,
          logLevel: slackLog.getLevel(),
          installerOptions: { clientOptions: common.clientOptions ?? {} },
        })
      : undefined;
  if (socket) {
    const client = socket.client;
    client.on('connecting', () => {
      receiverState = 'Socket Mode connecting';
    });
    client.on('connected', () => {
      if (receiverState) logger.info('slack socket mode connected');
      receiverState = undefined;
    });
    client.on('reconnecting', () => {
      receiverState = 'Socket Mode reconnecting (apps.connections.open or the WebSocket failed)';
    });
    client.on('disconnected', () => {
      receiverState = 'Socket Mode disconnected';
    });
  }
  let app: App;
  if (receiver.mode === 'http') {
    const http = new HTTPReceiver({
      signingSecret: receiver.signingSecret,
      endpoints: [SLACK_EVENTS_PATH],
      customRoutes: [
        { path: HEALTH_PATHS.live, method: ['GET', 'HEAD'], handler: health.live },
        { path: HEALTH_PATHS.ready, method: ['GET', 'HEAD'], handler: health.ready },
        ...(opts.routes ?? []).map((r) => ({
          path: r.path,
          method: ['GET', 'HEAD'],
          handler: r.handler,
        })),
      ],
      logger: slackLog,
      logLevel: slackLog.getLevel(),
      bodyLimit: MAX_SLACK_BODY_BYTES,
    });
    // Every request to /slack/events passes the guard first (src/slack/request-guard.ts); the
    // receiver's server looks this listener up on each request.
    http.requestListener = guardSlackRequests(
      {
        signingSecret: receiver.signingSecret,
        endpoints: [SLACK_EVENTS_PATH],
        logger,
        ...(opts.claimRequest ? { claimRequest: opts.claimRequest } : {}),
      },
      http.requestListener,
    );
    app = new App({ ...common, receiver: http });
  } else {
    app = new App({ ...common, receiver: socket! });
  }

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

  let healthServer: HealthServer | undefined;
  let started = false;

  return {
    app,
    receiverProblem: () => receiverState,
    async start() {
      if (!knownBot) await initOrExplain(app);
      if (receiver.mode === 'http') {
        const server = await app.start(opts.port);
        started = true;
        receiverState = undefined;
        const port = (server.address() as AddressInfo).port;
        logger.info({ port, mode: 'http' }, 'slack receiver listening');
        return { port };
      }
      // Health first: while Socket Mode connects (or keeps failing to), /readyz says so.
      healthServer = await startHealthServer(health, opts.port, opts.routes);
      const { port } = healthServer;
      receiverState = 'Socket Mode connecting (apps.connections.open)';
      try {
        await app.start();
      } catch (err) {
        await healthServer.close();
        healthServer = undefined;
        throw explainSlackError(err, 'apps.connections.open (the app-level token, SLACK_APP_TOKEN)');
      }
      started = true;
      logger.info({ port, mode: 'socket' }, 'slack socket mode connected; health server listening');
      return { port };
    },
    async stop() {
      health.stop();
      if (started) {
        started = false;
        receiverState = 'stopped';
        await app.stop();
      }
      if (healthServer) {
        const s = healthServer;
        healthServer = undefined;
        await s.close();
      }
    },
  };
}

/** auth.test at start: a rejected token is one clear sentence, not Bolt's stack. */
async function initOrExplain(app: App): Promise<void> {
  try {
    await app.init();
  } catch (err) {
    throw explainSlackError(err, 'auth.test (the bot token, SLACK_BOT_TOKEN)');
  }
}

const TOKEN_ERRORS: Record<string, string> = {
  invalid_auth: 'the token is not valid',
  not_authed: 'no token was sent',
  token_revoked: 'the token was revoked',
  token_expired: 'the token expired',
  account_inactive: 'the app was uninstalled or its user deactivated',
  not_allowed_token_type: 'this kind of token cannot be used here',
};

/** A Slack error from start-up as one actionable line, with Slack's code. */
export function explainSlackError(err: unknown, what: string): Error {
  const e = err as {
    code?: string;
    data?: { error?: string };
    original?: { data?: { error?: string } };
    message?: string;
  };
  const code = e.data?.error ?? e.original?.data?.error ?? e.message?.match(/\b([a-z]+(?:_[a-z]+)+)\b/)?.[1];
  if (code && TOKEN_ERRORS[code]) {
    return new Error(
      `Slack refused ${what}: ${code} (${TOKEN_ERRORS[code]}). Reinstall the app or copy a current token from its settings page.`,
    );
  }
  return new Error(`Slack ${what} failed: ${scrubSecrets(e.message ?? String(err))}`);
}
