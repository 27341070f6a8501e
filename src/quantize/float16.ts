/**
 * IEEE 754 binary16 from float32, bit-exact with numpy's `astype(np.float16)`, which is
 * what tfjs-converter's `quantization.py` uses for 'float16': round to nearest, ties to
 * even, gradual underflow to subnormals, finite values >= 65520 overflow to Infinity.
 * tfjs-core decodes the bits with table lookups (io_utils.ts getFloat16Decoder).
 */

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** The binary16 bits of the float32 whose bits are `bits` (an unsigned 32-bit integer). */
export function float16BitsFromFloat32Bits(bits: number): number {
  const sign = (bits >>> 16) & 0x8000;
  const exp = (bits >>> 23) & 0xff;
  const mant = bits & 0x7fffff;
  if (exp === 0xff) {
    // Infinity stays Infinity; NaN stays a (quiet) NaN: the payload may not survive but NaN-ness must.
    return mant === 0 ? sign | 0x7c00 : sign | 0x7e00 | (mant >>> 13);
  }
  const e = exp - 127 + 15; // rebias
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    // Subnormal half (or zero): value = m * 2^(e-38) with the implicit bit, in units of 2^-24.
    if (e < -10) return sign; // below 2^-25: rounds to (signed) zero
    const m = mant | 0x800000;
    const shift = 14 - e;
    let h = m >>> shift;
    const rem = m & ((1 << shift) - 1);
    const half = 1 << (shift - 1);
    if (rem > half || (rem === half && (h & 1) === 1)) h++; // a carry into 0x400 is the smallest normal: still right
    return sign | h;
  }
  let h = (e << 10) | (mant >>> 13);
  const rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && (h & 1) === 1)) h++; // a carry past 0x7bff gives 0x7c00 = Infinity, as IEEE says
  return sign | h;
}

/** The binary16 bits nearest to `x` after rounding `x` to float32 first (weights are float32). */
export function float32ToFloat16Bits(x: number): number {
  f32[0] = x;
  return float16BitsFromFloat32Bits(u32[0]);
}

/** The value of binary16 bits, exactly (every half is a float32, and a double). */
export function float16BitsToNumber(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >>> 10) & 0x1f;
  const mant = h & 0x3ff;
  if (exp === 0) return sign * mant * 2 ** -24;
  if (exp === 0x1f) return mant === 0 ? sign * Infinity : NaN;
  return sign * (1 + mant / 1024) * 2 ** (exp - 15);
}
