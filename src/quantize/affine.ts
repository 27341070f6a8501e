/**
 * Affine uint8/uint16 quantisation per tensor, the convention of tfjs-converter's
 * `quantization.py` (quantize_weights, _get_affine_quantization_range) that tfjs-core's
 * `decodeWeights` inverts with `value = q * scale + min`:
 * - min and max of the tensor, in double precision; scale = (max - min) / (2^bits - 1);
 * - when 0 lies in [min, max], min is nudged to -round(-min / scale) * scale (as TF-Lite's
 *   NudgeQuantizationRange) so that 0 decodes to exactly 0 — zero padding and ReLU zeros
 *   stay zero — and max becomes min + qmax * scale; values are clipped to that range;
 * - q = round((x - min) / scale) with numpy's rounding: half to even;
 * - a constant tensor is all zeros with scale 1 and min the constant (decodes exactly).
 * The error per element is at most scale / 2 (the nudge moves the range by at most scale / 2).
 */

export type AffineDtype = 'uint8' | 'uint16';

export interface AffineQuantized {
  data: Uint8Array | Uint16Array;
  scale: number;
  min: number;
}

export const QMAX: Record<AffineDtype, number> = { uint8: 255, uint16: 65535 };

/** numpy.round: ties go to the even neighbour. */
export function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

export interface AffineRange {
  scale: number;
  min: number;
  max: number;
}

/** The (nudged) range and scale for data spanning [min, max]; min < max, both finite. */
export function affineRange(min: number, max: number, dtype: AffineDtype): AffineRange {
  const qmax = QMAX[dtype];
  const scale = (max - min) / qmax;
  if (min <= 0 && 0 <= max) {
    const zeroPoint = roundHalfEven((0 - min) / scale); // as written there: -min would flip the sign of a zero min
    const nudgedMin = -zeroPoint * scale;
    return { scale, min: nudgedMin, max: qmax * scale + nudgedMin };
  }
  // The converter does not nudge when 0 is outside the range: nothing to keep exact.
  return { scale, min, max };
}

/** Quantises finite values; callers keep tensors with NaN or Infinity in float32. */
export function quantizeAffine(values: ArrayLike<number>, dtype: AffineDtype): AffineQuantized {
  const n = values.length;
  const data = dtype === 'uint8' ? new Uint8Array(n) : new Uint16Array(n);
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < n; i++) {
    const v = values[i];
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  if (n === 0) return { data, scale: 1, min: 0 };
  if (lo === hi) return { data, scale: 1, min: lo };
  const { scale, min, max } = affineRange(lo, hi, dtype);
  const qmax = QMAX[dtype];
  for (let i = 0; i < n; i++) {
    const v = Math.min(max, Math.max(min, values[i]));
    // The clamp only guards against the last-bit error of (max - min) / scale in doubles.
    data[i] = Math.min(qmax, Math.max(0, roundHalfEven((v - min) / scale)));
  }
  return { data, scale, min };
}
