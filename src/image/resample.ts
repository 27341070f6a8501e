/**
 * Resampling a rectangle of an image to the model's input size, as float32 (no rounding to
 * bytes in between). Separable: one pass along rows, one along columns. Along an axis that
 * shrinks by more than 2x each output pixel is the area average of the source pixels it
 * covers (box filter, OpenCV's INTER_AREA), so a 4000x3000 photo does not alias into
 * 224x224; otherwise bilinear with half-pixel centres (image/bilinear.ts). The two agree at
 * exactly 2x, where a bilinear sample falls midway between two pixels.
 */
import { WhycamError } from '../errors';
import type { Region } from './fit';
import type { ImageInput } from './types';

/** Per output index along one axis: source indices and weights, CSR style. */
interface Taps {
  offsets: Int32Array;
  index: Int32Array;
  weight: Float64Array;
}

/** Taps reading source indices start .. start + length - 1 into `size` outputs. */
export function axisTaps(start: number, length: number, size: number): Taps {
  const scale = length / size;
  const index: number[] = [];
  const weight: number[] = [];
  const offsets = new Int32Array(size + 1);
  for (let d = 0; d < size; d++) {
    if (scale > 2) {
      const a = d * scale;
      const b = Math.min(length, (d + 1) * scale);
      for (let k = Math.floor(a); k < b; k++) {
        const overlap = Math.min(b, k + 1) - Math.max(a, k);
        if (overlap <= 0) continue;
        index.push(start + k);
        weight.push(overlap / scale);
      }
    } else {
      const c = Math.min(length - 1, Math.max(0, (d + 0.5) * scale - 0.5));
      const lo = Math.floor(c);
      const w = c - lo;
      index.push(start + lo);
      weight.push(1 - w);
      if (w > 0) {
        index.push(start + Math.min(lo + 1, length - 1));
        weight.push(w);
      }
    }
    offsets[d + 1] = index.length;
  }
  return { offsets, index: Int32Array.from(index), weight: Float64Array.from(weight) };
}

/**
 * Resamples `source` (whole pixels inside `image`) to `placed.width` x `placed.height` and
 * writes it at `placed` into `out`, a row-major `outWidth`-wide buffer with `outChannels`
 * values a pixel (the first `outChannels` of the image's: 3 drops alpha). Pixels of `out`
 * outside `placed` are left as they are.
 */
export function resampleInto(
  image: ImageInput, source: Region, out: Float32Array, outWidth: number, outChannels: number, placed: Region,
): void {
  const { width: sw, channels: sc, data } = image;
  const { x, y, width, height } = source;
  if (x < 0 || y < 0 || x + width > image.width || y + height > image.height || width < 1 || height < 1 || outChannels > sc) {
    throw new WhycamError('BAD_OPTION', `The source rectangle ${width}x${height} at (${x}, ${y}) is not inside the ${image.width}x${image.height} image.`);
  }
  const cols = axisTaps(x, width, placed.width);
  const rows = axisTaps(y, height, placed.height);
  const pw = placed.width;
  // Pass 1: every source row of the rectangle, resampled along x.
  const tmp = new Float32Array(height * pw * outChannels);
  for (let r = 0; r < height; r++) {
    const rowBase = (y + r) * sw;
    let o = r * pw * outChannels;
    for (let d = 0; d < pw; d++) {
      const end = cols.offsets[d + 1];
      for (let c = 0; c < outChannels; c++) {
        let acc = 0;
        for (let t = cols.offsets[d]; t < end; t++) acc += data[(rowBase + cols.index[t]) * sc + c] * cols.weight[t];
        tmp[o++] = acc;
      }
    }
  }
  // Pass 2: along y, into the placed rectangle of `out`.
  const rowLength = pw * outChannels;
  for (let d = 0; d < placed.height; d++) {
    let o = ((placed.y + d) * outWidth + placed.x) * outChannels;
    const start = rows.offsets[d];
    const end = rows.offsets[d + 1];
    for (let i = 0; i < rowLength; i++) {
      let acc = 0;
      for (let t = start; t < end; t++) acc += tmp[(rows.index[t] - y) * rowLength + i] * rows.weight[t];
      out[o++] = acc;
    }
  }
}
