// The compiled build (`npm run build`) for tests that start the `access-patrol` binary as a child
// process: built once per test process, incrementally, so a second run costs about a second.
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const BIN = fileURLToPath(new URL('../../bin/access-patrol.js', import.meta.url));

let built: Promise<void> | undefined;

export function ensureBuilt(): Promise<void> {
  built ??= promisify(execFile)(
    process.execPath,
    [
      fileURLToPath(new URL('../../node_modules/typescript/bin/tsc', import.meta.url)),
      '-p',
      'tsconfig.build.json',
    ],
    { cwd: ROOT },
  ).then(
    () => undefined,
    (err: Error & { stdout?: string }) => {
      built = undefined;
      throw new Error(`npm run build failed: ${err.stdout || err.message}`);
    },
  );
  return built;
}
