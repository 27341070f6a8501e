/**
 * FlatAdam (models/pipeline/flat-adam.ts) against tfjs's own Adam (tf.train.adam): the same
 * gradients at the same learning rates must give the same weights to the bit, on the
 * backends training runs on.
 */
import * as tf from '@tensorflow/tfjs-core';
import { BACKENDS, switchTo } from '../helpers/backends';
import { applyFlatGradient } from '../helpers/flat-gradient';
import { FlatAdam } from '../../models/pipeline/flat-adam';

function seeded(seed: number): () => number {
  let s = seed >>> 0;
  return () => { s = (Math.imul(s, 1664525) + 1013904223) >>> 0; return s / 2 ** 32 - 0.5; };
}

/** Two identical sets of variables (ours for FlatAdam, theirs for tf.train.adam) from seeded values. */
function twins(shapes: number[][], rand: () => number) {
  const init = shapes.map((s) => Float32Array.from({ length: s.reduce((a, b) => a * b, 1) }, rand));
  const make = (prefix: string) => init.map((d, i) => tf.tidy(() => tf.variable(tf.tensor(d, shapes[i]), true, `${prefix}${i}`)));
  return { init, ours: make('ours'), theirs: make('theirs'), size: init.reduce((n, d) => n + d.length, 0) };
}

describe.each(BACKENDS)('on %s', (backend) => {
  beforeAll(() => switchTo(backend));

  test('FlatAdam writes the weights tf.train.adam writes, to the bit, over 12 steps', () => {
    const before = tf.memory().numTensors;
    const rand = seeded(11);
    const { init, ours, theirs, size } = twins([[3, 3, 4, 5], [7], [1], [16, 10]], rand);
    const adam = new FlatAdam(ours);
    const reference = tf.train.adam(1);
    for (let step = 0; step < 12; step++) {
      // Gradients over several scales, some exactly zero; the learning rate changes every step.
      const scale = 10 ** ((step % 5) - 3);
      const flat = Float32Array.from({ length: size }, (_, i) => (i % 17 === 0 ? 0 : rand() * scale));
      const lr = 3e-3 * (1 + Math.cos(step));
      adam.apply(flat, lr);
      applyFlatGradient(reference, theirs, flat, lr);
      ours.forEach((v, i) => expect(Array.from(v.dataSync())).toEqual(Array.from(theirs[i].dataSync())));
    }
    // The weights moved (so equality above is not two untouched copies).
    const moved = Math.max(...Array.from(ours[0].dataSync()).map((v, j) => Math.abs(v - init[0][j])));
    expect(moved).toBeGreaterThan(1e-3);
    tf.dispose([...ours, ...theirs]);
    reference.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  test('with weight decay: each step shrinks by (1 - lr * decay), then takes tf.train.adam\'s step; no decay stays bit-equal', () => {
    const before = tf.memory().numTensors;
    const rand = seeded(5);
    const decays = [0.1, 0, 0.5];
    const { init, ours, theirs, size } = twins([[3, 3, 4, 5], [7], [16, 10]], rand);
    const adamw = new FlatAdam(ours, { weightDecay: decays });
    const reference = tf.train.adam(1);
    // The reference in float64: Adam's moments do not depend on the weights, so AdamW's weights
    // are w <- (1 - lr * decay) * w + (Adam's own step), the step read off tf.train.adam.
    const expected = init.map((d) => Float64Array.from(d));
    for (let step = 0; step < 12; step++) {
      const flat = Float32Array.from({ length: size }, () => rand() * 1e-2);
      const lr = 0.05 * (1 + Math.cos(step));
      const previous = theirs.map((v) => v.dataSync().slice());
      applyFlatGradient(reference, theirs, flat, lr);
      adamw.apply(flat, lr);
      theirs.forEach((v, i) => {
        const now = v.dataSync();
        expected[i] = expected[i].map((w, j) => (1 - lr * decays[i]) * w + (now[j] - previous[i][j]));
      });
    }
    ours.forEach((v, i) => {
      const got = v.dataSync();
      const err = Math.max(...Array.from(got).map((g, j) => Math.abs(g - expected[i][j])));
      expect(err).toBeLessThan(1e-5);
      if (decays[i] === 0) expect(Array.from(got)).toEqual(Array.from(theirs[i].dataSync()));
    });
    // The decay mattered: the decayed weights are far from plain Adam's.
    const plain = theirs[2].dataSync();
    const apart = Math.max(...Array.from(ours[2].dataSync()).map((g, j) => Math.abs(g - plain[j])));
    expect(apart).toBeGreaterThan(1e-2);
    tf.dispose([...ours, ...theirs]);
    reference.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  test('a weight decay for each variable, or none', () => {
    const v = tf.variable(tf.zeros([4]), true, 'decay-count');
    expect(() => new FlatAdam([v], { weightDecay: [0.1, 0.1] })).toThrow('2 weight decays for 1 variables');
    v.dispose();
  });

  test('a gradient of the wrong length is refused', () => {
    const v = tf.variable(tf.zeros([4]), true, 'wrong-length');
    expect(() => new FlatAdam([v]).apply(new Float32Array(3), 1e-3)).toThrow('gradient of 3 values for 4 weights');
    v.dispose();
  });
});
