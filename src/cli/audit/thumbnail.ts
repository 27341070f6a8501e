/** The report's pictures: the photo and its overlays at a small size, as JPEG (a tenth of a PNG's bytes). */
import * as jpeg from 'jpeg-js';
import { resizeImage } from '../../image';
import type { ImageInput } from '../../image/types';

/** Longest side of the report's pictures, in pixels. */
export const THUMBNAIL_SIDE = 192;
const QUALITY = 85;

export function thumbnail(image: ImageInput): ImageInput {
  const scale = Math.min(1, THUMBNAIL_SIDE / Math.max(image.width, image.height));
  if (scale === 1) return image;
  return resizeImage(image, Math.max(1, Math.round(image.width * scale)), Math.max(1, Math.round(image.height * scale)));
}

export function encodeJpeg(image: ImageInput): Uint8Array {
  const rgba = image.channels === 4 ? image.data : toRgba(image);
  const out = jpeg.encode({ data: Buffer.from(rgba.buffer, rgba.byteOffset, rgba.length), width: image.width, height: image.height }, QUALITY);
  return new Uint8Array(out.data.buffer, out.data.byteOffset, out.data.length);
}

function toRgba(image: ImageInput): Uint8Array {
  const { width, height, channels, data } = image;
  const out = new Uint8Array(width * height * 4);
  for (let i = 0; i < width * height; i++) {
    for (let c = 0; c < 3; c++) out[i * 4 + c] = data[i * channels + (channels >= 3 ? c : 0)];
    out[i * 4 + 3] = 255;
  }
  return out;
}
