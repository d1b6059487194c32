// A channel waiting for its pacing holds no worker slot: with one slot, two channels are delivered
// side by side, each at its own pace. Real Redis and BullMQ workers, the Slack sandbox over HTTP
// (it records when each call arrived).
import { afterEach, describe, expect, it } from 'vitest';
import { analyzerMissingNotice } from '../../blocks/notice.ts';
import type { DeliverResult } from '../../jobs/deliver.ts';
import { type SlackSandbox, startSlackSandbox } from '../../sandbox/slack.ts';
import type { AppConfig } from '../../src/config/schema.ts';
import { createQueueEvents, enqueue, JOBS } from '../../src/queue/index.ts';
import type { Runtime } from '../../src/runtime.ts';
import { Outbox } from '../../src/store/outbox.ts';
import { REDIS_URL, testConfig, testRuntime, wipePrefix } from '../helpers/runtime.ts';

let config: AppConfig;
let rt: Runtime | undefined;
let slack: SlackSandbox | undefined;

afterEach(async () => {
  await rt?.close();
  await slack?.close();
  await wipePrefix(config.redis.keyPrefix);
});

describe('paced delivery', () => {
  it('delivers two channels at once with one worker slot, each write postIntervalMs after the last', async () => {
    const interval = 400;
    config = testConfig({
      slack: { defaultChannel: 'C0DEFAULT', adminChannel: 'C0ADMIN', postIntervalMs: interval },
      workers: { deliverConcurrency: 1 },
    });
    slack = await startSlackSandbox({});
    rt = testRuntime(config, {
      env: { redisUrl: REDIS_URL, slackBotToken: 'xoxb-test-token', slackApiUrl: slack.apiUrl },
      sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
    });
    rt.startWorkers();
    const scanId = 'scan-paced-1';
    const channels = ['C0AAAAAAAA1', 'C0BBBBBBBB2'];
    const outbox = new Outbox(rt.deps.redis, rt.deps.keys);
    for (const channel of channels) {
      const events = ['eu-west-1', 'us-east-1', 'ap-south-1'].map((region) => {
        const msg = analyzerMissingNotice({
          region,
          missing: [{ kind: 'internal', type: 'ACCOUNT_INTERNAL_ACCESS' }],
        });
        return { kind: 'notice' as const, key: `missing:${region}`, text: msg.text, blocks: msg.blocks };
      });
      await outbox.push(scanId, channel, events);
    }
    const conn = rt.deps.redis.duplicate({ maxRetriesPerRequest: null });
    const events = createQueueEvents(conn, config.redis.keyPrefix, 'deliver');
    await events.waitUntilReady();
    const started = Date.now();
    const jobs = await Promise.all(
      channels.map((channel) => enqueue(rt!.deps.queues, JOBS.deliverChannel, { scanId, channel })),
    );
    const results = (await Promise.all(
      jobs.map((j) => j.waitUntilFinished(events, 20_000)),
    )) as DeliverResult[];
    const took = Date.now() - started;
    await events.close();
    await conn.quit();

    // Every notice posted once, counted across the job's pauses, never retried.
    expect(results.map((r) => [r.channel, r.notices, r.slackWrites])).toEqual([
      ['C0AAAAAAAA1', 3, 3],
      ['C0BBBBBBBB2', 3, 3],
    ]);
    // One attempt each (its pauses are not attempts).
    for (const j of jobs) expect((await rt.deps.queues.deliver.getJob(j.id!))?.attemptsMade).toBe(1);
    const posts = slack.calls.filter((c) => c.method === 'chat.postMessage');
    expect(posts).toHaveLength(6);
    for (const channel of channels) {
      const at = posts.filter((c) => c.body.channel === channel).map((c) => c.at!);
      expect(at).toHaveLength(3);
      for (let i = 1; i < at.length; i++) expect(at[i]! - at[i - 1]!).toBeGreaterThanOrEqual(interval - 5);
    }
    // Side by side: the second channel's first post comes before the first channel's last one, and
    // both take about two intervals, not four (one after the other).
    const firstOf = (ch: string) => posts.findIndex((c) => c.body.channel === ch);
    const lastOf = (ch: string) => posts.findLastIndex((c) => c.body.channel === ch);
    expect(firstOf(channels[1]!)).toBeLessThan(lastOf(channels[0]!));
    expect(took).toBeLessThan(4 * interval);
  }, 30_000);
});
