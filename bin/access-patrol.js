#!/usr/bin/env node
// Runs the compiled bot (`npm run build` writes dist/) with plain node: no TypeScript loader at run time.
// From a source checkout without a build, `npm run dev -- <command>` runs the sources through tsx.
let cli;
try {
  cli = await import('../dist/src/cli.js');
} catch (err) {
  if (err?.code === 'ERR_MODULE_NOT_FOUND' && String(err.message).includes('dist/src/cli.js')) {
    process.stderr.write(
      'access-patrol: the compiled build is missing (dist/src/cli.js); run `npm run build` first,\n' +
        'or `npm run dev -- <command>` to run the TypeScript sources.\n',
    );
    process.exit(1);
  }
  throw err;
}
process.exit(await cli.run(process.argv.slice(2)));
