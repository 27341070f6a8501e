import { WhycamError } from '../errors';
import { TURBO_HEX, VIRIDIS_HEX } from './colormap-data';

/**
 * - `turbo`: Google's improved rainbow (Mikhailov 2019), exact published 256-entry sRGB table.
 * - `jet`: MATLAB's piecewise-linear definition (see `jetChannel`).
 * - `viridis`: matplotlib's perceptually uniform default, exact 256-entry table.
 * - `grey`: black (0) to white (1).
 */
export type ColormapName = 'turbo' | 'jet' | 'viridis' | 'grey';

export const COLORMAP_NAMES: readonly ColormapName[] = ['turbo', 'jet', 'viridis', 'grey'];

export type RGB = [number, number, number];

const lutCache = new Map<ColormapName, Uint8Array>();

function checkName(name: ColormapName): void {
  if (!COLORMAP_NAMES.includes(name)) {
    throw new WhycamError(
      'BAD_OPTION',
      `Unknown colour map "${String(name)}"; use one of: ${COLORMAP_NAMES.join(', ')}.`,
    );
  }
}

/** NaN -> 0, then clamp to [0, 1], so any number maps to a colour. */
function clampT(t: number): number {
  return t > 0 ? (t < 1 ? t : 1) : 0;
}

/**
 * MATLAB's jet: each channel is the same trapezoid, clamp(1.5 - |4t - c|, 0, 1), centred at
 * c = 3 (red), 2 (green), 1 (blue). So jet(0) = dark blue (0, 0, 0.5), jet(0.5) = (0.5, 1, 0.5),
 * jet(1) = dark red (0.5, 0, 0). MATLAB's `jet(m)` table samples this at t = i/m, i = 1..m.
 */
function jetChannel(t: number, centre: number): number {
  return Math.min(1, Math.max(0, 1.5 - Math.abs(4 * t - centre)));
}

function parseHexTable(hex: string): Uint8Array {
  const lut = new Uint8Array(hex.length / 2);
  for (let i = 0; i < lut.length; i++) lut[i] = parseInt(hex.substr(i * 2, 2), 16);
  return lut;
}

/** The shared (not copied) 256 x RGB table; internal so callers cannot corrupt it. */
function sharedLUT(name: ColormapName): Uint8Array {
  checkName(name);
  let lut = lutCache.get(name);
  if (lut) return lut;
  if (name === 'turbo') lut = parseHexTable(TURBO_HEX);
  else if (name === 'viridis') lut = parseHexTable(VIRIDIS_HEX);
  else {
    lut = new Uint8Array(256 * 3);
    for (let i = 0; i < 256; i++) {
      const t = i / 255;
      if (name === 'jet') {
        lut[i * 3] = Math.round(255 * jetChannel(t, 3));
        lut[i * 3 + 1] = Math.round(255 * jetChannel(t, 2));
        lut[i * 3 + 2] = Math.round(255 * jetChannel(t, 1));
      } else {
        lut.fill(i, i * 3, i * 3 + 3);
      }
    }
  }
  lutCache.set(name, lut);
  return lut;
}

/**
 * The colour map as 256 RGB entries (768 bytes): entry i is the colour of t = i / 255.
 * Returns a fresh copy.
 */
export function colormapLUT(name: ColormapName): Uint8Array {
  return sharedLUT(name).slice();
}

/**
 * The colour map as a function of t in [0, 1] (NaN -> 0, out-of-range values clamped) returning
 * 0..255 integers. Tables are linearly interpolated between entries, so t = i / 255 gives exactly
 * entry i; `jet` and `grey` are evaluated from their definitions.
 */
export function colormap(name: ColormapName): (t: number) => RGB {
  const lut = sharedLUT(name);
  if (name === 'jet') {
    return (t) => {
      const u = clampT(t);
      return [
        Math.round(255 * jetChannel(u, 3)),
        Math.round(255 * jetChannel(u, 2)),
        Math.round(255 * jetChannel(u, 1)),
      ];
    };
  }
  if (name === 'grey') {
    return (t) => {
      const v = Math.round(255 * clampT(t));
      return [v, v, v];
    };
  }
  return (t) => {
    const pos = clampT(t) * 255;
    const i0 = Math.floor(pos);
    const i1 = Math.min(i0 + 1, 255);
    const f = pos - i0;
    const rgb: RGB = [0, 0, 0];
    for (let c = 0; c < 3; c++) {
      const a = lut[i0 * 3 + c];
      rgb[c] = Math.round(a + (lut[i1 * 3 + c] - a) * f);
    }
    return rgb;
  };
}

/**
 * Colours a normalised map (values in [0, 1]; NaN -> 0, others clamped) as opaque RGBA, one
 * pixel per value, by LUT lookup at round(255 t).
 */
export function colorize(norm: ArrayLike<number>, name: ColormapName): Uint8ClampedArray {
  const lut = sharedLUT(name);
  const out = new Uint8ClampedArray(norm.length * 4);
  for (let i = 0; i < norm.length; i++) {
    const k = ((clampT(norm[i]) * 255 + 0.5) | 0) * 3;
    const o = i * 4;
    out[o] = lut[k];
    out[o + 1] = lut[k + 1];
    out[o + 2] = lut[k + 2];
    out[o + 3] = 255;
  }
  return out;
}

export interface ColorStop {
  /** Position along the legend, 0..1. */
  offset: number;
  /** CSS colour, '#rrggbb'. */
  color: string;
}

/**
 * `n` evenly spaced stops (n >= 2) for a legend: feed them to a CSS `linear-gradient` or an SVG
 * `<linearGradient>` (which interpolate between stops, so a few dozen suffice).
 */
export function colormapStops(name: ColormapName, n = 16): ColorStop[] {
  if (!Number.isInteger(n) || n < 2) {
    throw new WhycamError('BAD_OPTION', `A legend needs a whole number of stops >= 2; got ${n}.`);
  }
  const f = colormap(name);
  const hex = (v: number) => v.toString(16).padStart(2, '0');
  const stops: ColorStop[] = [];
  for (let i = 0; i < n; i++) {
    const offset = i / (n - 1);
    const [r, g, b] = f(offset);
    stops.push({ offset, color: `#${hex(r)}${hex(g)}${hex(b)}` });
  }
  return stops;
}
