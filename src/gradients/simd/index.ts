/**
 * whycam's SIMD kernels (kernels.wat), instantiated on tfjs-backend-wasm's own memory so they
 * read and write tensors where they lie. One instance per heap; null where the engine has no
 * WebAssembly SIMD or the backend's memory cannot be reached (the callers then run their JS loops).
 */
import type { TensorInfo } from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { SHARED, UNSHARED } from './binaries.generated';

export interface SimdKernels {
  /** The ReLU family's backward on `groups` x 4 floats from byte offsets z, dy to dx (see kernels.wat). */
  relu_backward(z: number, dy: number, dx: number, groups: number, lower: number, upper: number, slope: number, guided: number): void;
  /** One max-pooling window's backward for `groups` x 4 channels (byte offsets and strides; see kernels.wat). */
  maxpool_grad_window(x: number, dx: number, dy: number, groups: number, rows: number, cols: number, rowStride: number, colStride: number): void;
}

// The WebAssembly API as used here (src/ compiles without the DOM library, which declares it).
interface WasmMemory { buffer: ArrayBuffer }
interface WasmApi {
  Memory: abstract new (...args: never[]) => WasmMemory;
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: unknown };
}
const wasmApi = (globalThis as unknown as { WebAssembly?: WasmApi }).WebAssembly;

const instances = new WeakMap<WasmMemory, SimdKernels | null>();

function bytesOf(base64: string): Uint8Array {
  const text = atob(base64);
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) out[i] = text.charCodeAt(i);
  return out;
}

function memoryOf(backend: BackendWasm): WasmMemory | null {
  const module = backend.wasm as unknown as { asm?: { memory?: unknown }; wasmMemory?: unknown };
  const memory = module.asm?.memory ?? module.wasmMemory;
  return wasmApi && memory instanceof wasmApi.Memory ? memory : null;
}

export function simdKernels(backend: BackendWasm): SimdKernels | null {
  const memory = memoryOf(backend);
  if (!memory || !wasmApi) return null;
  let kernels = instances.get(memory);
  if (kernels === undefined) {
    try {
      const shared = typeof SharedArrayBuffer !== 'undefined' && memory.buffer instanceof SharedArrayBuffer;
      // The module is under 1 KB, small enough to compile synchronously on any thread.
      const module = new wasmApi.Module(bytesOf(shared ? SHARED : UNSHARED));
      kernels = new wasmApi.Instance(module, { env: { memory } }).exports as unknown as SimdKernels;
    } catch {
      kernels = null; // no SIMD in this engine
    }
    instances.set(memory, kernels);
  }
  return kernels;
}

/** A tensor's byte offset in the wasm heap. */
export function heapOffset(backend: BackendWasm, t: TensorInfo): number {
  return backend.dataIdMap.get(t.dataId)!.memoryOffset;
}
