import { checkMapShape } from '../image/shape';
import { resizeBilinearInto, type WritableNumericArray } from '../image/bilinear';

export { resizeBilinearInto, type WritableNumericArray };

/** A map to resize: row-major HWC, `channels` defaults to 1. */
export interface MapLike {
  data: ArrayLike<number>;
  width: number;
  height: number;
  channels?: number;
}

/**
 * Bilinear resize of a row-major HWC map to `width` x `height` (up or down); returns a new
 * Float32Array. Same size returns a copy, so the caller may mutate the result freely.
 *
 * Convention: half-pixel centres. Output pixel (x, y) samples the source at
 *   sx = (x + 0.5) * srcWidth / width - 0.5,   sy = (y + 0.5) * srcHeight / height - 0.5,
 * clamped to [0, srcWidth - 1] x [0, srcHeight - 1] (edge pixels repeat), then blends the four
 * neighbours linearly. This is what `tf.image.resizeBilinear(x, size, alignCorners=false,
 * halfPixelCenters=true)` and OpenCV's INTER_LINEAR do: pixel centres
 * line up with the image's geometry, so a 7x7 Grad-CAM cell covers exactly its 32x32 patch of a
 * 224x224 photo instead of drifting by half a cell towards the top left.
 * No antialiasing: shrinking by more than 2x skips source pixels.
 */
export function upsample(map: MapLike, width: number, height: number): Float32Array {
  const channels = map.channels ?? 1;
  checkMapShape(map.data.length, map.width, map.height, channels, 'map');
  const out = new Float32Array(width * height * channels);
  resizeBilinearInto(map.data, map.width, map.height, channels, out, width, height);
  return out;
}
