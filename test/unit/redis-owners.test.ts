// Redis state is owned by the modules in src/store/: job code and Slack listeners call them and never
// send a Redis command themselves (no `deps.redis.get(…)`, no Lua of their own, no connection taken
// out of the deps).
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '../..');
const GUARDED = ['jobs', 'src/slack'];

/** Comments say "Redis" freely; only code counts. */
function code(text: string): string {
  return text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:'"`])\/\/.*$/gm, '$1');
}

const DIRECT_USE: { what: string; re: RegExp }[] = [
  // `redis.get(`, `deps.redis.eval(`, `this.redis.multi(`, Lua's `redis.call(`
  { what: 'a Redis command', re: /\bredis\s*\??\.\s*[A-Za-z]+\s*\(/ },
  // `deps.redis` handed on or kept (the config's `redis` section is fine)
  {
    what: 'the Redis connection',
    re: /(?<!config)\??\.redis\b(?!\s*\.\s*(keyPrefix|resolvedRetentionDays)\b)/,
  },
  // `const { redis } = deps`, `({ redis, logger }: JobDeps)`
  { what: 'the Redis connection', re: /\{[^{}]*\bredis\b[^{}]*\}\s*[=:]/ },
];

/** What in `text` reaches Redis directly, one line each (`<line>: <what>`). */
function directRedisUse(text: string): string[] {
  const found: string[] = [];
  code(text)
    .split('\n')
    .forEach((line, i) => {
      for (const { what, re } of DIRECT_USE) {
        if (re.test(line)) {
          found.push(`${i + 1}: ${what}: ${line.trim()}`);
          break;
        }
      }
    });
  return found;
}

function tsFiles(dir: string): string[] {
  return readdirSync(join(ROOT, dir), { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.ts'))
    .map((f) => join(dir, f))
    .sort();
}

describe('Redis state behind src/store/', () => {
  it('finds the direct uses it is meant to find, and not the config or a comment', () => {
    expect(directRedisUse('const v = await deps.redis.get(key);')).toHaveLength(1);
    expect(directRedisUse("await this.redis.set(k, '1', 'EX', 5, 'NX');")).toHaveLength(1);
    expect(directRedisUse('const r = deps.redis;\nawait r.hget(k, f);')).toHaveLength(1);
    expect(directRedisUse('const { redis, logger } = deps;')).toHaveLength(1);
    expect(directRedisUse("const LUA = `return redis.call('GET', KEYS[1])`;")).toHaveLength(1);
    expect(directRedisUse('await deps.redis?.del(key);')).toHaveLength(1);
    expect(directRedisUse('const prefix = bullPrefix(deps.config.redis.keyPrefix);')).toEqual([]);
    expect(directRedisUse('// the aging sweep once called deps.redis.eval(CLAIM, …) here')).toEqual([]);
    expect(
      directRedisUse("const note = 'The bot could not queue this (its Redis is not answering).';"),
    ).toEqual([]);
  });

  it('no file under jobs/ or src/slack/ sends Redis commands itself', () => {
    const files = GUARDED.flatMap(tsFiles);
    expect(files.length).toBeGreaterThan(20);
    const offenders = Object.fromEntries(
      files
        .map((f) => [f, directRedisUse(readFileSync(join(ROOT, f), 'utf8'))] as const)
        .filter(([, uses]) => uses.length > 0),
    );
    expect(offenders, 'move this state behind a module in src/store/').toEqual({});
  });
});
