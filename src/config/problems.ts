// One shape for everything wrong with the environment or the config file, so `check-config` and start-up
// can list every problem at once, each with where it is, what was expected and what was found.

export interface ConfigProblem {
  /** Where: a config path such as `routing[2].match.region`, or `env.SLACK_BOT_TOKEN`, or the file name. */
  path: string;
  /** What a valid value looks like. */
  expected: string;
  /** What was found, short; secrets are masked. */
  got: string;
  /** Source position when known, e.g. `access-patrol.yml:12:7`. */
  at?: string;
}

export type Checked<T> = { ok: true; value: T } | { ok: false; problems: ConfigProblem[] };

const MAX_GOT = 60;

/** One problem per line: `path: expected …, got …`, prefixed with the file position when known. */
export function formatProblems(problems: readonly ConfigProblem[]): string {
  return problems
    .map((p) => `${p.at ? `${p.at} ` : ''}${p.path}: expected ${p.expected}, got ${p.got}`)
    .join('\n');
}

/** A short, printable rendering of any value for `got` (JSON-ish, truncated). */
export function describeValue(value: unknown): string {
  if (value === undefined) return 'nothing';
  let text: string;
  try {
    text = typeof value === 'string' ? JSON.stringify(value) : (JSON.stringify(value) ?? String(value));
  } catch {
    text = String(value);
  }
  return truncate(text, MAX_GOT);
}

export function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

/**
 * A secret shown only by its shape: a short prefix (when the value is long enough that the prefix gives
 * nothing away, and enough to tell `xoxp-` from `xoxb-`) and its length.
 */
export function maskSecret(value: string): string {
  const prefix = value.length >= 16 ? `"${value.slice(0, 5)}…" ` : '';
  return `${prefix}(${value.length} characters, hidden)`;
}

/** Joins a zod/YAML path into `routing[2].match.region` form. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else {
      const name = String(key);
      if (/^[A-Za-z0-9_$-]+$/.test(name)) out += out ? `.${name}` : name;
      else out += `[${JSON.stringify(name)}]`;
    }
  }
  return out || '(top level)';
}

/**
 * The known name closest to a mistyped one (a key, a command, an option), or undefined when none is
 * close: a case-only difference, or at most `maxDistance(name)` edits (default: 2, or a quarter of
 * the name's length).
 */
export function closestName(
  word: string,
  known: readonly string[],
  maxDistance: (name: string) => number = (name) => Math.max(2, Math.floor(name.length / 4)),
): string | undefined {
  let best: { name: string; d: number } | undefined;
  for (const name of known) {
    const d = name.toLowerCase() === word.toLowerCase() ? 0 : editDistance(word, name);
    if (d <= maxDistance(name) && (!best || d < best.d)) best = { name, d };
  }
  return best?.name;
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      row[j] = Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + cost);
    }
    prev = row;
  }
  return prev[b.length]!;
}
