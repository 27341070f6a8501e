/// <reference lib="dom" />
/** The picture explained: a centre square of a photo, frame or sample, at most SIDE pixels a side. */
import { CameraError } from '../camera/camera';

/** A square RGBA photo as shown (centre-cropped), also what the worker explains. */
export interface Picture {
  data: Uint8ClampedArray;
  width: number;
  height: number;
}

/** Side of the square picture kept on the page and sent to the worker. */
export const SIDE = 448;

export function toPicture(source: CanvasImageSource, width: number, height: number): Picture {
  const side = Math.min(width, height);
  const size = Math.min(SIDE, side);
  const c = document.createElement('canvas');
  c.width = c.height = size;
  const ctx = c.getContext('2d', { willReadFrequently: true });
  if (!ctx) throw new Error('This browser gives no 2D canvas.');
  ctx.drawImage(source, (width - side) / 2, (height - side) / 2, side, side, 0, 0, size, size);
  const d = ctx.getImageData(0, 0, size, size);
  return { data: d.data, width: size, height: size };
}

export async function pictureFromBlob(blob: Blob): Promise<Picture> {
  let bitmap: ImageBitmap;
  try {
    bitmap = await createImageBitmap(blob, { imageOrientation: 'from-image' });
  } catch {
    throw new CameraError(`That file${blob.type ? ` (${blob.type})` : ''} is not an image this browser can open. Use a JPEG or PNG photo.`);
  }
  try {
    return toPicture(bitmap, bitmap.width, bitmap.height);
  } finally {
    bitmap.close();
  }
}
