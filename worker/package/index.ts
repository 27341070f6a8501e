/**
 * `whycam/worker`: the typed client of the whycam Web Worker, for pages built with webpack 5 or
 * Vite. `createWhycamWorker()` starts the worker shipped in this package; the bundler sees
 * `new Worker(new URL('./whycam-worker.mjs', import.meta.url))`, builds the worker and emits its
 * .wasm files on the page's own origin.
 *
 *   const { client } = await createWhycamWorker();
 *   await client.load({ url: '/model/model.json' });
 *   await client.explain(file, {}, (stage) => draw(stage));
 */
import { startWhycamWorker, type WhycamClient } from '../client';
import type { BackendInfo } from '../protocol';

export {
  createClient, startWhycamWorker, WhycamError,
  type ClientExplainOptions, type StageCallback, type StartOptions, type WhycamClient, type WorkerTarget,
} from '../client';
export type {
  BackendInfo, ExplainSummary, ModelInfo, ModelInput, PixelImage, QuantizeInput, QuantizeResult, WasmBinary, WorkerImage,
  WorkerQuantizeOptions, WorkerStats,
} from '../client';
export type { LoadOptions } from '../protocol';
export type { MapStage, MapStageName, Prediction, PredictionStage, Stage } from '../../src/explainer';
export type { SaliencyMap } from '../../src/methods/types';
export type { WhycamErrorCode } from '../../src/errors';

export interface WhycamWorkerOptions {
  /**
   * Makes the Worker. Default: this package's worker through the bundler. Give one to serve the
   * worker yourself, e.g. `() => new Worker('/whycam/whycam-worker.mjs', { type: 'module' })`.
   */
  worker?: () => Worker;
}

export interface WhycamWorker {
  client: WhycamClient;
  /** The binary and threads the worker computes with. */
  backend: BackendInfo;
  worker: Worker;
  /** Stops the worker and frees everything it holds. */
  terminate(): void;
}

/**
 * Starts the whycam worker and waits for its wasm backend (threaded SIMD where the page is
 * cross-origin isolated, else SIMD, else plain wasm; the worker falls back by itself).
 * Rejects with a WhycamError (code BACKEND) when no binary starts.
 */
export async function createWhycamWorker(options: WhycamWorkerOptions = {}): Promise<WhycamWorker> {
  const make = options.worker ?? (() => new Worker(new URL('./whycam-worker.mjs', import.meta.url), { type: 'module', name: 'whycam' }));
  let worker: Worker | undefined;
  const { client, backend } = await startWhycamWorker('whycam-worker', {
    fallback: null,
    create: () => (worker = make()),
  });
  const w = worker as Worker;
  return { client, backend, worker: w, terminate: () => w.terminate() };
}
