/**
 * The report's pictures: the photo (the part the model saw) and its overlays at a small size, as
 * JPEG (a tenth of a PNG's bytes). sharp (libvips) shrinks with an area filter and encodes with
 * libjpeg-turbo, off the JavaScript thread.
 */
import sharp from 'sharp';
import type { ImageInput } from '../../image/types';

/** Longest side of the report's pictures, in pixels. */
export const THUMBNAIL_SIDE = 192;
const QUALITY = 85;

const raw = (image: ImageInput) =>
  sharp(Buffer.from(image.data.buffer, image.data.byteOffset, image.data.length), { raw: { width: image.width, height: image.height, channels: image.channels } });

/** At most THUMBNAIL_SIDE on its longest side (never enlarged), as RGBA. */
export async function thumbnail(image: ImageInput): Promise<ImageInput> {
  const { data, info } = await raw(image)
    .resize({ width: THUMBNAIL_SIDE, height: THUMBNAIL_SIDE, fit: 'inside', withoutEnlargement: true })
    .ensureAlpha()
    .raw()
    .toBuffer({ resolveWithObject: true });
  return { data: new Uint8Array(data.buffer, data.byteOffset, data.length), width: info.width, height: info.height, channels: 4 };
}

export async function encodeJpeg(image: ImageInput): Promise<Uint8Array> {
  const out = await raw(image).removeAlpha().jpeg({ quality: QUALITY }).toBuffer();
  return new Uint8Array(out.buffer, out.byteOffset, out.length);
}
