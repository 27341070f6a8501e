/**
 * The dilate-pad kernel against a direct definition: out[r, c] = x[i, j] where
 * r = padTop + i*sh, c = padLeft + j*sw, zero elsewhere, cropped to the output size —
 * including negative pads (crops) and outputs smaller than the spread input.
 */
import * as tf from '@tensorflow/tfjs-core';
import { dilatePad, DILATE_PAD, type DilatePadAttrs } from '../../src/gradients/kernels/dilate-pad';
import { BACKENDS, switchTo } from '../helpers/backends';

function expected(x: Float32Array, [n, h, w, c]: number[], a: DilatePadAttrs): number[] {
  const out = new Array(n * a.outHeight * a.outWidth * c).fill(0);
  for (let b = 0; b < n; b++) for (let i = 0; i < h; i++) for (let j = 0; j < w; j++) for (let k = 0; k < c; k++) {
    const r = a.padTop + i * a.strideHeight, col = a.padLeft + j * a.strideWidth;
    if (r >= 0 && r < a.outHeight && col >= 0 && col < a.outWidth) out[((b * a.outHeight + r) * a.outWidth + col) * c + k] = x[((b * h + i) * w + j) * c + k];
  }
  return out;
}

const CASES: Array<[number[], DilatePadAttrs]> = [
  [[1, 3, 4, 2], { strideHeight: 2, strideWidth: 2, padTop: 1, padLeft: 1, outHeight: 8, outWidth: 10 }],
  [[2, 4, 4, 3], { strideHeight: 2, strideWidth: 1, padTop: 0, padLeft: 2, outHeight: 7, outWidth: 8 }],
  [[1, 5, 5, 1], { strideHeight: 3, strideWidth: 3, padTop: -1, padLeft: -2, outHeight: 12, outWidth: 11 }],
  [[1, 4, 4, 2], { strideHeight: 2, strideWidth: 2, padTop: 2, padLeft: 2, outHeight: 6, outWidth: 6 }],
];

describe.each(BACKENDS)('dilate-pad on %s', (backend) => {
  beforeAll(async () => { await switchTo(backend); });

  test('is registered', () => expect(tf.getKernel(DILATE_PAD, backend)).toBeDefined());

  test.each(CASES)('%j %o', (shape, attrs) => {
    const data = new Float32Array(shape.reduce((a, b) => a * b, 1)).map((_, i) => i + 1);
    const x = tf.tensor4d(data, shape as [number, number, number, number]);
    const y = dilatePad(x, attrs);
    expect(y.shape).toEqual([shape[0], attrs.outHeight, attrs.outWidth, shape[3]]);
    expect(Array.from(y.dataSync())).toEqual(expected(data, shape, attrs));
    tf.dispose([x, y]);
  });
});
