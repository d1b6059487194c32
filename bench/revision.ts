// Another git revision's bot, next to the working tree's (`npm run bench -- --against REV`): the
// revision's src/, jobs/ and blocks/ exported with `git archive` into dist/bench-rev/<commit>/, with
// this working tree's bot harness (bench/bot-child.ts, bench/cpu-track.ts) beside them, so both bots
// are driven, sampled and counted by the same code. The export sits inside the checkout, so node
// resolves packages from this working tree's node_modules: the revision runs with today's
// dependencies (the bench says so when its package.json names other versions).
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';

/** The directories of a revision the bot is made of (what `npm run build` compiles). */
export const BOT_DIRS = ['src', 'blocks', 'jobs'] as const;
/** The harness that runs a bot in its own process, taken from the working tree for both sides. */
const HARNESS = ['bench/bot-child.ts', 'bench/cpu-track.ts'] as const;

export interface Revision {
  /** What was asked for (`main~3`, a hash…) and the commit it names. */
  asked: string;
  commit: string;
  /** Short commit and subject, for the report. */
  label: string;
  /** The exported tree: `<dir>/src`, `<dir>/bench/bot-child.ts`… */
  dir: string;
  /** Dependencies whose version range differs between the revision's package.json and the working tree's. */
  dependencyDifferences: string[];
}

function git(root: string, args: string[]): string {
  return execFileSync('git', ['-C', root, ...args], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 }).trim();
}

/** Exports `asked` (anything `git rev-parse` names) next to the working tree; throws with what went wrong. */
export function exportRevision(root: string, asked: string): Revision {
  let commit: string;
  try {
    commit = git(root, ['rev-parse', '--verify', '--quiet', `${asked}^{commit}`]);
  } catch {
    throw new Error(
      `--against ${asked}: not a commit of the repository at ${root} (git rev-parse found nothing)`,
    );
  }
  const label = git(root, ['log', '-1', '--format=%h %s', commit]);
  const dir = join(root, 'dist', 'bench-rev', commit);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const present = BOT_DIRS.filter((d) => git(root, ['ls-tree', '--name-only', commit, d]) === d);
  if (!present.includes('src')) throw new Error(`--against ${asked}: commit ${commit} has no src/ directory`);
  const tar = execFileSync(
    'git',
    ['-C', root, 'archive', '--format=tar', commit, ...present, 'package.json'],
    {
      maxBuffer: 512 * 1024 * 1024,
    },
  );
  execFileSync('tar', ['-x', '-C', dir], { input: tar });
  mkdirSync(join(dir, 'bench'), { recursive: true });
  for (const f of HARNESS) copyFileSync(join(root, f), join(dir, f));
  return { asked, commit, label, dir, dependencyDifferences: dependencyDifferences(root, dir) };
}

function dependencyDifferences(root: string, dir: string): string[] {
  const deps = (file: string): Record<string, string> => {
    if (!existsSync(file)) return {};
    const pkg = JSON.parse(readFileSync(file, 'utf8')) as { dependencies?: Record<string, string> };
    return pkg.dependencies ?? {};
  };
  const now = deps(join(root, 'package.json'));
  const then = deps(join(dir, 'package.json'));
  const out: string[] = [];
  for (const name of new Set([...Object.keys(now), ...Object.keys(then)]).values()) {
    if (now[name] !== then[name])
      out.push(`${name} ${then[name] ?? '(absent)'} → ${now[name] ?? '(absent)'}`);
  }
  return out.sort();
}
