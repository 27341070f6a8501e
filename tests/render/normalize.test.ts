import { normalizeMap, type NormalizeMode } from '../../src/render';
import { codeOf } from '../helpers/errors';

const map = (values: number[], width: number, height: number, channels = 1) => ({
  data: Float32Array.from(values),
  width,
  height,
  channels,
});

function expectClose(actual: Float32Array, expected: number[]): void {
  expect(actual.length).toBe(expected.length);
  expected.forEach((v, i) => expect(actual[i]).toBeCloseTo(v, 6));
}

describe("'positive' (class maps): clamp negatives, divide by the max", () => {
  test('2x2 signed map', () => {
    expectClose(normalizeMap(map([-1, 0, 2, 4], 2, 2), { mode: 'positive' }), [0, 0, 0.5, 1]);
  });
  test('channels reduce by max of the clamped values', () => {
    // pixel 0: max(0, 3) = 3, pixel 1: max(2, 1) = 2; scale 3
    expectClose(normalizeMap(map([-1, 3, 2, 1], 2, 1, 2), { mode: 'positive' }), [1, 2 / 3]);
  });
  test('all-zero, all-negative and constant-negative maps give all 0', () => {
    expectClose(normalizeMap(map([0, 0, 0, 0], 2, 2), { mode: 'positive' }), [0, 0, 0, 0]);
    expectClose(normalizeMap(map([-1, -2, -3, -4], 2, 2), { mode: 'positive' }), [0, 0, 0, 0]);
    expectClose(normalizeMap(map([-5, -5], 2, 1), { mode: 'positive' }), [0, 0]);
  });
  test('a constant positive map gives all 1', () => {
    expectClose(normalizeMap(map([5, 5, 5], 3, 1), { mode: 'positive' }), [1, 1, 1]);
  });
  test('NaN and +-Infinity count as 0', () => {
    expectClose(normalizeMap(map([NaN, 2, Infinity, -Infinity], 2, 2), { mode: 'positive' }), [0, 1, 0, 0]);
    expectClose(normalizeMap(map([NaN, NaN], 2, 1), { mode: 'positive' }), [0, 0]);
  });
  test('tiny values keep their ratios', () => {
    expectClose(normalizeMap(map([1e-30, 4e-30], 2, 1), { mode: 'positive' }), [0.25, 1]);
  });
});

describe("'abs' (gradient maps): max |v| over channels, divide by a percentile, clip at 1", () => {
  test('99th percentile by linear interpolation between ranks', () => {
    // |v| = 0..9; rank 0.99 * 9 = 8.91 -> 8 + 0.91 * (9 - 8) = 8.91
    const v = [0, -1, 2, -3, 4, -5, 6, -7, 8, -9];
    const out = normalizeMap(map(v, 5, 2), { mode: 'abs' });
    expectClose(out, v.map((x) => Math.min(Math.abs(x) / 8.91, 1)));
    expect(out[9]).toBe(1);
  });
  test('percentile option: 50th of 0..9 is 4.5', () => {
    const v = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9];
    expectClose(normalizeMap(map(v, 10, 1), { mode: 'abs', percentile: 50 }), v.map((x) => Math.min(x / 4.5, 1)));
  });
  test('percentile 100 divides by the max', () => {
    expectClose(normalizeMap(map([1, -2, 4, 0], 2, 2), { mode: 'abs', percentile: 100 }), [0.25, 0.5, 1, 0]);
  });
  test('channels reduce by max |v|', () => {
    // pixel 0: max(|-4|, 1, 2) = 4; pixel 1: max(1, |-2|, 0) = 2
    expectClose(normalizeMap(map([-4, 1, 2, 1, -2, 0], 2, 1, 3), { mode: 'abs', percentile: 100 }), [1, 0.5]);
  });
  test('one huge outlier saturates instead of darkening everything else', () => {
    // 100 pixels of 1 and one of 1000: rank 0.99 * 100 = 99 -> sorted[99] = 1
    const v = new Array(100).fill(1).concat([1000]);
    const out = normalizeMap(map(v, 101, 1), { mode: 'abs' });
    expect(Array.from(out)).toEqual(new Array(101).fill(1));
  });
  test('sparse map whose percentile is 0 falls back to the max', () => {
    // 200 pixels, one non-zero: rank 0.99 * 199 = 197.01 lies between two zeros -> s = 0 -> max
    const v = new Array(200).fill(0);
    v[17] = -3;
    const out = normalizeMap(map(v, 20, 10), { mode: 'abs' });
    expect(out[17]).toBe(1);
    expect(out.reduce((a, b) => a + b, 0)).toBe(1);
    // two non-zero: s = sorted[197] + 0.01 * (sorted[198] - sorted[197]) = 0.01 * 1.5 -> both clip to 1
    v[42] = 1.5;
    const two = normalizeMap(map(v, 20, 10), { mode: 'abs' });
    expect([two[17], two[42]]).toEqual([1, 1]);
    expect(two.reduce((a, b) => a + b, 0)).toBe(2);
  });
  test('all-zero and all-NaN maps give all 0; NaN and Infinity count as 0', () => {
    expectClose(normalizeMap(map([0, 0, 0, 0], 2, 2), { mode: 'abs' }), [0, 0, 0, 0]);
    expectClose(normalizeMap(map([NaN, NaN, NaN], 3, 1), { mode: 'abs' }), [0, 0, 0]);
    expectClose(normalizeMap(map([NaN, -2, Infinity, 1], 2, 2), { mode: 'abs', percentile: 100 }), [0, 1, 0, 0.5]);
  });
  test('constant and all-negative maps', () => {
    expectClose(normalizeMap(map([-3, -3, -3, -3], 2, 2), { mode: 'abs' }), [1, 1, 1, 1]);
    expectClose(normalizeMap(map([-1, -2, -4, -4], 2, 2), { mode: 'abs', percentile: 100 }), [0.25, 0.5, 1, 1]);
  });
});

describe("'signed': v / max|v| mapped to [0, 1], 0 -> 0.5", () => {
  test('2x2 map', () => {
    expectClose(normalizeMap(map([-2, 0, 1, 2], 2, 2), { mode: 'signed' }), [0, 0.5, 0.75, 1]);
  });
  test('all-zero map gives all 0.5; constant maps give 1 or 0', () => {
    expectClose(normalizeMap(map([0, 0, 0, 0], 2, 2), { mode: 'signed' }), [0.5, 0.5, 0.5, 0.5]);
    expectClose(normalizeMap(map([3, 3], 2, 1), { mode: 'signed' }), [1, 1]);
    expectClose(normalizeMap(map([-3, -3], 2, 1), { mode: 'signed' }), [0, 0]);
  });
  test('all-negative map stays in the lower half', () => {
    expectClose(normalizeMap(map([-1, -2, -4, -4], 2, 2), { mode: 'signed' }), [0.375, 0.25, 0, 0]);
  });
  test('channels reduce to the value of largest magnitude, sign kept, first on ties', () => {
    // pixel 0: (-3, 2) -> -3; pixel 1: (1, -1) -> 1 (tie, first); scale 3
    expectClose(normalizeMap(map([-3, 2, 1, -1], 2, 1, 2), { mode: 'signed' }), [0, 0.5 + 0.5 / 3]);
  });
  test('NaN and Infinity count as 0', () => {
    expectClose(normalizeMap(map([NaN, -Infinity, 4, Infinity], 2, 2), { mode: 'signed' }), [0.5, 0.5, 1, 0.5]);
    expectClose(normalizeMap(map([NaN, NaN], 2, 1), { mode: 'signed' }), [0.5, 0.5]);
  });
});

test('never NaN, always in [0, 1], for hostile maps in every mode', () => {
  const specials = [NaN, Infinity, -Infinity, 0, -0, 1e-45, -1e-45, 3.4e38, -3.4e38, 1, -1];
  let seed = 12345;
  const rand = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
  for (const mode of ['positive', 'abs', 'signed'] as NormalizeMode[]) {
    for (let trial = 0; trial < 50; trial++) {
      const values = Array.from({ length: 4 * 3 * 2 }, () => specials[Math.floor(rand() * specials.length)]);
      const out = normalizeMap(map(values, 4, 3, 2), { mode });
      expect(out.length).toBe(12);
      for (const v of out) {
        expect(Number.isFinite(v)).toBe(true);
        expect(v).toBeGreaterThanOrEqual(0);
        expect(v).toBeLessThanOrEqual(1);
      }
    }
  }
});

test('an empty 0x0 map gives an empty result', () => {
  expect(normalizeMap(map([], 0, 0), { mode: 'abs' }).length).toBe(0);
});

test('input is not modified and output is a new single-channel array', () => {
  const m = map([-1, 2, 3, -4], 2, 1, 2);
  const copy = Float32Array.from(m.data);
  const out = normalizeMap(m, { mode: 'positive' });
  expect(out).not.toBe(m.data);
  expect(out.length).toBe(2);
  expect(m.data).toEqual(copy);
});

test('typed errors for bad shapes and options', () => {
  expect(codeOf(() => normalizeMap(map([1, 2, 3], 2, 2), { mode: 'abs' }))).toBe('INPUT_SHAPE');
  expect(codeOf(() => normalizeMap(map([1, 2], 2, 1, 0), { mode: 'abs' }))).toBe('INPUT_SHAPE');
  expect(codeOf(() => normalizeMap(map([1, 2], 2.5, 1), { mode: 'abs' }))).toBe('INPUT_SHAPE');
  expect(codeOf(() => normalizeMap(map([1], 1, 1), { mode: 'relu' as NormalizeMode }))).toBe('BAD_OPTION');
  expect(codeOf(() => normalizeMap(map([1], 1, 1), { mode: 'abs', percentile: 0 }))).toBe('BAD_OPTION');
  expect(codeOf(() => normalizeMap(map([1], 1, 1), { mode: 'abs', percentile: 101 }))).toBe('BAD_OPTION');
  expect(codeOf(() => normalizeMap(map([1], 1, 1), { mode: 'abs', percentile: NaN }))).toBe('BAD_OPTION');
});
