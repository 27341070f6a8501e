/**
 * One decoder's worth of pixels: JPEG photos decoded by Chromium (createImageBitmap, drawn on a
 * canvas, as the app does) and by whycam's Node decoder differ by at most 2 levels a channel.
 * The photos: rocket.jpg (with an ICC profile) and JPEGs made here from the PNG photos with
 * the usual encoder settings (4:2:0 and 4:4:4 chroma, progressive, an EXIF orientation).
 */
import { readFileSync } from 'fs';
import * as path from 'path';
import sharp from 'sharp';
import { decodeImage } from '../../src/image';
import { launchChromium, type LaunchedBrowser } from '../helpers/browser';

const PHOTOS = path.resolve(__dirname, '../../models/imagenet-darknet-tiny/samples');
const photo = (f: string) => readFileSync(path.join(PHOTOS, f));

let browser: LaunchedBrowser;
let jpegs: Array<[string, Buffer]>;

beforeAll(async () => {
  browser = await launchChromium();
  jpegs = [
    ['rocket.jpg (as published, ICC profile)', photo('rocket.jpg')],
    ['chelsea, quality 90, 4:2:0', await sharp(photo('chelsea.png')).jpeg({ quality: 90, chromaSubsampling: '4:2:0' }).toBuffer()],
    ['coffee, quality 75, 4:4:4', await sharp(photo('coffee.png')).jpeg({ quality: 75, chromaSubsampling: '4:4:4' }).toBuffer()],
    ['astronaut, progressive, quality 85', await sharp(photo('astronaut.png')).jpeg({ quality: 85, progressive: true }).toBuffer()],
    ['chelsea, EXIF orientation 6 (stored sideways)', await sharp(photo('chelsea.png')).jpeg({ quality: 92 }).withMetadata({ orientation: 6 }).toBuffer()],
  ];
}, 60_000);
afterAll(async () => {
  await browser?.close();
});

/** Chromium's pixels for a file: createImageBitmap (EXIF orientation applied), drawn on a canvas, read back. */
async function chromiumPixels(bytes: Buffer): Promise<{ width: number; height: number; data: Uint8Array }> {
  const page = await browser.context.newPage();
  try {
    const out = await page.evaluate(async (b64: string) => {
      const bin = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
      const bitmap = await createImageBitmap(new Blob([bin], { type: 'image/jpeg' }), { imageOrientation: 'from-image' });
      const canvas = new OffscreenCanvas(bitmap.width, bitmap.height);
      const ctx = canvas.getContext('2d') as OffscreenCanvasRenderingContext2D;
      ctx.drawImage(bitmap, 0, 0);
      const img = ctx.getImageData(0, 0, bitmap.width, bitmap.height);
      // Back as base64: a JSON array of millions of numbers is slow to pass out of the page.
      let text = '';
      for (let i = 0; i < img.data.length; i += 0x8000) text += String.fromCharCode(...img.data.subarray(i, i + 0x8000));
      return { width: img.width, height: img.height, data: btoa(text) };
    }, bytes.toString('base64'));
    return { width: out.width, height: out.height, data: new Uint8Array(Buffer.from(out.data, 'base64')) };
  } finally {
    await page.close();
  }
}

test('Chromium and the Node decoder give the same JPEG pixels within 2 levels a channel', async () => {
  const results: Array<{ name: string; size: string; maxDifference: number; meanDifference: number }> = [];
  for (const [name, bytes] of jpegs) {
    const ours = await decodeImage(new Uint8Array(bytes));
    const theirs = await chromiumPixels(bytes);
    expect([name, ours.width, ours.height]).toEqual([name, theirs.width, theirs.height]);
    let worst = 0;
    let sum = 0;
    for (let i = 0; i < theirs.data.length; i++) {
      const d = Math.abs(ours.data[i] - theirs.data[i]);
      sum += d;
      if (d > worst) worst = d;
    }
    results.push({ name, size: `${ours.width}x${ours.height}`, maxDifference: worst, meanDifference: sum / theirs.data.length });
  }
  if (process.env.WHYCAM_PRINT_DECODE) console.log(results);
  // Names the photos that differ, with their figures.
  expect(results.filter((r) => r.maxDifference > 2 || r.meanDifference > 0.5)).toEqual([]);
  expect(results.map((r) => r.size)).toContain('300x451'); // the EXIF-rotated one, upright in both
}, 120_000);
