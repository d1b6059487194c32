// The compiled build: what the container image and `npx access-patrol` run, with plain node and only
// the production dependencies (`npm ci --omit=dev`).
import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { builtinModules } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { BIN, ensureBuilt, ROOT } from '../helpers/build.ts';

const run = (args: string[], cwd = ROOT, env: NodeJS.ProcessEnv = {}) =>
  promisify(execFile)(process.execPath, [BIN, ...args], {
    cwd,
    env: { PATH: process.env.PATH, ...env },
  }).then(
    (r) => ({ code: 0, ...r }),
    (e: { code: number; stdout: string; stderr: string }) => e,
  );

async function jsFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await jsFiles(path)));
    else if (entry.name.endsWith('.js')) out.push(path);
  }
  return out;
}

beforeAll(() => ensureBuilt(), 120_000);

describe('the compiled build', () => {
  it('runs the binary with plain node', async () => {
    const r = await run(['help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^usage: access-patrol <command>/);
  });

  it('reads ./.env, where the process environment wins, and reports mistakes without a stack', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ap-dotenv-'));
    await writeFile(
      join(dir, 'access-patrol.yml'),
      'regions: [eu-west-1]\nslack: { defaultChannel: "#a", adminChannel: "#b" }\n',
    );
    await writeFile(join(dir, '.env'), 'SLACK_BOT_TOKEN=xoxb-from-dotenv-file\nLOG_LEVEL=loud\n');
    const bad = await run(['check-config'], dir);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/env\.LOG_LEVEL: expected one of trace, .* got "loud"/);
    const ok = await run(['check-config'], dir, { LOG_LEVEL: 'warn' });
    expect(ok.stderr).toBe('');
    expect(ok.stdout).toMatch(/^configuration OK: 1 region\(s\), .*\(environment includes \.env\)\n$/);
    const typo = await run(['scan', '--regoin', 'x'], dir);
    expect(typo.code).toBe(2);
    expect(typo.stderr.split('\n')).toEqual([
      'access-patrol scan: unknown option --regoin (did you mean --region?)',
      'usage: access-patrol scan [--region r]...',
      '',
    ]);
    // Three starts of the compiled bot: a few seconds each alone, far more on a loaded machine.
  }, 120_000);

  it('imports only node built-ins, its own files and production dependencies', async () => {
    const pkg = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')) as {
      dependencies: Record<string, string>;
      devDependencies: Record<string, string>;
    };
    expect(Object.keys(pkg.devDependencies)).toContain('tsx');
    expect(Object.keys(pkg.dependencies)).not.toContain('tsx');
    const builtins = new Set(builtinModules);
    const imported = new Set<string>();
    const files = await jsFiles(join(ROOT, 'dist'));
    expect(files.length).toBeGreaterThan(50);
    for (const file of files) {
      const text = await readFile(file, 'utf8');
      for (const m of text.matchAll(/(?:^|\n)\s*(?:import|export)\b[^'"]*?from\s+['"]([^'"]+)['"]/g)) {
        const spec = m[1]!;
        expect(spec, `${file} imports ${spec}`).not.toMatch(/\.ts$/);
        if (spec.startsWith('.')) continue;
        imported.add(spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]!);
      }
    }
    const outside = [...imported].filter(
      (name) => !name.startsWith('node:') && !builtins.has(name) && !(name in pkg.dependencies),
    );
    expect(outside).toEqual([]);
    expect(imported).toContain('bullmq');
  });

  it('loads Bolt and pino-pretty in the web role only: a worker imports neither', async () => {
    // The CommonJS packages a process has loaded, after importing the worker's modules, then the web's.
    const script = `
      import { createRequire } from 'node:module';
      const pkgOf = (path) => {
        const [scope, name] = path.split('node_modules/').at(-1).split('/');
        return scope.startsWith('@') ? scope + '/' + name : scope;
      };
      const loaded = () => [...new Set(Object.keys(createRequire(import.meta.url).cache)
        .filter((k) => k.includes('node_modules/')).map(pkgOf))];
      await import('./dist/src/cli.js');
      await import('./dist/src/runtime.js');
      const worker = loaded();
      await import('./dist/src/slack/app.js');
      console.log(JSON.stringify({ worker, web: loaded() }));`;
    const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script], {
      cwd: ROOT,
    });
    const { worker, web } = JSON.parse(stdout) as { worker: string[]; web: string[] };
    expect(worker).toEqual(expect.arrayContaining(['bullmq', 'ioredis', '@slack/web-api']));
    expect(worker).not.toContain('@slack/bolt');
    expect(worker).not.toContain('@slack/socket-mode');
    expect(worker).not.toContain('pino-pretty');
    expect(web).toEqual(expect.arrayContaining(['@slack/bolt', '@slack/socket-mode']));
  });
});
