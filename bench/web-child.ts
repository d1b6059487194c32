// The bot's web role under measurement, in a process of its own (`npm run bench -- --clicks`): the
// runtime and the Bolt HTTP receiver with its signing secret and listeners, as `access-patrol start
// --role web` builds them, and nothing else. bench/clicks.ts sends it signed Slack requests.
//   parent → { type: 'init', init }   child → { type: 'ready', port }
//   parent → { type: 'stats' }        child → { type: 'stats', elu, cpuMs }
//   parent → { type: 'close' }        child exits
import { performance } from 'node:perf_hooks';
import pino from 'pino';
import { configSchema } from '../src/config/schema.ts';
import { createRuntime } from '../src/runtime.ts';
import { createSlackApp } from '../src/slack/app.ts';
import { registerListeners } from '../src/slack/listeners/index.ts';

export interface WebInit {
  redisUrl: string;
  slackApiUrl: string;
  signingSecret: string;
  config: unknown;
  logLevel: string;
  /** Answer finding reads by walking every hash, as before the indexes. */
  walk: boolean;
}

type Msg = { type: 'init'; init: WebInit } | { type: 'stats' } | { type: 'close' };
const send = (m: unknown) => process.send?.(m);

let close: (() => Promise<void>) | undefined;
let elu0 = performance.eventLoopUtilization();
let cpu0 = process.cpuUsage();

async function start(i: WebInit): Promise<number> {
  const logger = pino({ level: i.logLevel });
  const rt = createRuntime({
    env: { redisUrl: i.redisUrl, slackBotToken: 'xoxb-bench-web', slackApiUrl: i.slackApiUrl },
    config: configSchema.parse(i.config),
    logger,
    findingsWalk: i.walk,
  });
  await rt.waitForRedis(10_000);
  const app = createSlackApp({
    receiver: { mode: 'http', signingSecret: i.signingSecret },
    botToken: 'xoxb-bench-web',
    slackApiUrl: i.slackApiUrl,
    port: 0,
    logger,
    ready: () => rt.redisCheck().then((r) => r === true),
    register: (a) => registerListeners(a, rt.listenerDeps()),
    botId: 'B0BENCH',
    botUserId: 'U0BENCHBOT',
  });
  const { port } = await app.start();
  close = async () => {
    await app.stop();
    await rt.close();
  };
  return port;
}

process.on('message', (msg: Msg) => {
  if (msg.type === 'init') {
    start(msg.init).then(
      (port) => {
        elu0 = performance.eventLoopUtilization();
        cpu0 = process.cpuUsage();
        send({ type: 'ready', port });
      },
      (err: Error) => send({ type: 'error', message: err.stack ?? String(err) }),
    );
  } else if (msg.type === 'stats') {
    const cpu = process.cpuUsage(cpu0);
    send({
      type: 'stats',
      elu: performance.eventLoopUtilization(elu0).utilization,
      cpuMs: (cpu.user + cpu.system) / 1000,
    });
  } else if (msg.type === 'close') {
    void (async () => {
      await close?.().catch(() => undefined);
      process.exit(0);
    })();
  }
});
process.on('disconnect', () => process.exit(0));
