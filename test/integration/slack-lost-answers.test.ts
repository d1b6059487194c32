// Slack posting a message and losing its answer (a 5xx or a dropped connection after the post):
// a scan still leaves exactly one card per finding, and resolving them redraws every card. Real
// Redis and BullMQ, the AWS and Slack sandboxes over HTTP, the Slack sandbox's seeded faults.
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AwsSandbox, startAwsSandbox } from '../../sandbox/aws.ts';
import { BULK_MEMBER_ROLE, bulkChannelNames, bulkData } from '../../sandbox/fixtures/bulk.ts';
import { type SandboxMessage, type SlackSandbox, startSlackSandbox } from '../../sandbox/slack.ts';
import { configSchema } from '../../src/config/schema.ts';
import { createRuntime, type Runtime } from '../../src/runtime.ts';
import { REDIS_URL, uniquePrefix, wipePrefix } from '../helpers/runtime.ts';

const prefix = uniquePrefix('lost');
let aws: AwsSandbox;
let slack: SlackSandbox;
let rt: Runtime;

const data = bulkData({
  findings: 80,
  regions: 1,
  accounts: 3,
  channels: 2,
  archivedRatio: 0,
  resolvedRatio: 0,
});

beforeAll(async () => {
  aws = await startAwsSandbox({ data });
  slack = await startSlackSandbox({
    // A workspace with these channels: the bot finds each one's id (conversations.list) before its
    // first post, which is what a lost answer is looked for by.
    channels: [...bulkChannelNames(2), '#sec-alerts', '#access-patrol-admin'],
    faults: {
      seed: 7,
      rules: [
        { methods: ['chat.postMessage'], fraction: 0.15, when: 'after', answer: 500 },
        { methods: ['chat.postMessage'], fraction: 0.06, when: 'after', answer: 'drop' },
      ],
    },
  });
  const config = configSchema.parse({
    regions: data.regions,
    slack: { defaultChannel: '#sec-alerts', adminChannel: '#access-patrol-admin', postIntervalMs: 0 },
    organization: { memberRoleName: BULK_MEMBER_ROLE.name, externalId: BULK_MEMBER_ROLE.externalId },
    tags: { useResourceGroupsTaggingApi: true },
    routing: [{ name: 'channel tag', match: { tag: { key: 'access-patrol-channel' } } }],
    redis: { keyPrefix: prefix },
  });
  rt = createRuntime({
    env: { redisUrl: REDIS_URL, slackBotToken: 'xoxb-lost-answers', slackApiUrl: slack.apiUrl },
    config,
    logger: pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' }),
    aws: {
      credentials: { accessKeyId: 'AKIASANDBOXLOST00001', secretAccessKey: 'sandbox' },
      endpoints: { accessAnalyzer: aws.url, iam: aws.url, sts: aws.url, tagging: aws.url },
      maxAttempts: 3,
    },
    // The production policy: lost answers are looked up and retried inside the call.
    slackRetries: 4,
  });
  rt.startWorkers();
});

afterAll(async () => {
  await rt?.close();
  await aws?.close();
  await slack?.close();
  await wipePrefix(prefix);
});

/** The bot's finding cards in Slack, by the finding id in their metadata. */
function cardsById(): Map<string, SandboxMessage[]> {
  const out = new Map<string, SandboxMessage[]>();
  for (const m of slack.messages) {
    const id = m.metadata?.event_payload.finding_id;
    if (typeof id !== 'string' || id.startsWith('summary-')) continue;
    out.set(id, [...(out.get(id) ?? []), m]);
  }
  return out;
}

async function storedCards(): Promise<Map<string, { channel: string; ts: string; status: string }>> {
  const out = new Map<string, { channel: string; ts: string; status: string }>();
  for (const f of data.findings.all()) {
    const s = await rt.deps.store.get(f.id);
    if (s?.ts && s.channel) out.set(f.id, { channel: s.channel, ts: s.ts, status: s.status });
  }
  return out;
}

describe('Slack losing the answer to a post', () => {
  it('leaves exactly one card per finding, and resolving them redraws every card', async () => {
    const report = await rt.scanNow({ timeoutMs: 120_000 });
    const lostPosts = slack.faulted.filter((f) => f.method === 'chat.postMessage' && f.ts);
    // The faults happened: messages Slack posted whose answer never reached the bot.
    expect(lostPosts.length).toBeGreaterThanOrEqual(5);
    expect(slack.faulted.some((f) => f.answer === 'drop')).toBe(true);

    const stored = await storedCards();
    const cards = cardsById();
    expect(stored.size).toBeGreaterThan(40);
    // One message per card, and it is the one the bot saved.
    expect([...cards.entries()].filter(([, ms]) => ms.length !== 1).map(([id]) => id)).toEqual([]);
    expect([...cards.keys()].sort()).toEqual([...stored.keys()].sort());
    for (const [id, s] of stored) expect(cards.get(id)![0]!.ts).toBe(s.ts);
    // One summary per burst channel, whatever the faults.
    const summaries = slack.messages.filter((m) =>
      String(m.metadata?.event_payload.finding_id ?? '').startsWith('summary-'),
    );
    expect(summaries.length).toBe(report.deliveries.filter((d) => d.summary).length);
    // Each summary counts what its thread holds.
    expect(summaries.length).toBeGreaterThan(0);
    for (const sm of summaries) {
      const replies = slack.threadReplies(sm.channel, sm.ts).length;
      expect(replies).toBeGreaterThan(10);
      expect(sm.text).toMatch(new RegExp(`^${replies} new access findings`));
    }
    expect(report.deliveries.reduce((n, d) => n + d.posted, 0)).toBe(stored.size);

    // AWS resolves every finding; the update answers are lost too, after Slack applied them.
    const at = new Date().toISOString();
    for (const f of data.findings.all())
      if (f.status === 'ACTIVE') data.findings.update(f.id, { status: 'RESOLVED', updatedAt: at });
    slack.faults.rules = [{ methods: ['chat.update'], fraction: 0.2, when: 'after', answer: 503 }];
    const faultedBefore = slack.faulted.length;
    await rt.scanNow({ timeoutMs: 120_000 });
    expect(slack.faulted.length - faultedBefore).toBeGreaterThan(3);

    const after = await storedCards();
    expect([...after.values()].filter((s) => s.status !== 'RESOLVED')).toEqual([]);
    // Every card in Slack says Resolved; none was posted again.
    const stale = [...cardsById().entries()].filter(([, [m]]) => !/Resolved/.test(m!.text)).map(([id]) => id);
    expect(stale).toEqual([]);
    expect(cardsById().size).toBe(stored.size);
  }, 180_000);
});
