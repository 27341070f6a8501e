/**
 * The browser worker's body, shared by the app's webpack build (entry.browser.ts) and the npm
 * package's worker (package/worker.ts), which differ only in how they name the .wasm files' URLs.
 * Binary choice, best first:
 *   - threaded SIMD when the worker is cross-origin isolated (SharedArrayBuffer exists; the
 *     page needs COOP same-origin + COEP require-corp, and this script COEP require-corp),
 *     with navigator.hardwareConcurrency threads (at most 8, tfjs's pthread pool);
 *   - SIMD otherwise;
 *   - plain WASM when SIMD is missing, or as the last resort when a better binary fails to start.
 *
 * The URL fragment caps the choice for diagnosis and benchmarks without touching caching:
 * `whycam-worker.js#binary=simd` or `#binary=plain`, and `#threads=N`.
 */
import * as tf from '@tensorflow/tfjs-core';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import * as Comlink from 'comlink';
import { useBackend } from '../src/backend';
import { WhycamError } from '../src/errors';
import type { ImageInput } from '../src/image/types';
import { runningBackend } from './backend-info';
import { checkImageLimits } from '../src/image/limits';
import { readBlob } from './image';
import { registerTransferHandlers, WASM_BINARIES, WASM_FILES, type BackendInfo, type WasmBinary } from './protocol';
import { WhycamService } from './service';

/** tfjs-backend-wasm 4.22 starts a pool of 8 pthread workers and never uses more threads than that. */
const MAX_THREADS = 8;
/** A binary that neither starts nor fails in this time (e.g. pthread workers that never load) counts as failed. */
const START_TIMEOUT_MS = 20_000;

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`${what} did not start within ${ms / 1000} s`)), ms);
    p.then((v) => { clearTimeout(t); resolve(v); }, (e) => { clearTimeout(t); reject(e); });
  });
}

/**
 * tfjs-backend-wasm caps its thread pool at navigator.hardwareConcurrency / 2 (backend.cc:
 * num_cores = emscripten_num_logical_cores() / 2, assuming two hyper-threads per core), which
 * setThreadsCount cannot exceed: 1 thread on a 2-core machine, i.e. no parallelism at all. The
 * cap is read once, when the module starts; showing it twice the cores we want lets
 * setThreadsCount decide. Undone right after start-up.
 */
function reportCores(cores: number): () => void {
  const nav = navigator as { hardwareConcurrency: number };
  try {
    Object.defineProperty(nav, 'hardwareConcurrency', { configurable: true, get: () => cores });
  } catch {
    return () => {};
  }
  return () => { delete (nav as Partial<typeof nav>).hardwareConcurrency; };
}

async function startBackend(wasmUrls: Record<string, string>): Promise<BackendInfo> {
  const params = new URLSearchParams(self.location.hash.slice(1));
  const cap = params.get('binary') as WasmBinary | null;
  const isolated = self.crossOriginIsolated === true && typeof SharedArrayBuffer === 'function';
  // tfjs's own feature tests (WebAssembly.validate on tiny SIMD / atomics modules).
  const simd = (await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT')) as boolean;
  const threads = isolated && ((await tf.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT')) as boolean);
  let candidates = WASM_BINARIES.filter((b) => (b === 'threaded-simd' ? simd && threads : b === 'simd' ? simd : true));
  if (cap && WASM_BINARIES.includes(cap)) candidates = candidates.filter((b) => WASM_BINARIES.indexOf(b) >= WASM_BINARIES.indexOf(cap));
  const threadCount = Math.max(1, Math.min(MAX_THREADS, Number(params.get('threads')) || navigator.hardwareConcurrency || 1));

  setWasmPaths(wasmUrls);
  const fallbacks: BackendInfo['fallbacks'] = [];
  for (const binary of candidates) {
    // tfjs picks the file from these two flags when it initialises.
    tf.env().set('WASM_HAS_SIMD_SUPPORT', binary !== 'plain');
    tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', binary === 'threaded-simd');
    const restore = binary === 'threaded-simd' ? reportCores(2 * threadCount) : () => {};
    try {
      await withTimeout(useBackend('wasm', binary === 'threaded-simd' ? { threads: threadCount } : {}), START_TIMEOUT_MS, `The ${binary} binary`);
      return runningBackend({ wasmUrl: wasmUrls[WASM_FILES[binary]], fallbacks });
    } catch (e) {
      fallbacks.push({ binary, reason: (e as Error)?.message ?? String(e) });
    } finally {
      restore();
    }
  }
  throw new WhycamError('BACKEND', `No tfjs-backend-wasm binary could start here (${fallbacks.map((f) => `${f.binary}: ${f.reason}`).join('; ')}). ` +
    'Check that the .wasm files beside whycam-worker.js are served as application/wasm.');
}

async function decodeBitmap(bitmap: ImageBitmap): Promise<ImageInput> {
  const { width, height } = bitmap;
  const canvas = new OffscreenCanvas(width, height);
  const ctx = canvas.getContext('2d', { willReadFrequently: true });
  if (!ctx) throw new WhycamError('BACKEND', 'This browser gives workers no OffscreenCanvas 2D context to read image pixels; pass ImageData instead.');
  ctx.drawImage(bitmap, 0, 0);
  return { data: ctx.getImageData(0, 0, width, height).data, width, height, channels: 4 };
}

async function decodeFile(blob: Blob): Promise<ImageInput> {
  if (blob.size === 0) throw new WhycamError('BAD_IMAGE', 'The file is empty (0 bytes); give a PNG or JPEG photo.');
  // Read first, so an unreadable File (moved or deleted since it was picked) says so.
  const bytes = await readBlob(blob, 'image file', 'BAD_IMAGE');
  let bitmap: ImageBitmap;
  try {
    // EXIF orientation applied, as photo viewers do; alpha kept as is.
    bitmap = await createImageBitmap(new Blob([bytes as Uint8Array<ArrayBuffer>]), { imageOrientation: 'from-image', premultiplyAlpha: 'none' });
  } catch (e) {
    throw new WhycamError('BAD_IMAGE', `The file${blob.type ? ` (${blob.type})` : ''} is not an image this browser can decode: ${(e as Error)?.message ?? e}. Use a PNG or JPEG.`, { cause: e });
  }
  try {
    if (bitmap.width === 0 || bitmap.height === 0) throw new WhycamError('EMPTY_IMAGE', `The image is ${bitmap.width}x${bitmap.height} pixels: there is nothing to explain.`);
    checkImageLimits(bitmap.width, bitmap.height);
    return await decodeBitmap(bitmap);
  } finally {
    bitmap.close();
  }
}

/**
 * Serves the whycam API from this worker. `wasmUrls` maps each tfjs-backend-wasm file name
 * (WASM_FILES) to the URL this build serves it at, on the worker's own origin.
 */
export function serveWhycamWorker(wasmUrls: Record<string, string>): void {
  registerTransferHandlers();
  Comlink.expose(new WhycamService({ startBackend: () => startBackend(wasmUrls), decoders: { decodeFile, decodeBitmap } }));
}
