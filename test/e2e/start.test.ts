// `access-patrol start` as a real process (the compiled build, plain node): it upserts the scan scheduler, the scheduled scan posts
// the sandbox organisation's findings, /healthz and /readyz answer, and SIGTERM shuts it down cleanly.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type AwsSandbox, startAwsSandbox } from '../../sandbox/aws.ts';
import { DEMO_CHANNELS, demoData } from '../../sandbox/fixtures/demo-org.ts';
import { type SlackSandbox, startSlackSandbox } from '../../sandbox/slack.ts';
import { BIN, ensureBuilt } from '../helpers/build.ts';
import { freePort } from '../helpers/ports.ts';
import { REDIS_URL, uniquePrefix, wipePrefix } from '../helpers/runtime.ts';

let child: ChildProcess | undefined;
let aws: AwsSandbox | undefined;
let slack: SlackSandbox | undefined;
const prefix = uniquePrefix('s');

beforeAll(() => ensureBuilt(), 120_000);

afterEach(async () => {
  if (child && child.exitCode === null) child.kill('SIGKILL');
  await aws?.close();
  await slack?.close();
  await wipePrefix(prefix);
});

/** Longest wait for the child to start listening. */
const STARTUP_WAIT_MS = 90_000;

async function until<T>(
  what: string,
  fn: () => Promise<T | undefined> | T | undefined,
  ms = 60_000,
): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('access-patrol start', () => {
  it(
    'schedules scans, posts findings, answers health checks and stops on SIGTERM',
    async () => {
      aws = await startAwsSandbox({ data: demoData(new Date(), { burst: false }) });
      slack = await startSlackSandbox();
      const dir = await mkdtemp(join(tmpdir(), 'ap-start-'));
      const configPath = join(dir, 'access-patrol.yml');
      await writeFile(
        configPath,
        `regions: [us-east-1]
scan: { intervalMinutes: 30, expectedAnalyzerKinds: [external, unused] }
slack: { defaultChannel: "${DEMO_CHANNELS.default}", adminChannel: "${DEMO_CHANNELS.admin}", postIntervalMs: 0 }
redis: { keyPrefix: "${prefix}" }
routing:
  - match: { tag: { key: access-patrol-channel } }
`,
      );
      const port = await freePort();
      let stderr = '';
      child = spawn(process.execPath, [BIN, 'start'], {
        cwd: dir, // no developer's .env
        env: {
          PATH: process.env.PATH,
          SLACK_BOT_TOKEN: 'xoxb-start-test',
          SLACK_SIGNING_SECRET: 'start-test-signing-secret',
          SLACK_API_URL: slack.apiUrl,
          REDIS_URL,
          ACCESS_PATROL_CONFIG: configPath,
          PORT: String(port),
          LOG_LEVEL: 'warn',
          AWS_ACCESS_KEY_ID: 'AKIASANDBOXSTART0001',
          AWS_SECRET_ACCESS_KEY: 'sandbox',
          AWS_REGION: 'us-east-1',
          AWS_ENDPOINT_URL_ACCESSANALYZER: aws.url,
          AWS_ENDPOINT_URL_IAM: aws.url,
          AWS_ENDPOINT_URL_STS: aws.url,
        },
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      child.stderr?.on('data', (d) => {
        stderr += String(d);
      });
      const exited = new Promise<number | null>((r) => child!.on('exit', (code) => r(code)));

      // The child runs the compiled build; on a busy machine loading it can still take seconds, so the
      // wait is generous (it ends as soon as /healthz answers).
      const health = await until(
        'healthz',
        () =>
          fetch(`http://127.0.0.1:${port}/healthz`).then(
            (r) => r.status,
            () => undefined,
          ),
        STARTUP_WAIT_MS,
      ).catch((err: Error) => {
        throw new Error(`${err.message}; child stderr: ${stderr.slice(-2000) || '(empty)'}`);
      });
      expect(health).toBe(200);
      expect((await fetch(`http://127.0.0.1:${port}/readyz`)).status).toBe(200);
      const metrics = await fetch(`http://127.0.0.1:${port}/metrics`);
      expect(metrics.status).toBe(200);
      const exposition = await metrics.text();
      expect(exposition).toMatch(/^access_patrol_redis_up 1$/m);
      expect(exposition).toMatch(/^access_patrol_process_resident_memory_bytes \d+/m);

      const redis = new Redis(REDIS_URL);
      const queue = new Queue('scan', { connection: redis, prefix: `${prefix.replace(/:$/, '')}:bull` });
      try {
        const scheduler = await until('job scheduler', () => queue.getJobScheduler('periodic-scan'));
        expect(scheduler).toMatchObject({ every: 30 * 60_000 });
      } finally {
        await queue.close();
        await redis.quit();
      }

      // The scheduler's first run posts the region's findings to their channels.
      await until('scheduled scan posts', () => slack!.messages.length >= 5);
      expect(slack.channelMessages(DEMO_CHANNELS.platform).length).toBeGreaterThan(0);

      child.kill('SIGTERM');
      expect(await exited).toBe(0);
      expect(stderr).not.toMatch(/Error|error/);
    },
    3 * STARTUP_WAIT_MS,
  );
});
