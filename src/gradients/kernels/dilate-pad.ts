/**
 * Spreads dy onto a zero grid — stride-dilated, shifted by (padTop, padLeft), cropped to
 * (outHeight, outWidth) — in one pass: the input of the forward correlation that computes a
 * conv's input gradient (see conv-input-grad.ts). Built from ops this is two reshape/pad
 * rounds and a Slice, and the wasm backend's strided Slice alone cost ~20 ms on a ResNet
 * layer. Kernel 'WhycamDilatePad' for wasm and cpu; other backends use the ops.
 */
import * as tf from '@tensorflow/tfjs-core';
import { registerJsKernel, runJsKernel } from './js-kernel';

export const DILATE_PAD = 'WhycamDilatePad';

export interface DilatePadAttrs {
  strideHeight: number;
  strideWidth: number;
  padTop: number;
  padLeft: number;
  outHeight: number;
  outWidth: number;
  [key: string]: number;
}

function spread(src: Float32Array, shape: number[], dst: Float32Array, a: DilatePadAttrs): void {
  const [n, h, w, c] = shape;
  dst.fill(0);
  for (let b = 0; b < n; b++) {
    for (let i = 0; i < h; i++) {
      const r = a.padTop + i * a.strideHeight;
      if (r < 0 || r >= a.outHeight) continue;
      for (let j = 0; j < w; j++) {
        const col = a.padLeft + j * a.strideWidth;
        if (col < 0 || col >= a.outWidth) continue;
        const from = ((b * h + i) * w + j) * c;
        dst.set(src.subarray(from, from + c), ((b * a.outHeight + r) * a.outWidth + col) * c);
      }
    }
  }
}

registerJsKernel<DilatePadAttrs>({
  name: DILATE_PAD,
  outputShape: ({ x }, a) => [x.shape[0], a.outHeight, a.outWidth, x.shape[3]],
  run: (inputs, shapes, attrs, out) => spread(inputs.x, shapes.x, out, attrs),
});

/** Zero-insert (s-1) zeros between rows/columns, with 4-D reshape and pad only. */
function upsampleZeros(dy: tf.Tensor4D, sh: number, sw: number): tf.Tensor4D {
  const [n, h, w, c] = dy.shape;
  let out: tf.Tensor4D = dy;
  if (sh > 1) {
    const r = tf.reshape(out, [n, h, 1, w * c]);
    out = tf.reshape(tf.pad(r, [[0, 0], [0, 0], [0, sh - 1], [0, 0]]), [n, h * sh, w, c]);
  }
  if (sw > 1) {
    const rows = out.shape[1];
    const r = tf.reshape(out, [n * rows, w, 1, c]);
    out = tf.reshape(tf.pad(r, [[0, 0], [0, 0], [0, sw - 1], [0, 0]]), [n, rows, w * sw, c]);
  }
  return out;
}

/** Pads (positive) or crops (negative) the two spatial dims. */
function padOrCrop(x: tf.Tensor4D, top: number, bottom: number, left: number, right: number): tf.Tensor4D {
  const cropT = Math.max(0, -top), cropB = Math.max(0, -bottom), cropL = Math.max(0, -left), cropR = Math.max(0, -right);
  let out = x;
  if (cropT || cropB || cropL || cropR) {
    out = tf.slice(out, [0, cropT, cropL, 0], [-1, out.shape[1] - cropT - cropB, out.shape[2] - cropL - cropR, -1]);
  }
  const pT = Math.max(0, top), pB = Math.max(0, bottom), pL = Math.max(0, left), pR = Math.max(0, right);
  if (pT || pB || pL || pR) out = tf.pad(out, [[0, 0], [pT, pB], [pL, pR], [0, 0]]);
  return out;
}

export function dilatePad(x: tf.Tensor4D, a: DilatePadAttrs): tf.Tensor4D {
  const fast = runJsKernel(DILATE_PAD, { x }, a);
  if (fast) return fast as tf.Tensor4D;
  return tf.tidy(() => {
    const up = upsampleZeros(x, a.strideHeight, a.strideWidth);
    return padOrCrop(up, a.padTop, a.outHeight - up.shape[1] - a.padTop, a.padLeft, a.outWidth - up.shape[2] - a.padLeft);
  });
}
