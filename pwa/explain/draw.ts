/// <reference lib="dom" />
/**
 * Drawing: the photo with a heat map over the part of it the model saw (the rest dimmed, the
 * part framed), the compare grid, the live overlay, the legend. Everything numeric comes from
 * src/render (pure TypeScript, no tfjs), so the page bundle stays small.
 */
import { colorize, colormapStops, normalizationScale, normalizeMap, upsample, type ColormapName } from '../../src/render';
import type { SaliencyMap } from '../../src/methods/types';
import { normalizeModeFor, type Method } from '../methods';
import { fitWithin, type Picture, type Region } from './picture';

export interface Look {
  colormap: ColormapName;
  /** 0..1 */
  opacity: number;
}

/** Longest side of the main view's canvas (the photo is drawn scaled to it). */
export const VIEW_SIDE = 1024;

/** The raw value that maps to the top of the colour scale (what normalizeMap divides by). */
export function mapScale(map: SaliencyMap, method: Method): number {
  return normalizationScale(map, { mode: normalizeModeFor(method) });
}

/**
 * The map coloured at `width` x `height` (values upsampled before colouring, so the colours
 * between cells stay on the colour scale), with the opacity as alpha.
 */
function colouredMap(map: SaliencyMap, method: Method, look: Look, width: number, height: number): HTMLCanvasElement {
  const norm = normalizeMap(map, { mode: normalizeModeFor(method) });
  const values = map.width === width && map.height === height ? norm : upsample({ data: norm, width: map.width, height: map.height }, width, height);
  const rgba = colorize(values, look.colormap);
  for (let i = 3; i < rgba.length; i += 4) rgba[i] = Math.round(255 * look.opacity);
  const c = document.createElement('canvas');
  c.width = width;
  c.height = height;
  c.getContext('2d')?.putImageData(new ImageData(rgba as Uint8ClampedArray<ArrayBuffer>, width, height), 0, 0);
  return c;
}

/** The photo scaled into `canvas` (at most `maxSide` a side); over the region the model saw, the map; outside it, the photo dimmed. */
export function drawPicture(canvas: HTMLCanvasElement, picture: Picture, map: SaliencyMap | undefined, method: Method, look: Look,
  region: Region | null, maxSide = VIEW_SIDE): void {
  const { width, height } = fitWithin(picture.width, picture.height, maxSide);
  canvas.width = width;
  canvas.height = height;
  const ctx = canvas.getContext('2d');
  if (!ctx) return;
  ctx.imageSmoothingEnabled = true;
  ctx.imageSmoothingQuality = 'high';
  ctx.drawImage(picture.canvas, 0, 0, width, height);
  if (!region) return;
  const s = width / picture.width;
  const r = { x: region.x * s, y: region.y * s, width: region.width * s, height: region.height * s };
  if (map) {
    const w = Math.max(1, Math.round(r.width));
    const h = Math.max(1, Math.round(r.height));
    ctx.drawImage(colouredMap(map, method, look, w, h), r.x, r.y, r.width, r.height);
  }
  shadeOutside(ctx, width, height, r);
}

/** Dims what the model did not see and frames what it saw (nothing to do when it saw it all). */
export function shadeOutside(ctx: CanvasRenderingContext2D, width: number, height: number, r: Region): void {
  const x0 = Math.max(0, r.x), y0 = Math.max(0, r.y);
  const x1 = Math.min(width, r.x + r.width), y1 = Math.min(height, r.y + r.height);
  if (x0 <= 0.5 && y0 <= 0.5 && x1 >= width - 0.5 && y1 >= height - 0.5) return;
  ctx.fillStyle = 'rgba(0, 0, 0, 0.6)';
  ctx.fillRect(0, 0, width, y0);
  ctx.fillRect(0, y1, width, height - y1);
  ctx.fillRect(0, y0, x0, y1 - y0);
  ctx.fillRect(x1, y0, width - x1, y1 - y0);
  const line = Math.max(2, Math.round(Math.max(width, height) / 256));
  ctx.strokeStyle = '#fff';
  ctx.lineWidth = line;
  ctx.strokeRect(x0 + line / 2, y0 + line / 2, x1 - x0 - line, y1 - y0 - line);
}

/** Whether the region leaves part of the picture out. */
export function regionCrops(picture: Picture, region: Region | null): boolean {
  return !!region && (region.x > 0.5 || region.y > 0.5 || region.x + region.width < picture.width - 0.5 || region.y + region.height < picture.height - 0.5);
}

/**
 * The coarse map alone over the live preview: `rect` is where the region the model saw lies on
 * the overlay canvas (in its pixels); the browser scales the small coloured map smoothly.
 */
export function drawLiveOverlay(canvas: HTMLCanvasElement, map: SaliencyMap, method: Method, look: Look, rect: Region): void {
  const small = colouredMap(map, method, look, map.width, map.height);
  const ctx = canvas.getContext('2d');
  if (!ctx) return;
  ctx.clearRect(0, 0, canvas.width, canvas.height);
  ctx.imageSmoothingEnabled = true;
  ctx.imageSmoothingQuality = 'high';
  ctx.drawImage(small, rect.x, rect.y, rect.width, rect.height);
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
