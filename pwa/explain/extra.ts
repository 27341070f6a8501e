/// <reference lib="dom" />
/**
 * The methods beyond the default five, computed on demand: picking one in the switcher asks the
 * worker for that map alone once the default maps of the photo are in (the sampled ones with a
 * progress bar and a cancel button), Layer-CAM at the layer the person chooses, and Integrated
 * Gradients' completeness gap said in words.
 */
import type { MethodProgress } from '../../worker/client';
import type { SaliencyMap } from '../../src/methods/types';
import { errorMessage, showError, status } from '../app/messages';
import { state } from '../app/state';
import { $, h } from '../dom';
import { methodLabel, METHODS, type Method } from '../methods';
import { pixelsOf } from './picture';

/** Above this, Integrated Gradients' map visibly misses part of the score change. */
export const LARGE_GAP = 0.05;

let redraw: () => void = () => {};
/** The request for an extra map in flight, so a second pick of the same method does not start another. */
let pending: { key: string; started: boolean } | null = null;

/** `render` is the explain view's, passed in so this room does not import it back. */
export function wireExtraMethods(render: () => void): void {
  redraw = render;
  $('method-cancel').addEventListener('click', () => {
    // Still waiting for the default maps: those go on; only this request is dropped.
    if (pending?.started) void state.client?.cancel();
    pending = null;
    showRunning(null);
    status(`${methodLabel(state.method as Method)}: cancelled. Pick it again to compute it.`);
  });
  $<HTMLSelectElement>('layer').addEventListener('change', (ev) => {
    const value = (ev.target as HTMLSelectElement).value;
    state.layerCamLayer = value === state.model?.targetLayer ? null : value;
    delete state.maps.layercam;
    void computeExtra('layercam');
    redraw();
  });
}

export const isExtra = (m: Method | 'compare'): m is Method => m !== 'compare' && !METHODS.some((d) => d.id === m);

function keyOf(m: Method): string {
  return `${document.documentElement.dataset.picture ?? ''}:${state.classIndex}:${m}:${m === 'layercam' ? state.layerCamLayer ?? '' : ''}`;
}

/** Computes an extra method's map for the photo and class shown, after the default maps are in. */
export async function computeExtra(m: Method): Promise<void> {
  if (!isExtra(m) || !state.client || !state.picture || state.maps[m] || state.skipped[m]) return;
  const key = keyOf(m);
  if (pending?.key === key) return;
  const mine = { key, started: false };
  pending = mine;
  showRunning({ method: m, done: 0, total: 1 });
  await state.defaults;
  const current = () => pending === mine && keyOf(m) === key && state.picture !== null;
  if (!current()) return;
  const picture = state.picture!;
  status(`Computing ${methodLabel(m)}…`);
  mine.started = true;
  try {
    await state.client.explain(pixelsOf(picture), {
      class: state.classIndex, methods: [m], topK: 1,
      ...(m === 'layercam' && state.layerCamLayer ? { layer: state.layerCamLayer } : {}),
      onProgress: (p) => { if (current()) showRunning(p); },
    }, (stage) => {
      if (stage.stage === 'prediction' || !current()) return;
      Object.assign(state.maps, stage.maps);
      Object.assign(state.skipped, stage.skipped);
    });
    if (!current()) return;
    status(state.maps[m] ? `${methodLabel(m)} ready.` : `${methodLabel(m)} does not apply: ${state.skipped[m] ?? 'no map'}`);
  } catch (e) {
    if ((e as { code?: string })?.code !== 'CANCELLED' && current()) {
      showError(errorMessage(e));
      status('Something went wrong; see the message above.');
    }
  } finally {
    if (pending === mine) {
      pending = null;
      showRunning(null);
    }
    redraw();
  }
}

/** The progress bar and cancel button of an extra method, or neither. */
function showRunning(p: MethodProgress | null): void {
  const row = $('method-run');
  row.hidden = p === null;
  if (!p) return;
  const bar = $<HTMLProgressElement>('method-progress');
  bar.max = Math.max(1, p.total);
  bar.value = p.done;
  $('method-progress-label').textContent = p.done === 0
    ? `${methodLabel(p.method)}: waiting for the default maps…`
    : `${methodLabel(p.method)}: ${p.done} of ${p.total} passes`;
}

/** The Layer-CAM layer choice: the model's layers with spatial outputs, the head's first. */
export function renderLayerChoice(): void {
  const row = $('layer-row');
  row.hidden = state.method !== 'layercam';
  const select = $<HTMLSelectElement>('layer');
  const layers = state.model?.spatialLayers ?? [];
  const key = layers.map((l) => l.name).join('|');
  if (select.dataset.key !== key) {
    select.dataset.key = key;
    select.replaceChildren(...[...layers].reverse().map((l) =>
      h('option', { value: l.name }, `${l.name} (${l.width}×${l.height}×${l.channels})${l.name === state.model?.targetLayer ? ' — default' : ''}`)));
  }
  select.value = state.layerCamLayer ?? state.model?.targetLayer ?? '';
}

/** What a map's own figures say, in words: Integrated Gradients' completeness gap. */
export function mapNote(map: SaliencyMap | undefined): string {
  const gap = map?.stats?.completenessGap;
  if (map?.method !== 'integrated-gradients' || gap === undefined) return '';
  const pct = `${(gap * 100).toFixed(gap < 0.1 ? 1 : 0)} %`;
  return gap > LARGE_GAP
    ? `The map's total differs from the score change by ${pct}; more steps would fix it.`
    : `Completeness: the map's total matches the score change to within ${pct}.`;
}
