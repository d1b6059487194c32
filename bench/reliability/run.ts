// `npm run reliability -- <scenario> [--findings N] [--seed S]`: the bot under faults, on loopback,
// bounded in time and count, printing what it counted. Not a test (exit code 1 only when a figure
// misses its goal or the run itself fails). docs/reliability.md has the method and the figures.
//   kill9    `kill -9` of a worker process at random points (20 times) during listing and delivery
//   sigterm  SIGTERM during an analyzer listing and during a delivery, within the grace
//   faults   Slack 5xx before and after acting, dropped connections, 429 storms; AWS 30% throttled
//            and 5% 500s: every finding once, every change shown in order
//   redis-restart  Redis (AOF, appendfsync everysec, on a port of its own) restarted gracefully and
//            with kill -9 while analyzers list, channels are delivered and archive jobs run
// Workers are `start --role worker` processes run from source (tsx); the AWS and Slack sandboxes
// and the bookkeeping run in this process. Redis: REDIS_URL, or one started on a free port.
import { parseArgs } from 'node:util';
import type { Job } from 'bullmq';
import { enqueue, JOBS } from '../../src/queue/index.ts';
import {
  activeIds,
  bad,
  drained,
  finalized,
  world as harnessWorld,
  persistentRedis,
  scansDone,
  startWorker,
  type Tally,
  tally,
  until,
  type World,
} from './harness.ts';

const { values: args, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    findings: { type: 'string', default: '200' },
    seed: { type: 'string', default: '1' },
    kills: { type: 'string', default: '20' },
    'grace-ms': { type: 'string', default: '30000' },
  },
});
const scenario = positionals[0] ?? '';
const FINDINGS = Number(args.findings);
const SEED = Number(args.seed);
const out = (line = '') => process.stdout.write(`${line}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A small seeded generator, so a run can be repeated. */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const rand = seeded(SEED);

/** A world of FINDINGS findings and SEED (harness.ts). */
const world = (opts: Omit<Parameters<typeof harnessWorld>[0], 'findings' | 'seed'>) =>
  harnessWorld({ ...opts, findings: FINDINGS, seed: SEED });

// The first scan of every scenario is the one the workers' scheduler runs when they start (a scan
// enqueued beside it would overlap it; two overlapping first scans race for the same new findings).
function scanNow(w: World, tag: string): Promise<unknown> {
  return enqueue(w.rt.queues, JOBS.scanRun, { requestId: `rel-${tag}-${Date.now().toString(36)}` });
}

/** AWS changes between two scans: a third of the active findings resolved, a tenth updated. */
function changeAws(w: World): { resolved: Set<string>; updated: Set<string> } {
  const resolved = new Set<string>();
  const updated = new Set<string>();
  const at = new Date().toISOString();
  for (const f of w.data.findings.all()) {
    if (f.status !== 'ACTIVE') continue;
    const r = rand();
    if (r < 0.33) {
      w.data.findings.update(f.id, { status: 'RESOLVED', updatedAt: at });
      resolved.add(f.id);
    } else if (r < 0.43) {
      w.data.findings.update(f.id, { updatedAt: at });
      updated.add(f.id);
    }
  }
  return { resolved, updated };
}

function printTally(label: string, t: Tally): void {
  out(`${label}:`);
  out(`  cards in Slack            ${t.cards}`);
  out(`  lost cards                ${t.lost}`);
  out(`  duplicate cards           ${t.duplicateCards}`);
  out(`  duplicate thread replies  ${t.duplicateReplies}`);
  out(
    `  summaries                 ${t.summaries} (duplicates ${t.duplicateSummaries}, miscounted ${t.summaryMiscounts})`,
  );
  out(`  resolved but shown active ${t.stale}`);
  out(`  jobs failed for good      ${t.failedJobs}`);
}

// ---------------------------------------------------------------- kill -9

async function kill9(): Promise<boolean> {
  const KILLS = Number(args.kills);
  const w = await world({ postIntervalMs: 150, awsRate: 40, pageSize: 25 });
  const t0 = Date.now();
  try {
    const everActive = activeIds(w);
    out(
      `kill9: ${FINDINGS} findings (${everActive.size} active), ${w.data.regions.length} regions, ${KILLS} kills, seed ${SEED}`,
    );
    const workers = [startWorker(w), startWorker(w)];
    const phases: string[] = [];
    let kills = 0;
    let resolved = new Set<string>();
    // Phase 1: the first scan (listing, posting, bursts); phase 2: resolutions and updates.
    for (const phase of ['first scan', 'rescan after changes']) {
      if (phase !== 'first scan') {
        resolved = changeAws(w).resolved;
        for (const id of activeIds(w)) everActive.add(id);
      }
      if (phase !== 'first scan') await scanNow(w, 'rescan');
      const target = phase === 'first scan' ? Math.ceil(KILLS * 0.6) : KILLS;
      const kinds = new Map<string, number>();
      while (kills < target) {
        const phaseDone = async () =>
          (await finalized(w.rt)) >= (phase === 'first scan' ? 1 : 2) && (await drained(w.rt));
        const runningJobs = async () => [
          ...((await w.rt.queues.scan.getJobs(['active'])) as Job[]),
          ...((await w.rt.queues.deliver.getJobs(['active'])) as Job[]),
        ];
        // Kill while jobs run: wait for one (a restarted worker takes seconds to start), then a
        // random 0.2-2.2 s into it.
        await until(
          'a running job',
          async () => (await runningJobs()).length > 0 || (await phaseDone()),
          120_000,
        );
        await sleep(200 + rand() * 2000);
        if (await phaseDone()) break;
        const running = await runningJobs();
        const i = Math.floor(rand() * workers.length);
        workers[i]!.child.kill('SIGKILL');
        await workers[i]!.exited;
        kills++;
        for (const j of running) kinds.set(j.name, (kinds.get(j.name) ?? 0) + 1);
        workers[i] = startWorker(w);
      }
      await scansDone(w, phase === 'first scan' ? 1 : 2, `${phase} to finish`, 10 * 60_000);
      phases.push(
        `${phase}: kills so far ${kills}; jobs running at the kills: ${[...kinds].map(([k, n]) => `${k} ${n}`).join(', ') || 'none'}`,
      );
    }
    for (const p of phases) out(`  ${p}`);
    const t = await tally(w, everActive, resolved);
    printTally(`after ${kills} kills, ${((Date.now() - t0) / 1000).toFixed(0)} s`, t);
    for (const wp of workers) wp.child.kill('SIGTERM');
    await Promise.all(workers.map((wp) => wp.exited));
    return !bad(t);
  } finally {
    await w.stop();
  }
}

// ---------------------------------------------------------------- SIGTERM

async function sigterm(): Promise<boolean> {
  const GRACE = Number(args['grace-ms']);
  let ok = true;
  // Delivery paced at 1 post/s (Slack's rate) and listings throttled to 2 requests/s, so both run
  // for longer than the grace and have to be handed back.
  const w = await world({ postIntervalMs: 1000, awsRate: 2, pageSize: 10, graceMs: GRACE });
  try {
    const everActive = activeIds(w);
    out(`sigterm: ${FINDINGS} findings (${everActive.size} active), grace ${GRACE / 1000} s, seed ${SEED}`);
    for (const kind of [JOBS.scanAnalyzer, JOBS.deliverChannel] as const) {
      const wp = startWorker(w);
      const queue = kind === JOBS.deliverChannel ? w.rt.queues.deliver : w.rt.queues.scan;
      await until(
        `a running ${kind}`,
        async () => ((await queue.getJobs(['active'])) as Job[]).some((j) => j.name === kind),
        5 * 60_000,
      );
      await sleep(2000);
      const t0 = Date.now();
      wp.child.kill('SIGTERM');
      const code = await wp.exited;
      const ms = Date.now() - t0;
      const handedBack = (wp.output().match(/job handed back to the queue at shutdown/g) ?? []).length;
      const leftRunning = /still running at the end of the shutdown grace/.test(wp.output());
      out(
        `  SIGTERM during ${kind}: exit code ${code} after ${(ms / 1000).toFixed(1)} s; jobs handed back ${handedBack}${leftRunning ? ', some left to the stalled check' : ''}`,
      );
      if (code !== 0 || ms > GRACE) ok = false;
    }
    // Another worker finishes what was handed back.
    const wp = startWorker(w);
    const t1 = Date.now();
    await scansDone(w, 1, 'the scan to finish', 15 * 60_000);
    out(`  another worker finished the rest in ${((Date.now() - t1) / 1000).toFixed(0)} s`);
    wp.child.kill('SIGTERM');
    await wp.exited;
    const t = await tally(w, everActive, new Set());
    printTally('after the SIGTERMs', t);
    return ok && !bad(t);
  } finally {
    await w.stop();
  }
}

// ---------------------------------------------------------------- Slack and AWS faults

async function faults(): Promise<boolean> {
  const posts = ['chat.postMessage'];
  const writes = ['chat.postMessage', 'chat.update'];
  const w = await world({
    postIntervalMs: 0,
    slackFaults: {
      faults: {
        seed: SEED,
        rules: [
          { methods: writes, fraction: 0.1, when: 'after', answer: 500 },
          { methods: posts, fraction: 0.05, when: 'after', answer: 'drop' },
          { methods: writes, fraction: 0.1, when: 'before', answer: 503 },
          {
            methods: [...writes, 'conversations.history', 'conversations.replies'],
            fraction: 0.1,
            answer: 429,
          },
        ],
      },
    },
    awsFaults: { seed: SEED, throttled: 0.3, internalError: 0.05 },
  });
  try {
    const everActive = activeIds(w);
    out(`faults: ${FINDINGS} findings (${everActive.size} active), seed ${SEED}`);
    out('  Slack: chat.postMessage/chat.update 10% 500 after acting, 10% 503 before; posts 5% dropped after');
    out('         acting; 10% 429 (Retry-After 1) on writes and history reads. AWS: 30% throttled, 5% 500.');
    const wp = startWorker(w);
    const t0 = Date.now();
    await scansDone(w, 1, 'the first scan', 15 * 60_000);
    const first = (Date.now() - t0) / 1000;
    const { resolved, updated } = changeAws(w);
    for (const id of activeIds(w)) everActive.add(id);
    const t1 = Date.now();
    await scanNow(w, 'faults2');
    await scansDone(w, 2, 'the rescan', 15 * 60_000);
    const second = (Date.now() - t1) / 1000;
    const f = w.slack.faulted;
    const count = (pred: (x: (typeof f)[number]) => boolean) => f.filter(pred).length;
    out(
      `  first scan ${first.toFixed(0)} s, rescan (${resolved.size} resolved, ${updated.size} updated) ${second.toFixed(0)} s`,
    );
    out(
      `  Slack faults: ${count((x) => x.when === 'after')} after acting (${count((x) => x.answer === 'drop')} dropped), ${count((x) => x.when === 'before' && x.answer !== 429)} 5xx before, ${count((x) => x.answer === 429)} 429s`,
    );
    const aa = w.aws.requests.filter((r) => r.service === 'access-analyzer');
    out(
      `  AWS: ${aa.length} Access Analyzer requests, ${aa.filter((r) => r.status === 429).length} throttled, ${aa.filter((r) => r.status === 500).length} 500s`,
    );
    // Every change shown in order: an updated card was redrawn and its last drawing is its newest state.
    let outOfOrder = 0;
    for (const m of w.slack.messages) {
      const states = [...m.history.map((h) => h.text), m.text].map((t) => (/Resolved/.test(t) ? 'R' : 'A'));
      if (states.join('').includes('RA')) outOfOrder++;
    }
    out(`  cards whose drawings went back from Resolved to Active: ${outOfOrder}`);
    const t = await tally(w, everActive, resolved);
    printTally('after both scans', t);
    wp.child.kill('SIGTERM');
    await wp.exited;
    return outOfOrder === 0 && !bad(t);
  } finally {
    await w.stop();
  }
}

// ---------------------------------------------------------------- Redis restarts

async function redisRestart(): Promise<boolean> {
  const redis = await persistentRedis();
  const w = await world({ postIntervalMs: 150, awsRate: 40, pageSize: 25, redisUrl: redis.url });
  const t0 = Date.now();
  const events: string[] = [];
  try {
    const everActive = activeIds(w);
    out(
      `redis-restart: ${FINDINGS} findings (${everActive.size} active), ${w.data.regions.length} regions, Redis with AOF (appendfsync everysec), seed ${SEED}`,
    );
    const workers = [startWorker(w), startWorker(w)];
    // The bookkeeping connection fails while Redis is down: such a look counts as "not yet".
    const safe = (fn: () => Promise<boolean>) => () => fn().catch(() => false);
    type AnyQueue = typeof w.rt.queues.scan | typeof w.rt.queues.deliver | typeof w.rt.queues.actions;
    const runs = (queue: AnyQueue, name: string) =>
      safe(async () => ((await queue.getJobs(['active'])) as Job[]).some((j) => j.name === name));
    const restartWhile = async (
      what: string,
      queue: AnyQueue,
      name: string,
      how: 'graceful' | 'kill9',
      over: () => Promise<boolean>,
    ) => {
      await until(what, async () => (await runs(queue, name)()) || (await over()), 5 * 60_000);
      if (await over()) {
        events.push(`${how} restart during ${what}: skipped, it was over first`);
        return;
      }
      await sleep(300 + rand() * 700);
      const t = Date.now();
      await redis.restart(how, 1000);
      events.push(`${how} restart during ${what} (Redis away ${((Date.now() - t) / 1000).toFixed(1)} s)`);
    };
    const scanned = (n: number) => safe(async () => (await finalized(w.rt)) >= n && (await drained(w.rt)));

    // The first scan: a graceful restart while analyzers list, kill -9 while channels are delivered.
    await restartWhile('a first-scan listing', w.rt.queues.scan, JOBS.scanAnalyzer, 'graceful', scanned(1));
    await restartWhile(
      'a first-scan delivery',
      w.rt.queues.deliver,
      JOBS.deliverChannel,
      'kill9',
      scanned(1),
    );
    await until('the first scan to finish', scanned(1), 10 * 60_000);

    // Actions: archive 15 cards; Redis is killed while the archive jobs run.
    const cardOf = (id: string) => w.slack.messages.find((m) => m.metadata?.event_payload.finding_id === id);
    const toArchive = [...everActive].filter((id) => cardOf(id)).slice(0, 15);
    for (const id of toArchive) {
      const st = await w.rt.deps.store.get(id);
      await enqueue(w.rt.queues, JOBS.archive, {
        findingId: id,
        analyzerArn: st!.analyzerArn,
        region: st!.region,
        userId: 'U0RELIABLE',
        replyChannel: st!.channel,
        requestTs: `${Date.now() / 1000}`,
        reason: 'reliability run',
      });
    }
    const actionsOver = safe(async () => {
      const c = await w.rt.queues.actions.getJobCounts('waiting', 'active', 'delayed', 'prioritized');
      return Object.values(c).every((n) => n === 0);
    });
    await restartWhile('the archive jobs', w.rt.queues.actions, JOBS.archive, 'kill9', actionsOver);
    await until('the archive jobs to end', actionsOver, 5 * 60_000);
    const archivedInAws = toArchive.filter((id) => w.data.findings.get(id)?.status === 'ARCHIVED').length;
    const cardsArchived = toArchive.filter((id) => /Archived/.test(cardOf(id)?.text ?? '')).length;
    // Receipts are posted once (their once-key names the archive job, and so the card).
    const receipts = toArchive.map(
      (id) =>
        w.slack.messages.filter((m) =>
          String(m.metadata?.event_payload.once_key ?? '').includes(`archive-${id}`),
        ).length,
    );
    const failedActions = (await w.rt.queues.actions.getJobCounts('failed')).failed ?? 0;

    // A rescan after AWS changed: kill -9 while analyzers list, a graceful restart while delivering.
    const { resolved } = changeAws(w);
    for (const id of activeIds(w)) everActive.add(id);
    await scanNow(w, 'rescan');
    await restartWhile('a rescan listing', w.rt.queues.scan, JOBS.scanAnalyzer, 'kill9', scanned(2));
    await restartWhile('a rescan delivery', w.rt.queues.deliver, JOBS.deliverChannel, 'graceful', scanned(2));
    await until('the rescan to finish', scanned(2), 10 * 60_000);

    for (const e of events) out(`  ${e}`);
    out(
      `  archive: ${toArchive.length} asked, ${archivedInAws} archived in AWS, ${cardsArchived} cards show Archived, receipts per card ${[...new Set(receipts)].join('/')}, ${failedActions} failed`,
    );
    const t = await tally(w, everActive, resolved);
    printTally(`after ${events.length} Redis restarts, ${((Date.now() - t0) / 1000).toFixed(0)} s`, t);
    for (const wp of workers) wp.child.kill('SIGTERM');
    await Promise.all(workers.map((wp) => wp.exited));
    const actionsOk =
      archivedInAws === toArchive.length &&
      cardsArchived === toArchive.length &&
      receipts.every((n) => n === 1) &&
      failedActions === 0;
    return actionsOk && !bad(t);
  } finally {
    await w.stop();
    await redis.stop();
  }
}

const SCENARIOS: Record<string, () => Promise<boolean>> = {
  kill9,
  sigterm,
  faults,
  'redis-restart': redisRestart,
};
const run = SCENARIOS[scenario];
if (!run) {
  process.stderr.write(
    `usage: npm run reliability -- <${Object.keys(SCENARIOS).join('|')}> [--findings N] [--seed S]\n`,
  );
  process.exit(2);
}
const ok = await run();
out(ok ? 'goal met' : 'GOAL MISSED');
process.exit(ok ? 0 : 1);
