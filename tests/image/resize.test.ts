import * as fs from 'fs';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { decodeImage } from '../../src/image/decode';
import { resizeImage } from '../../src/image/resize';
import type { ImageInput } from '../../src/image/types';
import { codeOf } from '../helpers/errors';

const PHOTO = '/work/shared/fixtures/teachable-machine/images/class-1/0.png';

beforeAll(async () => {
  tf.env().set('IS_TEST', true); // as tfjs's own test harness does: no "install tfjs-node" advice
  await tf.setBackend('cpu');
});

test('same size returns the very same object', () => {
  const image: ImageInput = { data: new Uint8Array(12), width: 2, height: 2, channels: 3 };
  expect(resizeImage(image, 2, 2)).toBe(image);
});

test('2x2 RGB -> 4x4 by hand (half-pixel centres: fractions 0, 0.25, 0.75, 1)', () => {
  // channel 0: [[0, 100], [200, 252]]; channel 1 = 10 everywhere; channel 2: [[255, 255], [0, 0]]
  const image: ImageInput = {
    data: Uint8Array.of(0, 10, 255, 100, 10, 255, 200, 10, 0, 252, 10, 0),
    width: 2,
    height: 2,
    channels: 3,
  };
  const out = resizeImage(image, 4, 4);
  expect([out.width, out.height, out.channels]).toEqual([4, 4, 3]);
  const f = [0, 0.25, 0.75, 1];
  for (let y = 0; y < 4; y++) {
    for (let x = 0; x < 4; x++) {
      const [fx, fy] = [f[x], f[y]];
      const c0 = 0 * (1 - fx) * (1 - fy) + 100 * fx * (1 - fy) + 200 * (1 - fx) * fy + 252 * fx * fy;
      const o = (y * 4 + x) * 3;
      expect(Math.abs(out.data[o] - c0)).toBeLessThanOrEqual(0.5);
      expect(out.data[o + 1]).toBe(10);
      expect(Math.abs(out.data[o + 2] - 255 * (1 - fy))).toBeLessThanOrEqual(0.5);
    }
  }
});

test.each([
  [96, 80], // shrink to a non-square, non-integer ratio
  [300, 250], // enlarge
])('the real photo resized to %ix%i matches tf.image.resizeBilinear(halfPixelCenters) within rounding', async (w, h) => {
  const photo = (await decodeImage(new Uint8Array(fs.readFileSync(PHOTO))));
  const ours = resizeImage(photo, w, h);
  expect([ours.width, ours.height, ours.channels]).toEqual([w, h, 4]);
  const before = tf.memory().numTensors;
  const theirs = tf.tidy(() =>
    tf.image
      .resizeBilinear(tf.tensor4d(Float32Array.from(photo.data), [1, photo.height, photo.width, 4]), [h, w], false, true)
      .dataSync(),
  );
  expect(tf.memory().numTensors).toBe(before);
  let maxDiff = 0;
  for (let i = 0; i < theirs.length; i++) maxDiff = Math.max(maxDiff, Math.abs(ours.data[i] - theirs[i]));
  expect(maxDiff).toBeLessThanOrEqual(0.5 + 1e-3);
});

test('grey images stay single-channel', () => {
  const out = resizeImage({ data: Uint8Array.of(0, 255), width: 2, height: 1, channels: 1 }, 4, 1);
  expect(out.channels).toBe(1);
  expect(Array.from(out.data)).toEqual([0, 64, 191, 255]); // 63.75 and 191.25 rounded
});

test('typed errors', () => {
  const image: ImageInput = { data: new Uint8Array(12), width: 2, height: 2, channels: 3 };
  expect(codeOf(() => resizeImage(image, 0, 4))).toBe('BAD_OPTION');
  expect(codeOf(() => resizeImage(image, -1, 4))).toBe('BAD_OPTION');
  expect(codeOf(() => resizeImage({ ...image, data: new Uint8Array(0), width: 0, height: 0 }, 4, 4))).toBe('EMPTY_IMAGE');
  expect(codeOf(() => resizeImage({ ...image, width: 3 }, 4, 4))).toBe('INPUT_SHAPE');
});
