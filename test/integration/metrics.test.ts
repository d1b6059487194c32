// /metrics after a sandbox scan (one region denied, some AWS answers throttled, one owner channel the
// bot is not in)
// and two Slack requests: every counter agrees with what the AWS and Slack stand-ins saw.
import { readFile } from 'node:fs/promises';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AwsSandbox, startAwsSandbox } from '../../sandbox/aws.ts';
import { DEMO_CHANNELS, demoData } from '../../sandbox/fixtures/demo-org.ts';
import { type SlackSandbox, startSlackSandbox } from '../../sandbox/slack.ts';
import { parseConfigText } from '../../src/config/load.ts';
import { createHealth, type HealthServer, startHealthServer } from '../../src/health.ts';
import { measureSlackAcks, metricsRoute } from '../../src/metrics.ts';
import { createRuntime, type Runtime, type ScanReport } from '../../src/runtime.ts';
import { createSlackApp, type SlackApp } from '../../src/slack/app.ts';
import { registerListeners } from '../../src/slack/listeners/index.ts';
import { REDIS_URL, uniquePrefix, wipePrefix } from '../helpers/runtime.ts';
import { signedPost, slashCommandBody } from '../helpers/slack-requests.ts';
import { recordResponses } from '../helpers/triage.ts';

const SECRET = 'metrics-signing-secret';
const prefix = uniquePrefix('met');
let aws: AwsSandbox;
let slack: SlackSandbox;
let rt: Runtime;
let server: HealthServer;
let app: SlackApp;
let stopAcks: () => void;
let report: ScanReport;
let text: string;

/** Prometheus text format: the value of one sample, or the sum of those matching `labels`. */
function sum(name: string, labels: Record<string, string> = {}): number {
  let total = 0;
  let found = false;
  for (const line of text.split('\n')) {
    const m = line.match(/^([a-z_:]+)(?:\{(.*)\})? (\S+)$/);
    if (!m || m[1] !== name) continue;
    const have = Object.fromEntries(
      [...(m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((x) => [x[1], x[2]]),
    );
    if (Object.entries(labels).every(([k, v]) => have[k] === v)) {
      total += Number(m[3]);
      found = true;
    }
  }
  return found ? total : Number.NaN;
}

beforeAll(async () => {
  aws = await startAwsSandbox({
    data: demoData(new Date(), { burst: false }),
    throttleEvery: 15,
    accessDenied: [{ region: 'eu-west-1', operation: 'ListFindingsV2' }],
  });
  // The bot was never invited to #team-data: its findings fall back to the default channel.
  slack = await startSlackSandbox({ notInChannel: [DEMO_CHANNELS.data] });
  const parsed = parseConfigText(
    await readFile(new URL('../../sandbox/demo-config.yml', import.meta.url), 'utf8'),
    'demo',
  );
  if (!parsed.ok) throw new Error('demo config invalid');
  const config = { ...parsed.config, redis: { ...parsed.config.redis, keyPrefix: prefix } };
  const logger = pino({ level: 'silent' });
  rt = createRuntime({
    env: { redisUrl: REDIS_URL, slackBotToken: 'xoxb-metrics-test', slackApiUrl: slack.apiUrl },
    config,
    logger,
    aws: {
      credentials: { accessKeyId: 'AKIASANDBOXMETRICS01', secretAccessKey: 'sandbox' },
      endpoints: { accessAnalyzer: aws.url, iam: aws.url, sts: aws.url, tagging: aws.url },
      maxAttempts: 3,
    },
    slackRetries: 0,
  });
  rt.startWorkers();
  const health = createHealth({ checks: { redis: () => rt.redisCheck() }, logger });
  server = await startHealthServer(health, 0, [metricsRoute(rt.metrics)]);
  stopAcks = measureSlackAcks(rt.metrics);
  app = createSlackApp({
    receiver: { mode: 'http', signingSecret: SECRET },
    botToken: 'xoxb-metrics-test',
    slackApiUrl: slack.apiUrl,
    port: 0,
    logger,
    ready: async () => true,
    botId: 'B0BOT',
    botUserId: 'U0BOT',
    register: (a) => registerListeners(a, rt.listenerDeps()),
  });

  report = await rt.scanNow({ timeoutMs: 90_000 });
  const { port } = await app.start();
  recordResponses();
  expect(
    (await signedPost(`http://127.0.0.1:${port}`, slashCommandBody({ text: 'help' }), SECRET)).status,
  ).toBe(200);
  expect(
    (await signedPost(`http://127.0.0.1:${port}`, slashCommandBody({ text: 'help' }), 'forged')).status,
  ).toBe(401);
  text = await (await fetch(`http://127.0.0.1:${server.port}/metrics`)).text();
}, 120_000);

afterAll(async () => {
  stopAcks?.();
  await app?.stop();
  await server?.close();
  await rt?.close();
  await Promise.all([aws?.close(), slack?.close()]);
  await wipePrefix(prefix);
});

describe('/metrics after a sandbox scan', () => {
  it('counts each AWS call once and each throttled attempt, matching the requests AWS saw', () => {
    const throttled = aws.requests.filter((r) => r.status === 429).length;
    expect(throttled).toBeGreaterThan(0);
    expect(sum('access_patrol_aws_throttles_total')).toBe(throttled);
    for (const [operation, attempts] of Object.entries(aws.counts())) {
      const service = aws.requests.find((r) => r.operation === operation)!.service;
      const sdk = {
        'access-analyzer': 'AccessAnalyzer',
        iam: 'IAM',
        sts: 'STS',
        tagging: 'ResourceGroupsTaggingAPI',
      }[service]!;
      const calls = sum('access_patrol_aws_calls_total', { service: sdk, operation });
      const retried = sum('access_patrol_aws_throttles_total', { service: sdk, operation });
      expect(calls + (Number.isNaN(retried) ? 0 : retried), operation).toBe(attempts);
    }
    const denied = aws.requests.filter((r) => r.status === 403 && r.operation === 'ListFindingsV2').length;
    expect(denied).toBeGreaterThan(0);
    expect(
      sum('access_patrol_aws_errors_total', { operation: 'ListFindingsV2', code: 'AccessDeniedException' }),
    ).toBe(denied);
  });

  it('times every analyzer scan by region and outcome', () => {
    const analyzers = report.finalize.analyzers;
    for (const region of ['us-east-1', 'eu-west-1']) {
      for (const outcome of ['ok', 'failed'] as const) {
        const n = analyzers.filter((a) => a.region === region && a.ok === (outcome === 'ok')).length;
        const seen = sum('access_patrol_analyzer_scan_duration_seconds_count', { region, outcome });
        expect(Number.isNaN(seen) ? 0 : seen, `${region} ${outcome}`).toBe(n);
      }
    }
    expect(analyzers.some((a) => a.region === 'eu-west-1' && !a.ok)).toBe(true);
    expect(
      sum('access_patrol_job_duration_seconds_count', {
        queue: 'scan',
        name: 'scan-analyzer',
        outcome: 'completed',
      }),
    ).toBe(analyzers.length);
    expect(sum('access_patrol_job_duration_seconds_count', { queue: 'deliver', outcome: 'completed' })).toBe(
      report.deliveries.length,
    );
  });

  it('counts Slack calls and errors by method, as the Slack stand-in saw them', () => {
    for (const method of new Set(slack.calls.map((c) => c.method))) {
      if (method === 'auth.test') continue; // Bolt's own client, not the jobs'
      expect(sum('access_patrol_slack_calls_total', { method }), method).toBe(
        slack.calls.filter((c) => c.method === method).length,
      );
    }
    const refused = slack.calls.filter((c) => c.error === 'not_in_channel').length;
    expect(refused).toBeGreaterThan(0);
    expect(
      sum('access_patrol_slack_errors_total', { method: 'chat.postMessage', error: 'not_in_channel' }),
    ).toBe(refused);
  });

  it('reports the findings by status and channel, the queues, Redis and the ack latency', () => {
    const cards = new Set(slack.messages.map((m) => m.metadata?.event_payload?.finding_id).filter(Boolean));
    expect(sum('access_patrol_findings', { status: 'ACTIVE' })).toBe(cards.size);
    const platform = sum('access_patrol_findings', { status: 'ACTIVE', channel: DEMO_CHANNELS.platform });
    expect(platform).toBeGreaterThan(0);
    expect(sum('access_patrol_queue_jobs', { queue: 'deliver', state: 'waiting' })).toBe(0);
    expect(sum('access_patrol_queue_jobs', { queue: 'scan', state: 'active' })).toBe(0);
    expect(sum('access_patrol_redis_up')).toBe(1);
    expect(sum('access_patrol_redis_ping_seconds')).toBeGreaterThan(0);
    expect(sum('access_patrol_slack_ack_duration_seconds_count', { status: '200' })).toBe(1);
    expect(sum('access_patrol_slack_ack_duration_seconds_count', { status: '401' })).toBe(1);
  });

  it('documents every metric it serves in docs/operations.md', async () => {
    const docs = await readFile(new URL('../../docs/operations.md', import.meta.url), 'utf8');
    const names = (await rt.metrics.registry.getMetricsAsJSON()).map((m) => m.name);
    expect(names.length).toBeGreaterThan(10);
    for (const name of names) expect(docs, name).toContain(`| \`${name}\` |`);
  });
});
