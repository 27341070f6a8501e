import { WhycamError } from '../errors';
import type { ImageInput } from '../image/types';
import { colorize, type ColormapName } from './colormaps';
import { checkMapShape } from '../image/shape';
import { upsample } from './upsample';

/** A normalised single-channel map (values in [0, 1], e.g. from `normalizeMap`). */
export interface NormalizedMap {
  data: ArrayLike<number>;
  width: number;
  height: number;
}

export interface OverlayOptions {
  /** Default 'turbo'. */
  colormap?: ColormapName;
  /** Opacity of the heat map over the image, 0 (image only) .. 1 (heat map only). Default 0.5. */
  opacity?: number;
}

/** An RGBA image as produced by `overlay`: same shape as `ImageInput`, always 4 channels. */
export interface RGBAImage extends ImageInput {
  data: Uint8ClampedArray;
  channels: 4;
}

/**
 * Paints the coloured map over the image and returns RGBA at the image's size. A map of another
 * size (e.g. a 7x7 Grad-CAM grid) is first resized with `upsample` (bilinear, half-pixel centres),
 * before colouring, so colours blend smoothly rather than in blocks.
 *
 * Compositing is Porter-Duff "source over" with the heat map as an opaque layer of alpha
 * `opacity`: for an opaque image this is out = opacity * colour + (1 - opacity) * image, and
 * transparent image pixels take on the heat map's colour with alpha `opacity`. Grey images are
 * treated as R = G = B; images without alpha as opaque.
 */
export function overlay(image: ImageInput, map: NormalizedMap, options: OverlayOptions = {}): RGBAImage {
  const { width, height, channels, data } = image;
  if (channels !== 1 && channels !== 3 && channels !== 4) {
    throw new WhycamError('BAD_IMAGE', `Images must have 1, 3 or 4 channels; got ${String(channels)}.`);
  }
  checkMapShape(data.length, width, height, channels, 'image');
  checkMapShape(map.data.length, map.width, map.height, 1, 'heat map');
  const opacity = options.opacity ?? 0.5;
  if (!(opacity >= 0 && opacity <= 1)) {
    throw new WhycamError('BAD_OPTION', `opacity must be between 0 and 1; got ${String(options.opacity)}.`);
  }

  const n = width * height;
  const out = new Uint8ClampedArray(n * 4);
  if (n === 0) return { data: out, width, height, channels: 4 };

  const values = map.width === width && map.height === height ? map.data : upsample(map, width, height);
  const colours = colorize(values, options.colormap ?? 'turbo');

  for (let i = 0; i < n; i++) {
    const s = i * channels;
    const o = i * 4;
    let r: number, g: number, b: number;
    if (channels === 1) r = g = b = data[s];
    else {
      r = data[s];
      g = data[s + 1];
      b = data[s + 2];
    }
    const a = channels === 4 ? data[s + 3] / 255 : 1;
    const below = a * (1 - opacity);
    const outA = opacity + below;
    if (outA === 0) {
      // Nothing visible: keep the image's colour so opacity 0 returns the image exactly.
      out[o] = r;
      out[o + 1] = g;
      out[o + 2] = b;
      out[o + 3] = 0;
      continue;
    }
    out[o] = (opacity * colours[o] + below * r) / outA;
    out[o + 1] = (opacity * colours[o + 1] + below * g) / outA;
    out[o + 2] = (opacity * colours[o + 2] + below * b) / outA;
    out[o + 3] = outA * 255;
  }
  return { data: out, width, height, channels: 4 };
}
