import { COLORMAP_NAMES, colorize, colormap, colormapLUT, colormapStops, type ColormapName } from '../../src/render';
import { codeOf } from '../helpers/errors';

describe('turbo: entries of Google\'s published turbo_srgb_bytes table', () => {
  // Values copied from the published 256-entry byte table (Mikhailov 2019), entry i at t = i/255.
  const published: Array<[number, [number, number, number]]> = [
    [0, [48, 18, 59]],
    [1, [50, 21, 67]],
    [64, [40, 188, 235]],
    [128, [164, 252, 60]],
    [191, [251, 129, 34]],
    [192, [251, 126, 33]],
    [255, [122, 4, 3]],
  ];
  test.each(published)('entry %i', (i, rgb) => {
    expect(colormap('turbo')(i / 255)).toEqual(rgb);
    expect(Array.from(colormapLUT('turbo').subarray(i * 3, i * 3 + 3))).toEqual(rgb);
  });
});

describe('viridis: entries of matplotlib\'s 256-entry table (as d3-scale-chromatic publishes it in hex)', () => {
  const published: Array<[number, [number, number, number]]> = [
    [0, [68, 1, 84]], // #440154
    [64, [59, 82, 139]], // #3b528b
    [128, [33, 145, 140]], // #21918c
    [192, [94, 201, 98]], // #5ec962
    [255, [253, 231, 37]], // #fde725
  ];
  test.each(published)('entry %i', (i, rgb) => {
    expect(colormap('viridis')(i / 255)).toEqual(rgb);
    expect(Array.from(colormapLUT('viridis').subarray(i * 3, i * 3 + 3))).toEqual(rgb);
  });
});

describe("jet: MATLAB's definition", () => {
  /** MATLAB's jet.m, transcribed: the m-row table, values in [0, 1]. */
  function matlabJet(m: number): number[][] {
    const n = Math.ceil(m / 4);
    const u: number[] = [];
    for (let i = 1; i <= n; i++) u.push(i / n);
    for (let i = 1; i <= n - 1; i++) u.push(1);
    for (let i = n; i >= 1; i--) u.push(i / n);
    const g0 = Math.ceil(n / 2) - (m % 4 === 1 ? 1 : 0);
    const J = Array.from({ length: m }, () => [0, 0, 0]);
    u.forEach((v, k) => {
      const g = g0 + k + 1; // 1-based row
      const r = g + n;
      const b = g - n;
      if (g >= 1 && g <= m) J[g - 1][1] = v;
      if (r >= 1 && r <= m) J[r - 1][0] = v;
      if (b >= 1 && b <= m) J[b - 1][2] = v;
    });
    return J;
  }

  test('jet(64) row i equals our jet at t = i/64 (within 8-bit rounding)', () => {
    const f = colormap('jet');
    const table = matlabJet(64);
    table.forEach((row, k) => {
      const ours = f((k + 1) / 64);
      row.forEach((v, c) => expect(Math.abs(ours[c] - 255 * v)).toBeLessThanOrEqual(0.5));
    });
  });
  test('a few MATLAB jet(64) rows by hand', () => {
    const f = colormap('jet');
    expect(f(1 / 64)).toEqual([0, 0, Math.round(255 * 0.5625)]); // row 1: [0 0 0.5625]
    expect(f(24 / 64)).toEqual([0, 255, 255]); // row 24: [0 1 1]
    expect(f(40 / 64)).toEqual([255, 255, 0]); // row 40: [1 1 0]
    expect(f(1)).toEqual([128, 0, 0]); // row 64: [0.5 0 0]
  });
  test('endpoints and the green-ish middle', () => {
    const f = colormap('jet');
    expect(f(0)).toEqual([0, 0, 128]); // dark blue (0, 0, 0.5)
    const [r, g, b] = f(0.5);
    expect([r, g, b]).toEqual([128, 255, 128]); // (0.5, 1, 0.5)
    expect(g).toBeGreaterThan(r);
    expect(g).toBeGreaterThan(b);
  });
});

test('grey runs black to white', () => {
  const f = colormap('grey');
  expect(f(0)).toEqual([0, 0, 0]);
  expect(f(1)).toEqual([255, 255, 255]);
  expect(f(0.5)).toEqual([128, 128, 128]);
});

test('out-of-range and NaN inputs clamp to the ends', () => {
  for (const name of COLORMAP_NAMES) {
    const f = colormap(name);
    expect(f(-3)).toEqual(f(0));
    expect(f(NaN)).toEqual(f(0));
    expect(f(7)).toEqual(f(1));
    expect(f(Infinity)).toEqual(f(1));
  }
});

test('table maps interpolate linearly between entries', () => {
  // Halfway between turbo entries 0 (48,18,59) and 1 (50,21,67): (49, 19.5, 63) -> rounded
  expect(colormap('turbo')(0.5 / 255)).toEqual([49, 20, 63]);
});

test('LUTs have 256 entries matching colormap(name)(i/255) and are copies', () => {
  for (const name of COLORMAP_NAMES) {
    const lut = colormapLUT(name);
    expect(lut).toBeInstanceOf(Uint8Array);
    expect(lut.length).toBe(768);
    const f = colormap(name);
    for (let i = 0; i < 256; i++) expect(Array.from(lut.subarray(i * 3, i * 3 + 3))).toEqual(f(i / 255));
    lut.fill(0);
    expect(colormapLUT(name)[767]).toBe(f(1)[2]);
  }
});

test('colorize: RGBA, opaque, LUT entry round(255 t), NaN and out-of-range clamped', () => {
  const out = colorize(Float32Array.of(0, 1, NaN, -1, 2, 0.5), 'turbo');
  expect(out).toBeInstanceOf(Uint8ClampedArray);
  expect(Array.from(out)).toEqual([
    48, 18, 59, 255, // 0
    122, 4, 3, 255, // 1
    48, 18, 59, 255, // NaN -> 0
    48, 18, 59, 255, // -1 -> 0
    122, 4, 3, 255, // 2 -> 1
    164, 252, 60, 255, // 0.5 -> entry round(127.5) = 128
  ]);
});

test('colormapStops: n evenly spaced CSS colours', () => {
  expect(colormapStops('turbo', 2)).toEqual([
    { offset: 0, color: '#30123b' },
    { offset: 1, color: '#7a0403' },
  ]);
  const stops = colormapStops('viridis', 5);
  expect(stops.map((s) => s.offset)).toEqual([0, 0.25, 0.5, 0.75, 1]);
  expect(stops[0].color).toBe('#440154');
  expect(stops[4].color).toBe('#fde725');
  expect(colormapStops('grey').length).toBe(16);
  expect(codeOf(() => colormapStops('grey', 1))).toBe('BAD_OPTION');
});

test('unknown names are a BAD_OPTION naming the choices', () => {
  for (const fn of [
    () => colormap('hot' as ColormapName),
    () => colormapLUT('hot' as ColormapName),
    () => colorize(new Float32Array(1), 'hot' as ColormapName),
  ]) {
    expect(codeOf(fn)).toBe('BAD_OPTION');
  }
  expect(() => colormap('hot' as ColormapName)).toThrow(/turbo, jet, viridis, grey/);
});
