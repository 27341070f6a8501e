/** src/tsconfig.json leaves out the DOM and Worker libraries: a file using them does not compile with its settings. */
import { spawnSync } from 'child_process';
import * as path from 'path';

const ROOT = path.resolve(__dirname, '../..');

test('document and self are unknown names under src/tsconfig.json', () => {
  const tsc = require.resolve('typescript/bin/tsc');
  const r = spawnSync(process.execPath, [tsc, '--noEmit', '-p', 'tests/build/lint-fixtures/tsconfig.json'], { cwd: ROOT, encoding: 'utf8' });
  const errors = r.stdout.split('\n').filter((l) => l.includes('error TS')).map((l) => l.replace(/^.*error (TS\d+): /, '$1 '));
  expect(r.status).not.toBe(0);
  expect(errors).toEqual([
    expect.stringMatching(/^TS2584 Cannot find name 'document'/),
    expect.stringMatching(/^TS2304 Cannot find name 'self'/),
  ]);
});
