import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { upsample } from '../../src/render';
import { codeOf } from '../helpers/errors';

beforeAll(async () => {
  tf.env().set('IS_TEST', true); // as tfjs's own test harness does: no "install tfjs-node" advice
  await tf.setBackend('cpu');
});

function expectClose(actual: Float32Array, expected: number[], digits = 6): void {
  expect(actual.length).toBe(expected.length);
  expected.forEach((v, i) => expect(actual[i]).toBeCloseTo(v, digits));
}

describe('2x2 -> 4x4, hand-computed with half-pixel centres', () => {
  // Output x samples source x at (x + 0.5) / 2 - 0.5 = -0.25, 0.25, 0.75, 1.25, clamped to
  // [0, 1]: fractions 0, 0.25, 0.75, 1 along each axis.
  test('a linear ramp [[1, 2], [3, 4]] = 1 + fx + 2 fy', () => {
    const out = upsample({ data: Float32Array.of(1, 2, 3, 4), width: 2, height: 2 }, 4, 4);
    expectClose(out, [
      1, 1.25, 1.75, 2,
      1.5, 1.75, 2.25, 2.5,
      2.5, 2.75, 3.25, 3.5,
      3, 3.25, 3.75, 4,
    ]);
  });
  test('a single corner [[0, 0], [0, 4]] = 4 fx fy (the bilinear cross term)', () => {
    const out = upsample({ data: Float32Array.of(0, 0, 0, 4), width: 2, height: 2 }, 4, 4);
    expectClose(out, [
      0, 0, 0, 0,
      0, 0.25, 0.75, 1,
      0, 0.75, 2.25, 3,
      0, 1, 3, 4,
    ]);
  });
  test('two channels are resized independently', () => {
    // channel 0 = [[1, 2], [3, 4]], channel 1 = -channel 0
    const out = upsample({ data: Float32Array.of(1, -1, 2, -2, 3, -3, 4, -4), width: 2, height: 2, channels: 2 }, 4, 4);
    const ramp = [1, 1.25, 1.75, 2, 1.5, 1.75, 2.25, 2.5, 2.5, 2.75, 3.25, 3.5, 3, 3.25, 3.75, 4];
    expectClose(out, ramp.flatMap((v) => [v, -v]));
  });
  test('2x2 -> 3x1 (non-integer ratio, shrinking rows)', () => {
    // x: (x + 0.5) * 2/3 - 0.5 = -1/6 -> 0, 0.5, 7/6 -> 1; y: 0.5 * 2 - 0.5 = 0.5
    const out = upsample({ data: Float32Array.of(1, 2, 3, 4), width: 2, height: 2 }, 3, 1);
    expectClose(out, [2, 2.5, 3]);
  });
});

test('same size returns an equal copy, not the input', () => {
  const data = Float32Array.of(1, 2, 3, 4, 5, 6);
  const out = upsample({ data, width: 3, height: 2 }, 3, 2);
  expect(out).not.toBe(data);
  expect(Array.from(out)).toEqual([1, 2, 3, 4, 5, 6]);
});

test('1x1 fills the target', () => {
  expectClose(upsample({ data: Float32Array.of(7), width: 1, height: 1 }, 3, 2), [7, 7, 7, 7, 7, 7]);
});

describe('matches tf.image.resizeBilinear(x, size, alignCorners=false, halfPixelCenters=true) on tfjs-backend-cpu', () => {
  let seed = 42;
  const rand = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648) * 2 - 1;
  const cases: Array<[number, number, number, number, number]> = [
    // srcW, srcH, channels, dstW, dstH
    [2, 2, 1, 4, 4],
    [7, 7, 1, 224, 224], // Grad-CAM grid to MobileNet input
    [5, 3, 3, 11, 8], // non-integer ratios, 3 channels
    [10, 10, 2, 3, 4], // shrinking
    [1, 4, 1, 6, 9],
    [224, 224, 1, 224, 224],
  ];
  test.each(cases)('%ix%ix%i -> %ix%i', (sw, sh, c, dw, dh) => {
    const data = Float32Array.from({ length: sw * sh * c }, rand);
    const ours = upsample({ data, width: sw, height: sh, channels: c }, dw, dh);
    const before = tf.memory().numTensors;
    const theirs = tf.tidy(() =>
      tf.image.resizeBilinear(tf.tensor4d(data, [1, sh, sw, c]), [dh, dw], false, true).dataSync(),
    );
    expect(tf.memory().numTensors).toBe(before);
    expect(ours.length).toBe(theirs.length);
    let maxDiff = 0;
    for (let i = 0; i < ours.length; i++) maxDiff = Math.max(maxDiff, Math.abs(ours[i] - theirs[i]));
    expect(maxDiff).toBeLessThan(1e-5);
  });
});

test('typed errors', () => {
  const m = { data: Float32Array.of(1, 2, 3, 4), width: 2, height: 2 };
  expect(codeOf(() => upsample({ ...m, width: 3 }, 4, 4))).toBe('INPUT_SHAPE');
  expect(codeOf(() => upsample({ data: new Float32Array(0), width: 0, height: 0 }, 4, 4))).toBe('INPUT_SHAPE');
  expect(codeOf(() => upsample(m, 0, 4))).toBe('BAD_OPTION');
  expect(codeOf(() => upsample(m, 2.5, 4))).toBe('BAD_OPTION');
});
