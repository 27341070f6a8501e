/**
 * The app's Web Worker (webpack config 'worker' -> dist/worker/whycam-worker.js). The .wasm
 * files are webpack asset modules beside this script, named with a content hash (stable per
 * version, cacheable for good), fetched from this origin: no CDN. browser-worker.ts does the rest.
 */
import { serveWhycamWorker } from './browser-worker';
import { WASM_FILES } from './protocol';

// Asset modules: webpack emits each file and returns its URL (publicPath 'auto' = this script's directory).
const WASM_URLS: Record<string, string> = {
  [WASM_FILES.plain]: require('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm') as string,
  [WASM_FILES.simd]: require('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm') as string,
  [WASM_FILES['threaded-simd']]: require('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-threaded-simd.wasm') as string,
};

serveWhycamWorker(WASM_URLS);
