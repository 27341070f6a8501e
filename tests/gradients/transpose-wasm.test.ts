/**
 * The JS heap transpose of the wasm gradient kernels against tfjs-backend-cpu's Transpose
 * (an independent implementation): the axis merging that decides which layouts are plain
 * 2-D transposes, checked by transposing the merged shape, and the tiled 2-D loop.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { simplifyTranspose, transpose2d } from '../../src/gradients/wasm-kernels/transpose';

function reference(x: Float32Array, shape: number[], perm: number[]): Float32Array {
  return tf.tidy(() => tf.transpose(tf.tensor(x, shape), perm).dataSync() as Float32Array);
}

/** The merged transpose moves every element where the original one does. */
function check(shape: number[], perm: number[]): void {
  const n = shape.reduce((a, b) => a * b, 1);
  const x = Float32Array.from({ length: n }, (_, i) => i + 0.5);
  const s = simplifyTranspose(shape, perm);
  expect(s.shape.reduce((a, b) => a * b, 1)).toBe(n);
  const merged = s.shape.length ? reference(x, s.shape, s.perm) : x;
  expect(Array.from(merged)).toEqual(Array.from(reference(x, shape, perm)));
}

beforeAll(async () => { await tf.setBackend('cpu'); });

test('merges adjacent axes and drops size-1 axes', () => {
  expect(simplifyTranspose([16, 8, 8, 192], [1, 2, 0, 3])).toEqual({ shape: [16, 64, 192], perm: [1, 0, 2] });
  expect(simplifyTranspose([1024, 192], [1, 0])).toEqual({ shape: [1024, 192], perm: [1, 0] });
  expect(simplifyTranspose([16, 8, 8, 24], [3, 1, 2, 0])).toEqual({ shape: [16, 64, 24], perm: [2, 1, 0] });
  expect(simplifyTranspose([1, 5, 1, 7], [3, 2, 0, 1])).toEqual({ shape: [5, 7], perm: [1, 0] });
  expect(simplifyTranspose([2, 3, 4], [0, 1, 2])).toEqual({ shape: [24], perm: [0] });
});

test.each([[1, 1], [1, 9], [16, 16], [17, 33], [1024, 24], [24, 16384], [1024, 192]])('transposes a %i x %i matrix', (rows, cols) => {
  const x = Float32Array.from({ length: rows * cols }, (_, i) => i + 0.25);
  const out = new Float32Array(rows * cols).fill(NaN);
  transpose2d(x, rows, cols, out);
  expect(Array.from(out)).toEqual(Array.from(reference(x, [rows, cols], [1, 0])));
});

test.each([
  [[37, 5], [1, 0]],
  [[1024, 24], [1, 0]],
  [[3, 7, 5, 6], [1, 2, 0, 3]],
  [[3, 7, 5, 6], [3, 1, 2, 0]],
  [[6, 3, 3, 7], [1, 2, 0, 3]],
  [[1, 9, 9, 4], [1, 2, 0, 3]],
  [[4, 1, 5, 1], [1, 2, 0, 3]],
  [[2, 3, 4, 5], [2, 3, 0, 1]],
  [[2, 3, 4, 5, 3], [4, 0, 3, 1, 2]],
])('transposes %j by %j ', (shape, perm) => check(shape, perm));

test('random shapes and permutations', () => {
  let seed = 7;
  const rand = (k: number) => { seed = (seed * 1103515245 + 12345) % 2147483648; return seed % k; };
  for (let t = 0; t < 60; t++) {
    const rank = 1 + rand(5);
    const shape = Array.from({ length: rank }, () => 1 + rand(rank > 3 ? 5 : 19));
    const perm = Array.from({ length: rank }, (_, i) => i);
    for (let i = rank - 1; i > 0; i--) { const j = rand(i + 1); [perm[i], perm[j]] = [perm[j], perm[i]]; }
    check(shape, perm);
  }
});
