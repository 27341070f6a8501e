/** Reads back which tfjs backend, wasm binary and thread count are actually running. */
import * as tf from '@tensorflow/tfjs-core';
import { getThreadsCount } from '@tensorflow/tfjs-backend-wasm';
import type { BackendInfo, WasmBinary } from './protocol';

/**
 * tfjs-backend-wasm picks its binary from two env flags (WASM_HAS_SIMD_SUPPORT,
 * WASM_HAS_MULTITHREAD_SUPPORT) when it initialises: both -> threaded SIMD, SIMD only ->
 * SIMD, neither -> plain. Their values at that moment tell which file it fetched.
 */
export async function runningBackend(extra: Pick<BackendInfo, 'wasmUrl' | 'fallbacks'> = { wasmUrl: null, fallbacks: [] }): Promise<BackendInfo> {
  const isolated = (globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated === true;
  if (tf.getBackend() !== 'wasm') {
    return { backend: 'cpu', binary: null, threads: 1, crossOriginIsolated: isolated, ...extra };
  }
  const simd = (await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT')) as boolean;
  const threaded = (await tf.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT')) as boolean;
  const binary: WasmBinary = simd && threaded ? 'threaded-simd' : simd ? 'simd' : 'plain';
  return { backend: 'wasm', binary, threads: getThreadsCount(), crossOriginIsolated: isolated, ...extra };
}
