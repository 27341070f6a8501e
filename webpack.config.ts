/**
 * Browser builds. For now one target: the engine (src/index.ts) as a library bundle for
 * a Web Worker, with tfjs-backend-wasm's .wasm binaries emitted beside it (served from
 * our own origin, never a CDN). The worker entry, the PWA and the widget join here as
 * their issues land.
 */
import * as path from 'path';
import type { Configuration } from 'webpack';

const wasmDir = path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json'));

const swc = {
  loader: 'swc-loader',
  options: { jsc: { parser: { syntax: 'typescript' }, target: 'es2020' } },
};

const engine: Configuration = {
  name: 'engine',
  mode: process.env.NODE_ENV === 'development' ? 'development' : 'production',
  target: 'webworker',
  entry: { whycam: './src/index.ts' },
  output: {
    path: path.resolve(__dirname, 'dist/engine'),
    filename: '[name].js',
    library: { name: 'whycam', type: 'umd' },
    globalObject: 'self',
    clean: true,
  },
  resolve: {
    extensions: ['.ts', '.js'],
    // No Node fallbacks: tfjs marks its optional Node-only imports absent through its package.json
    // "browser" field, so any other Node built-in reached from src/ fails the build.
  },
  module: {
    rules: [
      { test: /\.ts$/, exclude: /node_modules/, use: swc },
      // The .wasm binaries are fetched by the backend at run time (setWasmPaths), not bundled as modules.
      { test: /\.wasm$/, type: 'asset/resource', generator: { filename: '[name][ext]' } },
    ],
  },
  plugins: [
    {
      // Emit the three tfjs-backend-wasm binaries next to the bundle.
      apply(compiler) {
        const { RawSource } = compiler.webpack.sources;
        const fs = require('fs') as typeof import('fs');
        compiler.hooks.thisCompilation.tap('EmitTfjsWasm', (compilation) => {
          compilation.hooks.processAssets.tap({ name: 'EmitTfjsWasm', stage: compiler.webpack.Compilation.PROCESS_ASSETS_STAGE_ADDITIONAL }, () => {
            for (const f of ['tfjs-backend-wasm.wasm', 'tfjs-backend-wasm-simd.wasm', 'tfjs-backend-wasm-threaded-simd.wasm']) {
              compilation.emitAsset(f, new RawSource(fs.readFileSync(path.join(wasmDir, 'dist', f))));
            }
          });
        });
      },
    },
  ],
  performance: { hints: false },
};

export default [engine];
