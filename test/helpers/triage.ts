// What the Slack-facing integration tests share: the real Bolt HTTP receiver with the bot's own
// listeners, the replies sent to response_url, and waiting for the jobs a listener enqueued.
import { type Job, type Queue, QueueEvents } from 'bullmq';
import { Redis } from 'ioredis';
import nock from 'nock';
import pino from 'pino';
import { expect } from 'vitest';
import { ACTION_IDS, encodeFindingRef } from '../../blocks/ids.ts';
import type { AppConfig } from '../../src/config/schema.ts';
import { bullPrefix } from '../../src/queue/index.ts';
import type { Runtime } from '../../src/runtime.ts';
import { createSlackApp, type SlackApp } from '../../src/slack/app.ts';
import type { ListenerDeps } from '../../src/slack/listeners/common.ts';
import { registerListeners } from '../../src/slack/listeners/index.ts';
import { REDIS_URL, wipePrefix } from './runtime.ts';
import { blockActionBody, RESPONSE_URL_BASE, type SignedPostOptions, signedPost } from './slack-requests.ts';

export interface SlackResponse {
  url: string;
  body: Record<string, unknown>;
}

function answerResponses(record: (response: SlackResponse) => void): void {
  nock(RESPONSE_URL_BASE)
    .persist()
    .post(/.*/)
    .reply((uri, body) => {
      record({
        url: uri,
        body: (typeof body === 'string' ? JSON.parse(body) : body) as Record<string, unknown>,
      });
      return [200, 'ok'];
    });
}

/** Answers every POST to Slack's response_url host and records it (what `respond()` sent). */
export function recordResponses(): SlackResponse[] {
  const responses: SlackResponse[] = [];
  answerResponses((r) => responses.push(r));
  return responses;
}

/** Like `recordResponses`, for tests that only look at what was sent, not where. */
export function recordResponseBodies(): Record<string, unknown>[] {
  const bodies: Record<string, unknown>[] = [];
  answerResponses((r) => bodies.push(r.body));
  return bodies;
}

export interface ActionEvents {
  events: QueueEvents;
  /** Waits until a job with this id exists (a listener enqueues it), then until it has finished. */
  finished(id: string, timeoutMs?: number): Promise<unknown>;
  /** Adds a job to the actions queue and waits for its result. */
  run(name: string, data: object, id: string, timeoutMs?: number): Promise<unknown>;
  /** The actions queue's jobs of this name, in any state but removed. */
  jobsNamed(name: string): Promise<Job[]>;
  /**
   * Waits until at least `count` (default 1) jobs of these names exist and have all finished; with
   * `delayedSettles`, a delayed one (a follow-up check waiting its turn) counts as finished too.
   */
  settled(names: string | string[], opts?: SettledOptions): Promise<void>;
  close(): Promise<void>;
}

export interface SettledOptions {
  count?: number;
  delayedSettles?: boolean;
  timeoutMs?: number;
}

/** QueueEvents of the actions queue (on its own blocking connection), ready before it returns. */
export async function actionEvents(rt: Runtime, config: AppConfig): Promise<ActionEvents> {
  const conn = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
  const events = new QueueEvents('actions', { connection: conn, prefix: bullPrefix(config.redis.keyPrefix) });
  await events.waitUntilReady();
  const queue = rt.queues.actions as Queue;
  const jobsNamed = async (name: string): Promise<Job[]> =>
    ((await queue.getJobs(['waiting', 'active', 'delayed', 'completed', 'failed'])) as Job[]).filter(
      (j) => j.name === name,
    );
  return {
    events,
    async finished(id, timeoutMs = 20_000) {
      for (let i = 0; i < 100; i++) {
        const job = (await queue.getJob(id)) as Job | undefined;
        if (job) return job.waitUntilFinished(events, timeoutMs);
        await new Promise((r) => setTimeout(r, 50));
      }
      throw new Error(`job ${id} never appeared`);
    },
    async run(name, data, id, timeoutMs = 20_000) {
      const job = (await queue.add(name, data as never, { jobId: id })) as Job;
      return job.waitUntilFinished(events, timeoutMs);
    },
    jobsNamed,
    async settled(names, { count = 1, delayedSettles = false, timeoutMs = 20_000 } = {}) {
      const done = new Set(['completed', 'failed', ...(delayedSettles ? ['delayed'] : [])]);
      await expect
        .poll(
          async () => {
            const jobs = (await Promise.all([names].flat().map(jobsNamed))).flat();
            const states = await Promise.all(jobs.map((j) => j.getState()));
            // Fewer jobs than expected means a click has not been queued yet: not settled.
            return jobs.length >= count && states.every((s) => done.has(s));
          },
          { timeout: timeoutMs },
        )
        .toBe(true);
    },
    async close() {
      await events.close();
      await conn.quit();
    },
  };
}

export interface Receiver {
  app: SlackApp;
  baseUrl: string;
  /** POSTs a body signed with the receiver's secret to /slack/events. */
  post(body: string, opts?: SignedPostOptions): Promise<Response>;
  stop(): Promise<void>;
}

/** The real Bolt HTTP receiver on a free port, with the bot's listeners over this runtime. */
export async function startReceiver(
  rt: Runtime,
  opts: { secret: string; deps?: Partial<ListenerDeps> },
): Promise<Receiver> {
  const app = createSlackApp({
    receiver: { mode: 'http', signingSecret: opts.secret },
    botToken: 'xoxb-integration-test',
    slackApiUrl: 'https://slack.com/api/',
    port: 0,
    logger: pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' }),
    ready: async () => true,
    botId: 'B0BOT',
    botUserId: 'U0BOT',
    register: (a) => registerListeners(a, { ...rt.listenerDeps(), ...opts.deps }),
    claimRequest: (hash, ttl) => rt.claimSlackRequest(hash, ttl),
  });
  const { port } = await app.start();
  const baseUrl = `http://127.0.0.1:${port}`;
  return {
    app,
    baseUrl,
    post: (body, postOpts) => signedPost(baseUrl, body, opts.secret, postOpts),
    stop: () => app.stop(),
  };
}

export interface Triage {
  actions: ActionEvents;
  receiver: Receiver;
}

/**
 * What a test of clicks on the cards starts from: the workers running, one scan done (its posts and
 * AWS calls forgotten by `forget`), the actions queue's events, and the receiver.
 */
export async function startTriage(
  rt: Runtime,
  config: AppConfig,
  opts: {
    secret: string;
    forget: { reset(): void }[];
    /** Changes to make once the scan is done, before its calls are forgotten (data the scan must not see). */
    afterScan?: () => void;
    /** How long the first scan may take (20 s; more for a large organisation). */
    scanTimeoutMs?: number;
  },
): Promise<Triage> {
  rt.startWorkers();
  const actions = await actionEvents(rt, config);
  await rt.scanNow({ timeoutMs: opts.scanTimeoutMs ?? 20_000 });
  opts.afterScan?.();
  for (const f of opts.forget) f.reset();
  const receiver = await startReceiver(rt, { secret: opts.secret });
  return { actions, receiver };
}

/** Stops what startTriage started, closes the runtime and wipes the test's keys. */
export async function stopTriage(
  rt: Runtime,
  config: AppConfig,
  { actions, receiver }: Triage,
): Promise<void> {
  await receiver.stop();
  await actions.close();
  await rt.close();
  await wipePrefix(config.redis.keyPrefix);
}

/** The AWS sandbox's request log as something startTriage can forget. */
export const sandboxRequests = (aws: { requests: unknown[] }) => ({
  reset: () => {
    aws.requests.length = 0;
  },
});

/** A click on a button of a finding's card, sent as Slack would from the card's stored channel and message. */
export async function clickCard(
  rt: Runtime,
  receiver: Receiver,
  click: {
    findingId: string;
    analyzer: string;
    actionId: string;
    /** The button's value; by default the card's finding reference (region us-east-1). */
    value?: string;
    user: string;
    channelName: string;
    actionTs: string;
  },
): Promise<void> {
  const state = (await rt.deps.store.get(click.findingId))!;
  await receiver.post(
    blockActionBody({
      actionId: click.actionId,
      value: click.value ?? encodeFindingRef({ f: click.findingId, a: click.analyzer, r: 'us-east-1' }),
      user: { id: click.user },
      channel: { id: state.channel!, name: click.channelName },
      messageTs: state.ts!,
      actionTs: click.actionTs,
    }),
  );
}

/**
 * A fix's button on its finding's card in #sec-alerts, or with `undo` (the button's value) the Undo
 * or Still needed button of the fix's receipt.
 */
export const clickFix = (
  rt: Runtime,
  receiver: Receiver,
  fix: { id: string; analyzer: string; actionId: string },
  click: { actionTs: string; user: string; undo?: string | undefined },
) =>
  clickCard(rt, receiver, {
    findingId: fix.id,
    analyzer: fix.analyzer,
    actionId: click.undo ? ACTION_IDS.undoFix : fix.actionId,
    ...(click.undo ? { value: click.undo } : {}),
    user: click.user,
    channelName: 'sec-alerts',
    actionTs: click.actionTs,
  });

/** The last posted button with this action id (an Undo, a Delete key): its label and value. */
export function lastButton(
  posted: readonly { blocks?: unknown }[],
  actionId: string,
): { label: string; value: string } {
  for (const p of [...posted].reverse()) {
    const blocks = (typeof p.blocks === 'string' ? JSON.parse(p.blocks) : (p.blocks ?? [])) as {
      elements?: { action_id?: string; value?: string; text?: { text: string } }[];
    }[];
    const b = blocks.flatMap((x) => x.elements ?? []).find((e) => e.action_id === actionId);
    if (b?.value) return { label: b.text?.text ?? '', value: b.value };
  }
  throw new Error(`no ${actionId} button posted`);
}

/**
 * Makes the next call of `obj[method]` (that `when` accepts) fail, then lets calls through again: a
 * step of a job that fails once, e.g. the audit append after the receipt was posted, so BullMQ
 * retries the job.
 */
export function failOnce<T extends object>(
  obj: T,
  method: keyof T & string,
  when: (...args: never[]) => boolean = () => true,
) {
  const original = (obj[method] as (...args: unknown[]) => unknown).bind(obj);
  let failed = false;
  (obj as Record<string, unknown>)[method] = (...args: unknown[]) => {
    if (failed || !when(...(args as never[]))) return original(...args);
    failed = true;
    return Promise.reject(new Error(`${method} failed`));
  };
}
