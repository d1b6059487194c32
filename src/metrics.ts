// Prometheus metrics (prom-client), served at /metrics by every role. One registry per runtime.
// Counters and histograms are fed where things happen: the AWS SDK middleware (src/aws/clients.ts),
// the Slack client wrapper (src/slack/client.ts), BullMQ worker events and the Slack receiver's
// responses; gauges (findings, queue depths, Redis) are read when Prometheus scrapes.
// Every metric is listed, with its labels, in docs/operations.md.
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { Route } from './health.ts';

export const METRIC_PREFIX = 'access_patrol_';

export interface Metrics {
  registry: Registry;
  analyzerScan: Histogram<'region' | 'analyzer' | 'outcome'>;
  awsCalls: Counter<'service' | 'operation'>;
  awsErrors: Counter<'service' | 'operation' | 'code'>;
  awsThrottles: Counter<'service' | 'operation'>;
  slackCalls: Counter<'method'>;
  slackErrors: Counter<'method' | 'error'>;
  slackRateLimited: Counter<'method'>;
  jobDuration: Histogram<'queue' | 'name' | 'outcome'>;
  jobFailures: Counter<'queue' | 'name' | 'final'>;
  ackDuration: Histogram<'status'>;
  redisReconnects: Counter;
  /** Read at scrape time: set by `collectFrom`. */
  findings: Gauge<'status' | 'type' | 'severity' | 'channel'>;
  queueJobs: Gauge<'queue' | 'state'>;
  redisUp: Gauge;
  redisPing: Gauge;
}

export interface MetricsOptions {
  /** Node.js process metrics (CPU, memory, event loop lag, GC): on in the bot, off in tests. */
  processMetrics?: boolean;
}

/** Sources read at scrape time. */
export interface ScrapeSources {
  /** Finding counts by status, type, severity and owner channel. */
  findings(): Promise<{ status: string; type: string; severity: string; channel: string; count: number }[]>;
  /** Job counts per queue and state. */
  queues(): Promise<Record<string, Record<string, number>>>;
  /** PING round trip in seconds, or undefined when Redis does not answer. */
  redisPing(): Promise<number | undefined>;
}

const SECONDS = [0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800];

export function createMetrics(opts: MetricsOptions = {}): Metrics & { collectFrom(s: ScrapeSources): void } {
  const registry = new Registry();
  if (opts.processMetrics) collectDefaultMetrics({ register: registry, prefix: METRIC_PREFIX });
  const registers = [registry];
  let sources: ScrapeSources | undefined;
  const m = {
    registry,
    analyzerScan: new Histogram({
      name: `${METRIC_PREFIX}analyzer_scan_duration_seconds`,
      help: 'Duration of one analyzer scan (every page of ListFindingsV2 and the details of what changed), by region, analyzer ARN and outcome (ok, failed).',
      labelNames: ['region', 'analyzer', 'outcome'],
      buckets: SECONDS,
      registers,
    }),
    awsCalls: new Counter({
      name: `${METRIC_PREFIX}aws_calls_total`,
      help: 'AWS API calls (each one counted once, however many attempts the SDK made), by service and operation.',
      labelNames: ['service', 'operation'],
      registers,
    }),
    awsErrors: new Counter({
      name: `${METRIC_PREFIX}aws_errors_total`,
      help: 'AWS API calls that failed after the SDK retries, by service, operation and error code.',
      labelNames: ['service', 'operation', 'code'],
      registers,
    }),
    awsThrottles: new Counter({
      name: `${METRIC_PREFIX}aws_throttles_total`,
      help: 'AWS attempts answered with throttling (ThrottlingException, HTTP 429), by service and operation; the SDK retries them.',
      labelNames: ['service', 'operation'],
      registers,
    }),
    slackCalls: new Counter({
      name: `${METRIC_PREFIX}slack_calls_total`,
      help: 'Slack Web API calls made by the jobs, by method (a call that waited out a 429 counts once).',
      labelNames: ['method'],
      registers,
    }),
    slackErrors: new Counter({
      name: `${METRIC_PREFIX}slack_errors_total`,
      help: 'Slack Web API calls that failed, by method and Slack error code (channel_not_found, ratelimited, ...).',
      labelNames: ['method', 'error'],
      registers,
    }),
    slackRateLimited: new Counter({
      name: `${METRIC_PREFIX}slack_rate_limited_total`,
      help: 'Slack 429 answers whose Retry-After the bot waited out, by method.',
      labelNames: ['method'],
      registers,
    }),
    jobDuration: new Histogram({
      name: `${METRIC_PREFIX}job_duration_seconds`,
      help: 'Duration of one BullMQ job attempt, by queue, job name and outcome (completed, failed).',
      labelNames: ['queue', 'name', 'outcome'],
      buckets: SECONDS,
      registers,
    }),
    jobFailures: new Counter({
      name: `${METRIC_PREFIX}job_failures_total`,
      help: 'Failed job attempts, by queue and job name; final="true" when BullMQ will not retry it.',
      labelNames: ['queue', 'name', 'final'],
      registers,
    }),
    ackDuration: new Histogram({
      name: `${METRIC_PREFIX}slack_ack_duration_seconds`,
      help: 'Time from a Slack request reaching /slack/events to the answer (the ack) leaving, by HTTP status; Slack gives up after 3 s.',
      labelNames: ['status'],
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 1.5, 2, 2.5, 3, 5],
      registers,
    }),
    redisReconnects: new Counter({
      name: `${METRIC_PREFIX}redis_reconnects_total`,
      help: 'Reconnect attempts of the command connection to Redis.',
      registers,
    }),
    findings: new Gauge({
      name: `${METRIC_PREFIX}findings`,
      help: 'Findings the bot tracks, by status, finding type, severity and owner channel (read from Redis at most once a minute).',
      labelNames: ['status', 'type', 'severity', 'channel'],
      registers,
      async collect() {
        if (!sources) return;
        const rows = await sources.findings();
        this.reset();
        for (const r of rows)
          this.set({ status: r.status, type: r.type, severity: r.severity, channel: r.channel }, r.count);
      },
    }),
    queueJobs: new Gauge({
      name: `${METRIC_PREFIX}queue_jobs`,
      help: 'Jobs per queue and state (waiting, active, delayed, failed, prioritized, waiting-children).',
      labelNames: ['queue', 'state'],
      registers,
      async collect() {
        if (!sources) return;
        this.reset();
        for (const [queue, counts] of Object.entries(await sources.queues()))
          for (const [state, n] of Object.entries(counts)) this.set({ queue, state }, n);
      },
    }),
    redisUp: new Gauge({
      name: `${METRIC_PREFIX}redis_up`,
      help: '1 when Redis answered PING at scrape time, else 0.',
      registers,
      async collect() {
        if (sources) this.set((await pingOnce()) === undefined ? 0 : 1);
      },
    }),
    redisPing: new Gauge({
      name: `${METRIC_PREFIX}redis_ping_seconds`,
      help: 'PING round trip to Redis at scrape time (absent when Redis does not answer).',
      registers,
      async collect() {
        if (!sources) return;
        const seconds = await pingOnce();
        if (seconds === undefined) this.reset();
        else this.set(seconds);
      },
    }),
  };
  // Both Redis gauges share one PING per scrape.
  let ping: Promise<number | undefined> | undefined;
  const pingOnce = () => {
    ping ??= (sources?.redisPing() ?? Promise.resolve(undefined)).catch(() => undefined);
    const p = ping;
    setTimeout(() => {
      if (ping === p) ping = undefined;
    }, 1000).unref();
    return p;
  };
  return {
    ...m,
    collectFrom(s: ScrapeSources) {
      sources = s;
    },
  };
}

/** The /metrics route, in the Prometheus text format. */
export function metricsRoute(metrics: Metrics): Route {
  return {
    path: '/metrics',
    handler: (_req: IncomingMessage, res: ServerResponse) => {
      metrics.registry.metrics().then(
        (text) => res.writeHead(200, { 'content-type': metrics.registry.contentType }).end(text),
        (err: unknown) =>
          res
            .writeHead(500, { 'content-type': 'text/plain' })
            .end(`metrics failed: ${(err as Error).message}`),
      );
    },
  };
}

/**
 * Ack latency of the HTTP receiver: from a POST to /slack/events arriving to its response finishing,
 * through Node's http diagnostics channels, so the receiver itself is untouched. Returns a stop function.
 */
export function measureSlackAcks(metrics: Metrics, path = '/slack/events'): () => void {
  const started = new WeakMap<object, bigint>();
  const onStart = (message: unknown) => {
    const { request, response } = message as { request: IncomingMessage; response: ServerResponse };
    if (request.method === 'POST' && request.url?.split('?')[0] === path)
      started.set(response, process.hrtime.bigint());
  };
  const onFinish = (message: unknown) => {
    const { response } = message as { response: ServerResponse };
    const t0 = started.get(response);
    if (t0 === undefined) return;
    started.delete(response);
    metrics.ackDuration.observe(
      { status: String(response.statusCode) },
      Number(process.hrtime.bigint() - t0) / 1e9,
    );
  };
  subscribe('http.server.request.start', onStart);
  subscribe('http.server.response.finish', onFinish);
  return () => {
    unsubscribe('http.server.request.start', onStart);
    unsubscribe('http.server.response.finish', onFinish);
  };
}
