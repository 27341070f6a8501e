/// <reference lib="dom" />
/**
 * A deletion or insertion curve as a small inline SVG: the class probability as pixels are
 * removed (or restored) in the map's order, against the same for a random order.
 */
import type { TrustReport } from '../../worker/client';

type Curve = NonNullable<NonNullable<TrustReport['random']>['deletion']>;

const SVG = 'http://www.w3.org/2000/svg';
const W = 160, H = 100, LEFT = 26, BOTTOM = 18, TOP = 6, RIGHT = 6;

function el<K extends keyof SVGElementTagNameMap>(tag: K, attrs: Record<string, string | number>, text?: string): SVGElementTagNameMap[K] {
  const e = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  if (text !== undefined) e.textContent = text;
  return e;
}

const pct = (v: number) => `${Math.round(v * 100)} %`;

/** One plot: `map` (solid) and `random` (dashed) over the fraction of pixels changed, 0..100 %. */
export function curvePlot(kind: 'deletion' | 'insertion', map: Curve, random: Curve, mapLabel: string): SVGSVGElement {
  const top = Math.max(0.05, ...map.probabilities, ...random.probabilities);
  const x = (f: number) => LEFT + f * (W - LEFT - RIGHT);
  const y = (p: number) => TOP + (1 - p / top) * (H - TOP - BOTTOM);
  const line = (c: Curve) => c.fractions.map((f, i) => `${x(f).toFixed(1)},${y(c.probabilities[i]).toFixed(1)}`).join(' ');
  const what = kind === 'deletion' ? 'removed' : 'restored';
  const svg = el('svg', {
    viewBox: `0 0 ${W} ${H}`, class: `trust-plot ${kind}`, role: 'img', 'data-kind': kind,
    'aria-label': `${kind === 'deletion' ? 'Deletion' : 'Insertion'} curve: the class probability as pixels are ${what}, ` +
      `in ${mapLabel}'s order (area ${map.auc.toFixed(2)}) and in a random order (area ${random.auc.toFixed(2)}).`,
  });
  svg.append(
    el('line', { x1: x(0), y1: y(0), x2: x(1), y2: y(0), class: 'axis' }),
    el('line', { x1: x(0), y1: y(0), x2: x(0), y2: y(top), class: 'axis' }),
    el('text', { x: x(0), y: H - 4, class: 'tick' }, '0'),
    el('text', { x: x(1), y: H - 4, class: 'tick', 'text-anchor': 'end' }, `100 % ${what}`),
    el('text', { x: LEFT - 3, y: y(top) + 7, class: 'tick', 'text-anchor': 'end' }, pct(top)),
    el('text', { x: LEFT - 3, y: y(0), class: 'tick', 'text-anchor': 'end' }, '0'),
    el('polyline', { points: line(random), class: 'curve random', 'data-curve': 'random' }),
    el('polyline', { points: line(map), class: 'curve map', 'data-curve': 'map' }),
  );
  return svg;
}
