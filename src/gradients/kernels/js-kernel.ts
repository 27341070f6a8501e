/**
 * Registers a kernel written as one JS loop for both the wasm backend (reading and writing
 * the wasm heap in place) and the cpu backend (its value arrays), so the few passes tfjs
 * composes badly cost one sweep over memory on either.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { KernelFunc, NamedAttrMap, TensorInfo } from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';

export interface JsKernel<A> {
  name: string;
  outputShape(inputs: Record<string, TensorInfo>, attrs: A): number[];
  /** Fills `out` (float32, zero-initialised only if the loop does it) from the float32 inputs. */
  run(inputs: Record<string, Float32Array>, shapes: Record<string, number[]>, attrs: A, out: Float32Array): void;
  /**
   * On the wasm backend, a faster route (a SIMD kernel on the heap) that fills `out` and returns
   * true, or returns false to leave it to `run`.
   */
  onHeap?(backend: BackendWasm, inputs: Record<string, TensorInfo>, attrs: A, out: TensorInfo): boolean;
}

/** A kernel with several float32 outputs (e.g. a value and its statistics). */
export interface JsKernelOutputs<A> {
  name: string;
  onHeap?(backend: BackendWasm, inputs: Record<string, TensorInfo>, attrs: A, outs: TensorInfo[]): boolean;
  outputShapes(inputs: Record<string, TensorInfo>, attrs: A): number[][];
  run(inputs: Record<string, Float32Array>, shapes: Record<string, number[]>, attrs: A, outs: Float32Array[]): void;
}

interface CpuLike {
  data: { get(id: object): { values: Float32Array } };
  makeTensorInfo(shape: number[], dtype: 'float32', values: Float32Array): TensorInfo;
}

const shapesOf = (inputs: Record<string, TensorInfo>) =>
  Object.fromEntries(Object.entries(inputs).map(([k, v]) => [k, v.shape]));

function register<A>(k: JsKernelOutputs<A>, single: boolean): void {
  const result = (outs: TensorInfo[]) => (single ? outs[0] : outs);
  const wasm: KernelFunc = ({ inputs, backend, attrs }) => {
    const b = backend as BackendWasm;
    const ins = inputs as Record<string, TensorInfo>;
    const outs = k.outputShapes(ins, attrs as unknown as A).map((shape) => b.makeOutput(shape, 'float32'));
    if (k.onHeap?.(b, ins, attrs as unknown as A, outs)) return result(outs);
    // Heap views only after the allocations above (they may grow the heap and detach older views).
    const views = Object.fromEntries(Object.entries(ins).map(([name, t]) => [name, b.typedArrayFromHeap(t) as Float32Array]));
    k.run(views, shapesOf(ins), attrs as unknown as A, outs.map((t) => b.typedArrayFromHeap(t) as Float32Array));
    return result(outs);
  };
  const cpu: KernelFunc = ({ inputs, backend, attrs }) => {
    const b = backend as unknown as CpuLike;
    const ins = inputs as Record<string, TensorInfo>;
    const shapes = k.outputShapes(ins, attrs as unknown as A);
    const outs = shapes.map((shape) => new Float32Array(tf.util.sizeFromShape(shape)));
    const views = Object.fromEntries(Object.entries(ins).map(([name, t]) => [name, b.data.get(t.dataId).values]));
    k.run(views, shapesOf(ins), attrs as unknown as A, outs);
    return result(outs.map((values, i) => b.makeTensorInfo(shapes[i], 'float32', values)));
  };
  for (const [backendName, kernelFunc] of [['wasm', wasm], ['cpu', cpu]] as const) {
    if (!tf.getKernel(k.name, backendName)) tf.registerKernel({ kernelName: k.name, backendName, kernelFunc });
  }
}

export function registerJsKernel<A>(k: JsKernel<A>): void {
  register<A>({
    name: k.name,
    outputShapes: (inputs, attrs) => [k.outputShape(inputs, attrs)],
    onHeap: k.onHeap ? (backend, inputs, attrs, outs) => k.onHeap!(backend, inputs, attrs, outs[0]) : undefined,
    run: (inputs, shapes, attrs, outs) => k.run(inputs, shapes, attrs, outs[0]),
  }, true);
}

export function registerJsKernelOutputs<A>(k: JsKernelOutputs<A>): void {
  register(k, false);
}

/** Runs a registered JS kernel when the active backend has it and every input is float32. */
export function runJsKernel(name: string, inputs: Record<string, tf.Tensor>, attrs: object): tf.Tensor | null {
  if (!tf.getKernel(name, tf.getBackend()) || Object.values(inputs).some((t) => t.dtype !== 'float32')) return null;
  return tf.engine().runKernel(name, inputs, attrs as NamedAttrMap) as tf.Tensor;
}
