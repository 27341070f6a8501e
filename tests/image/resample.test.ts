/**
 * The preprocessing's resampler against independent references: a box filter computed from a
 * summed-area table (exact area averages at fractional pixel edges) when shrinking by more
 * than 2x, tf.image.resizeBilinear on the crop otherwise; and the whole of prepareInput.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { fitPlan } from '../../src/image/fit';
import { resampleInto } from '../../src/image/resample';
import { resizeImage } from '../../src/image/resize';
import type { ImageInput } from '../../src/image/types';
import { prepareInput } from '../../src/model/preprocess';
import { readImage } from '../helpers/fixtures';

beforeAll(async () => {
  tf.env().set('IS_TEST', true);
  await tf.setBackend('cpu');
});

/** One-pixel black and white stripes, vertical and horizontal together (a fine checkerboard of lines): the worst case for aliasing. */
function stripes(width: number, height: number): ImageInput {
  const data = new Uint8Array(width * height);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) data[y * width + x] = (x + (y >> 1)) % 2 ? 255 : 0;
  return { data, width, height, channels: 1 };
}

/**
 * Area averages from a summed-area table: the integral of a piecewise-constant image is
 * bilinear inside each pixel, so interpolating the table at fractional corners is exact.
 */
function boxReference(image: ImageInput, outW: number, outH: number): Float64Array {
  const { width: w, height: h, data } = image;
  const sat = new Float64Array((w + 1) * (h + 1));
  for (let y = 0; y < h; y++) {
    let row = 0;
    for (let x = 0; x < w; x++) {
      row += data[y * w + x];
      sat[(y + 1) * (w + 1) + x + 1] = sat[y * (w + 1) + x + 1] + row;
    }
  }
  const at = (x: number, y: number) => {
    const x0 = Math.min(Math.floor(x), w - 1), y0 = Math.min(Math.floor(y), h - 1);
    const fx = x - x0, fy = y - y0;
    const s = (i: number, j: number) => sat[j * (w + 1) + i];
    return s(x0, y0) * (1 - fx) * (1 - fy) + s(x0 + 1, y0) * fx * (1 - fy) + s(x0, y0 + 1) * (1 - fx) * fy + s(x0 + 1, y0 + 1) * fx * fy;
  };
  const out = new Float64Array(outW * outH);
  const sx = w / outW, sy = h / outH;
  for (let j = 0; j < outH; j++) {
    for (let i = 0; i < outW; i++) {
      const [a, b, c, d] = [i * sx, (i + 1) * sx, j * sy, (j + 1) * sy];
      out[j * outW + i] = (at(b, d) - at(a, d) - at(b, c) + at(a, c)) / (sx * sy);
    }
  }
  return out;
}

const mean = (a: ArrayLike<number>) => Array.from(a).reduce((s, v) => s + v, 0) / a.length;
const maxDeviation = (a: ArrayLike<number>, m: number) => Math.max(...Array.from(a, (v) => Math.abs(v - m)));

describe('shrinking by more than 2x: area averages, no aliasing', () => {
  test('a 4000x3000 stripe image into 224x168 equals the box-filter reference; the mean is kept and there is no moire', () => {
    const image = stripes(4000, 3000);
    const out = new Float32Array(224 * 168);
    resampleInto(image, { x: 0, y: 0, width: 4000, height: 3000 }, out, 224, 1, { x: 0, y: 0, width: 224, height: 168 });
    const ref = boxReference(image, 224, 168);
    let worst = 0;
    for (let i = 0; i < out.length; i++) worst = Math.max(worst, Math.abs(out[i] - ref[i]));
    expect(worst).toBeLessThan(1e-3);
    const m = mean(image.data);
    expect(Math.abs(mean(out) - m)).toBeLessThan(0.05);
    // Each output pixel averages ~17.9 columns: at most one stripe's worth off the mean (255 / 17.9 / 2 + the rows' share).
    expect(maxDeviation(out, m)).toBeLessThan(12);
    // Plain bilinear (no filter) samples single stripes: the same image comes out as a beat pattern.
    const naive = resizeImage(image, 224, 168);
    expect(maxDeviation(naive.data, m)).toBeGreaterThan(100);
  });

  test('a cropped region at a non-integer ratio (cover from 3001x1999 RGBA into 96x96) matches the reference on the crop', () => {
    const grey = stripes(3001, 1999);
    const rgba = new Uint8Array(grey.data.length * 4);
    grey.data.forEach((v, i) => rgba.set([v, 255 - v, 128, 255], i * 4));
    const image: ImageInput = { data: rgba, width: 3001, height: 1999, channels: 4 };
    const plan = fitPlan(3001, 1999, 96, 96, 'cover');
    expect(plan.source).toEqual({ x: 501, y: 0, width: 1999, height: 1999 });
    const out = new Float32Array(96 * 96 * 3);
    resampleInto(image, plan.source, out, 96, 3, plan.placed);
    const crop = new Uint8Array(1999 * 1999);
    for (let y = 0; y < 1999; y++) crop.set(grey.data.subarray(y * 3001 + 501, y * 3001 + 501 + 1999), y * 1999);
    const ref = boxReference({ data: crop, width: 1999, height: 1999, channels: 1 }, 96, 96);
    for (let i = 0; i < ref.length; i++) {
      expect(Math.abs(out[i * 3] - ref[i])).toBeLessThan(1e-3);
      expect(Math.abs(out[i * 3 + 1] - (255 - ref[i]))).toBeLessThan(1e-3);
      expect(out[i * 3 + 2]).toBeCloseTo(128, 3);
    }
  });
});

test('shrinking by 2x or less (and enlarging): bilinear on the crop, as tf.image.resizeBilinear(halfPixelCenters) on tf.slice', async () => {
  const photo = await readImage('/work/shared/fixtures/photos/chelsea.png'); // 451x300
  for (const [w, h] of [[224, 224], [200, 150], [320, 400]]) {
    const plan = fitPlan(photo.width, photo.height, w, h, 'cover');
    const { input } = prepareInput(photo, { width: w, height: h, channels: 3 }, '0..255', 'cover');
    const s = plan.source;
    const ref = tf.tidy(() => {
      const rgb = tf.slice(tf.tensor3d(Float32Array.from(photo.data), [photo.height, photo.width, 4]), [s.y, s.x, 0], [s.height, s.width, 3]);
      return tf.image.resizeBilinear(tf.expandDims(rgb, 0) as tf.Tensor4D, [h, w], false, true);
    });
    const diff = tf.tidy(() => tf.max(tf.abs(tf.sub(input, ref))).dataSync()[0]);
    input.dispose();
    ref.dispose();
    expect(diff).toBeLessThan(1e-3);
  }
});

describe('prepareInput', () => {
  test('contain pads with zeros and puts the photo, resampled, where the plan says', async () => {
    const photo = await readImage('/work/shared/fixtures/photos/coffee.png'); // 600x400
    const spec = { width: 60, height: 60, channels: 3 } as const;
    const { input, region, fit } = prepareInput(photo, spec, '0..255', 'contain');
    const plan = fitPlan(600, 400, 60, 60, 'contain');
    expect(plan.placed).toEqual({ x: 0, y: 10, width: 60, height: 40 });
    expect([fit, region]).toEqual(['contain', plan.region]);
    const values = input.dataSync();
    input.dispose();
    const stretched = prepareInput(photo, { width: 60, height: 40, channels: 3 }, '0..255', 'stretch');
    const inner = stretched.input.dataSync();
    stretched.input.dispose();
    for (let y = 0; y < 60; y++) {
      for (let x = 0; x < 60; x++) {
        for (let c = 0; c < 3; c++) {
          const v = values[(y * 60 + x) * 3 + c];
          if (y < 10 || y >= 50) expect(v).toBe(0);
          else expect(v).toBeCloseTo(inner[((y - 10) * 60 + x) * 3 + c], 4);
        }
      }
    }
  });

  test('range scaling and grey models: luma of the fitted pixels, scaled', async () => {
    const photo = await readImage('/work/shared/fixtures/photos/chelsea.png');
    const rgb = prepareInput(photo, { width: 32, height: 32, channels: 3 }, '0..255');
    const grey = prepareInput(photo, { width: 32, height: 32, channels: 1 }, '-1..1');
    const a = rgb.input.dataSync(), g = grey.input.dataSync();
    for (let i = 0; i < 32 * 32; i++) {
      const luma = 0.2989 * a[i * 3] + 0.587 * a[i * 3 + 1] + 0.114 * a[i * 3 + 2];
      expect(g[i]).toBeCloseTo(luma / 127.5 - 1, 4);
    }
    rgb.input.dispose();
    grey.input.dispose();
    expect(rgb.region).toEqual({ x: 75, y: 0, width: 300, height: 300 });
  });
});
