/**
 * The one-pass ReLU-family backward kernel equals the same rule composed from stock tfjs
 * ops (Greater/Less/LogicalAnd/where), on both backends, including values exactly at the
 * thresholds and negative gradients in guided mode.
 */
import * as tf from '@tensorflow/tfjs-core';
import { reluBackward, RELU_BACKWARD, type ReluBackwardAttrs } from '../../src/gradients/kernels/relu-backward';
import { BACKENDS, switchTo } from '../helpers/backends';
import { prng } from '../helpers/families';

function reference(z: tf.Tensor, dy: tf.Tensor, a: ReluBackwardAttrs): Float32Array {
  return tf.tidy(() => {
    const g = a.guided ? tf.where(tf.less(dy, 0), tf.zerosLike(dy), dy) : dy;
    const inside = tf.logicalAnd(tf.greater(z, a.lower), tf.less(z, a.upper));
    const slope = tf.where(inside, tf.onesLike(z), tf.where(tf.lessEqual(z, a.lower), tf.fill(z.shape, a.negativeSlope), tf.zerosLike(z)));
    return tf.mul(g, slope).dataSync() as Float32Array;
  });
}

const CASES: ReluBackwardAttrs[] = [
  { lower: 0, upper: Infinity, negativeSlope: 0, guided: false },
  { lower: 0, upper: Infinity, negativeSlope: 0, guided: true },
  { lower: 0, upper: 6, negativeSlope: 0, guided: false },
  { lower: 0, upper: 6, negativeSlope: 0, guided: true },
  { lower: 0, upper: Infinity, negativeSlope: 0.1, guided: false },
  { lower: 0, upper: Infinity, negativeSlope: 0.1, guided: true },
  { lower: 1.5, upper: Infinity, negativeSlope: 0, guided: false },
];

describe.each(BACKENDS)('relu backward kernel on %s', (backend) => {
  beforeAll(async () => { await switchTo(backend); });

  test('is registered', () => {
    expect(tf.getKernel(RELU_BACKWARD, backend)).toBeDefined();
  });

  test.each(CASES)('%o equals the composed ops', (attrs) => {
    const rand = prng(99);
    const n = 4 * 7 * 9 * 5;
    const zv = new Float32Array(n).map(() => (rand() - 0.3) * 16);
    [0, 6, 1.5, -0, 5.999999].forEach((v, i) => { zv[i * 7] = v; });
    const dyv = new Float32Array(n).map(() => rand() * 2 - 1);
    const z = tf.tensor4d(zv, [4, 7, 9, 5]);
    const dy = tf.tensor4d(dyv, [4, 7, 9, 5]);
    const before = tf.memory().numTensors;
    const got = reluBackward(z, dy, attrs);
    expect(tf.memory().numTensors).toBe(before + 1);
    expect(got.shape).toEqual(z.shape);
    // (+ 0 folds -0 into 0: the composed ops yield -0 for dy * 0 with negative dy.)
    expect(Array.from(got.dataSync(), (v) => v + 0)).toEqual(Array.from(reference(z, dy, attrs), (v) => v + 0));
    tf.dispose([z, dy, got]);
  });
});
