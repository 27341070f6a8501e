#!/usr/bin/env node
'use strict';
// The `whycam` command. The engine is TypeScript run as is (no build step), so tsx's
// CommonJS hook compiles each .ts file on first require (esbuild, cached on disk).
require('tsx/cjs/api').register();

// `whycam ... | head` closes stdout early; that is not an error worth a stack trace.
process.stdout.on('error', (e) => {
  if (e && e.code === 'EPIPE') process.exit(0);
  throw e;
});

const { run } = require('./main.ts');

run(process.argv.slice(2)).then(
  (code) => {
    // exitCode, not process.exit(): lets stdout/stderr drain when they are pipes.
    process.exitCode = code;
  },
  (e) => {
    // run() catches everything itself; this is only a last resort.
    process.stderr.write(`whycam: unexpected error: ${e && e.message ? e.message : String(e)}\n`);
    process.exitCode = 1;
  },
);
