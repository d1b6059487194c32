// `npm run try [-- --port N]`: the whole product in a browser, without Slack or AWS. Starts the AWS
// sandbox with the demo organisation, the Slack sandbox, and the bot itself (its signed HTTP receiver
// and its workers) wired to them, runs a first scan, and serves a Slack workspace page and an AWS page
// (sandbox/workspace/). Prints one line, `Open http://127.0.0.1:<port>/`, and runs until interrupted.
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import pino, { type Logger } from 'pino';
import { formatProblems } from '../src/config/env.ts';
import { parseConfigText } from '../src/config/load.ts';
import { createRuntime, type Runtime } from '../src/runtime.ts';
import type { SlackApp } from '../src/slack/app.ts';
import { type AwsSandbox, startAwsSandbox } from './aws.ts';
import { startBotReceiver } from './bot-receiver.ts';
import { DEMO_ACCOUNTS, DEMO_CHANNELS, demoData } from './fixtures/demo-org.ts';
import { ensureRedis, wipePrefix } from './redis.ts';
import type { Dispatcher } from './slack/dispatch.ts';
import { type SandboxUser, type SlackSandbox, startSlackSandbox } from './slack.ts';
import { startWorkspaceServer } from './workspace/server.ts';

/** The two people of the sandbox workspace: an admin, and a member of the team channels. */
export const TRY_USERS = {
  member: {
    id: 'U0ALICE01',
    name: 'alice',
    email: 'alice@example.com',
    channels: [
      DEMO_CHANNELS.default,
      DEMO_CHANNELS.platform,
      DEMO_CHANNELS.payments,
      DEMO_CHANNELS.data,
      DEMO_CHANNELS.sandbox,
    ],
  },
  admin: {
    id: 'U0BOB0001',
    name: 'bob',
    email: 'bob@example.com',
    channels: Object.values(DEMO_CHANNELS).filter((c) => c !== DEMO_CHANNELS.gone),
  },
} as const satisfies Record<string, SandboxUser>;

/** A private bucket the AWS page can make public (routed to #team-payments by its tag). */
export const TRY_PRIVATE_BUCKET = 'arn:aws:s3:::payments-reports';

export interface TryOptions {
  port?: number;
  redisUrl?: string;
  logger?: Logger;
  /** Slack's ack deadline (default 3000 ms). */
  ackDeadlineMs?: number;
}

export interface TryStack {
  /** The workspace page (`/`); the AWS page is `${url}aws`. */
  url: string;
  slack: SlackSandbox;
  aws: AwsSandbox;
  rt: Runtime;
  dispatcher: Dispatcher;
  stop(): Promise<void>;
}

export async function startTry(opts: TryOptions = {}): Promise<TryStack> {
  const logger = opts.logger ?? pino({ level: 'warn' }, pino.destination(2));
  const text = await readFile(new URL('./demo-config.yml', import.meta.url), 'utf8');
  const prefix = `try${Date.now().toString(36)}:`;
  const parsed = parseConfigText(
    `${text}\npermissions:\n  admins:\n    users: ["${TRY_USERS.admin.id}"]\nredis:\n  keyPrefix: "${prefix}"\n`,
    'sandbox/demo-config.yml',
  );
  if (!parsed.ok) throw new Error(`try config is invalid:\n${formatProblems(parsed.problems)}`);
  const config = parsed.config;

  const redis = await ensureRedis(opts.redisUrl ?? 'redis://127.0.0.1:6379');
  const data = demoData(new Date());
  data.resources[TRY_PRIVATE_BUCKET] = {
    account: DEMO_ACCOUNTS.prod,
    tags: { team: 'payments', 'access-patrol-channel': DEMO_CHANNELS.payments },
  };
  const aws = await startAwsSandbox({ data });
  const slack = await startSlackSandbox({
    channels: Object.values(DEMO_CHANNELS).filter((c) => c !== DEMO_CHANNELS.gone),
    users: Object.values(TRY_USERS).map((u) => ({ ...u, channels: [...u.channels] })),
  });
  const rt = createRuntime({
    env: { redisUrl: redis.url, slackBotToken: 'xoxb-sandbox-try', slackApiUrl: slack.apiUrl },
    config,
    logger,
    aws: {
      credentials: { accessKeyId: 'AKIASANDBOXTRY000001', secretAccessKey: 'sandbox-secret' },
      endpoints: { accessAnalyzer: aws.url, iam: aws.url, sts: aws.url, tagging: aws.url, s3: aws.url },
      maxAttempts: 3,
    },
  });
  rt.startWorkers();
  let app: SlackApp | undefined;
  let page: Awaited<ReturnType<typeof startWorkspaceServer>> | undefined;
  const stop = async () => {
    await page?.close();
    await app?.stop();
    await rt.close();
    await wipePrefix(redis.url, prefix);
    await Promise.all([aws.close(), slack.close()]);
    await redis.stop();
  };
  try {
    const bot = await startBotReceiver({
      rt,
      slack,
      logger,
      botToken: 'xoxb-sandbox-try',
      ackDeadlineMs: opts.ackDeadlineMs,
    });
    app = bot.app;
    const { dispatcher } = bot;
    await rt.scanNow({ timeoutMs: 120_000 });
    page = await startWorkspaceServer({
      slack,
      aws,
      dispatcher,
      runScheduler: async () => {
        await rt.scanNow({ timeoutMs: 120_000 });
      },
      ...(opts.port !== undefined && { port: opts.port }),
    });
    return { url: page.url, slack, aws, rt, dispatcher, stop };
  } catch (err) {
    await stop().catch(() => undefined);
    throw err;
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values } = parseArgs({ options: { port: { type: 'string' } }, strict: true });
  const port = values.port === undefined ? 0 : Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65_535) {
    process.stderr.write(`try: --port must be a port number (got "${values.port}")\n`);
    process.exit(2);
  }
  startTry({ port, redisUrl: process.env.REDIS_URL }).then(
    (stack) => {
      process.stdout.write(`Open ${stack.url}\n`);
      let stopping = false;
      const stop = () => {
        if (stopping) return;
        stopping = true;
        stack.stop().then(
          () => process.exit(0),
          (err) => {
            process.stderr.write(`try: stopping failed: ${(err as Error).message}\n`);
            process.exit(1);
          },
        );
      };
      process.on('SIGINT', stop);
      process.on('SIGTERM', stop);
    },
    (err) => {
      process.stderr.write(`try failed: ${(err as Error).stack ?? err}\n`);
      process.exit(1);
    },
  );
}
