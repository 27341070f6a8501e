/// <reference lib="dom" />
/**
 * Explaining a picture: the request to the worker, its stages as they arrive (top classes, then
 * the coarse class map, then the sharp maps), and the top-classes list, whose entries explain
 * another class of the same picture.
 */
import type { Stage } from '../../worker/client';
import { ROOT, state } from '../app/state';
import { clearError, errorMessage, showError, status } from '../app/messages';
import { $, h } from '../dom';
import type { Method } from '../methods';
import { pixelsOf, type Picture } from './picture';
import { render } from './render';
import { computeExtra, isExtra } from './extra';

function resetRun(samePicture: boolean): void {
  state.maps = {};
  state.skipped = {};
  // The same picture on the same model is fitted the same way: keep its frame while it is explained again.
  if (!samePicture) state.region = null;
  ROOT.dataset.stages = '';
  if (!state.methodPicked) state.method = 'gradcam';
}

function pickAutoMethod(): void {
  if (state.methodPicked) return;
  // Show the sharpest class-specific map there is: Guided Grad-CAM, else the coarse map.
  for (const m of ['guided-gradcam', 'gradcam', 'cam'] as Method[]) {
    if (state.maps[m]) {
      state.method = m;
      return;
    }
  }
}

function onStage(stage: Stage): void {
  ROOT.dataset.stages = `${ROOT.dataset.stages ?? ''} ${stage.stage}`.trim();
  const t = `${Math.round(stage.elapsedMs)} ms`;
  if (stage.stage === 'prediction') {
    state.predictions = stage.predictions;
    state.classIndex = stage.classIndex;
    state.region = stage.region;
    ROOT.dataset.region = [stage.region.x, stage.region.y, stage.region.width, stage.region.height].join(' ');
    renderPredictions();
    render();
    status(`Top classes ready (${t}). Computing the coarse class map…`, 1);
  } else {
    Object.assign(state.maps, stage.maps);
    Object.assign(state.skipped, stage.skipped);
    if (stage.stage === 'class-maps') status(`Coarse class map ready (${t}). Sharpening…`, 2);
    else if (stage.stage === 'gradient-maps') status(`Gradient maps ready (${t}). Combining into Guided Grad-CAM…`, 3);
    else status(`Done: all maps in ${t}.`, 4);
    pickAutoMethod();
    render();
  }
}

/** Explains `picture` for its top class, or for `classIndex`; a newer call supersedes this one. */
export async function explain(picture: Picture, classIndex?: number): Promise<void> {
  if (!state.client || !state.model) {
    status('The model is still loading; the photo will be explained once it is ready.');
    return;
  }
  clearError();
  // Counts new pictures (not re-explanations of the same one after a model or class change), so
  // a test or a tool can tell which picture the stages in data-stages belong to.
  const same = picture === state.picture;
  if (!same) ROOT.dataset.picture = String(Number(ROOT.dataset.picture ?? 0) + 1);
  state.picture = picture;
  resetRun(same && classIndex !== undefined);
  if (classIndex === undefined) state.predictions = [];
  render();
  status(classIndex === undefined ? 'Predicting…' : `Explaining “${state.model.labels[classIndex] ?? classIndex}”…`, 0);
  const image = pixelsOf(picture);
  try {
    const run = state.client.explain(image, { topK: 5, ...(classIndex !== undefined ? { class: classIndex } : {}) }, onStage);
    state.defaults = run.then(() => {}, () => {});
    await run;
    ROOT.dataset.done = String(Number(ROOT.dataset.done ?? 0) + 1);
    // A method beyond the defaults that the person picked follows them to the new photo or class.
    if (isExtra(state.method)) void computeExtra(state.method);
  } catch (e) {
    if ((e as { code?: string })?.code === 'CANCELLED') return;
    showError(errorMessage(e));
    status('Something went wrong; see the message above.');
  }
}

/** The top classes with their probabilities; a tap explains that class. */
export function renderPredictions(): void {
  const list = $('predictions');
  list.replaceChildren(...state.predictions.map((p) => {
    const pct = `${(p.probability * 100).toFixed(1)} %`;
    const b = h('button', { type: 'button', 'aria-pressed': String(p.index === state.classIndex), 'data-class': String(p.index), 'data-probability': String(p.probability) },
      h('span', { class: 'label' }, p.label), h('span', { class: 'prob' }, pct),
      h('span', { class: 'sr-only' }, ' — explain this class'),
      h('span', { class: 'bar-fill', style: `width:${Math.max(1, p.probability * 100)}%`, 'aria-hidden': 'true' }));
    b.addEventListener('click', () => {
      if (!state.picture) return;
      state.classIndex = p.index;
      renderPredictions();
      void explain(state.picture, p.index);
    });
    return h('li', {}, b);
  }));
}
