/**
 * How much each input pixel matters by a map, the order the faithfulness curves remove or
 * insert pixels in, and rank correlation between maps. Plain TypeScript over typed arrays.
 */
import { upsample } from '../render/upsample';
import type { SaliencyMap } from '../methods/types';

/** One value per cell of the map's own grid: the raw value of a 1-channel map, else the largest |value| over channels. */
export function cellImportance(map: Pick<SaliencyMap, 'data' | 'width' | 'height' | 'channels'>): Float32Array {
  const { data, width, height, channels } = map;
  if (channels === 1) return data;
  const out = new Float32Array(width * height);
  for (let p = 0; p < out.length; p++) {
    let m = 0;
    for (let c = 0; c < channels; c++) m = Math.max(m, Math.abs(data[p * channels + c]));
    out[p] = m;
  }
  return out;
}

/** The map's importance at every pixel of a width x height input (bilinear, half-pixel centres, as the overlays). */
export function pixelImportance(map: Pick<SaliencyMap, 'data' | 'width' | 'height' | 'channels'>, width: number, height: number): Float32Array {
  const cells = cellImportance(map);
  if (map.width === width && map.height === height) return cells;
  return upsample({ data: cells, width: map.width, height: map.height }, width, height);
}

/** Pixel indices from the most to the least important; equal values in index order. NaN counts as least. */
export function pixelOrder(importance: Float32Array): Uint32Array {
  const order = Uint32Array.from(importance.keys());
  const key = (i: number) => (Number.isNaN(importance[i]) ? -Infinity : importance[i]);
  return order.sort((a, b) => key(b) - key(a) || a - b);
}

/** Ranks 1..n, ties sharing their average rank. */
function ranks(values: ArrayLike<number>): Float64Array {
  const n = values.length;
  const idx = Array.from({ length: n }, (_, i) => i).sort((a, b) => values[a] - values[b]);
  const r = new Float64Array(n);
  for (let i = 0; i < n;) {
    let j = i;
    while (j + 1 < n && values[idx[j + 1]] === values[idx[i]]) j++;
    const avg = (i + j) / 2 + 1;
    for (let k = i; k <= j; k++) r[idx[k]] = avg;
    i = j + 1;
  }
  return r;
}

/** Spearman's rank correlation; 0 when either side is constant. */
export function spearman(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`spearman: ${a.length} vs ${b.length} values`);
  const ra = ranks(a), rb = ranks(b);
  const n = ra.length;
  const mean = (n + 1) / 2;
  let sab = 0, saa = 0, sbb = 0;
  for (let i = 0; i < n; i++) {
    const da = ra[i] - mean, db = rb[i] - mean;
    sab += da * db;
    saa += da * da;
    sbb += db * db;
  }
  return saa === 0 || sbb === 0 ? 0 : sab / Math.sqrt(saa * sbb);
}
