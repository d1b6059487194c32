// Reads and validates the YAML config file: YAML syntax, then the schema, then the checks that span
// several keys. Every problem is reported at once, each with its path, source line and the value found.
import { readFile } from 'node:fs/promises';
import { type Document, isMap, isScalar, LineCounter, parseDocument, visit } from 'yaml';
import type { z } from 'zod';
import { type Env, parseEnv } from './env.ts';
import { type ConfigProblem, closestName, describeValue, formatPath, truncate } from './problems.ts';
import { type AppConfig, configSchema } from './schema.ts';

export type ConfigResult = { ok: true; config: AppConfig } | { ok: false; problems: ConfigProblem[] };
export type LoadAllResult =
  | { ok: true; env: Env; config: AppConfig }
  | { ok: false; problems: ConfigProblem[] };

type Path = readonly PropertyKey[];
const REGION = /^[a-z]{2}(-[a-z]+)+-\d$/;
type Issue = z.core.$ZodIssue;

/** Reads the config file; a missing or unreadable file is one problem, not an exception. */
export async function loadConfigFile(path: string): Promise<ConfigResult> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return {
      ok: false,
      problems: [
        {
          path,
          expected: 'a readable YAML config file (set ACCESS_PATROL_CONFIG to its path)',
          got:
            code === 'ENOENT'
              ? 'no such file'
              : code === 'EISDIR'
                ? 'a directory'
                : truncate(`unreadable: ${(err as Error).message}`, 100),
        },
      ],
    };
  }
  return parseConfigText(text, path);
}

/** Validates config text; `sourceName` (a file name) prefixes positions in problems. */
export function parseConfigText(text: string, sourceName: string): ConfigResult {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  const at = (offset: number | undefined): string | undefined => {
    if (offset === undefined) return undefined;
    const { line, col } = lines.linePos(offset);
    return `${sourceName}:${line}:${col}`;
  };

  if (doc.errors.length > 0) {
    return {
      ok: false,
      problems: doc.errors.map((e) => ({
        path: 'YAML syntax',
        expected: 'valid YAML',
        got: truncate(e.message, 120),
        ...optionalAt(at(e.pos[0])),
      })),
    };
  }

  keepAccountIdsAsStrings(doc);
  const data: unknown = doc.toJS({ maxAliasCount: 100 }) ?? {};
  const locate = (path: Path, key?: string) => at(offsetOf(doc, path, key));

  const problems: ConfigProblem[] = [];
  const parsed = configSchema.safeParse(data);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) problems.push(...issueProblems(issue, [], data, locate));
  }
  // Cross-key checks read the raw data defensively so they report alongside schema problems.
  problems.push(...crossChecks(data, locate));

  if (problems.length > 0 || !parsed.success) {
    const sourceLines = text.split(/\r?\n/);
    return { ok: false, problems: inSourceOrder(dedupe(problems)).map((p) => withQuoteHint(p, sourceLines)) };
  }
  return { ok: true, config: parsed.data };
}

/** Environment and config file together, with every problem from both. */
export async function loadAll(env: NodeJS.ProcessEnv): Promise<LoadAllResult> {
  const parsedEnv = parseEnv(env);
  const configPath = parsedEnv.ok
    ? parsedEnv.value.configPath
    : env.ACCESS_PATROL_CONFIG?.trim() || './access-patrol.yml';
  const config = await loadConfigFile(configPath);
  if (parsedEnv.ok && config.ok) {
    const prefix = config.config.redis.keyPrefix;
    if (parsedEnv.value.redisCluster && !/\{[^}]+\}/.test(prefix)) {
      return {
        ok: false,
        problems: [
          {
            path: 'redis.keyPrefix',
            expected:
              'a hash-tagged prefix such as "{ap}:" with REDIS_CLUSTER=true (keys and BullMQ queues must share one cluster slot)',
            got: JSON.stringify(prefix),
            at: configPath,
          },
        ],
      };
    }
    return { ok: true, env: parsedEnv.value, config: config.config };
  }
  return {
    ok: false,
    problems: [...(parsedEnv.ok ? [] : parsedEnv.problems), ...(config.ok ? [] : config.problems)],
  };
}

// --- YAML details ---------------------------------------------------------------------------------

/**
 * YAML reads `012345678901` as the number 12345678901, losing the leading zero of an account id; any
 * plain 12-digit scalar is kept as written, so account ids work quoted or not.
 */
function keepAccountIdsAsStrings(doc: Document): void {
  visit(doc, {
    Scalar(_key, node) {
      if (node.type === 'PLAIN' && typeof node.value === 'number' && /^\d{12}$/.test(node.source ?? '')) {
        node.value = node.source;
      }
    },
  });
}

/** Source offset of the node at `path` (or of `key` in the map there), else of its nearest ancestor. */
function offsetOf(doc: Document, path: Path, key?: string): number | undefined {
  if (key !== undefined) {
    const map = doc.getIn(path as unknown[], true);
    if (isMap(map)) {
      const pair = map.items.find((p) => isScalar(p.key) && String(p.key.value) === key);
      if (pair && isScalar(pair.key) && pair.key.range) return pair.key.range[0];
    }
  }
  for (let n = path.length; n >= 0; n--) {
    const node = n === 0 ? doc.contents : doc.getIn(path.slice(0, n) as unknown[], true);
    const range = (node as { range?: [number, number, number] } | null | undefined)?.range;
    if (range) return range[0];
  }
  return undefined;
}

// --- zod issues → problems ------------------------------------------------------------------------

type Locate = (path: Path, key?: string) => string | undefined;

function issueProblems(issue: Issue, prefix: Path, data: unknown, locate: Locate): ConfigProblem[] {
  const path = [...prefix, ...issue.path];
  const value = valueAt(data, path);
  const problem = (expected: string, got: string = describeValue(value)): ConfigProblem => ({
    path: formatPath(path),
    expected,
    got,
    ...optionalAt(locate(path)),
  });

  switch (issue.code) {
    case 'unrecognized_keys': {
      const known = knownKeys(configSchema, path);
      return issue.keys.map((key) => ({
        path: formatPath([...path, key]),
        expected: unknownKeyHint(key, known),
        got: describeValue(valueAt(data, [...path, key])),
        ...optionalAt(locate(path, key)),
      }));
    }
    case 'invalid_key': {
      const inner = issue.issues[0];
      return [
        problem(
          inner ? `a key that is ${expectedOf(inner, String(path.at(-1)))}` : 'a valid key',
          JSON.stringify(String(path.at(-1))),
        ),
      ];
    }
    case 'invalid_union': {
      // `oneOrMany` unions: report the branch that got furthest, or list the accepted shapes.
      const branch = issue.errors.find((errs) => errs.length > 0 && errs.every((e) => e.path.length > 0));
      if (branch) return branch.flatMap((e) => issueProblems(e, path, data, locate));
      if (!/^Invalid input/.test(issue.message)) return [problem(issue.message)];
      const shapes = [...new Set(issue.errors.flatMap((errs) => errs.map((e) => expectedOf(e, value))))];
      return [problem(shapes.length ? shapes.join(' or ') : issue.message)];
    }
    default:
      return [problem(expectedOf(issue, value))];
  }
}

/** What `issue` wanted, in words; `value` is what was found at the issue's path. */
function expectedOf(issue: Issue, value: unknown): string {
  // Messages written in the schema say what is expected; zod's own defaults start like this.
  const own = !/^(Invalid|Too (small|big)|Unrecognized|Expected)/.test(issue.message);
  if (own)
    return issue.code === 'invalid_type' && value === undefined
      ? `${issue.message} (required)`
      : issue.message;
  switch (issue.code) {
    case 'invalid_type': {
      const article = typeName(issue.expected);
      return value === undefined ? `${article} (required)` : article;
    }
    case 'too_small':
      return bound('at least', issue.origin, issue.minimum, issue.inclusive ?? true);
    case 'too_big':
      return bound('at most', issue.origin, issue.maximum, issue.inclusive ?? true);
    case 'invalid_value':
      return `one of ${issue.values.map((v) => String(v)).join(', ')}`;
    case 'invalid_format':
      if (issue.format === 'url') return 'a URL such as https://example.com';
      if (issue.format === 'starts_with')
        return `text starting with "${(issue as { prefix?: string }).prefix}"`;
      return `text in ${issue.format} format`;
    default:
      return issue.message;
  }
}

function typeName(t: string): string {
  const names: Record<string, string> = {
    object: 'a mapping',
    array: 'a list',
    string: 'text',
    number: 'a number',
    int: 'a whole number',
    boolean: 'true or false',
  };
  return names[t] ?? t;
}

function bound(word: string, origin: string, limit: number | bigint, inclusive: boolean): string {
  const n = Number(limit);
  switch (origin) {
    case 'string':
      return `${word} ${n} character${n === 1 ? '' : 's'}`;
    case 'array':
    case 'set':
      return `${word} ${n} item${n === 1 ? '' : 's'}`;
    default:
      if (inclusive) return `a number ${word === 'at least' ? '≥' : '≤'} ${n}`;
      return `a number ${word === 'at least' ? '>' : '<'} ${n}`;
  }
}

function unknownKeyHint(key: string, known: string[]): string {
  if (known.length === 0) return 'no such key';
  const close = closestName(key, known);
  return `no such key (${close ? `did you mean ${close}? ` : ''}known: ${known.join(', ')})`;
}

/** Keys the schema accepts at `path` (walking through optional/default/array/record/union wrappers). */
function knownKeys(schema: z.ZodType, path: Path): string[] {
  interface Def {
    type: string;
    innerType?: z.ZodType;
    in?: z.ZodType;
    element?: z.ZodType;
    keyType?: z.ZodType;
    valueType?: z.ZodType;
    options?: z.ZodType[];
    shape?: Record<string, z.ZodType>;
    entries?: Record<string, string>;
  }
  const defOf = (s: z.ZodType) => s._zod.def as unknown as Def;
  const unwrap = (s: z.ZodType): z.ZodType => {
    const def = defOf(s);
    const inner = def.innerType ?? (def.type === 'pipe' ? def.in : undefined);
    return inner ? unwrap(inner) : s;
  };
  const keysOf = (s: z.ZodType): string[] => {
    const def = defOf(unwrap(s));
    if (def.type === 'object' && def.shape) return Object.keys(def.shape);
    if (def.type === 'record' && def.keyType) {
      const key = defOf(unwrap(def.keyType));
      return key.entries ? Object.values(key.entries) : [];
    }
    if (def.type === 'union') return [...new Set((def.options ?? []).flatMap(keysOf))];
    return [];
  };
  const step = (s: z.ZodType, key: PropertyKey): z.ZodType | undefined => {
    const def = defOf(unwrap(s));
    if (def.type === 'object') return def.shape?.[String(key)];
    if (def.type === 'array') return typeof key === 'number' ? def.element : undefined;
    if (def.type === 'record') return def.valueType;
    if (def.type === 'union') {
      for (const option of def.options ?? []) {
        const next = step(option, key);
        if (next) return next;
      }
    }
    return undefined;
  };
  let current: z.ZodType | undefined = schema;
  for (const key of path) {
    current = current && step(current, key);
    if (!current) return [];
  }
  return keysOf(current);
}

// --- checks across keys ---------------------------------------------------------------------------

function crossChecks(data: unknown, locate: Locate): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const push = (path: Path, expected: string, got: string) =>
    problems.push({ path: formatPath(path), expected, got, ...optionalAt(locate(path)) });

  const regions = valueAt(data, ['regions']);
  const scanned = Array.isArray(regions) ? regions.filter((r): r is string => typeof r === 'string') : [];
  const firstRegion = new Map<string, number>();
  scanned.forEach((r, i) => {
    const first = firstRegion.get(r);
    if (first === undefined) firstRegion.set(r, i);
    else
      push(['regions', i], 'each region listed once', `${JSON.stringify(r)} again (also regions[${first}])`);
  });

  const rules = valueAt(data, ['routing']);
  if (!Array.isArray(rules)) return problems;
  const firstName = new Map<string, number>();
  rules.forEach((rule, i) => {
    const name = valueAt(rule, ['name']);
    if (typeof name === 'string') {
      const first = firstName.get(name);
      if (first === undefined) firstName.set(name, i);
      else
        push(
          ['routing', i, 'name'],
          'a rule name no other rule uses',
          `${JSON.stringify(name)} (also routing[${first}].name)`,
        );
    }
    // Findings only come from scanned regions, so a rule on another region can never match: a typo.
    const ruleRegion = valueAt(rule, ['match', 'region']);
    const listed = Array.isArray(ruleRegion) ? ruleRegion : [ruleRegion];
    listed.forEach((r, j) => {
      if (typeof r !== 'string' || !REGION.test(r) || scanned.length === 0 || firstRegion.has(r)) return;
      const path = Array.isArray(ruleRegion)
        ? ['routing', i, 'match', 'region', j]
        : ['routing', i, 'match', 'region'];
      push(path, `one of the scanned regions (${[...firstRegion.keys()].join(', ')})`, JSON.stringify(r));
    });
  });
  return problems;
}

// --- helpers --------------------------------------------------------------------------------------

/**
 * In YAML an unquoted value starting with `#` (a channel name!) is a comment, so the key reads as null.
 * When a null sits on a line whose value is such a comment, say so and show the quoted form.
 */
function withQuoteHint(problem: ConfigProblem, sourceLines: readonly string[]): ConfigProblem {
  if (problem.got !== 'null' || !problem.at) return problem;
  const line = Number(problem.at.match(/:(\d+):\d+$/)?.[1]);
  const source = sourceLines[line - 1];
  const comment = source?.match(/(?:^\s*-|:)\s+(#\S.*?)\s*$/)?.[1];
  if (!comment) return problem;
  const word = comment.split(/\s/)[0]!;
  return {
    ...problem,
    got: `null (YAML reads the unquoted ${JSON.stringify(word)} as a comment: quote it, "${word}")`,
  };
}

function valueAt(data: unknown, path: Path): unknown {
  let current = data;
  for (const key of path) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<PropertyKey, unknown>)[key as string];
  }
  return current;
}

function optionalAt(at: string | undefined): { at?: string } {
  return at === undefined ? {} : { at };
}

/** Problems in the order of their position in the file; those without a position first. */
function inSourceOrder(problems: ConfigProblem[]): ConfigProblem[] {
  const key = (p: ConfigProblem) => {
    const m = p.at?.match(/:(\d+):(\d+)$/);
    return m ? Number(m[1]) * 100_000 + Number(m[2]) : -1;
  };
  return problems
    .map((p, i) => ({ p, i, k: key(p) }))
    .sort((a, b) => a.k - b.k || a.i - b.i)
    .map(({ p }) => p);
}

function dedupe(problems: ConfigProblem[]): ConfigProblem[] {
  const seen = new Set<string>();
  return problems.filter((p) => {
    const key = `${p.path}\u0000${p.expected}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
