/**
 * normalizationScale: the raw value a map's colour scale tops out at (what the app's legend
 * labels). Hand-computed on small maps, and on random ones the value normalizeMap divides by.
 */
import { normalizationScale, normalizeMap } from '../../src/render';

const map = (values: number[], width: number, height: number, channels = 1) => ({ data: Float32Array.from(values), width, height, channels });

test("'positive': the largest positive value over pixels and channels; 0 without positive evidence", () => {
  expect(normalizationScale(map([-1, 0, 2, 4], 2, 2), { mode: 'positive' })).toBe(4);
  expect(normalizationScale(map([-9, 3, 2, 1], 2, 1, 2), { mode: 'positive' })).toBe(3);
  expect(normalizationScale(map([-1, -2], 2, 1), { mode: 'positive' })).toBe(0);
  expect(normalizationScale(map([NaN, Infinity, 1.5], 3, 1), { mode: 'positive' })).toBe(1.5);
});

test("'abs': the 99th percentile of |v| (linear between ranks), the max when that is 0", () => {
  // |v| = 0..100 over 101 pixels: rank 0.99 * 100 = 99 exactly.
  const ramp = Array.from({ length: 101 }, (_, i) => (i % 2 ? -i : i));
  expect(normalizationScale(map(ramp, 101, 1), { mode: 'abs' })).toBeCloseTo(99, 10);
  // 0..9: rank 8.91 -> 8 + 0.91 * (9 - 8).
  expect(normalizationScale(map([0, 1, 2, 3, 4, 5, 6, 7, 8, 9], 10, 1), { mode: 'abs' })).toBeCloseTo(8.91, 10);
  expect(normalizationScale(map([0, 1, 2, 3, 4, 5, 6, 7, 8, 9], 10, 1), { mode: 'abs', percentile: 50 })).toBeCloseTo(4.5, 10);
  // One pixel of 200 set: the 99th percentile is 0, so the scale is the max.
  expect(normalizationScale(map([...new Array(199).fill(0), -7], 200, 1), { mode: 'abs' })).toBe(7);
  expect(normalizationScale(map([0, 0], 2, 1), { mode: 'abs' })).toBe(0);
});

test("'signed': the largest |v|; an empty map has scale 0", () => {
  expect(normalizationScale(map([1, -3, 2], 3, 1), { mode: 'signed' })).toBe(3);
  expect(normalizationScale(map([], 0, 0), { mode: 'positive' })).toBe(0);
});

test('on random maps, normalizeMap is min(p / scale, 1) with this scale', () => {
  let seed = 7;
  const rand = () => ((seed = (seed * 1664525 + 1013904223) >>> 0) / 2 ** 32) * 2 - 1;
  for (const mode of ['positive', 'abs'] as const) {
    const m = map(Array.from({ length: 12 * 9 * 3 }, () => rand() * 50), 12, 9, 3);
    const s = normalizationScale(m, { mode });
    const out = normalizeMap(m, { mode });
    for (let i = 0; i < 12 * 9; i++) {
      const vs = [0, 1, 2].map((c) => m.data[i * 3 + c]);
      const p = Math.max(0, ...vs.map((v) => (mode === 'abs' ? Math.abs(v) : v)));
      expect(out[i]).toBeCloseTo(Math.min(p / s, 1), 6);
    }
  }
});
