// Composition root: builds Redis connections, AWS and Slack gateways, queues and workers from a
// validated env and config. The CLI, the demo and the end-to-end tests all start the bot through here.
import { randomBytes } from 'node:crypto';
import { Job } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { StatusView } from '../blocks/command-replies.ts';
import type { DeliverResult } from '../jobs/deliver.ts';
import type { JobDeps } from '../jobs/deps.ts';
import { channelDigestPreview } from '../jobs/digest.ts';
import { appHomeView, personalDigestPreview } from '../jobs/home.ts';
import type { FinalizeResult, ScanRunResult } from '../jobs/scan.ts';
import { createWorkers, type Workers } from '../jobs/workers.ts';
import { createAnalyzerGateway } from './aws/analyzer.ts';
import { createArchiveRuleGateway } from './aws/archive-rules.ts';
import { type AwsClientsOptions, createAwsClients } from './aws/clients.ts';
import { createFixGateway } from './aws/fixes.ts';
import { createIamGateway } from './aws/iam.ts';
import { createPolicyGateway } from './aws/policy.ts';
import { createTagReader } from './aws/tags.ts';
import type { Env } from './config/env.ts';
import type { AppConfig } from './config/schema.ts';
import { boltLogger } from './log.ts';
import { createMetrics } from './metrics.ts';
import {
  createQueueEvents,
  createQueues,
  enqueue,
  JOBS,
  type JobName,
  type JobPayloads,
  type Queues,
  registerSchedulers,
  type ScanAnalyzerData,
} from './queue/index.ts';
import { connectRedis, isConnectionError } from './redis.ts';
import { SlackGateway } from './slack/client.ts';
import type { ListenerDeps } from './slack/listeners/common.ts';
import { ServiceLinkedAnalyzers } from './store/analyzers.ts';
import { AuditLog } from './store/audit.ts';
import { FixBackupStore, RoleBackupStore } from './store/backups.ts';
import { BurstStore } from './store/bursts.ts';
import { ChannelIdStore } from './store/channels.ts';
import { DigestStore } from './store/digests.ts';
import { type FindingCount, FindingStore } from './store/findings.ts';
import { IntentStore } from './store/intents.ts';
import { keys } from './store/keys.ts';
import { NoticeStore } from './store/notices.ts';
import { OnceStore } from './store/once.ts';
import { Outbox } from './store/outbox.ts';
import { PolicyRequestStore } from './store/policy-requests.ts';
import { type AnalyzerScanResult, ScanStore } from './store/scans.ts';
import { SlackRequestStore } from './store/slack-requests.ts';
import { ViewerCache } from './store/viewers.ts';

export interface RuntimeOptions {
  env: Pick<Env, 'redisUrl' | 'slackBotToken' | 'slackApiUrl'> &
    Partial<Pick<Env, 'redisCluster' | 'awsMaxAttempts' | 'awsRetryMode'>>;
  config: AppConfig;
  logger: Logger;
  /** Endpoint and credential overrides for the sandbox and tests (`maxAttempts` wins over the env's). */
  aws?: Pick<AwsClientsOptions, 'endpoints' | 'credentials' | 'maxAttempts'>;
  slackRetries?: number;
  now?: () => Date;
  sleep?: (ms: number) => Promise<void>;
  afterPostHook?: JobDeps['afterPostHook'];
  /** Where the counters go (the CLI passes one with process metrics); a fresh registry by default. */
  metrics?: RuntimeMetrics;
  /** Answer finding reads by walking every hash instead of the indexes (the benchmark's "before"). */
  findingsWalk?: boolean;
}

export type RuntimeMetrics = ReturnType<typeof createMetrics>;

export interface ScanReport {
  run: ScanRunResult;
  finalize: FinalizeResult;
  deliveries: DeliverResult[];
}

export interface Runtime {
  deps: JobDeps;
  queues: Queues;
  /** Starts the workers in this process. */
  startWorkers(): Workers;
  registerSchedulers(): Promise<void>;
  metrics: RuntimeMetrics;
  /** Readiness: true when Redis answers a PING, else why not. */
  redisCheck(): Promise<true | string>;
  /** Resolves once Redis answers; rejects with a clear message (URL without password) after `ms`. */
  waitForRedis(ms?: number): Promise<void>;
  /** Last scan and queue depths (for /access status). */
  status(): Promise<StatusView>;
  /** What the Slack listeners need (authorisation is added where the Slack client exists). */
  listenerDeps(): Omit<ListenerDeps, 'authorize'>;
  /** Claims a Slack request by its body's hash for `ttlSeconds`; false when it was seen before. */
  claimSlackRequest(bodyHash: string, ttlSeconds: number): Promise<boolean>;
  /** Enqueues one action job (as a Slack listener would) and waits for its result. */
  runAction<N extends JobName>(name: N, data: JobPayloads[N], timeoutMs?: number): Promise<unknown>;
  /** Enqueues one scan now and waits until every channel has been delivered. */
  scanNow(opts?: { regions?: string[]; timeoutMs?: number }): Promise<ScanReport>;
  /**
   * Closes workers (with `graceMs`: running jobs get that long, then are handed back; see
   * Workers.close), queues and Redis.
   */
  close(opts?: { graceMs?: number }): Promise<void>;
}

/** The SDK retry settings of the environment (AWS_MAX_ATTEMPTS, AWS_RETRY_MODE), for createAwsClients. */
export function awsRetries(
  env: Partial<Pick<Env, 'awsMaxAttempts' | 'awsRetryMode'>>,
): Pick<AwsClientsOptions, 'maxAttempts' | 'retryMode'> {
  return {
    ...(env.awsMaxAttempts !== undefined && { maxAttempts: env.awsMaxAttempts }),
    ...(env.awsRetryMode !== undefined && { retryMode: env.awsRetryMode }),
  };
}

export function createRuntime(opts: RuntimeOptions): Runtime {
  const { config, logger } = opts;
  // Three connections. Workers block on Redis, so theirs has maxRetriesPerRequest: null. The queues'
  // producer calls have one of their own: BullMQ defines its scripts (about 70) on the connection it is
  // given, and ioredis copies every script of a connection into each pipeline and MULTI built on it, so
  // the store's pipelines, on the third connection, would pay for BullMQ's scripts on every one. The
  // command connection carries the store's commands for the job processors and the Slack listeners
  // alike. Both keep ioredis's offline queue (enableOfflineQueue: true) on purpose: without
  // it every command sent before the connection is ready, at start or while it reconnects after a
  // Redis restart or failover, is refused at once ("Stream isn't writeable"), failing jobs half way
  // through a step. Queued commands are bounded instead: maxRetriesPerRequest: 3 rejects them after
  // three reconnect attempts. People still get a prompt answer in an outage because the listeners
  // bound their Redis waits themselves (ENQUEUE_TIMEOUT_MS, the request guard's claim deadline).
  const metrics = opts.metrics ?? createMetrics();
  const retryStrategy = redisBackoff;
  const connect = (options: Parameters<typeof connectRedis>[0]['options']) =>
    connectRedis({
      url: opts.env.redisUrl,
      cluster: opts.env.redisCluster === true,
      keyPrefix: config.redis.keyPrefix,
      options,
    });
  const workerRedis = connect({ maxRetriesPerRequest: null, lazyConnect: false, retryStrategy });
  const commandOptions = { maxRetriesPerRequest: 3, enableOfflineQueue: true, retryStrategy };
  const redis = connect(commandOptions);
  const queueRedis = connect(commandOptions);
  const monitor = watchRedis(redis, opts.env.redisUrl, logger);
  redis.on('reconnecting', () => metrics.redisReconnects.inc());
  // The command connection reports outages (one line per backoff step); the others stay quiet.
  workerRedis.on('error', () => undefined);
  queueRedis.on('error', () => undefined);
  const k = keys(config.redis.keyPrefix);
  const queues = createQueues(queueRedis, config.redis.keyPrefix, config.scan);
  // Without a listener BullMQ prints every connection error with console.error.
  const onQueueError = (err: Error) => {
    if (isConnectionError(err)) logger.debug({ err: err.message }, 'queue lost Redis');
    else logger.error({ err: err.message }, 'queue error');
  };
  for (const q of [queues.scan, queues.deliver, queues.actions]) q.on('error', onQueueError);
  queues.flows.on('error', onQueueError);
  const clients = createAwsClients({
    ...awsRetries(opts.env),
    rateLimits: config.aws.rateLimits,
    ...opts.aws,
    organization: config.organization,
    logger,
    metrics,
  });
  const deps: JobDeps = {
    config,
    redis,
    keys: k,
    store: new FindingStore(redis, k, { walkOnly: opts.findingsWalk }),
    intents: new IntentStore(redis, k),
    audit: new AuditLog(redis, k, config.audit),
    policyRequests: new PolicyRequestStore(redis, k),
    scans: new ScanStore(redis, k),
    outbox: new Outbox(redis, k),
    bursts: new BurstStore(redis, k),
    notices: new NoticeStore(redis, k),
    channelIds: new ChannelIdStore(redis, k),
    digests: new DigestStore(redis, k),
    once: new OnceStore(redis, k),
    viewers: new ViewerCache(redis, k),
    serviceLinked: new ServiceLinkedAnalyzers(redis, k),
    iam: createIamGateway(clients),
    backups: new RoleBackupStore(redis, k, config.roles.backupRetentionDays),
    fixes: createFixGateway(clients),
    fixBackups: new FixBackupStore(redis, k, config.fixes.backupRetentionDays),
    analyzers: createAnalyzerGateway(clients, {
      onUnsupported: (findingId, analyzerArn, reason) =>
        logger.warn({ findingId, analyzerArn, reason }, 'skipping a finding this version cannot read'),
    }),
    archiveRules: createArchiveRuleGateway(clients),
    tags: createTagReader(clients, config.tags),
    policy: createPolicyGateway(clients, createIamGateway(clients)),
    slack: new SlackGateway({
      token: opts.env.slackBotToken,
      apiUrl: opts.env.slackApiUrl,
      retries: opts.slackRetries,
      logger: boltLogger(logger),
      metrics,
    }),
    queues,
    logger,
    now: opts.now ?? (() => new Date()),
    sleep: opts.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms))),
    afterPostHook: opts.afterPostHook,
  };
  const slackRequests = new SlackRequestStore(redis, k);
  const started: Workers[] = [];
  let findingCounts: { at: number; rows: Promise<FindingCount[]> } | undefined;
  metrics.collectFrom({
    // Read from a counter the writes keep (a walk only before the indexes are built): at most once a minute.
    findings: () => {
      const now = Date.now();
      if (!findingCounts || now - findingCounts.at > 60_000) {
        findingCounts = { at: now, rows: deps.store.countFindings() };
        findingCounts.rows.catch(() => {
          findingCounts = undefined;
        });
      }
      return findingCounts.rows;
    },
    queues: async () => {
      const out: Record<string, Record<string, number>> = {};
      for (const [name, q] of Object.entries({
        scan: queues.scan,
        deliver: queues.deliver,
        actions: queues.actions,
      }))
        out[name] = await q.getJobCounts(
          'waiting',
          'active',
          'delayed',
          'failed',
          'prioritized',
          'waiting-children',
        );
      return out;
    },
    redisPing: async () => {
      if (redis.status !== 'ready') return undefined;
      const t0 = process.hrtime.bigint();
      await redis.ping();
      return Number(process.hrtime.bigint() - t0) / 1e9;
    },
  });

  return {
    deps,
    queues,
    metrics,
    startWorkers() {
      const w = createWorkers(deps, workerRedis);
      started.push(w);
      recordJobs(w, metrics);
      return w;
    },
    registerSchedulers: () =>
      registerSchedulers(queues, config.scan.intervalMinutes, config.aging, config.digest),
    redisCheck: () => monitor.check(),
    waitForRedis: (ms = 5000) => monitor.waitUntilReady(ms),
    listenerDeps() {
      return {
        config,
        actions: queues.actions,
        scan: queues.scan,
        store: deps.store,
        intents: deps.intents,
        audit: deps.audit,
        logger,
        now: deps.now,
        status: () => this.status(),
        listFindings: (filter) => deps.store.listFindings(filter),
        findingsPage: (filter, page) => deps.store.findingsPage(filter, page),
        channelDigest: (channel, userId) =>
          channel.startsWith('D') ? personalDigestPreview(deps, userId) : channelDigestPreview(deps, channel),
        homeView: (userId) => appHomeView(deps, userId),
        channelId: (channel) => deps.channelIds.resolve(channel),
      };
    },
    claimSlackRequest: (bodyHash, ttlSeconds) => slackRequests.claim(bodyHash, ttlSeconds),
    async status() {
      const last: StatusView['lastScan'] = await deps.scans.lastScan();
      const counts = async (q: { getJobCounts(...t: string[]): Promise<Record<string, number>> }) => {
        const c = await q.getJobCounts('waiting', 'active', 'delayed', 'failed');
        return {
          waiting: c.waiting ?? 0,
          active: c.active ?? 0,
          delayed: c.delayed ?? 0,
          failed: c.failed ?? 0,
        };
      };
      return {
        lastScan: last,
        queues: {
          scan: await counts(queues.scan),
          deliver: await counts(queues.deliver),
          actions: await counts(queues.actions),
        },
      };
    },
    async runAction(name, data, timeoutMs = 60_000) {
      const conn = workerRedis.duplicate();
      const events = createQueueEvents(conn, config.redis.keyPrefix, 'actions');
      try {
        await events.waitUntilReady();
        const job = await enqueue(queues, name, data);
        return await job.waitUntilFinished(events, timeoutMs);
      } finally {
        await events.close();
        await conn.quit().catch(() => undefined);
      }
    },
    async scanNow({ regions, timeoutMs = 30 * 60_000 } = {}) {
      const conns = [workerRedis.duplicate(), workerRedis.duplicate()] as const;
      const scanEvents = createQueueEvents(conns[0], config.redis.keyPrefix, 'scan');
      const deliverEvents = createQueueEvents(conns[1], config.redis.keyPrefix, 'deliver');
      try {
        await Promise.all([scanEvents.waitUntilReady(), deliverEvents.waitUntilReady()]);
        // Each call is its own request, so its own scan: two asked for in the same millisecond (two
        // `access-patrol scan` at once) are two scans, each caller waiting for its own report.
        const job = await enqueue(queues, JOBS.scanRun, {
          ...(regions ? { regions } : {}),
          requestId: `now-${deps.now().getTime().toString(36)}-${randomBytes(4).toString('hex')}`,
        });
        const run = (await job.waitUntilFinished(scanEvents, timeoutMs)) as ScanRunResult;
        const fin = await Job.fromId(queues.scan, run.finalizeJobId);
        if (!fin) throw new Error(`finalize job ${run.finalizeJobId} not found`);
        const finalize = (await fin.waitUntilFinished(scanEvents, timeoutMs)) as FinalizeResult;
        const deliveries: DeliverResult[] = [];
        for (const djId of finalize.deliverJobIds) {
          const dj = await Job.fromId(queues.deliver, djId);
          if (!dj) throw new Error(`deliver job ${djId} not found`);
          deliveries.push((await dj.waitUntilFinished(deliverEvents, timeoutMs)) as DeliverResult);
        }
        return { run, finalize, deliveries };
      } finally {
        await Promise.all([scanEvents.close(), deliverEvents.close()]);
        await Promise.all(conns.map((c) => c.quit().catch(() => undefined)));
      }
    },
    async close(closeOpts = {}) {
      for (const w of started) await w.close(closeOpts);
      await queues.close();
      monitor.stop();
      // quit() needs an answer; with Redis down, drop the connections instead of waiting for one.
      await Promise.all(
        [workerRedis, queueRedis, redis].map((r) => (r.status === 'ready' ? r.quit() : r.disconnect())),
      );
    },
  };
}

/** Job durations and failures from BullMQ's worker events; analyzer scans also by region and analyzer. */
function recordJobs(workers: Workers, metrics: RuntimeMetrics): void {
  for (const w of [workers.scan, workers.deliver, workers.actions]) {
    // A retried attempt has no finishedOn yet: it ends now.
    const seconds = (job: Job) =>
      job.processedOn ? ((job.finishedOn ?? Date.now()) - job.processedOn) / 1000 : undefined;
    w.on('completed', (job: Job, result: unknown) => {
      const s = seconds(job);
      if (s !== undefined)
        metrics.jobDuration.observe({ queue: w.name, name: job.name, outcome: 'completed' }, s);
      if (job.name === JOBS.scanAnalyzer && s !== undefined) {
        const r = result as Partial<AnalyzerScanResult> | undefined;
        metrics.analyzerScan.observe(
          {
            region: r?.region ?? '',
            analyzer: r?.analyzerArn ?? '',
            outcome: r?.ok === false ? 'failed' : 'ok',
          },
          s,
        );
      }
    });
    w.on('failed', (job: Job | undefined) => {
      if (!job) return;
      const s = seconds(job);
      if (s !== undefined)
        metrics.jobDuration.observe({ queue: w.name, name: job.name, outcome: 'failed' }, s);
      const final = job.attemptsMade >= (job.opts.attempts ?? 1) || job.finishedOn !== undefined;
      metrics.jobFailures.inc({ queue: w.name, name: job.name, final: String(final) });
      if (job.name === JOBS.scanAnalyzer && s !== undefined) {
        const data = job.data as Partial<ScanAnalyzerData>;
        metrics.analyzerScan.observe(
          { region: data.analyzer?.region ?? '', analyzer: data.analyzer?.arn ?? '', outcome: 'failed' },
          s,
        );
      }
    });
  }
}

/** Reconnect delays: 0.2 s doubling to 30 s, with jitter so replicas do not reconnect in step. */
export function redisBackoff(times: number): number {
  const base = Math.min(30_000, 200 * 2 ** Math.min(times - 1, 10));
  return Math.round(base * (0.8 + Math.random() * 0.4));
}

/** A Redis URL fit for a log line: the password replaced. */
export function redisUrlForLog(url: string): string {
  return url.replace(/\/\/[^@/]*@/, '//***@');
}

/**
 * Follows one connection: a line per reconnect attempt while Redis is unreachable (what failed, where,
 * the next delay), one when it answers again, and readiness from its state.
 */
function watchRedis(redis: Redis, url: string, logger: Logger) {
  const shown = redisUrlForLog(url);
  let lastError: (Error & { code?: string }) | undefined;
  let attempts = 0;
  redis.on('error', (err: Error & { code?: string }) => {
    lastError = err;
  });
  redis.on('reconnecting', (delay: number) => {
    attempts++;
    const why = lastError?.code ?? lastError?.message ?? 'connection closed';
    logger.warn(
      { redis: shown, attempt: attempts, retryInMs: delay, error: why },
      `Redis unreachable at ${shown} (${why}); retrying in ${(delay / 1000).toFixed(1)} s`,
    );
  });
  redis.on('ready', () => {
    if (attempts > 0) logger.info({ redis: shown, attempts }, `Redis at ${shown} answers again`);
    attempts = 0;
    lastError = undefined;
  });
  const why = () => lastError?.code ?? lastError?.message ?? `connection ${redis.status}`;
  let stopped = false;
  return {
    async check(): Promise<true | string> {
      if (redis.status !== 'ready') return `Redis at ${shown} unreachable (${why()})`;
      try {
        await redis.ping();
        return true;
      } catch (err) {
        return `Redis at ${shown} does not answer (${(err as Error).message})`;
      }
    },
    waitUntilReady(ms: number): Promise<void> {
      if (redis.status === 'ready') return Promise.resolve();
      return new Promise((resolve, reject) => {
        const done = () => {
          clearTimeout(timer);
          redis.off('ready', done);
          resolve();
        };
        const timer = setTimeout(() => {
          redis.off('ready', done);
          reject(
            new Error(
              stopped
                ? 'stopped'
                : `Redis at ${shown} does not answer (${why()}) after ${Math.round(ms / 1000)} s; start it or set REDIS_URL`,
            ),
          );
        }, ms);
        redis.once('ready', done);
      });
    },
    stop() {
      stopped = true;
    },
  };
}
