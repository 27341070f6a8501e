/**
 * How a photo of any shape becomes the model's input rectangle: which source pixels are
 * used and where they land. Pure geometry (no pixels), so every front end can draw the
 * overlay over exactly the part of the photo the model saw.
 */
import { WhycamError } from '../errors';

/**
 * - `cover` (default): centre crop to the model's aspect, then scale (as Teachable Machine does);
 *   nothing is distorted, the edges of the long side are not seen.
 * - `contain`: the whole photo scaled to fit inside the input, the rest padded with zeros (black).
 * - `stretch`: the whole photo scaled to the input, distorting its aspect.
 */
export type Fit = 'cover' | 'contain' | 'stretch';
export const FITS: readonly Fit[] = ['cover', 'contain', 'stretch'];
export const DEFAULT_FIT: Fit = 'cover';

/** A rectangle in pixels: top-left corner and size. */
export interface Region {
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface FitPlan {
  fit: Fit;
  /** The source pixels that are resampled: whole pixels, always inside the image. */
  source: Region;
  /** Where those pixels land in the model input (the whole input except for `contain`). */
  placed: Region;
  /**
   * The rectangle in source-pixel coordinates that the whole model input covers: what an
   * overlay is drawn over. Equals `source` for cover and stretch; for contain it extends
   * past the image (the padding) and need not be whole pixels.
   */
  region: Region;
}

export function checkFit(fit: unknown): Fit {
  if (!(FITS as readonly unknown[]).includes(fit)) {
    throw new WhycamError('BAD_OPTION', `Unknown fit '${String(fit)}'; use one of ${FITS.join(', ')}.`);
  }
  return fit as Fit;
}

const clamp = (v: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, v));

/** The plan for a `srcWidth` x `srcHeight` image going into a `dstWidth` x `dstHeight` input. */
export function fitPlan(srcWidth: number, srcHeight: number, dstWidth: number, dstHeight: number, fit: Fit = DEFAULT_FIT): FitPlan {
  checkFit(fit);
  for (const v of [srcWidth, srcHeight, dstWidth, dstHeight]) {
    if (!Number.isInteger(v) || v < 1) {
      throw new WhycamError('BAD_OPTION', `Sizes must be whole numbers >= 1; got ${srcWidth}x${srcHeight} -> ${dstWidth}x${dstHeight}.`);
    }
  }
  const whole: Region = { x: 0, y: 0, width: srcWidth, height: srcHeight };
  const input: Region = { x: 0, y: 0, width: dstWidth, height: dstHeight };
  if (fit === 'stretch') return { fit, source: whole, placed: input, region: whole };
  if (fit === 'cover') {
    // Compare aspects in integers: srcWidth / srcHeight vs dstWidth / dstHeight.
    let source: Region;
    if (srcWidth * dstHeight > srcHeight * dstWidth) {
      const width = clamp(Math.round((srcHeight * dstWidth) / dstHeight), 1, srcWidth);
      source = { x: Math.floor((srcWidth - width) / 2), y: 0, width, height: srcHeight };
    } else {
      const height = clamp(Math.round((srcWidth * dstHeight) / dstWidth), 1, srcHeight);
      source = { x: 0, y: Math.floor((srcHeight - height) / 2), width: srcWidth, height };
    }
    return { fit, source, placed: input, region: source };
  }
  const scale = Math.min(dstWidth / srcWidth, dstHeight / srcHeight);
  const pw = clamp(Math.round(srcWidth * scale), 1, dstWidth);
  const ph = clamp(Math.round(srcHeight * scale), 1, dstHeight);
  const placed: Region = { x: Math.floor((dstWidth - pw) / 2), y: Math.floor((dstHeight - ph) / 2), width: pw, height: ph };
  // Source pixels per input pixel along each axis, applied to the whole input rectangle.
  const sx = srcWidth / pw;
  const sy = srcHeight / ph;
  const region: Region = { x: placed.x ? -placed.x * sx : 0, y: placed.y ? -placed.y * sy : 0, width: dstWidth * sx, height: dstHeight * sy };
  return { fit, source: whole, placed, region };
}
