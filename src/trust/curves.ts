/**
 * Deletion and insertion curves (Petsiuk et al., BMVC 2018, "RISE"). The pixels are ordered by the
 * map, most important first (trust/importance.ts). At step i = 0..20 the first round(i/20 * P) of
 * the P pixels are changed, all channels of a pixel together:
 * - deletion starts from the photo and sets them to black (the model's value of pixel level 0);
 * - insertion starts from a blurred photo and puts the photo's own pixels back.
 * Each point is the class probability of that input; the area under the curve is the trapezoid
 * rule over the fraction 0..1. A faithful map gives a low deletion area and a high insertion area;
 * the same curves for a seeded random order are the reference to read them against.
 */

export const CURVE_STEPS = 20;

export interface Curve {
  /** 0, 0.05, ..., 1: the fraction of pixels deleted or inserted. */
  fractions: number[];
  /** The class probability at each fraction. */
  probabilities: number[];
  /** Area under the curve (0..1). */
  auc: number;
}

export function areaUnder(probabilities: ArrayLike<number>): number {
  const n = probabilities.length - 1;
  let area = 0;
  for (let i = 0; i < n; i++) area += (probabilities[i] + probabilities[i + 1]) / (2 * n);
  return area;
}

/** The input at one step: `from` with the first `changed` pixels of `order` taken from `to`. */
export function stepInput(from: Float32Array, to: Float32Array, order: Uint32Array, changed: number, channels: number, out: Float32Array): void {
  out.set(from);
  for (let i = 0; i < changed; i++) {
    const p = order[i] * channels;
    for (let c = 0; c < channels; c++) out[p + c] = to[p + c];
  }
}

export function changedAt(step: number, pixels: number): number {
  return Math.round((step / CURVE_STEPS) * pixels);
}

/**
 * A Gaussian blur (RISE's insertion start: an 11x11 kernel of sigma 5 at 224 pixels, scaled here
 * with the input's width: sigma = 5 * width / 224, the kernel cut at one sigma), edges clamped.
 */
export function blur(x: Float32Array, width: number, height: number, channels: number): Float32Array {
  const sigma = Math.max(0.5, (5 * width) / 224);
  const radius = Math.max(1, Math.round(sigma));
  const kernel = Array.from({ length: 2 * radius + 1 }, (_, i) => Math.exp(-((i - radius) ** 2) / (2 * sigma * sigma)));
  const total = kernel.reduce((s, v) => s + v, 0);
  const k = kernel.map((v) => v / total);
  const pass = (src: Float32Array, horizontal: boolean): Float32Array => {
    const dst = new Float32Array(src.length);
    for (let y = 0; y < height; y++) {
      for (let xx = 0; xx < width; xx++) {
        for (let c = 0; c < channels; c++) {
          let s = 0;
          for (let t = -radius; t <= radius; t++) {
            const sx = horizontal ? Math.min(width - 1, Math.max(0, xx + t)) : xx;
            const sy = horizontal ? y : Math.min(height - 1, Math.max(0, y + t));
            s += k[t + radius] * src[(sy * width + sx) * channels + c];
          }
          dst[(y * width + xx) * channels + c] = s;
        }
      }
    }
    return dst;
  };
  return pass(pass(x, true), false);
}
