// `kill -9` of a `start --role worker` process in the middle of a delivery, twice: the delivery is
// taken over by the next worker once its lock expires, and the scan ends with every finding on one
// card (none lost, none twice), every summary counting its thread, and no job failed, without a
// later scan to mend it. Real Redis and BullMQ, the AWS and Slack sandboxes over HTTP, the CLI run
// from source (bench/reliability/harness.ts, as `npm run reliability -- kill9` uses it).
import type { Job } from 'bullmq';
import { afterAll, describe, expect, it } from 'vitest';
import {
  activeIds,
  drained,
  finalized,
  startWorker,
  tally,
  until,
  type WorkerProc,
  type World,
  world,
} from '../../bench/reliability/harness.ts';
import { REDIS_URL } from '../helpers/runtime.ts';

let w: World | undefined;
const workers: WorkerProc[] = [];

afterAll(async () => {
  for (const wp of workers) if (wp.child.exitCode === null) wp.child.kill('SIGKILL');
  await w?.stop();
});

describe('kill -9 of a worker while it delivers', () => {
  it('loses no card and posts none twice, and the scan finishes without a later one', async () => {
    process.env.REDIS_URL ??= REDIS_URL;
    w = await world({
      findings: 40,
      seed: 1,
      // Two channels paced at 120 ms a post: each delivery runs for a few seconds.
      postIntervalMs: 120,
      bulk: { regions: 1, accounts: 2, channels: 2, archivedRatio: 0, resolvedRatio: 0 },
      slackSettings: { burstThreshold: 10 },
      // A killed worker's job is taken over about 3 s later (its lock, then the stalled check).
      workers: { lockMs: 2000, stalledIntervalMs: 1000 },
    });
    const everActive = activeIds(w);
    const cards = () => w!.slack.messages.filter((m) => m.metadata?.event_payload.finding_id).length;
    const deliveringNow = async () => ((await w!.rt.queues.deliver.getJobs(['active'])) as Job[]).length > 0;

    // The first worker's scheduler runs the scan; each worker is killed a few posts into a delivery.
    let kills = 0;
    for (let k = 0; k < 2; k++) {
      const wp = startWorker(w);
      workers.push(wp);
      const before = cards();
      await until(
        `a delivery under way (kill ${k + 1})`,
        async () => (await deliveringNow()) && cards() >= before + 4,
        60_000,
      ).catch((err: Error) => {
        throw new Error(`${err.message}; worker output: ${wp.output().slice(-3000)}`);
      });
      wp.child.kill('SIGKILL');
      await wp.exited;
      kills++;
    }
    expect(kills).toBe(2);
    // Both kills left work behind.
    expect(cards()).toBeLessThan(everActive.size);

    // A third worker takes the killed deliveries over when their locks expire and finishes them.
    workers.push(startWorker(w));
    await until(
      'every delivery done',
      async () => (await finalized(w!.rt)) >= 1 && (await drained(w!.rt)),
      60_000,
    );
    expect(await finalized(w.rt)).toBe(1);

    const t = await tally(w, everActive, new Set());
    expect(t).toMatchObject({
      lost: 0,
      duplicateCards: 0,
      duplicateReplies: 0,
      duplicateSummaries: 0,
      summaryMiscounts: 0,
      failedJobs: 0,
    });
    expect(t.summaries).toBe(2);
    expect(t.cards).toBeGreaterThan(30);
    // What Redis holds is what Slack shows: each card's saved ts is its message.
    for (const m of w.slack.messages) {
      const id = m.metadata?.event_payload.finding_id;
      if (typeof id !== 'string' || id.startsWith('summary-')) continue;
      expect((await w.rt.deps.store.get(id))?.ts).toBe(m.ts);
    }
    // The deliveries were taken over after a crash, not retried after failing.
    const done = (await w.rt.queues.deliver.getJobs(['completed'])) as Job[];
    expect(done).toHaveLength(2);
    expect(done.every((j) => j.attemptsMade <= 1)).toBe(true);
  }, 90_000);
});
