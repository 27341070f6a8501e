import { WhycamError } from '../errors';
import { checkMapShape } from '../image/shape';

/**
 * A raw saliency map as the engine emits it: signed values, row-major HWC
 * (`data[(y * width + x) * channels + c]`).
 */
export interface RawMap {
  data: Float32Array;
  width: number;
  height: number;
  channels: number;
}

/**
 * - `'positive'`: class maps (CAM, Grad-CAM) whose raw values are signed, pre-ReLU.
 * - `'abs'`: gradient maps (vanilla gradient, guided backprop, Guided Grad-CAM), where the sign
 *   says which way a pixel would push the score and the magnitude says how much.
 * - `'signed'`: keep the sign visible: 0 maps to 0.5 (use with a diverging reading of the colour map).
 */
export type NormalizeMode = 'positive' | 'abs' | 'signed';

export const NORMALIZE_MODES: readonly NormalizeMode[] = ['positive', 'abs', 'signed'];

export interface NormalizeOptions {
  mode: NormalizeMode;
  /**
   * `'abs'` mode only: the percentile (0 < p <= 100) of the per-pixel magnitudes that maps to 1.
   * Default 99.
   */
  percentile?: number;
}

/**
 * Turns a raw map into one value per pixel in [0, 1] (a new Float32Array of width * height).
 *
 * The rule, which never yields NaN:
 *
 * 1. Every non-finite entry (NaN, +Infinity, -Infinity) counts as 0: a single overflowed
 *    gradient must not blank or saturate the whole picture.
 * 2. Channels are reduced to one value per pixel:
 *    - `'positive'`: p = max over channels of max(v, 0);
 *    - `'abs'`:      p = max over channels of |v|;
 *    - `'signed'`:   p = the channel value with the largest |v|, sign kept (first one on ties).
 * 3. Scaling:
 *    - `'positive'`: out = p / max(p). If max(p) is 0 (all-zero, all-negative or all-NaN map)
 *      the output is all 0: the map shows no evidence for the class. A constant positive map
 *      gives all 1.
 *    - `'abs'`: s = the `percentile`-th percentile of p (linear interpolation between the two
 *      nearest ranks, as numpy's default), out = min(p / s, 1). Gradient maps are heavy-tailed:
 *      a handful of extreme pixels would otherwise squeeze everything else into the dark end of
 *      the colour map, so the top 1 % saturate instead (the clipping used by SmoothGrad,
 *      Smilkov et al. 2017). If s is 0 (more than `100 - percentile` % of the pixels are 0,
 *      i.e. a very sparse map), s falls back to max(p); if that is 0 too, the output is all 0.
 *    - `'signed'`: out = 0.5 + 0.5 * p / max|p|, so 0 -> 0.5, the strongest negative -> 0 and the
 *      strongest positive -> 1. If max|p| is 0, the output is all 0.5.
 *
 * Arithmetic is done in float64 and every result is clamped to [0, 1] before it is stored.
 */
export function normalizeMap(map: RawMap, options: NormalizeOptions): Float32Array {
  const { mode, percentile, reduced } = prepare(map, options);
  const n = reduced.length;
  const out = new Float32Array(n);
  if (n === 0) return out;
  const s = scaleOf(reduced, mode, percentile);
  if (mode === 'signed') {
    if (s > 0) for (let i = 0; i < n; i++) out[i] = clamp01(0.5 + (0.5 * reduced[i]) / s);
    else out.fill(0.5);
  } else if (s > 0) {
    for (let i = 0; i < n; i++) out[i] = clamp01(reduced[i] / s);
  }
  return out;
}

/**
 * The raw value that normalizeMap maps to 1 (to 0.5 + 0.5 for `'signed'`): max(p) for
 * `'positive'`, the percentile of p (else max(p)) for `'abs'`, max|p| for `'signed'`; 0 when
 * the map shows nothing. What a colour scale's legend labels its right end with.
 */
export function normalizationScale(map: RawMap, options: NormalizeOptions): number {
  const { mode, percentile, reduced } = prepare(map, options);
  return reduced.length ? scaleOf(reduced, mode, percentile) : 0;
}

function prepare(map: RawMap, options: NormalizeOptions): { mode: NormalizeMode; percentile: number; reduced: Float64Array } {
  const { width, height, channels, data } = map;
  checkMapShape(data.length, width, height, channels, 'saliency map');
  const mode = options.mode;
  if (!NORMALIZE_MODES.includes(mode)) {
    throw new WhycamError(
      'BAD_OPTION',
      `Unknown normalisation mode "${String(mode)}"; use one of: ${NORMALIZE_MODES.join(', ')}.`,
    );
  }
  const percentile = options.percentile ?? 99;
  if (!(percentile > 0 && percentile <= 100)) {
    throw new WhycamError(
      'BAD_OPTION',
      `percentile must be in (0, 100]; got ${String(options.percentile)}.`,
    );
  }
  return { mode, percentile, reduced: reduceChannels(data, width * height, channels, mode) };
}

/** Step 3's divisor, for a non-empty reduced map. */
function scaleOf(reduced: Float64Array, mode: NormalizeMode, percentile: number): number {
  if (mode === 'positive') return maxOf(reduced);
  if (mode === 'abs') {
    const s = percentileOf(reduced, percentile);
    return s > 0 ? s : maxOf(reduced);
  }
  let m = 0;
  for (let i = 0; i < reduced.length; i++) {
    const a = Math.abs(reduced[i]);
    if (a > m) m = a;
  }
  return m;
}

/** Step 2 of the rule, with step 1 (non-finite -> 0) folded in. Float64 to keep tiny ratios exact. */
function reduceChannels(data: Float32Array, n: number, channels: number, mode: NormalizeMode): Float64Array {
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const base = i * channels;
    let best = 0;
    for (let c = 0; c < channels; c++) {
      let v = data[base + c];
      if (!Number.isFinite(v)) v = 0;
      if (mode === 'positive') {
        if (v > best) best = v;
      } else if (mode === 'abs') {
        const a = Math.abs(v);
        if (a > best) best = a;
      } else if (Math.abs(v) > Math.abs(best)) {
        best = v;
      }
    }
    out[i] = best;
  }
  return out;
}

function maxOf(a: Float64Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) if (a[i] > m) m = a[i];
  return m;
}

/** Percentile with linear interpolation between closest ranks (numpy's default method). */
function percentileOf(a: Float64Array, p: number): number {
  const sorted = Float64Array.from(a).sort();
  const rank = (p / 100) * (sorted.length - 1);
  const lo = Math.floor(rank);
  const hi = Math.min(lo + 1, sorted.length - 1);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (rank - lo);
}

function clamp01(v: number): number {
  // `v > 0` is false for NaN, so NaN could only come out as 0 (it cannot arise here anyway).
  return v > 0 ? (v < 1 ? v : 1) : 0;
}
