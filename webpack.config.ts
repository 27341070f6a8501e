/**
 * Browser builds:
 * - 'engine': the engine (src/index.ts) as a library bundle for a Web Worker, with
 *   tfjs-backend-wasm's .wasm binaries emitted beside it (served from our own origin, never a CDN);
 * - 'worker': the whycam Web Worker (worker/entry.browser.ts) -> dist/worker/whycam-worker.js,
 *   the three .wasm binaries beside it with a content hash in their names;
 * - 'worker-test-page': a test-only page driving that worker (tests/worker/browser/).
 * - 'pwa': the app (pwa/) -> dist/pwa/: page bundle, the worker build copied under worker/, the
 *   default model, samples, manifest, icons, and a Workbox service worker precaching all of it.
 *   It depends on 'worker': build both with `npm run build:pwa`.
 *   The widget (pwa/widget/) is part of it: widget/index.html and its hashed script,
 *   widget/embed.js (stable name, for other sites' pages), widget-config.json (the allowlist, from
 *   WHYCAM_WIDGET_ORIGINS) and a demo host page, precached by the same service worker.
 */
import * as fs from 'fs';
import * as path from 'path';
import { DefinePlugin, type Configuration } from 'webpack';
import MinimizerPlugin from 'minimizer-webpack-plugin';
import { InjectManifest } from 'workbox-webpack-plugin';
import { PwaAssetsPlugin } from './pwa/build/assets-plugin';
import { WidgetAssetsPlugin } from './pwa/widget/build';

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

/**
 * The worker. Its name is stable (pages and the service worker refer to it; serve it with
 * revalidation, and with COEP require-corp where pages are cross-origin isolated). The wasm
 * binaries are asset modules required by the entry: content-hashed names, so they can be
 * cached as immutable, and the worker gets their exact URLs for setWasmPaths.
 */
const worker: Configuration = {
  name: 'worker',
  mode: process.env.NODE_ENV === 'development' ? 'development' : 'production',
  target: 'webworker',
  entry: { 'whycam-worker': './worker/entry.browser.ts' },
  output: {
    path: path.resolve(__dirname, 'dist/worker'),
    filename: '[name].js',
    // Asset URLs relative to the worker script's own location, wherever the app is mounted.
    publicPath: 'auto',
    clean: true,
  },
  resolve: { extensions: ['.ts', '.js'] },
  module: {
    rules: [
      { test: /\.ts$/, exclude: /node_modules/, use: swc },
      { test: /\.wasm$/, type: 'asset/resource', generator: { filename: '[name].[contenthash:8][ext]' } },
    ],
  },
  optimization: {
    minimize: true,
    minimizer: [
      new MinimizerPlugin({
        minify: {
          implementation: MinimizerPlugin.terserMinify,
          // tfjs-backend-wasm starts its pthreads from a Blob holding its Emscripten factory's
          // source (Function.toString). That source tests `typeof _scriptDir`, a variable of
          // the enclosing module; terser's `typeofs` rewrites it to `void 0 !== r`, which throws
          // in the pthread (no `r` there) and the threaded binary never starts. Keep the typeof.
          // (Given through optimization.minimizeOptions it did not reach terser.)
          options: { compress: { passes: 2, typeofs: false } },
        },
      }),
    ],
  },
  performance: { hints: false },
};

/** A page for the browser tests only; it expects the worker build at ../worker/. */
const workerTestPage: Configuration = {
  name: 'worker-test-page',
  mode: 'production',
  target: 'web',
  entry: { page: './tests/worker/browser/page.ts' },
  output: { path: path.resolve(__dirname, 'dist/worker-test'), filename: '[name].js', clean: true },
  resolve: { extensions: ['.ts', '.js'] },
  module: { rules: [{ test: /\.ts$/, exclude: /node_modules/, use: swc }] },
  plugins: [
    {
      apply(compiler) {
        const { RawSource } = compiler.webpack.sources;
        compiler.hooks.thisCompilation.tap('TestPageHtml', (compilation) => {
          compilation.hooks.processAssets.tap({ name: 'TestPageHtml', stage: compiler.webpack.Compilation.PROCESS_ASSETS_STAGE_ADDITIONAL }, () => {
            compilation.emitAsset('index.html', new RawSource('<!doctype html>\n<meta charset="utf-8">\n<title>whycam worker test</title>\n<script src="page.js"></script>\n'));
          });
        });
      },
    },
  ],
  performance: { hints: false },
};

/**
 * The PWA. The page bundle never contains tfjs (only the Comlink client and src/render); the
 * service worker (pwa/sw.ts) is compiled by InjectManifest, which precaches every emitted asset.
 */
const pwa: Configuration = {
  name: 'pwa',
  dependencies: ['worker'],
  mode: process.env.NODE_ENV === 'development' ? 'development' : 'production',
  target: 'web',
  entry: {
    app: './pwa/app/start.ts',
    // The widget page's script (hashed), and embed.js for host pages under a stable name.
    'widget/widget': './pwa/widget/main.ts',
    'widget/embed': { import: './pwa/widget/embed.ts', filename: 'widget/embed.js' },
  },
  output: {
    path: path.resolve(__dirname, 'dist/pwa'),
    filename: '[name].[contenthash:8].js',
    publicPath: '',
    clean: true,
  },
  resolve: { extensions: ['.ts', '.js'] },
  module: { rules: [{ test: /\.ts$/, exclude: /node_modules/, use: swc }] },
  // index.html names the hashed bundle when it is emitted; a later content-hash rewrite would break that link.
  optimization: { realContentHash: false },
  plugins: [
    // The version the app shows and reports (data-version): WHYCAM_VERSION, else package.json's.
    // Read when the compiler runs, so a build script (or a test) can set it per build.
    new DefinePlugin({ __WHYCAM_VERSION__: DefinePlugin.runtimeValue(() => JSON.stringify(process.env.WHYCAM_VERSION || require('./package.json').version), true) }),
    new PwaAssetsPlugin({ workerDir: path.resolve(__dirname, 'dist/worker') }),
    new WidgetAssetsPlugin({ entry: 'widget/widget' }),
    new InjectManifest({
      swSrc: './pwa/sw.ts',
      swDest: 'sw.js',
      // Weights are larger than Workbox's 2 MB default and must be precached all the same.
      maximumFileSizeToCacheInBytes: 64 * 1024 * 1024,
      // Hashed names (and the hashed model directories) need no cache-busting query.
      dontCacheBustURLsMatching: /(\.[0-9a-f]{8}\.(js|wasm|png|jpe?g)$)|(^models\/[a-z0-9-]+-[0-9a-f]{8}\/)/,
    }),
  ],
  performance: { hints: false },
};

export default [engine, worker, workerTestPage, pwa];
