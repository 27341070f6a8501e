import { WhycamError } from '../errors';
import { checkMapShape } from './shape';

/** Any flat numeric array that bilinear resizing can write into (Uint8ClampedArray rounds and clamps). */
export type WritableNumericArray = Float32Array | Float64Array | Uint8Array | Uint8ClampedArray;

/**
 * Bilinear resize with half-pixel centres (see render/upsample.ts for the convention), the loop behind
 * `upsample` and the image resizer: writes the resized map into `dst`
 * (length dstWidth * dstHeight * channels). Shapes are checked here.
 */
export function resizeBilinearInto(
  src: ArrayLike<number>,
  srcWidth: number,
  srcHeight: number,
  channels: number,
  dst: WritableNumericArray,
  dstWidth: number,
  dstHeight: number,
): void {
  checkMapShape(src.length, srcWidth, srcHeight, channels, 'source map');
  if (srcWidth === 0 || srcHeight === 0) {
    throw new WhycamError('INPUT_SHAPE', `Cannot resize an empty ${srcWidth}x${srcHeight} map.`);
  }
  if (!Number.isInteger(dstWidth) || !Number.isInteger(dstHeight) || dstWidth < 1 || dstHeight < 1) {
    throw new WhycamError(
      'BAD_OPTION',
      `Target size must be whole numbers >= 1; got ${dstWidth}x${dstHeight}.`,
    );
  }
  checkMapShape(dst.length, dstWidth, dstHeight, channels, 'destination buffer');

  if (srcWidth === dstWidth && srcHeight === dstHeight) {
    for (let i = 0; i < src.length; i++) dst[i] = src[i];
    return;
  }

  // Per-axis source indices and weights, computed once instead of per pixel.
  const xs = axisSamples(srcWidth, dstWidth);
  const ys = axisSamples(srcHeight, dstHeight);
  const rowStride = srcWidth * channels;

  for (let y = 0; y < dstHeight; y++) {
    const top = ys.i0[y] * rowStride;
    const bottom = ys.i1[y] * rowStride;
    const wy = ys.w[y];
    let o = y * dstWidth * channels;
    for (let x = 0; x < dstWidth; x++) {
      const left = xs.i0[x] * channels;
      const right = xs.i1[x] * channels;
      const wx = xs.w[x];
      for (let c = 0; c < channels; c++) {
        const tl = src[top + left + c];
        const tr = src[top + right + c];
        const bl = src[bottom + left + c];
        const br = src[bottom + right + c];
        const t = tl + (tr - tl) * wx;
        const b = bl + (br - bl) * wx;
        dst[o++] = t + (b - t) * wy;
      }
    }
  }
}

function axisSamples(srcSize: number, dstSize: number): { i0: Int32Array; i1: Int32Array; w: Float64Array } {
  const i0 = new Int32Array(dstSize);
  const i1 = new Int32Array(dstSize);
  const w = new Float64Array(dstSize);
  const scale = srcSize / dstSize;
  for (let d = 0; d < dstSize; d++) {
    let s = (d + 0.5) * scale - 0.5;
    if (s < 0) s = 0;
    if (s > srcSize - 1) s = srcSize - 1;
    const lo = Math.floor(s);
    i0[d] = lo;
    i1[d] = Math.min(lo + 1, srcSize - 1);
    w[d] = s - lo;
  }
  return { i0, i1, w };
}
