// An admin notice in a channel's outbox is posted once even when Redis fails between the post and
// removing the event from the outbox (the deliver job's retry must not post it again).
import type { Job } from 'bullmq';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { analyzerMissingNotice } from '../../blocks/notice.ts';
import { deliverChannel } from '../../jobs/deliver.ts';
import type { AppConfig } from '../../src/config/schema.ts';
import { type DeliverData, JOBS } from '../../src/queue/index.ts';
import type { Runtime } from '../../src/runtime.ts';
import { Outbox } from '../../src/store/outbox.ts';
import { type FakeSlack, fakeSlack } from '../helpers/fake-slack.ts';
import { testConfig, testRuntime, wipePrefix } from '../helpers/runtime.ts';
import { failOnce } from '../helpers/triage.ts';

let config: AppConfig;
let rt: Runtime;
let slack: FakeSlack;

beforeEach(() => {
  config = testConfig();
  slack = fakeSlack();
  rt = testRuntime(config);
});

afterEach(async () => {
  await rt.close();
  await wipePrefix(config.redis.keyPrefix);
});

describe('admin notices', () => {
  it('are posted once when removing the event from the outbox fails and the job is retried', async () => {
    const scanId = 'scan-notice-1';
    const channel = config.slack.adminChannel;
    const msg = analyzerMissingNotice({
      region: 'eu-west-1',
      missing: [{ kind: 'internal', type: 'ACCOUNT_INTERNAL_ACCESS' }],
    });
    await new Outbox(rt.deps.redis, rt.deps.keys).push(scanId, channel, [
      { kind: 'notice', key: 'missing:eu-west-1', text: msg.text, blocks: msg.blocks },
    ]);
    const job = {
      id: `deliver-${scanId}-admin`,
      name: JOBS.deliverChannel,
      data: { scanId, channel },
      attemptsMade: 0,
      opts: { attempts: 5 },
    } as unknown as Job<DeliverData>;
    // The notice's removal (popped together with the read of the next event) fails once.
    failOnce(rt.deps.outbox, 'popAndHead');

    await expect(deliverChannel(rt.deps, job)).rejects.toThrow(/popAndHead failed/);
    const retried = await deliverChannel(rt.deps, { ...job, attemptsMade: 1 } as Job<DeliverData>);

    expect(slack.posted.filter((p) => p.channel === channel).map((p) => p.text)).toEqual([msg.text]);
    expect(retried.notices).toBe(1);
    expect(await rt.deps.redis.llen(rt.deps.keys.outbox(scanId, channel))).toBe(0);
  });
});
