/**
 * Procedural backgrounds and distractors for the scenes: smooth gradients, fractal
 * noise ("stone", "clouds", "marble"), fabric-like stripes and checks, wood grain,
 * out-of-focus blobs, then vignetting and sensor grain. All drawing is into a
 * Float32Array RGB buffer in 0..1, row-major, 3 values a pixel; every random choice
 * comes from the Rng passed in.
 */
import type { Rng } from './prng';

export type Rgb = [number, number, number];

export function hsvToRgb(h: number, s: number, v: number): Rgb {
  const i = Math.floor(h * 6) % 6;
  const f = h * 6 - Math.floor(h * 6);
  const p = v * (1 - s), q = v * (1 - f * s), t = v * (1 - (1 - f) * s);
  switch (i) {
    case 0: return [v, t, p];
    case 1: return [q, v, p];
    case 2: return [p, v, t];
    case 3: return [p, q, v];
    case 4: return [t, p, v];
    default: return [v, p, q];
  }
}

export function randomColor(rng: Rng, sat: [number, number] = [0, 1], val: [number, number] = [0.05, 1]): Rgb {
  return hsvToRgb(rng.next(), rng.range(sat[0], sat[1]), rng.range(val[0], val[1]));
}

/** Rec. 601 luma of an RGB triple in 0..1. */
export function luma(c: Rgb): number {
  return 0.299 * c[0] + 0.587 * c[1] + 0.114 * c[2];
}

const smooth = (t: number) => t * t * (3 - 2 * t);

/** A soft-edged periodic band: 1 inside the duty fraction of each period, 0 outside. */
function band(w: number, duty: number, soft: number): number {
  const f = w - Math.floor(w);
  return Math.min(1, Math.max(0, (Math.abs(f - duty / 2) * 2 - duty / 2 + soft) / (2 * soft)));
}
const lerp = (a: number, b: number, t: number) => a + (b - a) * t;

/** Fractal value noise in ~0..1 over an s x s grid: `octaves` lattices, each twice as fine. */
export function valueNoise(rng: Rng, s: number, cell: number, octaves: number): Float32Array {
  const out = new Float32Array(s * s);
  // Per column: lattice index and smoothed fraction; per lattice row pair: the two
  // horizontal lerps, which only change when the row's lattice index does.
  const ixs = new Int32Array(s), txs = new Float64Array(s), top = new Float64Array(s), bottom = new Float64Array(s);
  let amp = 1, total = 0;
  for (let o = 0; o < octaves; o++) {
    const c = Math.max(2, cell / (1 << o));
    const n = Math.ceil(s / c) + 2;
    const lat = scratchLattice(n * n);
    for (let i = 0; i < n * n; i++) lat[i] = rng.next();
    const ox = rng.next() * c, oy = rng.next() * c;
    for (let x = 0; x < s; x++) {
      const fx = (x + ox) / c, ix = Math.floor(fx);
      ixs[x] = ix;
      txs[x] = smooth(fx - ix);
    }
    let rowOf = -1;
    for (let y = 0; y < s; y++) {
      const fy = (y + oy) / c, iy = Math.floor(fy), ty = smooth(fy - iy);
      if (iy !== rowOf) {
        rowOf = iy;
        const r0 = iy * n, r1 = (iy + 1) * n;
        for (let x = 0; x < s; x++) {
          const ix = ixs[x], tx = txs[x];
          top[x] = lerp(lat[r0 + ix], lat[r0 + ix + 1], tx);
          bottom[x] = lerp(lat[r1 + ix], lat[r1 + ix + 1], tx);
        }
      }
      const row = y * s;
      for (let x = 0; x < s; x++) out[row + x] += amp * lerp(top[x], bottom[x], ty);
    }
    total += amp;
    amp *= 0.5;
  }
  for (let i = 0; i < out.length; i++) out[i] /= total;
  return out;
}

/** valueNoise's lattice buffer, reused across calls (each call overwrites the part it reads). */
let lattice = new Float32Array(0);
function scratchLattice(len: number): Float32Array {
  if (lattice.length < len) lattice = new Float32Array(len);
  return lattice;
}

/** Maps t in 0..1 through a palette of colours (piecewise linear). */
function paletteAt(pal: Rgb[], t: number): Rgb {
  const u = Math.min(0.99999, Math.max(0, t)) * (pal.length - 1);
  const i = Math.floor(u), f = u - i;
  const a = pal[i], b = pal[i + 1];
  return [lerp(a[0], b[0], f), lerp(a[1], b[1], f), lerp(a[2], b[2], f)];
}

/** paletteAt(pal, t) written straight into pixel p of img (no array per pixel). */
function putPalette(img: Float32Array, p: number, pal: Rgb[], t: number): void {
  const u = Math.min(0.99999, Math.max(0, t)) * (pal.length - 1);
  const i = Math.floor(u), f = u - i;
  const a = pal[i], b = pal[i + 1];
  img[3 * p] = lerp(a[0], b[0], f);
  img[3 * p + 1] = lerp(a[1], b[1], f);
  img[3 * p + 2] = lerp(a[2], b[2], f);
}

/** A palette of related colours (photographs are rarely rainbow-coloured). */
function randomPalette(rng: Rng, n: number): Rgb[] {
  const hue = rng.next();
  const spread = rng.range(0.02, 0.35);
  const pal: Rgb[] = [];
  for (let i = 0; i < n; i++) {
    pal.push(hsvToRgb((hue + rng.range(-spread, spread) + 1) % 1, rng.range(0, 0.8), rng.range(0.08, 1)));
  }
  return pal;
}

export type BackgroundKind = 'gradient' | 'noise' | 'marble' | 'stripes' | 'checks' | 'wood' | 'bokeh';
export const BACKGROUND_KINDS: readonly BackgroundKind[] = ['gradient', 'noise', 'marble', 'stripes', 'checks', 'wood', 'bokeh'];

/** Fills `img` (s x s x 3, 0..1) with a background of the given kind. */
export function drawBackground(rng: Rng, img: Float32Array, s: number, kind: BackgroundKind): void {
  // Texture scales are set for a 96 px scene and follow the scene size.
  const u = s / 96;
  const pal = randomPalette(rng, rng.int(2, 4));
  const angle = rng.next() * Math.PI;
  const ca = Math.cos(angle), sa = Math.sin(angle);
  // Row terms are hoisted out of the x loops without reordering any float operation: the scenes, and so the trained model, depend on every bit.
  switch (kind) {
    case 'gradient': {
      const radial = rng.chance(0.4);
      const cx = rng.range(0, s), cy = rng.range(0, s);
      const noise = valueNoise(rng, s, s / 2, 2);
      const h = s / 2, rMax = 1.2 * s;
      for (let y = 0; y < s; y++) {
        const dy2 = (y - cy) * (y - cy), ys = (y - h) * sa;
        for (let x = 0; x < s; x++) {
          const t = radial ? Math.sqrt((x - cx) * (x - cx) + dy2) / rMax : ((x - h) * ca + ys) / s + 0.5;
          putPalette(img, y * s + x, pal, t + 0.15 * (noise[y * s + x] - 0.5));
        }
      }
      break;
    }
    case 'noise': {
      const n = valueNoise(rng, s, rng.range(6, 40) * u, rng.int(2, 5));
      const contrast = rng.range(1, 2.5);
      for (let i = 0; i < s * s; i++) putPalette(img, i, pal, 0.5 + contrast * (n[i] - 0.5));
      break;
    }
    case 'marble': {
      const n = valueNoise(rng, s, rng.range(16, 48) * u, 4);
      const freq = (rng.range(2, 8) * 2 * Math.PI) / s, warp = rng.range(4, 14);
      for (let y = 0; y < s; y++) {
        const ys = y * sa;
        for (let x = 0; x < s; x++) {
          const u = (x * ca + ys) * freq + warp * n[y * s + x];
          putPalette(img, y * s + x, pal, 0.5 + 0.5 * Math.sin(u));
        }
      }
      break;
    }
    case 'stripes':
    case 'checks': {
      const period = Math.max(3, rng.range(5, 24) * u), duty = rng.range(0.2, 0.8), soft = rng.range(0.05, 0.3);
      const a = pal[0], b = pal[pal.length - 1];
      const n = valueNoise(rng, s, 4 * u, 2);
      const checks = kind === 'checks';
      for (let y = 0; y < s; y++) {
        const ys = y * sa, yc = y * ca;
        for (let x = 0; x < s; x++) {
          let t = band((x * ca + ys) / period, duty, soft);
          if (checks) t = 0.5 * (t + band((-x * sa + yc) / period, duty, soft));
          t += 0.1 * (n[y * s + x] - 0.5);
          const i = 3 * (y * s + x);
          img[i] = lerp(a[0], b[0], t); img[i + 1] = lerp(a[1], b[1], t); img[i + 2] = lerp(a[2], b[2], t);
        }
      }
      break;
    }
    case 'wood': {
      const n = valueNoise(rng, s, rng.range(12, 40) * u, 3);
      const cx = rng.range(-s, 2 * s), cy = rng.range(-s, 2 * s);
      const freq = rng.range(0.15, 0.6) / u;
      const light = hsvToRgb(rng.range(0.04, 0.12), rng.range(0.3, 0.7), rng.range(0.5, 0.95));
      const dark = [light[0] * 0.55, light[1] * 0.5, light[2] * 0.45] as Rgb;
      const dx2 = new Float64Array(s);
      for (let x = 0; x < s; x++) dx2[x] = (x - cx) * (x - cx) * 0.09;
      for (let y = 0; y < s; y++) {
        const dy2 = (y - cy) * (y - cy);
        for (let x = 0; x < s; x++) {
          const r = Math.sqrt(dx2[x] + dy2) * freq + 6 * n[y * s + x];
          const w = 0.5 + 0.5 * Math.sin(r), t = w * w * w;
          const i = 3 * (y * s + x);
          img[i] = lerp(light[0], dark[0], t); img[i + 1] = lerp(light[1], dark[1], t); img[i + 2] = lerp(light[2], dark[2], t);
        }
      }
      break;
    }
    case 'bokeh': {
      const base = paletteAt(pal, rng.next());
      const r = base[0] * 0.6, g = base[1] * 0.6, b = base[2] * 0.6;
      for (let i = 0; i < s * s; i++) { img[3 * i] = r; img[3 * i + 1] = g; img[3 * i + 2] = b; }
      const count = rng.int(6, 30);
      for (let k = 0; k < count; k++) {
        const c = rng.chance(0.5) ? paletteAt(pal, rng.next()) : randomColor(rng, [0, 0.7], [0.3, 1]);
        const cx = rng.range(-8, s + 8), cy = rng.range(-8, s + 8), r = rng.range(3, s / 4), a = rng.range(0.15, 0.6);
        softDisc(img, s, cx, cy, r, c, a, r * 0.5);
      }
      break;
    }
  }
  // Photographs are rarely all contrast: mute the texture towards its mean colour by a random amount.
  const keep = rng.range(0.25, 0.75);
  const n = s * s;
  // A multiply by 1 / n, far cheaper than a divide; for the 64x64 scenes (n a power of two) the same bits as x / n.
  const inv = 1 / n;
  let m0 = 0, m1 = 0, m2 = 0;
  for (let i = 0; i < 3 * n; i += 3) { m0 += img[i] * inv; m1 += img[i + 1] * inv; m2 += img[i + 2] * inv; }
  for (let i = 0; i < 3 * n; i += 3) {
    img[i] = m0 + keep * (img[i] - m0); img[i + 1] = m1 + keep * (img[i + 1] - m1); img[i + 2] = m2 + keep * (img[i + 2] - m2);
  }
}

/** A disc with a soft edge (width `feather` px), alpha-blended over img. */
function softDisc(img: Float32Array, s: number, cx: number, cy: number, r: number, c: Rgb, alpha: number, feather: number): void {
  const x0 = Math.max(0, Math.floor(cx - r - feather)), x1 = Math.min(s - 1, Math.ceil(cx + r + feather));
  const y0 = Math.max(0, Math.floor(cy - r - feather)), y1 = Math.min(s - 1, Math.ceil(cy + r + feather));
  const edge = r + feather / 2, width = Math.max(1e-3, feather);
  for (let y = y0; y <= y1; y++) {
    const dy2 = (y + 0.5 - cy) * (y + 0.5 - cy);
    for (let x = x0; x <= x1; x++) {
      const d = Math.sqrt((x + 0.5 - cx) * (x + 0.5 - cx) + dy2);
      const a = alpha * Math.min(1, Math.max(0, (edge - d) / width));
      if (a <= 0) continue;
      const i = 3 * (y * s + x);
      img[i] += a * (c[0] - img[i]); img[i + 1] += a * (c[1] - img[i + 1]); img[i + 2] += a * (c[2] - img[i + 2]);
    }
  }
}

export type DistractorKind = 'disc' | 'ring' | 'rect' | 'triangle' | 'line' | 'blob';
const DISTRACTORS: readonly DistractorKind[] = ['disc', 'ring', 'rect', 'triangle', 'line', 'blob'];

/**
 * One distractor's coverage test, with its per-shape terms computed once. A single
 * method with a switch (rather than one closure per kind) keeps the call site
 * monomorphic, so V8 inlines it into the pixel loop.
 */
class Shape {
  private readonly r2: number;
  private readonly ringOut: number;
  private readonly ringIn: number;
  private readonly halfU: number;
  private readonly halfV: number;
  private readonly ax: number; private readonly ay: number;
  private readonly bx: number; private readonly by: number;
  private readonly tx: number; private readonly ty: number;
  private readonly e1x: number; private readonly e1y: number;
  private readonly e2x: number; private readonly e2y: number;
  private readonly e3x: number; private readonly e3y: number;

  constructor(
    private readonly kind: DistractorKind, private readonly s: number,
    private readonly cx: number, private readonly cy: number, size: number,
    private readonly ca: number, private readonly sa: number, aspect: number,
    tri: number[][], lineLen: number, lineW: number, private readonly blob: Float32Array | null,
  ) {
    this.r2 = kind === 'blob' ? size * size : size * size * 0.49;
    this.ringOut = size * 0.7;
    this.ringIn = size * 0.7 - Math.max(1.5, size * 0.2);
    this.halfU = kind === 'line' ? lineLen / 2 : size * 0.6;
    this.halfV = kind === 'line' ? lineW / 2 : size * 0.6 * aspect;
    // Triangle edge p -> q: side = (x - q0) * (p1 - q1) - (p0 - q0) * (y - q1).
    [[this.ax, this.ay], [this.bx, this.by], [this.tx, this.ty]] = tri;
    this.e1x = this.ax - this.bx; this.e1y = this.ay - this.by;
    this.e2x = this.bx - this.tx; this.e2y = this.by - this.ty;
    this.e3x = this.tx - this.ax; this.e3y = this.ty - this.ay;
  }

  inside(x: number, y: number): boolean {
    const dx = x - this.cx, dy = y - this.cy;
    switch (this.kind) {
      case 'disc': return dx * dx + dy * dy < this.r2;
      case 'ring': { const d = Math.sqrt(dx * dx + dy * dy); return d < this.ringOut && d > this.ringIn; }
      case 'rect':
      case 'line': {
        const u = dx * this.ca + dy * this.sa, v = -dx * this.sa + dy * this.ca;
        return Math.abs(u) < this.halfU && Math.abs(v) < this.halfV;
      }
      case 'triangle': {
        const d1 = (x - this.bx) * this.e1y - this.e1x * (y - this.by);
        const d2 = (x - this.tx) * this.e2y - this.e2x * (y - this.ty);
        const d3 = (x - this.ax) * this.e3y - this.e3x * (y - this.ay);
        return !((d1 < 0 || d2 < 0 || d3 < 0) && (d1 > 0 || d2 > 0 || d3 > 0));
      }
      case 'blob': {
        const s = this.s;
        const xi = Math.min(s - 1, Math.max(0, Math.floor(x))), yi = Math.min(s - 1, Math.max(0, Math.floor(y)));
        return dx * dx + dy * dy < this.r2 && (this.blob as Float32Array)[yi * s + xi] > 0.5;
      }
    }
  }
}

/**
 * Draws `count` distractor shapes (discs, rings, rotated rectangles, triangles, thick
 * lines, noise blobs) in random colours, anti-aliased by 2x2 supersampling of the
 * coverage test. They go behind the garments.
 */
export function drawDistractors(rng: Rng, img: Float32Array, s: number, count: number): void {
  for (let k = 0; k < count; k++) {
    const kind = rng.pick(DISTRACTORS);
    const c = randomColor(rng, [0, 1], [0.05, 1]);
    const alpha = rng.range(0.5, 1);
    const cx = rng.range(0, s), cy = rng.range(0, s);
    const size = rng.range(3, s / 5);
    const ang = rng.next() * Math.PI;
    const ca = Math.cos(ang), sa = Math.sin(ang);
    const aspect = rng.range(0.3, 1);
    const tri: number[][] = [];
    for (let j = 0; j < 3; j++) {
      const t = ang + j * 2 * Math.PI / 3 + rng.range(-0.4, 0.4);
      tri.push([cx + size * Math.cos(t), cy + size * Math.sin(t)]);
    }
    const lineLen = rng.range(s / 6, s / 1.5), lineW = rng.range(1, 4) * (s / 96) + 0.5;
    const blob = kind === 'blob' ? valueNoise(rng, s, size, 2) : null;
    const shape = new Shape(kind, s, cx, cy, size, ca, sa, aspect, tri, lineLen, lineW, blob);
    const reach = kind === 'line' ? lineLen / 2 + lineW : size + 1;
    const x0 = Math.max(0, Math.floor(cx - reach)), x1 = Math.min(s - 1, Math.ceil(cx + reach));
    const y0 = Math.max(0, Math.floor(cy - reach)), y1 = Math.min(s - 1, Math.ceil(cy + reach));
    for (let y = y0; y <= y1; y++) for (let x = x0; x <= x1; x++) {
      let cover = 0;
      if (shape.inside(x + 0.25, y + 0.25)) cover += 0.25;
      if (shape.inside(x + 0.75, y + 0.25)) cover += 0.25;
      if (shape.inside(x + 0.25, y + 0.75)) cover += 0.25;
      if (shape.inside(x + 0.75, y + 0.75)) cover += 0.25;
      if (cover === 0) continue;
      const a = alpha * cover, i = 3 * (y * s + x);
      img[i] += a * (c[0] - img[i]); img[i + 1] += a * (c[1] - img[i + 1]); img[i + 2] += a * (c[2] - img[i + 2]);
    }
  }
}

/** Darker corners, as most lenses give. */
export function vignette(img: Float32Array, s: number, strength: number): void {
  const r2 = (s / 2) * (s / 2) * 2;
  for (let y = 0; y < s; y++) for (let x = 0; x < s; x++) {
    const d = ((x - s / 2 + 0.5) ** 2 + (y - s / 2 + 0.5) ** 2) / r2;
    const f = 1 - strength * d;
    const i = 3 * (y * s + x);
    img[i] *= f; img[i + 1] *= f; img[i + 2] *= f;
  }
}

/**
 * Sensor grain, partly shared by the channels (luma) and partly per channel (chroma).
 * Triangular noise (sum of two uniforms) with standard deviation sigma: close enough
 * to Gaussian for grain and far cheaper than a log and a square root per value.
 */
export function grain(rng: Rng, img: Float32Array, s: number, sigma: number): void {
  const k = (sigma * Math.SQRT2 * Math.sqrt(3)) / 65536, kc = k * 0.4;
  // One 32-bit draw gives both 16-bit uniforms of a triangular sample.
  const tri = () => { const u = rng.u32(); return (u & 0xffff) + (u >>> 16) - 65535; };
  for (let p = 0; p < s * s; p++) {
    const l = tri() * k;
    const i = 3 * p;
    img[i] += l + tri() * kc;
    img[i + 1] += l + tri() * kc;
    img[i + 2] += l + tri() * kc;
  }
}
