import * as fs from 'fs';
import { decodeImage } from '../../src/image/decode';
import type { ImageInput } from '../../src/image/types';
import { overlay } from '../../src/render';
import { codeOf } from '../helpers/errors';

const PHOTO = '/work/shared/fixtures/teachable-machine/images/class-1/0.png';
const TURBO0 = [48, 18, 59]; // Google's published turbo table, entry 0
const TURBO255 = [122, 4, 3]; // entry 255

const rgb: ImageInput = { data: Uint8Array.of(10, 20, 30, 40, 50, 60, 70, 80, 90, 200, 210, 220), width: 2, height: 2, channels: 3 };
const grey: ImageInput = { data: Uint8Array.of(0, 100, 200, 255), width: 2, height: 2, channels: 1 };
const rgba: ImageInput = {
  data: Uint8ClampedArray.of(10, 20, 30, 255, 40, 50, 60, 128, 70, 80, 90, 0, 200, 210, 220, 255),
  width: 2,
  height: 2,
  channels: 4,
};
const map = (values: number[], width = 2, height = 2) => ({ data: Float32Array.from(values), width, height });

describe('opacity 0 gives the image back', () => {
  test('RGB', () => {
    const out = overlay(rgb, map([0, 0.3, 0.6, 1]), { opacity: 0 });
    expect(Array.from(out.data)).toEqual([10, 20, 30, 255, 40, 50, 60, 255, 70, 80, 90, 255, 200, 210, 220, 255]);
    expect([out.width, out.height, out.channels]).toEqual([2, 2, 4]);
  });
  test('grey', () => {
    const out = overlay(grey, map([1, 1, 1, 1]), { opacity: 0 });
    expect(Array.from(out.data)).toEqual([0, 0, 0, 255, 100, 100, 100, 255, 200, 200, 200, 255, 255, 255, 255, 255]);
  });
  test('RGBA keeps its alpha, including fully transparent pixels', () => {
    const out = overlay(rgba, map([1, 1, 1, 1]), { opacity: 0 });
    expect(Array.from(out.data)).toEqual(Array.from(rgba.data));
  });
  test('a real photo', async () => {
    const photo = (await decodeImage(new Uint8Array(fs.readFileSync(PHOTO))));
    const out = overlay(photo, map(new Array(49).fill(0.7), 7, 7), { opacity: 0 });
    expect(Array.from(out.data)).toEqual(Array.from(photo.data));
  });
});

describe('opacity 1 gives the colour map', () => {
  test('turbo ends over RGB, opaque', () => {
    const out = overlay(rgb, map([0, 1, 1, 0]), { opacity: 1 });
    expect(Array.from(out.data)).toEqual([...TURBO0, 255, ...TURBO255, 255, ...TURBO255, 255, ...TURBO0, 255]);
  });
  test('over transparent pixels too', () => {
    const out = overlay(rgba, map([0, 0, 0, 0]), { opacity: 1 });
    for (let i = 0; i < 4; i++) expect(Array.from(out.data.subarray(i * 4, i * 4 + 4))).toEqual([...TURBO0, 255]);
  });
  test('grey colour map', () => {
    const out = overlay(grey, map([0, 0.5, 1, 0]), { opacity: 1, colormap: 'grey' });
    expect(Array.from(out.data)).toEqual([0, 0, 0, 255, 128, 128, 128, 255, 255, 255, 255, 255, 0, 0, 0, 255]);
  });
});

test('opacity 0.5 averages colour and image', () => {
  const out = overlay(grey, map([0, 0, 0, 0]), { opacity: 0.5 }); // default colour map: turbo
  // pixel 1: grey 100 with (48, 18, 59): (74, 59, 79.5)
  const p = Array.from(out.data.subarray(4, 8));
  expect(p[0]).toBe(74);
  expect(p[1]).toBe(59);
  expect(Math.abs(p[2] - 79.5)).toBeLessThanOrEqual(0.5);
  expect(p[3]).toBe(255);
});

test('default opacity is 0.5 and default colour map turbo', () => {
  expect(Array.from(overlay(rgb, map([0, 0, 0, 0])).data)).toEqual(
    Array.from(overlay(rgb, map([0, 0, 0, 0]), { opacity: 0.5, colormap: 'turbo' }).data),
  );
});

test('semi-transparent pixel: source-over compositing', () => {
  // pixel 1 of rgba: (40, 50, 60) alpha 128/255; heat map colour (122, 4, 3) at opacity 0.5.
  const out = overlay(rgba, map([1, 1, 1, 1]), { opacity: 0.5 });
  const a = 128 / 255;
  const outA = 0.5 + a * 0.5;
  const expected = [122, 4, 3].map((c, k) => (0.5 * c + a * 0.5 * [40, 50, 60][k]) / outA);
  const p = Array.from(out.data.subarray(4, 8));
  expected.forEach((v, k) => expect(Math.abs(p[k] - v)).toBeLessThanOrEqual(0.5));
  expect(Math.abs(p[3] - outA * 255)).toBeLessThanOrEqual(0.5);
  // fully transparent pixel 2 shows the heat map at the layer's opacity
  expect(Array.from(out.data.subarray(8, 12))).toEqual([...TURBO255, 128]);
});

test('a smaller map is upsampled (half-pixel centres) to the image size before colouring', () => {
  // 2x1 map [0, 1] over a 4x1 image: x fractions 0, 0.25, 0.75, 1 -> t = 0, 0.25, 0.75, 1
  // -> turbo entries round(255 t) = 0, 64, 191, 255 of the published table.
  const image: ImageInput = { data: new Uint8Array(4 * 3), width: 4, height: 1, channels: 3 };
  const out = overlay(image, map([0, 1], 2, 1), { opacity: 1 });
  expect(Array.from(out.data)).toEqual([...TURBO0, 255, 40, 188, 235, 255, 251, 129, 34, 255, ...TURBO255, 255]);
});

test('a 7x7 map over a 224x224 photo gives a 224x224 RGBA image', async () => {
  const photo = (await decodeImage(new Uint8Array(fs.readFileSync(PHOTO))));
  const values = Array.from({ length: 49 }, (_, i) => i / 48);
  const out = overlay(photo, map(values, 7, 7), { opacity: 0.6, colormap: 'jet' });
  expect([out.width, out.height, out.channels, out.data.length]).toEqual([224, 224, 4, 224 * 224 * 4]);
});

test('typed errors', () => {
  expect(codeOf(() => overlay(rgb, map([0, 0, 0, 0]), { opacity: 1.5 }))).toBe('BAD_OPTION');
  expect(codeOf(() => overlay(rgb, map([0, 0, 0, 0]), { opacity: NaN }))).toBe('BAD_OPTION');
  expect(codeOf(() => overlay({ ...rgb, channels: 2 as 3 }, map([0, 0, 0, 0])))).toBe('BAD_IMAGE');
  expect(codeOf(() => overlay({ ...rgb, width: 3 }, map([0, 0, 0, 0])))).toBe('INPUT_SHAPE');
  expect(codeOf(() => overlay(rgb, map([0, 0, 0])))).toBe('INPUT_SHAPE');
  expect(codeOf(() => overlay(rgb, map([0, 0, 0, 0]), { colormap: 'hot' as 'jet' }))).toBe('BAD_OPTION');
});
