// The node flags and environment production runs the bot with (Dockerfile CMD and ENV,
// docker-compose.yml, `npm start`): V8 garbage-collection settings, not a heap cap, and glibc's
// malloc limited to two arenas. `npm run bench -- --compiled` runs the bot with them;
// test/unit/container.test.ts checks that every way of starting the bot passes these. Why these
// values: docs/performance.md, "Peak RSS of the compiled bot" and "Peak RSS at 100,000 findings".
export const PRODUCTION_NODE_FLAGS = [
  '--max-semi-space-size=4',
  '--heap-growing-percent=10',
  // fetch (undici, the Slack Web API client's transport) parses HTTP with llhttp compiled to
  // WebAssembly; V8's optimising compile of that module, at the process's first fetch, took about
  // 30 MB for a moment on Node 20: the bot's peak RSS, right after a first scan's listing. The
  // baseline compiler alone keeps that moment under 1 MB.
  '--liftoff-only',
] as const;

/**
 * glibc gives each thread that allocates (V8's GC and compiler threads, libuv's pool) a malloc arena
 * of its own, up to 8 per core; memory freed in one is not reused by another. Two arenas are enough
 * for a process whose JavaScript runs on one thread.
 */
export const PRODUCTION_ENV = { MALLOC_ARENA_MAX: '2' } as const;
