/**
 * The conv and depthwise input gradients (computed as forward convolutions) checked by
 * the adjoint identity <conv(x), r> = <x, dx(r)> for random x and r, which holds exactly
 * for the true transpose and fails for almost every random pair otherwise; plus equality
 * with tfjs-backend-cpu's own backprop kernels where tfjs has one (no dilation). Strided conv2d
 * cases (s = 2, 3; 'same', 'valid' and explicit padding) take the sub-pixel form.
 */
import * as tf from '@tensorflow/tfjs-core';
import { conv2dBackwardFilter, conv2dInputGrad, depthwiseBackwardFilter, depthwiseInputGrad } from '../../src/gradients/conv-input-grad';
import { BACKENDS, relMaxDiff, switchTo } from '../helpers/backends';
import { prng } from '../helpers/families';

const rand = prng(3);
const randn = (shape: number[]) => tf.tensor(new Float32Array(shape.reduce((a, b) => a * b, 1)).map(() => rand() * 2 - 1), shape);

type Explicit = [[0, 0], [number, number], [number, number], [0, 0]];
interface Case { h: number; w: number; c: number; k: number; s: number; d: number; pad: 'same' | 'valid' | Explicit; m: number }
const CASES: Case[] = [];
for (const pad of ['same', 'valid'] as const) {
  for (const [k, s, d] of [[3, 1, 1], [3, 2, 1], [1, 1, 1], [1, 2, 1], [3, 1, 2], [5, 2, 1], [2, 2, 1], [3, 3, 1]]) {
    for (const [h, w] of [[7, 7], [8, 6]]) CASES.push({ h, w, c: 3, k, s, d, pad, m: h === 7 ? 1 : 2 });
  }
}
// Explicit padding (a ZeroPadding2D fused into a 'valid' conv), strided: asymmetric, and with more
// padding below than the stride covers (dy rows that reach no input row).
for (const pad of [[[0, 0], [0, 1], [0, 1], [0, 0]], [[0, 0], [1, 2], [2, 0], [0, 0]], [[0, 0], [0, 3], [1, 1], [0, 0]]] as Explicit[]) {
  for (const [k, s] of [[3, 2], [1, 2], [2, 2], [3, 3]]) CASES.push({ h: 8, w: 7, c: 3, k, s, d: 1, pad, m: 1 });
}
// Tolerance: float32 sums of a few hundred terms, relative 1e-4.
const TOL = 1e-4;

describe.each(BACKENDS)('conv input gradients on %s', (backend) => {
  beforeAll(async () => { await switchTo(backend); });
  let baseline = 0;
  beforeEach(() => { baseline = tf.memory().numTensors; });
  afterEach(() => { expect(tf.memory().numTensors).toBe(baseline); });

  test.each(CASES)('conv2d %o satisfies the adjoint identity', (cs) => {
    const x = randn([1, cs.h, cs.w, cs.c]);
    const f = randn([cs.k, cs.k, cs.c, 4]);
    const y = tf.conv2d(x as tf.Tensor4D, f as tf.Tensor4D, cs.s, cs.pad, 'NHWC', cs.d);
    const r = randn(y.shape);
    const g = { strides: [cs.s, cs.s] as [number, number], dilations: [cs.d, cs.d] as [number, number], pad: cs.pad };
    const back = conv2dBackwardFilter(f as tf.Tensor4D, g);
    const dx = conv2dInputGrad(x.shape, r as tf.Tensor4D, f.shape, back, g);
    expect(dx.shape).toEqual(x.shape);
    const lhs = tf.tidy(() => tf.sum(tf.mul(y, r)).dataSync()[0]);
    const rhs = tf.tidy(() => tf.sum(tf.mul(x, dx)).dataSync()[0]);
    expect(Math.abs(lhs - rhs)).toBeLessThanOrEqual(TOL * (1 + Math.abs(lhs)) * 10);
    if (cs.d === 1 && backend === 'cpu') {
      const ref = tf.conv2dTranspose(r as tf.Tensor4D, f as tf.Tensor4D, x.shape as [number, number, number, number], cs.s, cs.pad);
      expect(relMaxDiff(dx.dataSync(), ref.dataSync())).toBeLessThan(TOL);
      ref.dispose();
    }
    tf.dispose([x, f, y, r, back, dx]);
  });

  test.each(CASES)('depthwise %o satisfies the adjoint identity', (cs) => {
    const x = randn([1, cs.h, cs.w, cs.c]);
    const f = randn([cs.k, cs.k, cs.c, cs.m]);
    const y = tf.depthwiseConv2d(x as tf.Tensor4D, f as tf.Tensor4D, cs.s, cs.pad, 'NHWC', cs.d);
    const r = randn(y.shape);
    const g = { strides: [cs.s, cs.s] as [number, number], dilations: [cs.d, cs.d] as [number, number], pad: cs.pad };
    const back = depthwiseBackwardFilter(f as tf.Tensor4D);
    const dx = depthwiseInputGrad(x.shape, r as tf.Tensor4D, f.shape, back, g);
    expect(dx.shape).toEqual(x.shape);
    const lhs = tf.tidy(() => tf.sum(tf.mul(y, r)).dataSync()[0]);
    const rhs = tf.tidy(() => tf.sum(tf.mul(x, dx)).dataSync()[0]);
    expect(Math.abs(lhs - rhs)).toBeLessThanOrEqual(TOL * (1 + Math.abs(lhs)) * 10);
    tf.dispose([x, f, y, r, back, dx]);
  });
});
