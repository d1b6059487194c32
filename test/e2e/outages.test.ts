// The compiled binary when what it depends on is missing: Redis down at start (a line per backoff
// step, not ready, then ready once Redis returns), `scan` without Redis, and a revoked bot token.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type SlackSandbox, startSlackSandbox } from '../../sandbox/slack.ts';
import { BIN, ensureBuilt } from '../helpers/build.ts';
import { freePort } from '../helpers/ports.ts';
import { uniquePrefix } from '../helpers/runtime.ts';

const children: ChildProcess[] = [];
let slack: SlackSandbox | undefined;

beforeAll(() => ensureBuilt(), 120_000);
afterEach(async () => {
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  await slack?.close();
  slack = undefined;
});

async function until<T>(what: string, fn: () => Promise<T | undefined>, ms = 20_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

interface Run {
  child: ChildProcess;
  stderr(): string;
  stdout(): string;
  exited: Promise<number | null>;
}

async function runBin(args: string[], env: Record<string, string>): Promise<Run> {
  const dir = await mkdtemp(join(tmpdir(), 'ap-outage-'));
  const config = join(dir, 'access-patrol.yml');
  await writeFile(
    config,
    `regions: [us-east-1]\nslack: { defaultChannel: "#sec", adminChannel: "#admin" }\nredis: { keyPrefix: "${uniquePrefix('o')}" }\n`,
  );
  let err = '';
  let out = '';
  const child = spawn(process.execPath, [BIN, ...args], {
    cwd: dir,
    env: {
      PATH: process.env.PATH,
      // The AWS SDK's Node 20 support notice is not the bot's output.
      NODE_NO_WARNINGS: '1',
      ACCESS_PATROL_CONFIG: config,
      SLACK_BOT_TOKEN: 'xoxb-outage-test-0001',
      LOG_LEVEL: 'info',
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'AKIASANDBOXOUTAGE001',
      AWS_SECRET_ACCESS_KEY: 'sandbox',
      // Nothing listens there: no AWS call may leave this machine.
      AWS_ENDPOINT_URL_ACCESSANALYZER: 'http://127.0.0.1:9',
      AWS_ENDPOINT_URL_IAM: 'http://127.0.0.1:9',
      AWS_ENDPOINT_URL_STS: 'http://127.0.0.1:9',
      AWS_ENDPOINT_URL_RESOURCE_GROUPS_TAGGING_API: 'http://127.0.0.1:9',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  child.stderr?.on('data', (d) => {
    err += String(d);
  });
  child.stdout?.on('data', (d) => {
    out += String(d);
  });
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  return { child, stderr: () => err, stdout: () => out, exited };
}

/** Log lines as JSON objects; anything else (a stack, a console.error) fails the parse. */
function logLines(stderr: string): { level: number; msg: string; [k: string]: unknown }[] {
  return stderr
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l));
}

describe('outages', () => {
  it('starts a worker with Redis down: one line per backoff step, not ready, then ready when Redis returns', async () => {
    const redisPort = await freePort();
    const port = await freePort();
    const run = await runBin(['start', '--role', 'worker'], {
      REDIS_URL: `redis://:hunter2-pw@127.0.0.1:${redisPort}`,
      PORT: String(port),
    });
    const ready = () =>
      fetch(`http://127.0.0.1:${port}/readyz`).then(async (r) => ({
        status: r.status,
        text: await r.text(),
      }));
    await until('healthz', () =>
      fetch(`http://127.0.0.1:${port}/healthz`).then(
        (r) => r.status,
        () => undefined,
      ),
    );
    await until('three backoff lines', async () =>
      (run.stderr().match(/Redis unreachable/g)?.length ?? 0) >= 3 ? true : undefined,
    );
    expect(await ready()).toEqual({
      status: 503,
      text: `not ready: redis: Redis at redis://***@127.0.0.1:${redisPort} unreachable (ECONNREFUSED)`,
    });
    const down = logLines(run.stderr()).filter((l) => l.msg.startsWith('Redis unreachable'));
    expect(down.map((l) => l.attempt)).toEqual(down.map((_, i) => i + 1));
    expect(down[0]).toMatchObject({
      level: 40,
      redis: `redis://***@127.0.0.1:${redisPort}`,
      error: 'ECONNREFUSED',
    });

    const redis = spawn(
      'redis-server',
      [
        '--port',
        String(redisPort),
        '--bind',
        '127.0.0.1',
        '--save',
        '',
        '--appendonly',
        'no',
        '--requirepass',
        'hunter2-pw',
      ],
      { stdio: 'ignore' },
    );
    children.push(redis);
    try {
      await until('ready', async () => ((await ready()).status === 200 ? true : undefined), 40_000);
      await until('scheduler registered', async () =>
        run.stderr().includes('workers and scan scheduler started') ? true : undefined,
      );
      const lines = logLines(run.stderr());
      expect(lines.some((l) => l.msg.includes('answers again'))).toBe(true);
      expect(run.stderr()).not.toContain('hunter2-pw');
      expect(run.stderr()).not.toMatch(/\n\s+at /);
      run.child.kill('SIGTERM');
      expect(await run.exited).toBe(0);
    } finally {
      redis.kill('SIGTERM');
    }
  }, 90_000);

  it('scan with Redis down exits 1 with one clear line', async () => {
    const redisPort = await freePort();
    const run = await runBin(['scan'], { REDIS_URL: `redis://127.0.0.1:${redisPort}`, LOG_LEVEL: 'error' });
    expect(await run.exited).toBe(1);
    expect(run.stderr().trim().split('\n')).toEqual([
      `access-patrol scan failed: Redis at redis://127.0.0.1:${redisPort} does not answer (ECONNREFUSED) after 5 s; start it or set REDIS_URL`,
    ]);
  }, 30_000);

  it('start with a revoked bot token ends with one clear line, not a stack', async () => {
    slack = await startSlackSandbox({ revokedTokens: ['xoxb-outage-test-0001'] });
    const run = await runBin(['start', '--role', 'web'], {
      REDIS_URL: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
      SLACK_API_URL: slack.apiUrl,
      SLACK_SIGNING_SECRET: 'outage-signing-secret',
      PORT: String(await freePort()),
      LOG_LEVEL: 'silent',
    });
    expect(await run.exited).toBe(1);
    expect(run.stderr()).toContain(
      'access-patrol: Slack refused auth.test (the bot token, SLACK_BOT_TOKEN): token_revoked (the token was revoked). Reinstall the app or copy a current token from its settings page.\n',
    );
    expect(run.stderr()).not.toMatch(/\n\s+at /);
    expect(slack.calls.map((c) => [c.method, c.error])).toEqual([['auth.test', 'token_revoked']]);
  }, 30_000);
});
