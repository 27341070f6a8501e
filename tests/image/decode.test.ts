import * as fs from 'fs';
import * as jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import { WhycamError } from '../../src/errors';
import { IMAGE_LIMITS, decodeImage } from '../../src/image/decode';
import { pngHeaderOnly, withExifOrientation, withJpegSize } from './bytes';

const PHOTO = '/work/shared/fixtures/teachable-machine/images/class-1/0.png';
const photoBytes = () => new Uint8Array(fs.readFileSync(PHOTO));

async function errorOf(fn: () => unknown): Promise<WhycamError> {
  try {
    await fn();
  } catch (e) {
    if (e instanceof WhycamError) return e;
    throw new Error(`expected a WhycamError, got ${String(e)}`);
  }
  throw new Error('expected an error');
}

/** A smooth RGB test pattern (JPEG-friendly), as RGBA. */
function pattern(width: number, height: number): Uint8Array {
  const data = new Uint8Array(width * height * 4);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const o = (y * width + x) * 4;
      data[o] = Math.round((255 * x) / (width - 1));
      data[o + 1] = Math.round((255 * y) / (height - 1));
      data[o + 2] = 128 + Math.round(100 * Math.sin(x / 7) * Math.cos(y / 5));
      data[o + 3] = 255;
    }
  }
  return data;
}

function jpegOf(rgba: Uint8Array, width: number, height: number, quality = 95): Uint8Array {
  return new Uint8Array(jpeg.encode({ data: rgba, width, height }, quality).data);
}

describe('PNG', () => {
  test('a real photo decodes to 224x224 RGBA, identical to pngjs reading it', async () => {
    const image = await decodeImage(photoBytes());
    expect([image.width, image.height, image.channels]).toEqual([224, 224, 4]);
    expect(image.data.length).toBe(224 * 224 * 4);
    const reference = PNG.sync.read(fs.readFileSync(PHOTO));
    expect(Buffer.from(image.data).equals(reference.data)).toBe(true);
  });
  test('grey PNGs are expanded to RGBA', async () => {
    const png = new PNG({ width: 3, height: 1, colorType: 0, inputColorType: 0, bitDepth: 8 });
    png.data = Buffer.from([0, 100, 255]);
    const bytes = new Uint8Array(PNG.sync.write(png, { colorType: 0, inputColorType: 0 }));
    expect(Array.from((await decodeImage(bytes)).data)).toEqual([0, 0, 0, 255, 100, 100, 100, 255, 255, 255, 255, 255]);
  });
  test('16-bit PNGs are scaled to 8 bits', async () => {
    const png = new PNG({ width: 2, height: 1, bitDepth: 16, colorType: 6, inputHasAlpha: true });
    (png as unknown as { data: Uint16Array }).data = Uint16Array.of(65535, 0, 257 * 100, 65535, 0, 65535, 257, 65535);
    const bytes = new Uint8Array(PNG.sync.write(png, { bitDepth: 16, colorType: 6 }));
    expect(Array.from((await decodeImage(bytes)).data)).toEqual([255, 0, 100, 255, 0, 255, 1, 255]);
  });
  test('a PNG of exactly the maximum side decodes', async () => {
    const png = new PNG({ width: IMAGE_LIMITS.maxSide, height: 1 });
    png.data.fill(7);
    const image = await decodeImage(new Uint8Array(PNG.sync.write(png)));
    expect([image.width, image.height]).toEqual([IMAGE_LIMITS.maxSide, 1]);
  });
});

describe('JPEG', () => {
  test("jpeg-js's encoder output decodes back within JPEG's loss", async () => {
    const [w, h] = [64, 48];
    const original = pattern(w, h);
    const image = await decodeImage(jpegOf(original, w, h));
    expect([image.width, image.height, image.channels]).toEqual([w, h, 4]);
    let sum = 0;
    let max = 0;
    for (let i = 0; i < original.length; i++) {
      if (i % 4 === 3) {
        expect(image.data[i]).toBe(255);
        continue;
      }
      const d = Math.abs(image.data[i] - original[i]);
      sum += d;
      max = Math.max(max, d);
    }
    expect(sum / (w * h * 3)).toBeLessThan(3);
    expect(max).toBeLessThan(40);
  });

  describe('EXIF orientation', () => {
    // 48x32 photo, black except a white 16x16 block in the top-left corner.
    const [w, h] = [48, 32];
    const rgba = new Uint8Array(w * h * 4);
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        const v = x < 16 && y < 16 ? 255 : 0;
        rgba.set([v, v, v, 255], (y * w + x) * 4);
      }
    }
    const plain = jpegOf(rgba, w, h);
    const lum = (img: { data: ArrayLike<number>; width: number }, x: number, y: number) => img.data[(y * img.width + x) * 4];
    // Where the white block's centre must be after each orientation (display size in brackets).
    const cases: Array<[number, number, number, number, number]> = [
      // orientation, width, height, block x, block y
      [1, 48, 32, 8, 8],
      [2, 48, 32, 40, 8], // mirrored: top-right
      [3, 48, 32, 40, 24], // rotated 180: bottom-right
      [4, 48, 32, 8, 24], // flipped: bottom-left
      [5, 32, 48, 8, 8], // transposed: stays top-left
      [6, 32, 48, 24, 8], // rotated 90 clockwise: top-right
      [7, 32, 48, 24, 40], // transverse: bottom-right
      [8, 32, 48, 8, 40], // rotated 90 anticlockwise: bottom-left
    ];
    test.each(cases)('orientation %i -> %ix%i, block at (%i, %i)', async (orientation, ow, oh, bx, by) => {
      for (const little of [false, true]) {
        const image = await decodeImage(withExifOrientation(plain, orientation, little));
        expect([image.width, image.height]).toEqual([ow, oh]);
        expect(lum(image, bx, by)).toBeGreaterThan(200);
        // the opposite corner is black
        expect(lum(image, ow - 1 - bx, oh - 1 - by)).toBeLessThan(50);
      }
    });
    test('applyExifOrientation: false keeps the stored pixels', async () => {
      const image = await decodeImage(withExifOrientation(plain, 6), { applyExifOrientation: false });
      expect([image.width, image.height]).toEqual([48, 32]);
      expect(lum(image, 8, 8)).toBeGreaterThan(200);
    });
  });
});

describe('errors', () => {
  test('not an image: BAD_IMAGE saying which formats are supported', async () => {
    const e = (await errorOf(() => decodeImage(new TextEncoder().encode('hello, this is a text file\n'))));
    expect(e.code).toBe('BAD_IMAGE');
    expect(e.message).toMatch(/PNG and JPEG/);
  });
  test('known but unsupported formats are named', async () => {
    const gif = new TextEncoder().encode('GIF89a\x01\x00\x01\x00\x00\x00\x00;');
    const e = (await errorOf(() => decodeImage(gif)));
    expect(e.code).toBe('BAD_IMAGE');
    expect(e.message).toMatch(/GIF/);
    expect(e.message).toMatch(/PNG and JPEG/);
    const webp = Uint8Array.from([...new TextEncoder().encode('RIFF'), 0, 0, 0, 0, ...new TextEncoder().encode('WEBPVP8 ')]);
    expect((await errorOf(() => decodeImage(webp))).message).toMatch(/WebP/);
  });
  test('an empty file', async () => {
    expect((await errorOf(() => decodeImage(new Uint8Array(0)))).code).toBe('BAD_IMAGE');
  });
  test('a truncated PNG is BAD_IMAGE', async () => {
    const bytes = photoBytes();
    for (const cut of [12, 30, bytes.length >> 1, bytes.length - 1]) {
      const e = (await errorOf(() => decodeImage(bytes.subarray(0, cut))));
      expect(e.code).toBe('BAD_IMAGE');
      expect(e.message).toMatch(/truncated or corrupt/);
    }
  });
  test('a PNG with a damaged byte in its image data is BAD_IMAGE', async () => {
    const bytes = photoBytes();
    bytes[bytes.length >> 1] ^= 0xff;
    expect((await errorOf(() => decodeImage(bytes))).code).toBe('BAD_IMAGE');
  });
  test('a truncated JPEG is BAD_IMAGE', async () => {
    const bytes = jpegOf(pattern(64, 48), 64, 48);
    for (const cut of [3, 20, bytes.length >> 1, bytes.length - 2]) {
      expect((await errorOf(() => decodeImage(bytes.subarray(0, cut)))).code).toBe('BAD_IMAGE');
    }
  });
  test('zero width or height is EMPTY_IMAGE', async () => {
    expect((await errorOf(() => decodeImage(pngHeaderOnly(0, 10)))).code).toBe('EMPTY_IMAGE');
    expect((await errorOf(() => decodeImage(pngHeaderOnly(10, 0)))).code).toBe('EMPTY_IMAGE');
    const bytes = jpegOf(pattern(16, 16), 16, 16);
    expect((await errorOf(() => decodeImage(withJpegSize(bytes, 16, 0)))).code).toBe('EMPTY_IMAGE');
  });
  test('headers over the limits are IMAGE_TOO_LARGE, before any pixel is decoded', async () => {
    // side limit alone (20000 x 10 = 0.2 MP)
    expect((await errorOf(() => decodeImage(pngHeaderOnly(IMAGE_LIMITS.maxSide + 1, 10)))).code).toBe('IMAGE_TOO_LARGE');
    // pixel limit alone (8000 x 8000 = 64 MP, each side within the limit)
    const e = (await errorOf(() => decodeImage(pngHeaderOnly(8000, 8000))));
    expect(e.code).toBe('IMAGE_TOO_LARGE');
    expect(e.message).toMatch(/8000x8000/);
    // a header claiming 2^32 - 1 pixels a side must not be taken as negative
    expect((await errorOf(() => decodeImage(pngHeaderOnly(0xffffffff, 1)))).code).toBe('IMAGE_TOO_LARGE');
    const bytes = jpegOf(pattern(16, 16), 16, 16);
    expect((await errorOf(() => decodeImage(withJpegSize(bytes, 10000, 6000)))).code).toBe('IMAGE_TOO_LARGE');
  });
});

test('an SVG is named as such', async () => {
  const svg = new TextEncoder().encode('\n<svg xmlns="http://www.w3.org/2000/svg"/>');
  expect((await errorOf(() => decodeImage(svg))).message).toMatch(/SVG/);
});
