// The node flags production runs the bot with (Dockerfile CMD, docker-compose.yml, `npm start`): V8
// garbage-collection settings, not a heap cap. `npm run bench -- --compiled` runs the bot with them;
// test/unit/container.test.ts checks that every way of starting the bot passes these. Why these
// values: docs/performance.md, "Peak RSS of the compiled bot".
export const PRODUCTION_NODE_FLAGS = ['--max-semi-space-size=8', '--heap-growing-percent=10'] as const;
