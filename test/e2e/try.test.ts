// `npm run try` as a real process: it prints exactly one line, serves both pages, and stops everything
// it started on SIGTERM.
import { type ChildProcess, spawn } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { REDIS_URL } from '../helpers/runtime.ts';

let child: ChildProcess | undefined;
afterEach(() => {
  if (child && child.exitCode === null) child.kill('SIGKILL');
});

/** Longest wait for the child to compile, scan and listen (a busy machine makes tsx slow). */
const STARTUP_WAIT_MS = 120_000;

describe('npm run try', () => {
  it(
    'prints one line with the page address, serves the workspace and AWS pages, and stops cleanly',
    async () => {
      let stdout = '';
      let stderr = '';
      child = spawn(process.execPath, ['--import', 'tsx', 'sandbox/try.ts', '--port', '0'], {
        env: { PATH: process.env.PATH, REDIS_URL },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      child.stdout?.on('data', (d) => {
        stdout += String(d);
      });
      child.stderr?.on('data', (d) => {
        stderr += String(d);
      });
      const exited = new Promise<number | null>((r) => child!.on('exit', (code) => r(code)));
      const end = Date.now() + STARTUP_WAIT_MS;
      while (!stdout.includes('\n') && child.exitCode === null && Date.now() < end) {
        await new Promise((r) => setTimeout(r, 100));
      }
      expect(stdout, stderr.slice(-2000)).toMatch(/^Open http:\/\/127\.0\.0\.1:\d+\/\n$/);
      const url = stdout.slice(5).trim();

      const page = await fetch(url);
      expect(page.status).toBe(200);
      await expect(page.text()).resolves.toContain('<select id="as-user">');
      const state = (await (await fetch(`${url}ui/state?user=U0ALICE01`)).json()) as { sidebar: string };
      expect(state.sidebar).toContain('>#team-platform</a>');
      const aws = (await (await fetch(`${url}aws/state`)).json()) as { html: string };
      expect(aws.html).toContain('ci-deployer');

      child.kill('SIGTERM');
      expect(await exited).toBe(0);
      expect(stdout.split('\n').filter(Boolean)).toHaveLength(1);
      await expect(fetch(url)).rejects.toThrow();
    },
    STARTUP_WAIT_MS + 30_000,
  );
});
