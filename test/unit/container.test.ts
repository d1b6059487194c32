// The container files, read as Docker and Compose would (no engine runs here): what they must keep
// true for an operator.
import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { PRODUCTION_ENV, PRODUCTION_NODE_FLAGS } from '../../bench/node-flags.ts';

const read = (path: string) => readFile(new URL(`../../${path}`, import.meta.url), 'utf8');

interface Service {
  image?: string;
  build?: unknown;
  command?: string[];
  environment?: Record<string, string>;
  env_file?: { path: string; required: boolean }[];
  ports?: string[];
  volumes?: unknown[];
  depends_on?: Record<string, { condition: string }>;
  healthcheck?: { test: string[] };
  deploy?: { replicas?: number };
}

describe('Dockerfile', () => {
  it('builds in one stage and runs compiled code with production dependencies as a non-root user', async () => {
    const text = await read('Dockerfile');
    const from = [...text.matchAll(/^FROM (\S+)/gm)].map((m) => m[1]);
    expect(from).toHaveLength(2);
    for (const image of from) expect(image).toMatch(/^node:(2[2-9]|[3-9]\d)-[a-z]+-slim$/);
    const runtime = text.slice(text.lastIndexOf('\nFROM '));
    expect(runtime).toMatch(/RUN npm ci --omit=dev/);
    expect(runtime).toMatch(/^USER node$/m);
    expect(runtime).not.toMatch(/COPY (src|jobs|blocks) /);
    expect(runtime).toMatch(/COPY --from=build \/app\/dist\/src/);
    // The GC flags that keep the first scan's peak RSS down (not a heap cap: no --max-old-space-size).
    const cmd = JSON.parse(runtime.match(/^CMD (\[.*\])$/m)?.[1] ?? '[]');
    expect(cmd).toEqual(['node', ...PRODUCTION_NODE_FLAGS, 'bin/access-patrol.js', 'start']);
    expect(runtime).not.toMatch(/max-old-space-size/);
    // And the environment (glibc's malloc arenas), for every command the image runs.
    for (const [name, value] of Object.entries(PRODUCTION_ENV))
      expect(runtime).toMatch(new RegExp(`^ENV ${name}=${value}$`, 'm'));
    // The healthcheck follows PORT instead of a fixed port.
    const health = runtime.match(/HEALTHCHECK[^\n]*\\\n([^\n]+)/)?.[1] ?? '';
    expect(health).toContain('process.env.PORT');
    expect(health).toContain('/healthz');
    expect(health).not.toContain(':3000');
  });

  it('sends only the sources to the build: never .env, node_modules or dist', async () => {
    const lines = (await read('.dockerignore')).split('\n').filter((l) => l && !l.startsWith('#'));
    expect(lines[0]).toBe('*');
    const allowed = lines.filter((l) => l.startsWith('!')).map((l) => l.slice(1).replace(/\/$/, ''));
    expect(allowed).toEqual(
      expect.arrayContaining([
        'package.json',
        'package-lock.json',
        'tsconfig.json',
        'src',
        'jobs',
        'blocks',
        'bin',
      ]),
    );
    for (const secret of ['.env', 'node_modules', 'dist', 'access-patrol.yml'])
      expect(allowed.some((a) => secret === a || secret.startsWith(`${a}/`))).toBe(false);
  });
});

describe('npm start', () => {
  it('runs the compiled bot with the same node flags and environment as the image', async () => {
    const pkg = JSON.parse(await read('package.json')) as { scripts: Record<string, string> };
    const env = Object.entries(PRODUCTION_ENV).map(([name, value]) => `${name}=${value}`);
    expect(pkg.scripts.start).toBe(
      [...env, 'node', ...PRODUCTION_NODE_FLAGS, 'bin/access-patrol.js', 'start'].join(' '),
    );
  });
});

describe('docker-compose.yml', () => {
  it('runs Redis with AOF, bounded memory without eviction, an optional password and a published port', async () => {
    const compose = parse(await read('docker-compose.yml')) as { services: Record<string, Service> };
    const redis = compose.services.redis!;
    const args = redis.command!.join(' ');
    expect(args).toMatch(/--appendonly yes/);
    expect(args).toMatch(/--maxmemory \$\{REDIS_MAXMEMORY:-\d+mb\}/);
    expect(args).toMatch(/--maxmemory-policy noeviction/);
    expect(args).toMatch(/--requirepass \$\{REDIS_PASSWORD:-\}/);
    // biome-ignore lint/suspicious/noTemplateCurlyInString: Compose interpolation, kept literal
    expect(redis.ports).toEqual(['127.0.0.1:${REDIS_PORT:-6379}:6379']);
    expect(redis.healthcheck?.test.join(' ')).toMatch(/redis-cli ping/);
    // biome-ignore lint/suspicious/noTemplateCurlyInString: Compose interpolation, kept literal
    expect(redis.environment?.REDISCLI_AUTH).toBe('${REDIS_PASSWORD:-}');
  });

  it('runs one web and two workers from the image, .env optional, the password in REDIS_URL only when set', async () => {
    const compose = parse(await read('docker-compose.yml'), { merge: true }) as {
      services: Record<string, Service>;
    };
    const { web, worker } = compose.services;
    const node = ['node', ...PRODUCTION_NODE_FLAGS, 'bin/access-patrol.js'];
    expect(web?.command).toEqual([...node, 'start', '--role', 'web']);
    expect(worker?.command).toEqual([...node, 'start', '--role', 'worker']);
    expect(worker?.deploy?.replicas).toBe(2);
    expect(web?.deploy?.replicas ?? 1).toBe(1);
    for (const bot of [web!, worker!]) {
      expect(bot.env_file).toEqual([{ path: '.env', required: false }]);
      // biome-ignore lint/suspicious/noTemplateCurlyInString: Compose interpolation, kept literal
      expect(bot.environment?.REDIS_URL).toBe('redis://${REDIS_PASSWORD:+:${REDIS_PASSWORD}@}redis:6379');
      expect(bot.depends_on?.redis?.condition).toBe('service_healthy');
      expect(bot.volumes).toEqual([
        expect.objectContaining({
          source: './access-patrol.yml',
          read_only: true,
          bind: { create_host_path: false },
        }),
      ]);
    }
    // biome-ignore lint/suspicious/noTemplateCurlyInString: Compose interpolation, kept literal
    expect(web?.ports).toEqual(['${PORT:-3000}:3000']);
    expect(worker?.ports).toBeUndefined();
  });
});
