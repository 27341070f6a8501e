/**
 * The one-pass ReLU-family backward kernel equals the same rule composed from stock tfjs
 * ops (Greater/Less/LogicalAnd/where), on both backends, including values exactly at the
 * thresholds, negative gradients in guided mode and lengths that leave a tail after the
 * 4-lane SIMD groups. On wasm it runs our SIMD kernel (src/gradients/simd), also on a
 * shared memory as the threaded build has, and the shipped binaries are those kernels.wat gives.
 */
import * as tf from '@tensorflow/tfjs-core';
import { reluBackward, RELU_BACKWARD, type ReluBackwardAttrs } from '../../src/gradients/kernels/relu-backward';
import { BACKENDS, switchTo } from '../helpers/backends';
import { prng } from '../helpers/families';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import * as fs from 'fs';
import * as path from 'path';
import { simdKernels, type SimdKernels } from '../../src/gradients/simd';
import { SHARED } from '../../src/gradients/simd/binaries.generated';
import { generate } from '../../tools/build-simd';

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

  test.each(CASES.flatMap((a) => [[a, [4, 7, 9, 5]], [a, [1, 3, 3, 7]]] as Array<[ReluBackwardAttrs, number[]]>))('%o on %j equals the composed ops', (attrs, shape) => {
    const rand = prng(99);
    const n = shape.reduce((a, b) => a * b, 1);
    const zv = new Float32Array(n).map(() => (rand() - 0.3) * 16);
    [0, 6, 1.5, -0, 5.999999].forEach((v, i) => { zv[(i * 7) % n] = v; });
    zv[n - 1] = attrs.lower; // in the tail when n % 4 != 0
    const dyv = new Float32Array(n).map(() => rand() * 2 - 1);
    const z = tf.tensor4d(zv, shape as [number, number, number, number]);
    const dy = tf.tensor4d(dyv, shape as [number, number, number, number]);
    const before = tf.memory().numTensors;
    const got = reluBackward(z, dy, attrs);
    expect(tf.memory().numTensors).toBe(before + 1);
    expect(got.shape).toEqual(z.shape);
    // (+ 0 folds -0 into 0: the composed ops yield -0 for dy * 0 with negative dy.)
    expect(Array.from(got.dataSync(), (v) => v + 0)).toEqual(Array.from(reference(z, dy, attrs), (v) => v + 0));
    tf.dispose([z, dy, got]);
  });
});

describe('the SIMD kernels module', () => {
  test('the wasm backend gets them (so the wasm cases above ran on SIMD)', async () => {
    await switchTo('wasm');
    expect(simdKernels(tf.backend() as unknown as BackendWasm)).not.toBeNull();
  });

  test('binaries.generated.ts is what kernels.wat assembles to', async () => {
    const file = path.resolve(__dirname, '../../src/gradients/simd/binaries.generated.ts');
    expect(fs.readFileSync(file, 'utf8')).toBe(await generate());
  });

  test('the shared-memory build (threaded tfjs) computes the same on a shared memory', () => {
    const memory = new WebAssembly.Memory({ initial: 1, maximum: 65536, shared: true });
    const bytes = Uint8Array.from(Buffer.from(SHARED, 'base64'));
    const k = new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { memory } }).exports as unknown as SimdKernels;
    const n = 64;
    const heap = new Float32Array(memory.buffer);
    const z = heap.subarray(0, n), dy = heap.subarray(n, 2 * n), dx = heap.subarray(2 * n, 3 * n);
    const rand = prng(5);
    for (let i = 0; i < n; i++) { z[i] = (rand() - 0.5) * 16; dy[i] = rand() * 2 - 1; }
    z[0] = 6; z[1] = 0;
    k.relu_backward(0, n * 4, 2 * n * 4, n / 4, 0, 6, 0, 1);
    for (let i = 0; i < n; i++) expect(dx[i] + 0).toBe(z[i] > 0 && z[i] < 6 && dy[i] > 0 ? dy[i] : 0);
  });
});
