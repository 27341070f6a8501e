/**
 * One-pass backward of the ReLU family, vanilla or guided, as a kernel of our own
 * ('WhycamReluBackward') for the wasm and cpu backends:
 *
 *   dx = g(dy) * (lower < z < upper ? 1 : z <= lower ? negativeSlope : 0)
 *   g(dy) = guided ? max(dy, 0) : dy
 *
 * Composed from tfjs ops this is Greater, Less, LogicalAnd, Cast and two Multiplies,
 * each a full pass over memory through a scalar broadcasting kernel; on MobileNetV2 they
 * were ~40% of the backward pass. Here it is one loop over the heap. Other backends fall
 * back to the composed ops.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';

export const RELU_BACKWARD = 'WhycamReluBackward';

export interface ReluBackwardAttrs {
  lower: number;
  upper: number;
  negativeSlope: number;
  guided: boolean;
  [key: string]: number | boolean;
}

/**
 * Branch-free loops, one per variant: the mask is data-dependent and close to random, so
 * a branch mispredicts about half the time (measured 10-17 ns/element with branches,
 * 3-4 ns without, on 1.2M elements in V8).
 */
function loop(z: Float32Array, dy: Float32Array, dx: Float32Array, a: ReluBackwardAttrs): void {
  const { lower, upper, guided } = a;
  // Round the slope to float32 as tfjs does, so g * slope rounds exactly like a float32 multiply.
  const slope = Math.fround(a.negativeSlope);
  const n = dx.length;
  if (slope === 0 && !guided) {
    for (let i = 0; i < n; i++) { const zi = z[i]; dx[i] = dy[i] * (+(zi > lower) & +(zi < upper)); }
  } else if (slope === 0) {
    for (let i = 0; i < n; i++) { const zi = z[i], d = dy[i]; dx[i] = d * (+(zi > lower) & +(zi < upper) & +(d > 0)); }
  } else if (!guided) {
    for (let i = 0; i < n; i++) { const zi = z[i]; dx[i] = dy[i] * ((+(zi > lower) & +(zi < upper)) + +(zi <= lower) * slope); }
  } else {
    for (let i = 0; i < n; i++) { const zi = z[i], d = dy[i]; dx[i] = d * +(d > 0) * ((+(zi > lower) & +(zi < upper)) + +(zi <= lower) * slope); }
  }
}

const wasmKernel: KernelFunc = ({ inputs, backend, attrs }) => {
  const b = backend as BackendWasm;
  const { z, dy } = inputs as { z: TensorInfo; dy: TensorInfo };
  const out = b.makeOutput(z.shape, 'float32');
  // Heap views only after the allocation above (it may grow the heap).
  loop(b.typedArrayFromHeap(z) as Float32Array, b.typedArrayFromHeap(dy) as Float32Array,
    b.typedArrayFromHeap(out) as Float32Array, attrs as unknown as ReluBackwardAttrs);
  return out;
};

interface CpuLike {
  data: { get(id: object): { values: Float32Array } };
  makeTensorInfo(shape: number[], dtype: 'float32', values: Float32Array): TensorInfo;
}

const cpuKernel: KernelFunc = ({ inputs, backend, attrs }) => {
  const b = backend as unknown as CpuLike;
  const { z, dy } = inputs as { z: TensorInfo; dy: TensorInfo };
  const dx = new Float32Array(tf.util.sizeFromShape(z.shape));
  loop(b.data.get(z.dataId).values, b.data.get(dy.dataId).values, dx, attrs as unknown as ReluBackwardAttrs);
  return b.makeTensorInfo(z.shape, 'float32', dx);
};

export const reluBackwardConfigs: KernelConfig[] = [
  { kernelName: RELU_BACKWARD, backendName: 'wasm', kernelFunc: wasmKernel },
  { kernelName: RELU_BACKWARD, backendName: 'cpu', kernelFunc: cpuKernel },
];

export function registerReluBackward(): void {
  for (const c of reluBackwardConfigs) {
    if (!tf.getKernel(c.kernelName, c.backendName)) tf.registerKernel(c);
  }
}

// Kernels are looked up by name when an op runs: registering at import is safe before any backend exists.
registerReluBackward();

/** dL/dz for a ReLU-family unit with input z. Uses the fused kernel where registered. */
export function reluBackward(z: tf.Tensor, dy: tf.Tensor, attrs: ReluBackwardAttrs): tf.Tensor {
  if (z.dtype === 'float32' && dy.dtype === 'float32' && tf.getKernel(RELU_BACKWARD, tf.getBackend())) {
    return tf.engine().runKernel(RELU_BACKWARD, { z, dy }, attrs) as tf.Tensor;
  }
  return tf.tidy(() => {
    const g = attrs.guided ? tf.relu(dy) : dy;
    const inside = tf.cast(tf.logicalAnd(tf.greater(z, attrs.lower), tf.less(z, attrs.upper)), 'float32');
    if (attrs.negativeSlope === 0) return tf.mul(g, inside);
    const below = tf.mul(tf.cast(tf.lessEqual(z, attrs.lower), 'float32'), attrs.negativeSlope);
    return tf.mul(g, tf.add(inside, below));
  });
}
