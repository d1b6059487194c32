// `npm run bench -- --clicks [--findings N --requests N --rate N]`: clicks and commands against an
// organisation-sized store. Stores N finding cards directly through the store (seconds), starts the
// bot's web role in a process of its own (bench/web-child.ts), then sends signed Slack requests at a
// fixed rate, a third of them `/access findings` with filters, and prints the ack latency (HTTP
// answer to the request) and the time to the first page (the `/access findings` answer arriving at
// the response_url). The same is measured with the bot forced to walk every finding hash, as before
// the store's indexes. Prints figures; it is not a test. docs/performance.md.
import { type ChildProcess, spawn } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { ensureRedis, wipePrefix } from '../sandbox/redis.ts';
import { configSchema } from '../src/config/schema.ts';
import { SEVERITIES } from '../src/findings/model.ts';
import { type FindingState, FindingStore } from '../src/store/findings.ts';
import { keys } from '../src/store/keys.ts';
import type { WebInit } from './web-child.ts';

const SECRET = 'bench-signing-secret';
const ADMIN = 'U0BENCHADMIN';
const TYPES = [
  'ExternalAccess',
  'UnusedIAMRole',
  'UnusedPermission',
  'UnusedIAMUserAccessKey',
  'InternalAccess',
];
const ACCOUNTS = Array.from({ length: 20 }, (_, i) => String(100000000000 + i * 7919));
const REGIONS = ['us-east-1', 'us-west-2', 'eu-west-1', 'eu-central-1', 'ap-southeast-2'];
const TARGETS = { ackP99Ms: 100, firstPageMs: 200 };
const out = (line = '') => process.stdout.write(`${line}\n`);

export interface ClicksOptions {
  findings: number;
  requests: number;
  rate: number;
  /** Requests for the forced-walk run (the walk is slow: fewer, at the same rate). */
  walkRequests: number;
  logLevel: string;
}

function rng(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The N cards, as delivery would have written them. */
function benchCards(n: number): [string, Partial<FindingState>][] {
  const rand = rng(7);
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(rand() * xs.length)]!;
  const now = Date.now();
  const cards: [string, Partial<FindingState>][] = [];
  for (let i = 0; i < n; i++) {
    const id = `b${i.toString(36).padStart(5, '0')}-4c1e-4a9b-9d7e-${(i * 2654435761).toString(16).padStart(12, '0').slice(-12)}`;
    const r = rand();
    const status = r < 0.92 ? 'ACTIVE' : r < 0.97 ? 'ARCHIVED' : 'RESOLVED';
    const team = Math.floor(rand() * 8);
    const account = pick(ACCOUNTS);
    const state: Partial<FindingState> = {
      status,
      updatedAt: new Date(now - Math.floor(rand() * 30) * 86_400_000).toISOString(),
      fingerprint: 'f',
      channel: `C0TEAM${team}`,
      ts: `${Math.floor(now / 1000)}.${String(i).padStart(6, '0')}`,
      routeChannel: `#team-${team}`,
      routeRule: 'channel tag',
      analyzerArn: `arn:aws:access-analyzer:${pick(REGIONS)}:${ACCOUNTS[0]}:analyzer/bench`,
      region: pick(REGIONS),
      accountId: account,
      findingType: pick(TYPES),
      resourceArn: `arn:aws:iam::${account}:role/bench-role-${i}`,
      resourceType: 'AWS::IAM::Role',
      severity: pick(SEVERITIES),
      createdAt: new Date(now - Math.floor(rand() * 200 * 86_400_000)).toISOString(),
      firstSeen: new Date(now - Math.floor(rand() * 100 * 86_400_000)).toISOString(),
      ...(rand() < 0.3 ? { ownerEmail: `owner${team}@example.com` } : {}),
    };
    cards.push([id, state]);
  }
  return cards;
}

/**
 * N cards through the store's own write script, 1,000 per pipeline (one round trip each) with 4
 * pipelines in flight: what `FindingStore.set` writes, without a round trip per card.
 */
async function storeFindings(store: FindingStore, n: number): Promise<string[]> {
  const cards = benchCards(n);
  const batches: (typeof cards)[] = [];
  for (let i = 0; i < cards.length; i += 1000) batches.push(cards.slice(i, i + 1000));
  let next = 0;
  const lane = async () => {
    while (next < batches.length) await store.setMany(batches[next++]!);
  };
  await Promise.all([lane(), lane(), lane(), lane()]);
  return cards.map(([id]) => id);
}

/** Where the bot's `respond()` calls land: the time each response_url got its first POST. */
async function responseTarget(): Promise<{ server: Server; url: string; arrived: Map<string, number> }> {
  const arrived = new Map<string, number>();
  const server = createServer((req, res) => {
    const at = performance.now();
    req.resume();
    req.on('end', () => {
      if (!arrived.has(req.url ?? '')) arrived.set(req.url ?? '', at);
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, arrived };
}

async function startWeb(init: WebInit): Promise<{
  child: ChildProcess;
  port: number;
  stats(): Promise<{ elu: number; cpuMs: number }>;
  close(): Promise<void>;
}> {
  const script = fileURLToPath(new URL('./web-child.ts', import.meta.url));
  const child = spawn(process.execPath, ['--import', 'tsx', script], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const next = <T>(type: string) =>
    new Promise<T>((resolve, reject) => {
      const on = (m: { type: string; message?: string }) => {
        if (m.type === 'error') reject(new Error(`web child: ${m.message}`));
        else if (m.type === type) {
          child.off('message', on);
          resolve(m as T);
        }
      };
      child.on('message', on);
      child.once('exit', (code) => reject(new Error(`web child exited with code ${code}`)));
    });
  const ready = next<{ port: number }>('ready');
  child.send({ type: 'init', init });
  const { port } = await ready;
  return {
    child,
    port,
    async stats() {
      const s = next<{ elu: number; cpuMs: number }>('stats');
      child.send({ type: 'stats' });
      return s;
    },
    async close() {
      if (child.exitCode !== null) return;
      const gone = new Promise<void>((r) => child.once('exit', () => r()));
      child.send({ type: 'close' });
      await gone;
    },
  };
}

const FILTERS = [
  '',
  '--severity critical',
  '--type ExternalAccess',
  '--older-than 90',
  '--status ARCHIVED --type UnusedIAMRole',
  `--account ${ACCOUNTS[3]}`,
  '--region eu-west-1 --severity high',
  '--type UnusedPermission --page 3',
];

function body(text: string, responseUrl: string, n: number): string {
  return new URLSearchParams({
    token: 'legacy',
    team_id: 'T0BENCH',
    team_domain: 'bench',
    channel_id: 'C0TEAM1',
    channel_name: 'team-1',
    user_id: ADMIN,
    user_name: 'bench',
    command: '/access',
    text,
    response_url: responseUrl,
    trigger_id: `${Date.now()}.${n}.bench`,
    api_app_id: 'A0BENCH',
  }).toString();
}

async function signedPost(url: string, payload: string): Promise<number> {
  const ts = Math.floor(Date.now() / 1000);
  const sig = `v0=${createHmac('sha256', SECRET).update(`v0:${ts}:${payload}`).digest('hex')}`;
  const res = await fetch(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      'x-slack-request-timestamp': String(ts),
      'x-slack-signature': sig,
    },
    body: payload,
  });
  await res.arrayBuffer();
  return res.status;
}

const pct = (xs: number[], p: number) => {
  if (!xs.length) return Number.NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)]!;
};
const ms = (x: number) => `${x.toFixed(1)} ms`;

interface RunResult {
  acks: number[];
  pages: number[];
  idlePages: number[];
  failed: number;
  missing: number;
  elu: number;
  cpuMs: number;
  wallMs: number;
}

/** One bot process: idle first-page times, then `requests` requests at `rate` per second. */
async function run(
  label: string,
  init: WebInit,
  target: Awaited<ReturnType<typeof responseTarget>>,
  ids: string[],
  requests: number,
  rate: number,
): Promise<RunResult> {
  const web = await startWeb(init);
  const url = `http://127.0.0.1:${web.port}/slack/events`;
  let n = 0;
  const ask = async (text: string) => {
    const path = `/r/${label}/${++n}`;
    const t0 = performance.now();
    const status = await signedPost(url, body(text, `${target.url}${path}`, n));
    return { path, t0, ackMs: performance.now() - t0, status };
  };
  const waitFor = async (path: string, timeoutMs: number) => {
    const until = performance.now() + timeoutMs;
    while (!target.arrived.has(path) && performance.now() < until) await new Promise((r) => setTimeout(r, 2));
    return target.arrived.get(path);
  };
  try {
    // Warm up (JIT, connections, the store's first read), then the first page alone, one at a time.
    for (let i = 0; i < 3; i++) {
      const a = await ask('findings');
      await waitFor(a.path, 120_000);
    }
    const idlePages: number[] = [];
    for (const f of FILTERS) {
      const a = await ask(`findings ${f}`.trim());
      const at = await waitFor(a.path, 120_000);
      if (at !== undefined) idlePages.push(at - a.t0);
    }
    const s0 = await web.stats();
    const acks: number[] = [];
    const sent: { path: string; t0: number; findings: boolean }[] = [];
    let failed = 0;
    const inflight: Promise<void>[] = [];
    const start = performance.now();
    for (let i = 0; i < requests; i++) {
      const due = start + (i * 1000) / rate;
      const wait = due - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      const kind = i % 3;
      const text =
        kind === 0
          ? `findings ${FILTERS[(i / 3) % FILTERS.length]}`.trim()
          : kind === 1
            ? `show ${ids[(i * 7919) % ids.length]}`
            : 'status';
      inflight.push(
        ask(text).then(
          (a) => {
            acks.push(a.ackMs);
            if (a.status !== 200) failed++;
            sent.push({ path: a.path, t0: a.t0, findings: kind === 0 });
          },
          () => {
            failed++;
          },
        ),
      );
    }
    await Promise.all(inflight);
    const pages: number[] = [];
    let missing = 0;
    for (const s of sent) {
      const at = await waitFor(s.path, 300_000);
      if (at === undefined) missing++;
      else if (s.findings) pages.push(at - s.t0);
    }
    const wallMs = performance.now() - start;
    const s1 = await web.stats();
    return {
      acks,
      pages,
      idlePages,
      failed,
      missing,
      wallMs,
      cpuMs: s1.cpuMs - s0.cpuMs,
      elu: s1.elu,
    };
  } finally {
    await web.close();
  }
}

function report(label: string, r: RunResult, requests: number, rate: number): void {
  out(
    `${label}: ${requests} requests at ${rate}/s (a third /access findings), ${(r.wallMs / 1000).toFixed(1)} s until the last answer`,
  );
  out(
    `  ack (HTTP answer):            p50 ${ms(pct(r.acks, 50))}, p99 ${ms(pct(r.acks, 99))}, max ${ms(pct(r.acks, 100))}; ${r.failed} not 200, ${r.missing} never answered`,
  );
  out(
    `  first page, under that load:  p50 ${ms(pct(r.pages, 50))}, p99 ${ms(pct(r.pages, 99))}, max ${ms(pct(r.pages, 100))}`,
  );
  out(
    `  first page, one at a time:    median ${ms(pct(r.idlePages, 50))}, max ${ms(pct(r.idlePages, 100))} (${r.idlePages.length} filters)`,
  );
  out(`  web process CPU ${(r.cpuMs / 1000).toFixed(1)} s`);
}

export async function runClicks(opts: ClicksOptions): Promise<void> {
  const redisHandle = await ensureRedis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
  const prefix = `benchclicks${Date.now().toString(36)}:`;
  const redis = new Redis(redisHandle.url);
  const target = await responseTarget();
  try {
    const k = keys(prefix);
    const store = new FindingStore(redis, k);
    await store.indexesReady(); // an empty store: marks the indexes complete
    const t0 = performance.now();
    const ids = await storeFindings(store, opts.findings);
    const storeMs = performance.now() - t0;
    const mem = async (pattern: string) => {
      let bytes = 0;
      let cursor = '0';
      do {
        const [next, found] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 5000);
        cursor = next;
        const pipe = redis.pipeline();
        for (const key of found) pipe.call('MEMORY', 'USAGE', key, 'SAMPLES', '0');
        for (const [, v] of (await pipe.exec()) ?? []) bytes += Number(v ?? 0);
      } while (cursor !== '0');
      return bytes;
    };
    const indexBytes = await mem(`${prefix}idx:*`);
    const cardBytes = await mem(`${prefix}finding:*`);
    const per = (b: number) => `${(b / opts.findings).toFixed(0)} B`;
    out('access-patrol clicks benchmark');
    out(
      `stored ${opts.findings} finding cards through FindingStore.setMany (the write script, 1,000 per pipeline, 4 in flight) ` +
        `in ${(storeMs / 1000).toFixed(1)} s (92% ACTIVE, 8 team channels, 20 accounts, 5 regions)`,
    );
    out(
      `Redis per card: hashes ${per(cardBytes)} + indexes ${per(indexBytes)} = ${per(cardBytes + indexBytes)} ` +
        `(MEMORY USAGE of every finding:* and idx:* key over ${opts.findings})`,
    );
    const t1 = performance.now();
    await redis.del(k.findingIndexVersion());
    await new FindingStore(redis, k).rebuildIndexes();
    out(
      `one-off index rebuild (as after an upgrade) of ${opts.findings} cards: ${((performance.now() - t1) / 1000).toFixed(1)} s`,
    );

    const config = configSchema.parse({
      regions: REGIONS,
      slack: { defaultChannel: '#sec-alerts', adminChannel: '#access-patrol-admin' },
      permissions: { admins: { users: [ADMIN] } },
      accounts: Object.fromEntries(ACCOUNTS.map((a, i) => [a, { name: `account-${i}` }])),
      redis: { keyPrefix: prefix },
    });
    const init = (walk: boolean): WebInit => ({
      redisUrl: redisHandle.url,
      slackApiUrl: `${target.url}/api/`,
      signingSecret: SECRET,
      config,
      logLevel: opts.logLevel,
      walk,
    });
    // --walk-requests 0 skips the forced walk (at 100,000 cards it takes about a quarter of an hour).
    const walked =
      opts.walkRequests > 0
        ? await run('walk', init(true), target, ids, opts.walkRequests, opts.rate)
        : undefined;
    const indexed = await run('index', init(false), target, ids, opts.requests, opts.rate);
    out();
    if (walked) report('before (every read walks all finding hashes)', walked, opts.walkRequests, opts.rate);
    report('after (the store indexes)', indexed, opts.requests, opts.rate);
    out();
    out(
      `${indexed.acks.length ? (pct(indexed.acks, 99) < TARGETS.ackP99Ms ? 'PASS' : 'FAIL') : 'FAIL'}  ack p99 < ${TARGETS.ackP99Ms} ms: ${ms(pct(indexed.acks, 99))}`,
    );
    out(
      `${pct(indexed.pages, 99) < TARGETS.firstPageMs ? 'PASS' : 'FAIL'}  first page of /access findings < ${TARGETS.firstPageMs} ms (p99 under load): ${ms(pct(indexed.pages, 99))}`,
    );
  } finally {
    target.server.close();
    redis.disconnect();
    await wipePrefix(redisHandle.url, prefix);
    await redisHandle.stop();
  }
}
