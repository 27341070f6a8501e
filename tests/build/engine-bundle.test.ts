/**
 * The engine bundles for a Web Worker: webpack builds src/index.ts with no errors or
 * warnings (a Node built-in reached from src/ fails the build), and emits the three tfjs-backend-wasm binaries.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import webpack from 'webpack';
import configs from '../../webpack.config';

test('webpack builds the engine for a worker, with its wasm binaries', async () => {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'whycam-build-'));
  const engine = { ...configs.find((c) => c.name === 'engine')!, output: { ...configs[0].output, path: out } };
  const stats = await new Promise<webpack.Stats>((resolve, reject) =>
    webpack(engine, (err, s) => (err || !s ? reject(err) : resolve(s))));
  const info = stats.toJson({ all: false, errors: true, warnings: true });
  expect(info.errors).toEqual([]);
  expect(info.warnings).toEqual([]);
  const files = fs.readdirSync(out).sort();
  expect(files).toEqual(expect.arrayContaining(['tfjs-backend-wasm-simd.wasm', 'tfjs-backend-wasm-threaded-simd.wasm', 'tfjs-backend-wasm.wasm', 'whycam.js']));
  // A Node built-in reached from src/ would be a webpack error here (only tfjs's own optional ones are stubbed).
  expect(fs.statSync(path.join(out, 'whycam.js')).size).toBeGreaterThan(100_000);
  fs.rmSync(out, { recursive: true, force: true });
});
