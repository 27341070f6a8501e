#!/usr/bin/env node
'use strict';
// The `whycam` command. Installed from npm it runs the built JavaScript (dist/cli/main.js);
// in a checkout of the repository, where main.ts sits beside this file, it runs the TypeScript
// as is through tsx's CommonJS hook (a dev dependency), so no build step is needed there.
const fs = require('fs');
const path = require('path');

const argv = process.argv.slice(2);
if (argv.length === 1 && (argv[0] === '--version' || argv[0] === '-v')) {
  process.stdout.write(`${require('../../package.json').version}\n`);
  process.exit(0);
}

// `whycam ... | head` closes stdout early; that is not an error worth a stack trace.
process.stdout.on('error', (e) => {
  if (e && e.code === 'EPIPE') process.exit(0);
  throw e;
});

let run;
if (fs.existsSync(path.join(__dirname, 'main.ts'))) {
  require('tsx/cjs/api').register();
  ({ run } = require('./main.ts'));
} else {
  ({ run } = require('../../dist/cli/main.js'));
}

run(argv).then(
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
