// The bot on a three-node Redis Cluster started by the test: a hash-tagged key prefix puts every key
// and BullMQ queue in one slot, so a full sandbox scan and a Rescan click work as on one server.
import { readFile } from 'node:fs/promises';
import { Cluster } from 'ioredis';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ACTION_IDS } from '../../blocks/ids.ts';
import { type AwsSandbox, startAwsSandbox } from '../../sandbox/aws.ts';
import { demoData } from '../../sandbox/fixtures/demo-org.ts';
import { type SlackSandbox, startSlackSandbox } from '../../sandbox/slack.ts';
import { loadAll, parseConfigText } from '../../src/config/load.ts';
import { hashTag } from '../../src/redis.ts';
import { createRuntime, type Runtime } from '../../src/runtime.ts';
import { createSlackApp, type SlackApp } from '../../src/slack/app.ts';
import { registerListeners } from '../../src/slack/listeners/index.ts';
import { startRedisCluster, type TestCluster } from '../helpers/redis-cluster.ts';
import { blockActionBody, signedPost } from '../helpers/slack-requests.ts';

const SECRET = 'cluster-signing-secret';
const PREFIX = `{tc${Date.now().toString(36)}}:`;
let cluster: TestCluster;
let aws: AwsSandbox;
let slack: SlackSandbox;
let rt: Runtime;
let app: SlackApp;

beforeAll(async () => {
  cluster = await startRedisCluster();
  aws = await startAwsSandbox({ data: demoData(new Date(), { burst: false }) });
  slack = await startSlackSandbox();
  const parsed = parseConfigText(
    await readFile(new URL('../../sandbox/demo-config.yml', import.meta.url), 'utf8'),
    'demo',
  );
  if (!parsed.ok) throw new Error('demo config invalid');
  const config = {
    ...parsed.config,
    regions: ['us-east-1'],
    redis: { ...parsed.config.redis, keyPrefix: PREFIX },
    permissions: { ...parsed.config.permissions, admins: { users: ['U0ALICE'], userGroups: [] } },
  };
  const logger = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });
  rt = createRuntime({
    env: {
      redisUrl: cluster.url,
      redisCluster: true,
      slackBotToken: 'xoxb-cluster-test',
      slackApiUrl: slack.apiUrl,
    },
    config,
    logger,
    aws: {
      credentials: { accessKeyId: 'AKIASANDBOXCLUSTER01', secretAccessKey: 'sandbox' },
      endpoints: { accessAnalyzer: aws.url, iam: aws.url, sts: aws.url, tagging: aws.url },
      maxAttempts: 2,
    },
    slackRetries: 0,
  });
  await rt.waitForRedis(10_000);
  rt.startWorkers();
  app = createSlackApp({
    receiver: { mode: 'http', signingSecret: SECRET },
    botToken: 'xoxb-cluster-test',
    slackApiUrl: slack.apiUrl,
    port: 0,
    logger,
    ready: () => rt.redisCheck(),
    botId: 'B0BOT',
    botUserId: 'U0BOT',
    register: (a) => registerListeners(a, rt.listenerDeps()),
  });
}, 60_000);

afterAll(async () => {
  await app?.stop();
  await rt?.close();
  await Promise.all([aws?.close(), slack?.close()]);
  await cluster?.stop();
});

describe('on Redis Cluster', () => {
  it('refuses a key prefix without a hash tag when REDIS_CLUSTER is set', async () => {
    const { mkdtemp, writeFile } = await import('node:fs/promises');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const dir = await mkdtemp(join(tmpdir(), 'ap-cl-'));
    const path = join(dir, 'c.yml');
    await writeFile(path, 'regions: [us-east-1]\nslack: { defaultChannel: "#a", adminChannel: "#b" }\n');
    const result = await loadAll({
      SLACK_BOT_TOKEN: 'xoxb-1',
      ACCESS_PATROL_CONFIG: path,
      REDIS_CLUSTER: 'true',
    });
    expect(result.ok).toBe(false);
    expect(result.ok ? [] : result.problems.map((p) => [p.path, p.got])).toEqual([
      ['redis.keyPrefix', '"ap:"'],
    ]);
  });

  it('scans, posts and answers a Rescan click, with every key in the prefix’s slot', async () => {
    const report = await rt.scanNow({ timeoutMs: 60_000 });
    expect(report.finalize.analyzers.length).toBeGreaterThan(0);
    expect(report.finalize.analyzers.every((a) => a.ok)).toBe(true);
    const posted = slack.messages.filter((m) => m.metadata?.event_payload?.finding_id);
    expect(posted.length).toBeGreaterThan(3);

    // A second scan finds everything in place: the state was written and read back on the cluster.
    const before = slack.calls.length;
    const second = await rt.scanNow({ timeoutMs: 60_000 });
    expect(second.deliveries.flatMap((d) => [d.posted, d.updated])).toEqual(
      second.deliveries.flatMap(() => [0, 0]),
    );
    expect(slack.calls.length).toBe(before);

    // SCAN walks (/access findings, the digest, the aging sweep, metrics) reach the node of the
    // prefix's slot whichever node ioredis would have picked (a keyless command goes to any node).
    const cards = new Set(posted.map((m) => m.metadata!.event_payload!.finding_id));
    for (let i = 0; i < 6; i++) {
      const listed = await rt.listenerDeps().listFindings({ status: 'ACTIVE' });
      expect(listed.items.length).toBe(cards.size);
    }

    // A person clicks Rescan on an external-access finding.
    const message = posted.find((m) => JSON.stringify(m.blocks).includes(ACTION_IDS.rescan))!;
    expect(message).toBeDefined();
    const button = (message.blocks as { elements?: { action_id?: string; value?: string }[] }[])
      .flatMap((b) => b.elements ?? [])
      .find((e) => e.action_id === ACTION_IDS.rescan)!;
    const { port } = await app.start();
    const res = await signedPost(
      `http://127.0.0.1:${port}`,
      blockActionBody({
        actionId: ACTION_IDS.rescan,
        value: button.value!,
        user: { id: 'U0ALICE' },
        channel: { id: message.channel, name: message.channelName?.replace(/^#/, '') ?? 'sec' },
        messageTs: message.ts,
      }),
      SECRET,
    );
    expect(res.status).toBe(200);
    await expect.poll(() => aws.counts().StartResourceScan ?? 0, { timeout: 20_000 }).toBe(1);
    // The thread says who asked (the job ran on the cluster's queue).
    await expect
      .poll(
        () =>
          slack.threadReplies(message.channel, message.ts).some((m) => /Rescan requested by/.test(m.text)),
        {
          timeout: 20_000,
        },
      )
      .toBe(true);

    // Every key the bot wrote hashes to the prefix's tag, so they all sit on one node.
    const direct = new Cluster([{ host: '127.0.0.1', port: cluster.ports[0]! }]);
    await new Promise((r) => direct.once('ready', r));
    try {
      const keys: string[] = [];
      for (const node of direct.nodes('master')) {
        let cursor = '0';
        do {
          const [next, batch] = await node.scan(cursor, 'MATCH', `${PREFIX}*`, 'COUNT', 1000);
          cursor = next;
          keys.push(...batch);
        } while (cursor !== '0');
      }
      expect(keys.length).toBeGreaterThan(20);
      expect(keys.some((k) => k.startsWith(`${PREFIX}bull:scan:`))).toBe(true);
      expect(new Set(keys.map(hashTag))).toEqual(new Set([PREFIX.slice(1, -2)]));
      const slots = new Set(
        await Promise.all(keys.slice(0, 50).map((k) => direct.call('CLUSTER', 'KEYSLOT', k))),
      );
      expect(slots.size).toBe(1);
    } finally {
      direct.disconnect();
    }
  }, 120_000);
});
