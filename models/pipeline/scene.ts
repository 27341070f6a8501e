/**
 * The scene composer: 1..3 Fashion-MNIST garments, scaled (bilinear), slightly rotated,
 * tinted, with alpha from the garment's own intensity, over a procedural background
 * with distractor shapes; each garment's box recorded. Pure TypeScript pixel code.
 */
import { drawBackground, drawDistractors, grain, hsvToRgb, luma, vignette, BACKGROUND_KINDS, type Rgb } from './backgrounds';
import type { Rng } from './prng';

export interface Box {
  /** Left and top pixel, inclusive. */
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface GarmentInput {
  /** 28 x 28 grey pixels, 0 = background. */
  image: Uint8Array;
  label: number;
  /** Where the garment came from, recorded in the scene (e.g. the dataset index). */
  source?: { split: string; index: number };
}

export interface SceneObject {
  label: number;
  /** Tight box of every pixel the garment covers (alpha > 0). */
  box: Box;
  source?: { split: string; index: number };
}

export interface Scene {
  size: number;
  /** size x size x 3 RGB, row-major. */
  rgb: Uint8Array;
  objects: SceneObject[];
  /** How the scene was made (for analysing errors by background, clutter, size and contrast). */
  info: { background: string; distractors: number; garments: Array<{ scale: number; contrast: number }> };
  /** With `withMask`: per pixel, 0 = no garment, k = garment k-1 of `objects` drawn there (the last one on top). */
  mask?: Uint8Array;
}

export interface SceneOptions {
  size: number;
  /** Garment scale factor range (28 px -> 28 * scale px). */
  scale: [number, number];
  /** Maximum rotation either way, degrees. */
  maxRotation: number;
  /** Number of distractor shapes, inclusive range. */
  distractors: [number, number];
  /** Pixels kept free between two garments' boxes. */
  gap: number;
  /** Also return which garment covers each pixel (for tests and evaluation). */
  withMask?: boolean;
  /**
   * 0..1 (default 1, the full distribution). Lower values make a training curriculum:
   * more plain backgrounds, fewer distractors, larger garments, more contrast, less noise.
   */
  difficulty?: number;
}

export const DEFAULT_SCENE_OPTIONS: SceneOptions = {
  size: 64,
  scale: [1, 1.9],
  maxRotation: 8,
  distractors: [0, 4],
  gap: 2,
};

/** Alpha reaches 1 at this garment intensity (0..255): dark fabric stays opaque, the black surround transparent. */
const ALPHA_RAMP = 24;

interface Sprite {
  n: number;
  alpha: Float32Array;
  /** Shading, 0..1 (the garment's own intensity, normalised to its bright end). */
  shade: Float32Array;
  /** Tight box of alpha > 0 inside the sprite. */
  x0: number; y0: number; x1: number; y1: number;
}

/** Renders the 28x28 garment at `scale`, rotated by `rot` radians and optionally mirrored, by inverse-mapped bilinear sampling. */
export function renderSprite(image: Uint8Array, scale: number, rot: number, flip: boolean): Sprite {
  const core = Math.round(28 * scale);
  const pad = Math.ceil(core * 0.15);
  const n = core + 2 * pad;
  const alpha = new Float32Array(n * n);
  const shade = new Float32Array(n * n);
  const c = n / 2, cos = Math.cos(rot), sin = Math.sin(rot);
  const k = 28 / core;
  let hi = 1;
  for (let i = 0; i < 784; i++) hi = Math.max(hi, image[i]);
  let x0 = n, y0 = n, x1 = -1, y1 = -1;
  for (let y = 0; y < n; y++) {
    for (let x = 0; x < n; x++) {
      // Output pixel centre -> rotated -> source pixel coordinates (half-pixel centres).
      const dx = x + 0.5 - c, dy = y + 0.5 - c;
      let u = (cos * dx + sin * dy) * k + 14 - 0.5;
      const v = (-sin * dx + cos * dy) * k + 14 - 0.5;
      if (flip) u = 27 - u;
      const iu = Math.floor(u), iv = Math.floor(v);
      if (iu < -1 || iv < -1 || iu > 27 || iv > 27) continue;
      const fu = u - iu, fv = v - iv;
      // Bilinear over the 2x2 neighbourhood; outside the 28x28 frame counts as background (0).
      const uIn0 = iu >= 0, uIn1 = iu < 27, vIn0 = iv >= 0, vIn1 = iv < 27;
      const r0 = iv * 28, r1 = r0 + 28;
      const p00 = vIn0 && uIn0 ? image[r0 + iu] : 0, p01 = vIn0 && uIn1 ? image[r0 + iu + 1] : 0;
      const p10 = vIn1 && uIn0 ? image[r1 + iu] : 0, p11 = vIn1 && uIn1 ? image[r1 + iu + 1] : 0;
      const g = (1 - fv) * ((1 - fu) * p00 + fu * p01) + fv * ((1 - fu) * p10 + fu * p11);
      if (g <= 0) continue;
      const a = Math.min(1, g / ALPHA_RAMP);
      alpha[y * n + x] = a;
      shade[y * n + x] = Math.min(1, g / hi);
      if (x < x0) x0 = x;
      if (y < y0) y0 = y;
      if (x > x1) x1 = x;
      if (y > y1) y1 = y;
    }
  }
  if (x1 < 0) { x0 = y0 = 0; x1 = y1 = -1; }
  return { n, alpha, shade, x0, y0, x1: x1 + 1, y1: y1 + 1 };
}

/** The scene's float working image, reused from scene to scene (composeScene is synchronous and keeps no reference). */
let work = new Float32Array(0);
function workBuffer(len: number): Float32Array {
  if (work.length !== len) work = new Float32Array(len);
  else work.fill(0);
  return work;
}

function clearOf(objects: SceneObject[], box: Box, gap: number): boolean {
  for (const ob of objects) if (boxesClash(ob.box, box, gap)) return false;
  return true;
}

function boxesClash(a: Box, b: Box, gap: number): boolean {
  return a.x < b.x + b.width + gap && b.x < a.x + a.width + gap && a.y < b.y + b.height + gap && b.y < a.y + a.height + gap;
}

/** Mean luma of the image inside a box. */
function meanLuma(img: Float32Array, s: number, b: Box): number {
  let sum = 0, cnt = 0;
  for (let y = b.y; y < b.y + b.height; y++) for (let x = b.x; x < b.x + b.width; x++) {
    const i = 3 * (y * s + x);
    sum += 0.299 * img[i] + 0.587 * img[i + 1] + 0.114 * img[i + 2];
    cnt++;
  }
  return cnt ? sum / cnt : 0.5;
}

/** A tint that stands out from the background under the garment (mean luma differs by >= minDiff where possible). */
function pickTint(rng: Rng, bgLuma: number, meanShade: number, minDiff: number, d: number): { tint: Rgb; lo: number; contrast: number } {
  let best: { tint: Rgb; lo: number; contrast: number } | null = null, bestDiff = -1;
  for (let t = 0; t < 16; t++) {
    // Easy scenes (d < 1): paler, brighter garments.
    const sat = (rng.chance(0.25) ? rng.range(0, 0.1) : rng.range(0.1, 0.8)) * (0.2 + 0.8 * d);
    const tint = hsvToRgb(rng.next(), sat, rng.range(0.7 - 0.4 * d, 1));
    const lo = rng.range(0.1, 0.3);
    const diff = Math.abs(luma(tint) * (lo + (1 - lo) * meanShade) - bgLuma);
    if (diff > bestDiff) { best = { tint, lo, contrast: diff }; bestDiff = diff; }
    if (diff >= minDiff) break;
  }
  return best as { tint: Rgb; lo: number; contrast: number };
}

/**
 * Composes one scene. Garments are placed in order without their boxes touching
 * (`gap` px apart); when one does not fit after many tries it is drawn smaller.
 */
export function composeScene(rng: Rng, garments: GarmentInput[], options: Partial<SceneOptions> = {}): Scene {
  const o: SceneOptions = { ...DEFAULT_SCENE_OPTIONS, ...options };
  const s = o.size;
  const img = workBuffer(s * s * 3);
  const d = Math.min(1, Math.max(0, o.difficulty ?? 1));
  // Lens and sensor effects draw from their own stream, so a scene with and without a
  // garment differ only where the garment is (the tests rely on it).
  const finish = rng.fork();
  const background = rng.chance(0.8 * (1 - d)) ? 'gradient' : rng.pick(BACKGROUND_KINDS);
  drawBackground(rng, img, s, background);
  if (d < 1) {
    // Easy scenes: a darker, flatter background (d = 0 is close to Fashion-MNIST's black surround).
    const dim = 0.2 + 0.8 * d;
    for (let i = 0; i < img.length; i++) img[i] *= dim;
  }
  const distractors = rng.int(o.distractors[0], Math.round(o.distractors[0] + d * (o.distractors[1] - o.distractors[0])));
  drawDistractors(rng, img, s, distractors);
  const info: Scene['info'] = { background, distractors, garments: [] };
  const easyLo = o.scale[0] + 0.6 * (o.scale[1] - o.scale[0]);
  const scaleLo = easyLo + d * (o.scale[0] - easyLo);

  const objects: SceneObject[] = [];
  const mask = o.withMask ? new Uint8Array(s * s) : undefined;
  for (const g of garments) {
    let scale = rng.range(Math.min(scaleLo, o.scale[1]), o.scale[1]);
    const rot = (rng.range(-1, 1) * o.maxRotation * Math.PI) / 180;
    const flip = rng.chance(0.5);
    let placed: { sprite: Sprite; ox: number; oy: number; box: Box; scale: number } | null = null;
    for (let shrink = 0; shrink < 8 && !placed; shrink++) {
      const sprite = renderSprite(g.image, scale, rot, flip);
      const bw = sprite.x1 - sprite.x0, bh = sprite.y1 - sprite.y0;
      if (bw <= s && bh <= s) {
        for (let attempt = 0; attempt < 60; attempt++) {
          const bx = rng.int(0, s - bw), by = rng.int(0, s - bh);
          const box: Box = { x: bx, y: by, width: bw, height: bh };
          if (clearOf(objects, box, o.gap)) {
            placed = { sprite, ox: bx - sprite.x0, oy: by - sprite.y0, box, scale };
            break;
          }
        }
      }
      scale *= 0.85;
    }
    if (!placed) throw new Error(`composeScene: could not place ${garments.length} garments in a ${s}x${s} scene.`);
    const { sprite, ox, oy, box } = placed;
    let shadeSum = 0, aSum = 0;
    for (let i = 0; i < sprite.alpha.length; i++) { shadeSum += sprite.alpha[i] * sprite.shade[i]; aSum += sprite.alpha[i]; }
    const { tint, lo, contrast } = pickTint(rng, meanLuma(img, s, box), aSum ? shadeSum / aSum : 0.5, 0.3 + 0.1 * (1 - d), d);
    for (let y = sprite.y0; y < sprite.y1; y++) {
      for (let x = sprite.x0; x < sprite.x1; x++) {
        const a = sprite.alpha[y * sprite.n + x];
        if (a <= 0) continue;
        const f = lo + (1 - lo) * sprite.shade[y * sprite.n + x];
        const p = (y + oy) * s + (x + ox);
        if (mask) mask[p] = objects.length + 1;
        const i = 3 * p;
        img[i] += a * (tint[0] * f - img[i]);
        img[i + 1] += a * (tint[1] * f - img[i + 1]);
        img[i + 2] += a * (tint[2] * f - img[i + 2]);
      }
    }
    objects.push({ label: g.label, box, ...(g.source ? { source: g.source } : {}) });
    info.garments.push({ scale: Number(placed.scale.toFixed(3)), contrast: Number(contrast.toFixed(3)) });
  }

  vignette(img, s, d * finish.range(0, 0.35));
  grain(finish, img, s, d * finish.range(0, 0.02));
  const rgb = toBytes(img);
  return { size: s, rgb, objects, info, ...(mask ? { mask } : {}) };
}

/**
 * 0..1 floats -> bytes: Math.round(clamp(v, 0, 1) * 255). For a float32 v in (0, 1),
 * v * 255 + 0.5 is exact in float64, so truncating it rounds half up as Math.round
 * does (checked for every float32 in (0, 1)); NaN also gives 0 either way.
 */
function toBytes(img: Float32Array): Uint8Array {
  const rgb = new Uint8Array(img.length);
  for (let i = 0; i < rgb.length; i++) {
    const v = img[i];
    rgb[i] = v <= 0 ? 0 : v >= 1 ? 255 : (v * 255 + 0.5) | 0;
  }
  return rgb;
}

/** RGB bytes -> RGBA bytes (opaque), for encodePng. */
export function toRgba(scene: Scene): Uint8Array {
  const n = scene.size * scene.size;
  const out = new Uint8Array(n * 4);
  for (let p = 0; p < n; p++) {
    out[4 * p] = scene.rgb[3 * p];
    out[4 * p + 1] = scene.rgb[3 * p + 1];
    out[4 * p + 2] = scene.rgb[3 * p + 2];
    out[4 * p + 3] = 255;
  }
  return out;
}
