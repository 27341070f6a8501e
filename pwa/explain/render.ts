/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
/**
 * The explain view from the app's state: the picture with the chosen method's map, its legend,
 * the method switcher (a radio group) and the compare grid.
 */
import type { SaliencyMap } from '../../src/methods/types';
import { look, ROOT, state } from '../app/state';
import { $, h } from '../dom';
import { METHODS, methodLabel, methodList, normalizeModeFor, type Method } from '../methods';
import { renderTrust } from '../trust/panel';
import { drawLegend, drawPicture, formatValue, mapScale, regionCrops } from './draw';
import { computeExtra, isExtra, mapNote, renderLayerChoice } from './extra';

/** The canvas the picture and its map are drawn on (also what Save and Share encode). */
export const view = $<HTMLCanvasElement>('view');

export function render(): void {
  renderMethods();
  const picture = state.picture;
  const compare = state.method === 'compare';
  $('compare').hidden = !compare;
  const shown: Method = compare ? (state.maps['guided-gradcam'] ? 'guided-gradcam' : 'gradcam') : state.method as Method;
  if (picture) {
    const map = state.maps[shown];
    drawPicture(view, picture, map, shown, look(), state.region);
    ROOT.dataset.shown = map ? shown : '';
    const cropped = regionCrops(picture, state.region);
    $('region-note').hidden = !cropped;
    const label = state.predictions.find((p) => p.index === state.classIndex)?.label ?? state.model?.labels[state.classIndex];
    view.setAttribute('aria-label', map
      ? `${methodLabel(shown)} heat map for “${label}” over the ${cropped ? 'framed part of the photo the model saw' : 'photo'}: warm colours mark the pixels that raised the score.`
      : state.skipped[shown] ? `The photo; ${methodLabel(shown)} does not apply: ${state.skipped[shown]}` : 'The photo; its heat map is being computed.');
    ($('share') as HTMLButtonElement).disabled = ($('save') as HTMLButtonElement).disabled = !map;
    renderLegend(map, shown, label);
  }
  const note = $('method-note');
  note.textContent = compare ? '' : mapNote(state.maps[shown]);
  note.hidden = !note.textContent;
  renderLayerChoice();
  renderTrust(compare ? shown : state.method as Method);
  if (compare) renderCompare();
}

function renderLegend(map: SaliencyMap | undefined, method: Method, label: string | undefined): void {
  drawLegend($<HTMLCanvasElement>('legend'), state.colormap);
  const scale = map ? mapScale(map, method) : 0;
  $('legend-min').textContent = '0';
  $('legend-mid').textContent = map ? formatValue(scale / 2) : '';
  $('legend-max').textContent = map ? `≥ ${formatValue(scale)}` : '';
  $('legend-caption').textContent = !map
    ? 'Colour scale: low (left) to high (right).'
    : normalizeModeFor(method) === 'positive'
      ? `${methodLabel(method)}: evidence for “${label}” in raw units (negative evidence shown as 0); right end = the strongest cell.`
      : `${methodLabel(method)}: |${method === 'integrated-gradients' ? 'attribution' : 'gradient'}| of the “${label}” score per pixel; the strongest 1 % saturate at the right end.`;
}

function renderCompare(): void {
  const box = $('compare');
  box.replaceChildren();
  if (!state.picture) return;
  for (const m of METHODS) {
    const canvas = h('canvas', { role: 'img' });
    const map = state.maps[m.id];
    drawPicture(canvas, state.picture, map, m.id, look(), state.region, 320);
    canvas.setAttribute('aria-label', map ? `${m.label} heat map` : `${m.label}: ${state.skipped[m.id] ?? 'not computed yet'}`);
    const caption = map ? m.label : `${m.label} — ${state.skipped[m.id] ? 'does not apply' : 'computing…'}`;
    box.append(h('figure', {}, canvas, h('figcaption', {}, caption)));
  }
}

/** The method switcher: built once, then its checked and disabled states follow the state. */
export function renderMethods(): void {
  const box = $('methods');
  const camApplies = state.model ? state.model.cam.applies : true;
  // The default methods are computed for every photo; the others when picked.
  const entries: Array<{ id: Method | 'compare'; label: string; title: string }> = [
    ...METHODS.map((m) => ({ id: m.id, label: m.label, title: m.what })),
    { id: 'compare', label: 'Compare all', title: 'all five methods side by side' },
    ...methodList().filter((m) => !m.byDefault).map((m) => ({ id: m.id, label: m.label, title: `${m.what} (computed when picked)` })),
  ];
  if (box.childElementCount !== entries.length) {
    box.replaceChildren(...entries.map((e) => {
      const b = h('button', { type: 'button', role: 'radio', 'data-method': e.id, title: e.title }, e.label);
      if (isExtra(e.id)) b.classList.add('extra');
      b.addEventListener('click', () => {
        state.method = e.id;
        state.methodPicked = true;
        render();
        if (isExtra(e.id)) void computeExtra(e.id);
      });
      return b;
    }));
    box.addEventListener('keydown', (ev) => {
      // Arrow keys move within the radio group, as a radio group should.
      if (!['ArrowRight', 'ArrowLeft', 'ArrowDown', 'ArrowUp'].includes(ev.key)) return;
      const buttons = [...box.querySelectorAll('button')].filter((b) => !b.disabled);
      const i = buttons.indexOf(document.activeElement as HTMLButtonElement);
      const next = buttons[(i + (ev.key === 'ArrowRight' || ev.key === 'ArrowDown' ? 1 : buttons.length - 1)) % buttons.length];
      next?.focus();
      next?.click();
      ev.preventDefault();
    });
  }
  for (const b of box.querySelectorAll('button')) {
    const id = b.dataset.method as Method | 'compare';
    const checked = id === state.method;
    b.setAttribute('aria-checked', String(checked));
    b.tabIndex = checked ? 0 : -1;
    b.disabled = id === 'cam' && !camApplies;
    if (id === 'cam' && !camApplies) b.setAttribute('aria-describedby', 'cam-note');
  }
  const note = $('cam-note');
  const reason = state.model?.cam.reason ?? state.skipped.cam;
  note.hidden = camApplies && !state.skipped.cam;
  note.textContent = reason
    ? `CAM does not apply to this model: ${reason.replace(/\.+$/, '')}. Grad-CAM shows the same kind of coarse class map for any CNN.`
    : 'CAM does not apply to this model: CAM needs the last conv maps to go through global average pooling straight into one dense layer of class scores. Grad-CAM shows the same kind of coarse class map for any CNN.';
}
