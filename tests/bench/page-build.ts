/** Builds the browser benchmark page (tests/bench/page.ts) with the tfjs wasm binaries beside it, into a temporary directory. */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import webpack from 'webpack';

export async function buildPage(): Promise<string> {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'whycam-bench-'));
  const wasmDir = path.join(path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist');
  const config: webpack.Configuration = {
    mode: 'production',
    target: 'web',
    entry: path.join(__dirname, 'page.ts'),
    output: { path: out, filename: 'bench.js' },
    resolve: { extensions: ['.ts', '.js'] },
    module: { rules: [{ test: /\.ts$/, exclude: /node_modules/, use: { loader: 'swc-loader', options: { jsc: { parser: { syntax: 'typescript' }, target: 'es2020' } } } }] },
    // Not minified: terser rewrites a `typeof` in the Emscripten factory that tfjs-backend-wasm
    // ships to its pthreads as source text, and the threaded binary never starts.
    optimization: { minimize: false },
    performance: { hints: false },
  };
  const stats = await new Promise<webpack.Stats>((resolve, reject) => webpack(config, (e, s) => (e || !s ? reject(e) : resolve(s))));
  if (stats.hasErrors()) throw new Error(stats.toString({ all: false, errors: true }));
  fs.mkdirSync(path.join(out, 'wasm'));
  for (const f of fs.readdirSync(wasmDir).filter((n) => n.endsWith('.wasm'))) fs.copyFileSync(path.join(wasmDir, f), path.join(out, 'wasm', f));
  fs.writeFileSync(path.join(out, 'index.html'), '<!doctype html><meta charset="utf-8"><title>whycam bench</title><script src="bench.js"></script>');
  return out;
}
