/**
 * One-pass backward of the ReLU family, vanilla or guided, as a kernel of our own
 * ('WhycamReluBackward') for the wasm and cpu backends:
 *
 *   dx = g(dy) * (lower < z < upper ? 1 : z <= lower ? negativeSlope : 0)
 *   g(dy) = guided ? max(dy, 0) : dy
 *
 * Composed from tfjs ops this is Greater, Less, LogicalAnd, Cast and two Multiplies,
 * each a full pass over memory through a scalar broadcasting kernel; on MobileNetV2 they
 * were ~40% of the backward pass. Here it is one pass over the heap: our SIMD kernel on wasm,
 * a JS loop on cpu (and on wasm without SIMD). Other backends fall back to the composed ops.
 */
import * as tf from '@tensorflow/tfjs-core';
import { heapOffset, simdKernels } from '../simd';
import { registerJsKernel, runJsKernel } from './js-kernel';

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

registerJsKernel<ReluBackwardAttrs>({
  name: RELU_BACKWARD,
  outputShape: (inputs) => inputs.z.shape,
  run: (inputs, _shapes, attrs, out) => loop(inputs.z, inputs.dy, out, attrs),
  // On wasm: 4 lanes at a time in our SIMD kernel, the tail in JS.
  onHeap: (backend, inputs, attrs, out) => {
    const simd = simdKernels(backend);
    if (!simd) return false;
    const n = tf.util.sizeFromShape(out.shape);
    const groups = n >> 2;
    simd.relu_backward(heapOffset(backend, inputs.z), heapOffset(backend, inputs.dy), heapOffset(backend, out), groups,
      attrs.lower, attrs.upper, attrs.negativeSlope, attrs.guided ? 1 : 0);
    if (groups * 4 < n) {
      const tail = (t: tf.TensorInfo) => (backend.typedArrayFromHeap(t) as Float32Array).subarray(groups * 4);
      loop(tail(inputs.z), tail(inputs.dy), tail(out), attrs);
    }
    return true;
  },
});

/** dL/dz for a ReLU-family unit with input z. Uses the fused kernel where registered. */
export function reluBackward(z: tf.Tensor, dy: tf.Tensor, attrs: ReluBackwardAttrs): tf.Tensor {
  const fast = runJsKernel(RELU_BACKWARD, { z, dy }, attrs);
  if (fast) return fast;
  return tf.tidy(() => {
    const g = attrs.guided ? tf.relu(dy) : dy;
    const inside = tf.cast(tf.logicalAnd(tf.greater(z, attrs.lower), tf.less(z, attrs.upper)), 'float32');
    if (attrs.negativeSlope === 0) return tf.mul(g, inside);
    const below = tf.mul(tf.cast(tf.lessEqual(z, attrs.lower), 'float32'), attrs.negativeSlope);
    return tf.mul(g, tf.add(inside, below));
  });
}
