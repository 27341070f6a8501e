/**
 * The npm package's build (`npm run build:package` -> dist/npm/ and dist/cli/), with tsup (esbuild for the
 * JavaScript, rollup-plugin-dts for one bundled .d.ts per entry). docs/package.md says why tsup.
 *
 * - the library (`whycam`, `whycam/render`, `whycam/node`): ESM (.mjs) and CommonJS (.js) with
 *   .d.mts / .d.ts; tfjs, comlink and the decoders stay dependencies (not bundled);
 * - the command line (dist/cli/main.js, run by src/cli/bin.cjs): CommonJS;
 * - `whycam/worker` (dist/npm/worker/index.mjs, ESM only: it needs import.meta.url) and the worker
 *   itself (dist/npm/worker/whycam-worker.mjs, everything bundled) with the three .wasm binaries;
 * - the widget's embed.js (dist/npm/widget/embed.js), the same script the app's build serves.
 */
import * as fs from 'fs';
import * as path from 'path';
import { defineConfig, type Options } from 'tsup';

const wasmDir = 'node_modules/@tensorflow/tfjs-backend-wasm/dist';
const WASM = ['tfjs-backend-wasm.wasm', 'tfjs-backend-wasm-simd.wasm', 'tfjs-backend-wasm-threaded-simd.wasm'];

const common: Options = {
  target: 'es2020',
  sourcemap: false,
  silent: true,
  // Beside, not over, the app's webpack builds in dist/ (dist/worker, dist/pwa, ...).
  outDir: 'dist/npm',
};

export default defineConfig([
  {
    ...common,
    entry: { index: 'src/index.ts', render: 'src/render/index.ts', node: 'src/node/index.ts' },
    format: ['esm', 'cjs'],
    platform: 'node',
    dts: true,
    splitting: true,
  },
  {
    ...common,
    // The batch audit's worker thread beside the CLI (src/cli/audit/pool.ts picks it).
    entry: { main: 'src/cli/main.ts', 'audit-worker': 'src/cli/audit/worker.ts' },
    format: ['cjs'],
    platform: 'node',
    // Two levels under the package root, as src/cli/ is, so the CLI's default model path holds.
    outDir: 'dist/cli',
    // The report page's script and styles, read at run time beside the code (src/cli/audit/html.ts).
    async onSuccess() {
      for (const f of ['page.js', 'page.css']) fs.copyFileSync(path.join('src/cli/audit', f), path.join('dist/cli', f));
    },
  },
  {
    ...common,
    entry: { 'worker/index': 'worker/package/index.ts' },
    format: ['esm'],
    platform: 'browser',
    tsconfig: 'worker/package/tsconfig.json',
    dts: true,
    // The worker file is the consumer bundler's to find (new URL), not esbuild's to inline.
    external: ['./whycam-worker.mjs'],
    // Comlink's Node adapter is a deep, extension-less import that strict ESM resolution refuses;
    // bundled, the client needs nothing resolved but itself.
    noExternal: ['comlink'],
  },
  {
    ...common,
    entry: { 'worker/whycam-worker': 'worker/package/worker.ts' },
    format: ['esm'],
    platform: 'browser',
    tsconfig: 'worker/package/tsconfig.json',
    // One self-contained module: the consumer's bundler only has to copy it and its .wasm files.
    noExternal: [/.*/],
    // tfjs-backend-wasm's Emscripten glue reads Node's __filename / __dirname behind typeof and
    // environment tests; a consumer's webpack would otherwise make `typeof __filename` "string"
    // in the browser and then fail on the name itself.
    define: { __filename: 'undefined', __dirname: 'undefined' },
    // esbuild's minifier keeps `typeof` tests as they are (see webpack.config.ts on terser's typeofs).
    minify: true,
    async onSuccess() {
      for (const f of WASM) fs.copyFileSync(path.join(wasmDir, f), path.join('dist/npm/worker', f));
    },
  },
  {
    ...common,
    entry: { 'widget/embed': 'pwa/widget/embed.ts' },
    format: ['iife'],
    platform: 'browser',
    minify: true,
    outExtension: () => ({ js: '.js' }),
  },
]);
