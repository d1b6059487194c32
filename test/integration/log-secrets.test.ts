// Every byte the bot logs at debug level through a sandbox scan, triage and signed Slack requests,
// searched for the secrets it was given: none may appear, wherever they were (Error messages and
// stacks, nested fields, free text).
import { readFile } from 'node:fs/promises';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AwsSandbox, startAwsSandbox } from '../../sandbox/aws.ts';
import { DEMO_FINDING_IDS, demoData } from '../../sandbox/fixtures/demo-org.ts';
import { type SlackSandbox, startSlackSandbox } from '../../sandbox/slack.ts';
import { secretValues } from '../../src/config/env.ts';
import { parseConfigText } from '../../src/config/load.ts';
import { boltLogger, createLogger } from '../../src/log.ts';
import { JOBS } from '../../src/queue/index.ts';
import { createRuntime, type Runtime } from '../../src/runtime.ts';
import { createSlackApp, type SlackApp } from '../../src/slack/app.ts';
import { registerListeners } from '../../src/slack/listeners/index.ts';
import { REDIS_URL, uniquePrefix, wipePrefix } from '../helpers/runtime.ts';
import { signedPost, slashCommandBody } from '../helpers/slack-requests.ts';
import { recordResponses } from '../helpers/triage.ts';

const SECRETS = {
  SLACK_BOT_TOKEN: 'xoxb-4242424242-1717171717-SeCrEtBoTtOkEnVaLuE01',
  SLACK_SIGNING_SECRET: '8f742231b10e8888abcd99yyyzzz85a5',
  SLACK_APP_TOKEN: 'xapp-1-A0PATROL-1234567890-aPpToKeNsEcReT99',
  AWS_SECRET_ACCESS_KEY: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYSANDBOXKEY',
};

let aws: AwsSandbox;
let slack: SlackSandbox;
let rt: Runtime;
let app: SlackApp;
let output = '';
const prefix = uniquePrefix('log');

beforeAll(async () => {
  aws = await startAwsSandbox({ data: demoData(new Date(), { burst: false }) });
  slack = await startSlackSandbox();
  const text = await readFile(new URL('../../sandbox/demo-config.yml', import.meta.url), 'utf8');
  const parsed = parseConfigText(text, 'demo-config.yml');
  if (!parsed.ok) throw new Error('demo config invalid');
  const config = { ...parsed.config, redis: { ...parsed.config.redis, keyPrefix: prefix } };
  const destination = new Writable({
    write(chunk, _enc, done) {
      output += String(chunk);
      done();
    },
  });
  const logger = createLogger({ level: 'debug', destination, secrets: secretValues(SECRETS) });
  rt = createRuntime({
    env: { redisUrl: REDIS_URL, slackBotToken: SECRETS.SLACK_BOT_TOKEN, slackApiUrl: slack.apiUrl },
    config,
    logger,
    aws: {
      credentials: { accessKeyId: 'AKIASANDBOXLOGS00001', secretAccessKey: SECRETS.AWS_SECRET_ACCESS_KEY },
      endpoints: { accessAnalyzer: aws.url, iam: aws.url, sts: aws.url, tagging: aws.url },
      maxAttempts: 1,
    },
    slackRetries: 0,
  });
  rt.startWorkers();
  app = createSlackApp({
    receiver: { mode: 'http', signingSecret: SECRETS.SLACK_SIGNING_SECRET },
    botToken: SECRETS.SLACK_BOT_TOKEN,
    slackApiUrl: slack.apiUrl,
    port: 0,
    logger,
    ready: async () => true,
    register: (a) => registerListeners(a, rt.listenerDeps()),
  });
}, 60_000);

afterAll(async () => {
  await app?.stop();
  await rt?.close();
  await Promise.all([aws?.close(), slack?.close()]);
  await wipePrefix(prefix);
});

describe('logs keep every secret out', () => {
  it('at debug level, through a scan, triage, Slack requests and errors that quote the secrets', async () => {
    const report = await rt.scanNow({ timeoutMs: 60_000 });
    expect(report.deliveries.length).toBeGreaterThan(0);
    const state = await rt.deps.store.get(DEMO_FINDING_IDS.roleTrustExternal);
    expect(state).toBeTruthy();
    const request = {
      findingId: DEMO_FINDING_IDS.roleTrustExternal,
      analyzerArn: state!.analyzerArn,
      region: state!.region,
      userId: 'U0ALICE',
      replyChannel: state!.channel,
      requestTs: 'log-1',
    };
    await rt.runAction(JOBS.archive, { ...request, reason: 'vendor audit' });

    const { port } = await app.start();
    recordResponses();
    const base = `http://127.0.0.1:${port}`;
    const ok = await signedPost(base, slashCommandBody({ text: 'help' }), SECRETS.SLACK_SIGNING_SECRET);
    expect(ok.status).toBe(200);
    const forged = await signedPost(base, slashCommandBody({ text: 'help' }), 'not-the-secret');
    expect(forged.status).toBe(401);

    // What a careless log call or a library error could carry: every secret, in every shape.
    const leak = `token=${SECRETS.SLACK_BOT_TOKEN} secret=${SECRETS.SLACK_SIGNING_SECRET} app=${SECRETS.SLACK_APP_TOKEN} aws=${SECRETS.AWS_SECRET_ACCESS_KEY}`;
    rt.deps.logger.error({ err: new Error(`request failed: ${leak}`) }, 'call failed');
    rt.deps.logger.debug(
      { deep: { a: { b: { c: { d: { e: { note: leak, appToken: 'anything' } } } } } } },
      leak,
    );
    boltLogger(rt.deps.logger).error('bolt says', new Error(leak), {
      headers: { Authorization: `Bearer ${leak}` },
    });
    rt.deps.logger.warn({ url: 'redis://user:hunter2-redis-password@redis:6379/0' }, 'redis unreachable');

    await new Promise((r) => setTimeout(r, 100));
    const lines = output.trim().split('\n');
    expect(lines.length).toBeGreaterThan(50);
    expect(lines.some((l) => l.includes('"level":20'))).toBe(true);
    for (const secret of Object.values(SECRETS)) expect(output).not.toContain(secret);
    // Nor a recognisable part of one (the AWS key's halves, the tokens' random tails).
    for (const part of [
      'SeCrEtBoTtOkEnVaLuE01',
      'aPpToKeNsEcReT99',
      'bPxRfiCYSANDBOXKEY',
      '8f742231b10e8888',
      'hunter2',
    ])
      expect(output).not.toContain(part);
    expect(output).toContain('redis://***@redis:6379/0');
    expect(output).toContain('[REDACTED]');

    // "channel delivered" names each key once (the channel and scan come from the child logger).
    const delivered = lines.filter((l) => l.includes('"msg":"channel delivered"'));
    expect(delivered.length).toBe(report.deliveries.length);
    for (const line of delivered) {
      expect(line.match(/"channel":/g)).toHaveLength(1);
      expect(line.match(/"scanId":/g)).toHaveLength(1);
    }
  }, 120_000);
});
