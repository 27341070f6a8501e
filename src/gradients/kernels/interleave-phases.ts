/**
 * DepthToSpace and a crop in one pass: the sub-pixel input gradient (conv-input-grad.ts) leaves
 * phase (ry, rx) of output row q*s + ry, column p*s + rx in channels (ry*s + rx)*C..+C of cell
 * (q, p); this writes each phase to its place and keeps rows [top, top + outHeight) and columns
 * [left, left + outWidth). Stock tfjs-backend-wasm's DepthToSpace costs more than the
 * convolution before it, and a Slice would copy again. Kernel 'WhycamInterleavePhases' for wasm
 * and cpu; other backends use DepthToSpace and Slice.
 */
import * as tf from '@tensorflow/tfjs-core';
import { registerJsKernel, runJsKernel } from './js-kernel';

export const INTERLEAVE_PHASES = 'WhycamInterleavePhases';

export interface InterleaveAttrs {
  blockSize: number;
  top: number;
  left: number;
  outHeight: number;
  outWidth: number;
  [key: string]: number;
}

function interleave(src: Float32Array, shape: number[], dst: Float32Array, a: InterleaveAttrs): void {
  const [n, qh, qw, sc] = shape;
  const s = a.blockSize, c = sc / (s * s);
  for (let b = 0; b < n; b++) {
    for (let y = 0; y < a.outHeight; y++) {
      const row = y + a.top, q = Math.floor(row / s), ry = row - q * s;
      for (let x = 0; x < a.outWidth; x++) {
        const col = x + a.left, p = Math.floor(col / s), rx = col - p * s;
        const from = ((b * qh + q) * qw + p) * sc + (ry * s + rx) * c;
        const to = ((b * a.outHeight + y) * a.outWidth + x) * c;
        for (let k = 0; k < c; k++) dst[to + k] = src[from + k];
      }
    }
  }
}

registerJsKernel<InterleaveAttrs>({
  name: INTERLEAVE_PHASES,
  outputShape: ({ x }, a) => [x.shape[0], a.outHeight, a.outWidth, x.shape[3] / (a.blockSize * a.blockSize)],
  run: (inputs, shapes, attrs, out) => interleave(inputs.x, shapes.x, out, attrs),
});

export function interleavePhases(x: tf.Tensor4D, a: InterleaveAttrs): tf.Tensor4D {
  const fast = runJsKernel(INTERLEAVE_PHASES, { x }, a);
  if (fast) return fast as tf.Tensor4D;
  return tf.tidy(() => {
    const full = tf.depthToSpace(x, a.blockSize);
    return a.top === 0 && a.left === 0 && full.shape[1] === a.outHeight && full.shape[2] === a.outWidth
      ? full : tf.slice(full, [0, a.top, a.left, 0], [-1, a.outHeight, a.outWidth, -1]);
  });
}
