/**
 * The npm package's Web Worker (`whycam/worker` starts it), built as one ES module with the three
 * tfjs-backend-wasm binaries beside it. `new URL('./file.wasm', import.meta.url)` is the form
 * webpack 5 and Vite recognise as an asset: the consumer's build emits each binary on its own
 * origin and rewrites the URL, so nothing is fetched from a CDN.
 */
import { serveWhycamWorker } from '../browser-worker';
import { WASM_FILES } from '../protocol';

serveWhycamWorker({
  [WASM_FILES.plain]: new URL('./tfjs-backend-wasm.wasm', import.meta.url).href,
  [WASM_FILES.simd]: new URL('./tfjs-backend-wasm-simd.wasm', import.meta.url).href,
  [WASM_FILES['threaded-simd']]: new URL('./tfjs-backend-wasm-threaded-simd.wasm', import.meta.url).href,
});
