'use strict';
// One thread of a batch: compiles the TypeScript as src/cli/bin.cjs does, then runs it.
require('tsx/cjs/api').register();
require('./worker.ts');
