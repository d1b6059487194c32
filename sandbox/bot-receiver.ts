// The bot's signed HTTP receiver, wired to the Slack stand-in as Slack wires an app: requests go to the
// manifest's request path, signed with the app's signing secret. Used by `npm run try` and `npm run demo`.
import { readFile } from 'node:fs/promises';
import type { Logger } from 'pino';
import { parse as parseYaml } from 'yaml';
import type { Runtime } from '../src/runtime.ts';
import { createSlackApp, type SlackApp } from '../src/slack/app.ts';
import { registerListeners } from '../src/slack/listeners/index.ts';
import { createDispatcher, type Dispatcher } from './slack/dispatch.ts';
import { SANDBOX_WORKSPACE, type SlackSandbox } from './slack.ts';

const SIGNING_SECRET = 'sandbox-signing-secret';

/** The manifest's slash commands and the path of its request URL, as Slack would use them. */
async function manifest(): Promise<{ commands: string[]; path: string }> {
  const m = parseYaml(await readFile(new URL('../slack-app-manifest.yml', import.meta.url), 'utf8')) as {
    features?: { slash_commands?: { command: string }[] };
    settings?: { interactivity?: { request_url?: string } };
  };
  const url = m.settings?.interactivity?.request_url ?? 'https://localhost/slack/events';
  return { commands: (m.features?.slash_commands ?? []).map((c) => c.command), path: new URL(url).pathname };
}

/**
 * The bot's signed HTTP receiver on a free port, with its listeners, and the Slack stand-in's side of
 * it: a dispatcher that sends clicks, submissions and commands as Slack does, signed, to the manifest's
 * request path. The caller stops `app`.
 */
export async function startBotReceiver(o: {
  rt: Runtime;
  slack: SlackSandbox;
  logger: Logger;
  /** The token the runtime's Slack client uses. */
  botToken: string;
  ackDeadlineMs?: number | undefined;
}): Promise<{ app: SlackApp; dispatcher: Dispatcher }> {
  const { rt, slack, logger } = o;
  const app = createSlackApp({
    receiver: { mode: 'http', signingSecret: SIGNING_SECRET },
    botToken: o.botToken,
    slackApiUrl: slack.apiUrl,
    port: 0,
    logger,
    ready: () =>
      rt.deps.redis.ping().then(
        () => true,
        () => false,
      ),
    register: (a) => registerListeners(a, rt.listenerDeps()),
    botId: SANDBOX_WORKSPACE.botId,
    botUserId: SANDBOX_WORKSPACE.botUserId,
  });
  const { port } = await app.start();
  const m = await manifest();
  const dispatcher = createDispatcher({
    slack,
    requestUrl: `http://127.0.0.1:${port}${m.path}`,
    signingSecret: SIGNING_SECRET,
    commands: m.commands,
    ...(o.ackDeadlineMs !== undefined && { ackDeadlineMs: o.ackDeadlineMs }),
  });
  return { app, dispatcher };
}
