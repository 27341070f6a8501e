/**
 * Backend set-up shared by Node, the worker and tests: tfjs-backend-wasm (with the
 * backward kernels stock tfjs lacks there) or tfjs-backend-cpu (reference/baseline).
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import { setThreadsCount, setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { registerWasmGradientKernels } from './gradients/wasm-kernels';
import { WhycamError } from './errors';

export type BackendName = 'wasm' | 'cpu';

export interface BackendOptions {
  /** Where the .wasm files are served from (a URL prefix ending in '/', or a map per file). */
  wasmPaths?: string | Record<string, string>;
  /** Threads for the threaded-SIMD binary (only where SharedArrayBuffer is available). */
  threads?: number;
}

let wasmConfigured = false;

export async function useBackend(name: BackendName, options: BackendOptions = {}): Promise<void> {
  registerWasmGradientKernels();
  if (name === 'wasm' && !wasmConfigured) {
    // tfjs accepts these only before the wasm module first starts, even if that start failed:
    // a retry must not set them again.
    if (options.wasmPaths) setWasmPaths(options.wasmPaths as string);
    if (options.threads) setThreadsCount(options.threads);
    wasmConfigured = Boolean(options.wasmPaths || options.threads);
  }
  let ok = false;
  try {
    ok = await tf.setBackend(name);
  } catch (e) {
    throw new WhycamError('BACKEND', `The ${name} backend failed to start: ${(e as Error).message}`, { cause: e });
  }
  if (!ok) throw new WhycamError('BACKEND', `The ${name} backend failed to start.`);
  await tf.ready();
}
