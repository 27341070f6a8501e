/// <reference lib="dom" />
/**
 * The picture explained: the whole photo, frame or sample, as the person gave it. The worker fits
 * it to the model's input (the engine's one preprocessing: centre crop to the input's aspect,
 * area-filtered when shrinking), so the page never crops; it only scales a huge photo down (the
 * browser's high-quality filter) to at most MAX_SIDE pixels a side.
 */
import type { ExplainSummary } from '../../worker/client';
import { CameraError } from '../camera/camera';

/** The part of the picture the model saw, in its pixels (the prediction stage's). */
export type Region = ExplainSummary['region'];

export interface Picture {
  /** RGBA pixels, what the worker explains. */
  data: Uint8ClampedArray;
  width: number;
  height: number;
  /** The same pixels on a canvas, for drawing. */
  canvas: HTMLCanvasElement;
}

/** The picture's pixels as the worker takes them; postMessage copies them once (no copy made here). */
export function pixelsOf(p: Picture): { data: Uint8ClampedArray; width: number; height: number; channels: 4 } {
  return { data: p.data, width: p.width, height: p.height, channels: 4 };
}

/** Longest side of a picture kept on the page and sent to the worker. */
export const MAX_SIDE = 2048;

/** `width` x `height` scaled to fit within `max` pixels a side (never enlarged). */
export function fitWithin(width: number, height: number, max: number): { width: number; height: number } {
  const s = Math.min(1, max / Math.max(width, height));
  return { width: Math.max(1, Math.round(width * s)), height: Math.max(1, Math.round(height * s)) };
}

/** A picture of `source` (`width` x `height` pixels), scaled down only if a side exceeds MAX_SIDE. */
export async function toPicture(source: ImageBitmapSource, width: number, height: number): Promise<Picture> {
  const size = fitWithin(width, height, MAX_SIDE);
  const bitmap = size.width === width && size.height === height
    ? await createImageBitmap(source)
    : await createImageBitmap(source, { resizeWidth: size.width, resizeHeight: size.height, resizeQuality: 'high' });
  try {
    const canvas = document.createElement('canvas');
    canvas.width = size.width;
    canvas.height = size.height;
    const ctx = canvas.getContext('2d', { willReadFrequently: true });
    if (!ctx) throw new Error('This browser gives no 2D canvas.');
    ctx.drawImage(bitmap, 0, 0);
    return { data: ctx.getImageData(0, 0, size.width, size.height).data, width: size.width, height: size.height, canvas };
  } finally {
    bitmap.close();
  }
}

export async function pictureFromBlob(blob: Blob): Promise<Picture> {
  let bitmap: ImageBitmap;
  try {
    bitmap = await createImageBitmap(blob, { imageOrientation: 'from-image' });
  } catch {
    throw new CameraError(`That file${blob.type ? ` (${blob.type})` : ''} is not an image this browser can open. Use a JPEG or PNG photo.`);
  }
  try {
    return await toPicture(bitmap, bitmap.width, bitmap.height);
  } finally {
    bitmap.close();
  }
}
