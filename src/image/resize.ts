import { WhycamError } from '../errors';
import { resizeBilinearInto } from './bilinear';
import type { ImageInput } from './types';

/**
 * Bilinear resize of an image to `width` x `height`, half-pixel centres (the convention of
 * `tf.image.resizeBilinear(..., alignCorners=false, halfPixelCenters=true)`; see
 * `bilinear.ts`). Keeps the channel count; values are rounded to 0..255.
 *
 * Returns `image` itself (same object, no copy) when it already has that size, so callers can
 * resize unconditionally at no cost.
 *
 * No antialiasing, like tf.image.resizeBilinear: shrinking a large photo by much more than 2x
 * samples only some of its pixels.
 */
export function resizeImage(image: ImageInput, width: number, height: number): ImageInput {
  if (image.width === width && image.height === height) return image;
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
    throw new WhycamError('BAD_OPTION', `Target size must be whole numbers >= 1; got ${width}x${height}.`);
  }
  if (image.width === 0 || image.height === 0) {
    throw new WhycamError('EMPTY_IMAGE', `Cannot resize a ${image.width}x${image.height} image: it has no pixels.`);
  }
  const data = new Uint8ClampedArray(width * height * image.channels);
  resizeBilinearInto(image.data, image.width, image.height, image.channels, data, width, height);
  return { data, width, height, channels: image.channels };
}
