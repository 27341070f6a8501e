import type { Region } from './fit';
import type { ImageInput } from './types';

/**
 * The pixels of `region` (rounded to whole pixels) as a new image: what the model saw, for
 * drawing an overlay over. Parts of the region outside the image (the padding of `contain`)
 * are black and opaque.
 */
export function cropToRegion(image: ImageInput, region: Region): ImageInput {
  const x0 = Math.round(region.x);
  const y0 = Math.round(region.y);
  const width = Math.max(1, Math.round(region.width));
  const height = Math.max(1, Math.round(region.height));
  const c = image.channels;
  const data = new Uint8Array(width * height * c);
  if (c === 4) for (let i = 3; i < data.length; i += 4) data[i] = 255;
  // Columns of the region that fall inside the image, copied a row at a time.
  const left = Math.max(0, -x0);
  const right = Math.min(width, image.width - x0);
  for (let y = 0; y < height && right > left; y++) {
    const sy = y0 + y;
    if (sy < 0 || sy >= image.height) continue;
    const from = (sy * image.width + x0 + left) * c;
    data.set(image.data.subarray(from, from + (right - left) * c), (y * width + left) * c);
  }
  return { data, width, height, channels: c };
}
