import { PNG } from 'pngjs';
import { decodeImage } from '../../src/image/decode';
import { encodePng } from '../../src/image/encode';
import { codeOf } from '../helpers/errors';

function randomRGBA(n: number): Uint8ClampedArray {
  let seed = 7;
  return Uint8ClampedArray.from({ length: n * 4 }, () => (seed = (seed * 1103515245 + 12345) % 2147483648) >> 23);
}

test('encode -> decode round trip is exact, alpha included', async () => {
  const [w, h] = [13, 7];
  const rgba = randomRGBA(w * h);
  const bytes = encodePng(rgba, w, h);
  expect(bytes).toBeInstanceOf(Uint8Array);
  const image = await decodeImage(bytes);
  expect([image.width, image.height, image.channels]).toEqual([w, h, 4]);
  expect(Array.from(image.data)).toEqual(Array.from(rgba));
});

test('the file is an 8-bit RGBA PNG that pngjs reads back', async () => {
  const rgba = Uint8Array.of(255, 0, 0, 255, 0, 255, 0, 128);
  const bytes = encodePng(rgba, 2, 1);
  expect(Array.from(bytes.subarray(0, 8))).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  expect([bytes[24], bytes[25]]).toEqual([8, 6]); // IHDR bit depth 8, colour type 6 (RGBA)
  const png = PNG.sync.read(Buffer.from(bytes));
  expect(Array.from(png.data)).toEqual(Array.from(rgba));
});

test('a view into a larger buffer encodes only its own bytes', async () => {
  const backing = new Uint8Array(100).fill(9);
  const view = backing.subarray(10, 18); // 2x1 RGBA
  view.set([1, 2, 3, 4, 5, 6, 7, 8]);
  expect(Array.from((await decodeImage(encodePng(view, 2, 1))).data)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
});

test('typed errors', async () => {
  expect(codeOf(() => encodePng(new Uint8Array(12), 2, 2))).toBe('INPUT_SHAPE');
  expect(codeOf(() => encodePng(new Uint8Array(0), 0, 0))).toBe('EMPTY_IMAGE');
  expect(codeOf(() => encodePng(new Uint8Array(8), 2.5, 1))).toBe('BAD_OPTION');
  expect(codeOf(() => encodePng(new Uint8Array(8), -2, -1))).toBe('BAD_OPTION');
});
