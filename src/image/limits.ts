/**
 * The largest image whycam accepts, in one place for the decoder, the engine and the worker
 * (no dependencies: browser-safe). 50 MP covers the largest phone cameras' full-resolution
 * photos (48-50 MP); the side limit also refuses extreme strips (say 100000x10) that the
 * pixel limit alone would let through.
 */
import { WhycamError } from '../errors';

export const IMAGE_LIMITS = { maxSide: 16384, maxPixels: 50_000_000 } as const;

/** Throws IMAGE_TOO_LARGE past the limits; `what` names the thing ("The PNG", "The image"). */
export function checkImageLimits(width: number, height: number, what = 'The image'): void {
  if (width > IMAGE_LIMITS.maxSide || height > IMAGE_LIMITS.maxSide || width * height > IMAGE_LIMITS.maxPixels) {
    throw new WhycamError(
      'IMAGE_TOO_LARGE',
      `${what} is ${width}x${height} pixels (${((width * height) / 1e6).toFixed(1)} MP); whycam accepts at most ` +
        `${IMAGE_LIMITS.maxSide} pixels a side and ${IMAGE_LIMITS.maxPixels / 1e6} MP. Scale it down first ` +
        '(the model sees a small rectangle anyway, e.g. 224x224).',
    );
  }
}
