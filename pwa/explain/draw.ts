/// <reference lib="dom" />
/**
 * Drawing: the photo with a heat map over it, the compare grid, the legend. Everything numeric
 * comes from src/render (pure TypeScript, no tfjs), so the page bundle stays small.
 */
import { colorize, colormapStops, normalizationScale, normalizeMap, overlay, type ColormapName } from '../../src/render';
import type { SaliencyMap } from '../../src/methods/types';
import { normalizeModeFor, type Method } from '../methods';
import type { Picture } from './picture';

export interface Look {
  colormap: ColormapName;
  /** 0..1 */
  opacity: number;
}

/** The raw value that maps to the top of the colour scale (what normalizeMap divides by). */
export function mapScale(map: SaliencyMap, method: Method): number {
  return normalizationScale(map, { mode: normalizeModeFor(method) });
}

export function drawPicture(canvas: HTMLCanvasElement, picture: Picture, map: SaliencyMap | undefined, method: Method, look: Look): void {
  canvas.width = picture.width;
  canvas.height = picture.height;
  const ctx = canvas.getContext('2d');
  if (!ctx) return;
  if (!map) {
    ctx.putImageData(new ImageData(new Uint8ClampedArray(picture.data), picture.width, picture.height), 0, 0);
    return;
  }
  const norm = normalizeMap(map, { mode: normalizeModeFor(method) });
  const out = overlay({ data: picture.data, width: picture.width, height: picture.height, channels: 4 }, { data: norm, width: map.width, height: map.height }, look);
  ctx.putImageData(new ImageData(out.data as Uint8ClampedArray<ArrayBuffer>, out.width, out.height), 0, 0);
}

/** The coarse map alone, coloured with the opacity as alpha, at its own grid size (the browser scales it smoothly). */
export function drawLiveOverlay(canvas: HTMLCanvasElement, map: SaliencyMap, method: Method, look: Look): void {
  const norm = normalizeMap(map, { mode: normalizeModeFor(method) });
  const rgba = colorize(norm, look.colormap);
  for (let i = 3; i < rgba.length; i += 4) rgba[i] = Math.round(255 * look.opacity);
  const small = document.createElement('canvas');
  small.width = map.width;
  small.height = map.height;
  small.getContext('2d')?.putImageData(new ImageData(rgba as Uint8ClampedArray<ArrayBuffer>, map.width, map.height), 0, 0);
  const ctx = canvas.getContext('2d');
  if (!ctx) return;
  ctx.clearRect(0, 0, canvas.width, canvas.height);
  ctx.imageSmoothingEnabled = true;
  ctx.imageSmoothingQuality = 'high';
  ctx.drawImage(small, 0, 0, canvas.width, canvas.height);
}

export function drawLegend(canvas: HTMLCanvasElement, colormap: ColormapName): void {
  const ctx = canvas.getContext('2d');
  if (!ctx) return;
  const g = ctx.createLinearGradient(0, 0, canvas.width, 0);
  for (const s of colormapStops(colormap, 32)) g.addColorStop(s.offset, s.color);
  ctx.fillStyle = g;
  ctx.fillRect(0, 0, canvas.width, canvas.height);
}

export function formatValue(v: number): string {
  if (v === 0) return '0';
  const a = Math.abs(v);
  return a >= 0.01 && a < 1000 ? v.toPrecision(3).replace(/\.?0+$/, '') : v.toExponential(1);
}
