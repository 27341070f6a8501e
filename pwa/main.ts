/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
/**
 * The whycam app: camera / photo / sample -> top classes -> coarse class map -> sharp maps, all
 * computed in the whycam worker (tfjs never loads on the page). Plain TypeScript over the DOM.
 *
 * For tests and diagnosis the root element carries what happened: data-model="ready",
 * data-stages (stages of the current explanation, in arrival order), data-shown (the method drawn),
 * data-version (the build this page runs), data-facing / data-camera-switch (the last camera switch).
 *
 * Versions: a new build installs in the background and waits; the page offers "Update now", which
 * lets it take over and reloads. Any page whose service worker is replaced reloads at once (another
 * tab's "Update now" included), so no page runs with the files of two versions.
 */
import * as Comlink from 'comlink';
import { createClient, type ExplainSummary, type ModelInfo, type Stage, type WhycamClient } from '../worker/client';
import { COLORMAP_NAMES, type ColormapName } from '../src/render';
import type { SaliencyMap } from '../src/methods/types';
import { Camera, CameraError } from './camera';
import { $, formatBytes, h } from './dom';
import { METHODS, methodLabel, normalizeModeFor, type Method } from './methods';
import { deleteModel, listModels, readModel, saveModel, saveUrlModel, StorageError, type StoredModel } from './store';
import { serviceWorkerOwnsUrlModels, urlModel, withUnit } from './url-models';
import type { QuantizeApi } from './quantize-worker';
import { drawLegend, drawLiveOverlay, drawPicture, formatValue, mapScale, type Picture } from './view';

interface AppConfig {
  defaultModel: { url: string; name: string; bytes: number };
  samples: Array<{ url: string; label: string }>;
  worker: string;
  quantizeWorker: string;
}

interface Prediction { index: number; label: string; probability: number }

/** The app's version, set by the pwa build (WHYCAM_VERSION, else package.json's version). */
declare const __WHYCAM_VERSION__: string;
const VERSION = __WHYCAM_VERSION__;

/** Side of the square picture kept on the page and sent to the worker. */
const SIDE = 448;
const ROOT = document.documentElement;

const state = {
  client: null as WhycamClient | null,
  config: null as AppConfig | null,
  model: null as ModelInfo | null,
  activeModel: 'default',
  picture: null as Picture | null,
  maps: {} as Partial<Record<Method, SaliencyMap>>,
  skipped: {} as Partial<Record<Method, string>>,
  predictions: [] as Prediction[],
  classIndex: -1,
  method: 'gradcam' as Method | 'compare',
  /** Once the person picks a method, a new stage no longer switches the view. */
  methodPicked: false,
  colormap: 'turbo' as ColormapName,
  opacity: 0.55,
  live: false,
  liveFrames: [] as number[],
};

const video = $<HTMLVideoElement>('video');
const view = $<HTMLCanvasElement>('view');
const liveCanvas = $<HTMLCanvasElement>('live-overlay');
const camera = new Camera(video);

// ---------------------------------------------------------------- messages

function showError(message: string): void {
  const el = $('alert');
  el.textContent = message;
  el.hidden = false;
}

function clearError(): void {
  $('alert').hidden = true;
}

function errorMessage(e: unknown): string {
  if (e instanceof CameraError || e instanceof StorageError) return e.message;
  const code = (e as { code?: string })?.code;
  const msg = (e as Error)?.message ?? String(e);
  switch (code) {
    case 'MODEL_NOT_FOUND':
    case 'MODEL_CORRUPT':
    case 'WEIGHTS_MISMATCH':
    case 'UNSUPPORTED_LAYER':
    case 'UNSUPPORTED_MODEL':
      return `The model failed to load: ${msg}`;
    case 'BAD_IMAGE':
    case 'EMPTY_IMAGE':
    case 'IMAGE_TOO_LARGE':
      return `That image cannot be used: ${msg}`;
    default:
      return msg;
  }
}

function status(text: string, step?: number): void {
  $('status').textContent = text;
  if (step !== undefined) ($('progress') as HTMLProgressElement).value = step;
}

/** The browser features the app cannot work without, and what to do. */
function unsupported(): string | null {
  const missing: string[] = [];
  if (typeof Worker === 'undefined') missing.push('Web Workers');
  if (typeof WebAssembly === 'undefined') missing.push('WebAssembly');
  if (typeof createImageBitmap === 'undefined') missing.push('createImageBitmap');
  if (typeof OffscreenCanvas === 'undefined') missing.push('OffscreenCanvas');
  if (!missing.length) return null;
  return `This browser cannot run whycam: it lacks ${missing.join(', ')}. Use a recent Chrome, Edge, Firefox (105+) or Safari (16.4+).`;
}

// ---------------------------------------------------------------- pictures

function toPicture(source: CanvasImageSource, width: number, height: number): Picture {
  const side = Math.min(width, height);
  const size = Math.min(SIDE, side);
  const c = document.createElement('canvas');
  c.width = c.height = size;
  const ctx = c.getContext('2d', { willReadFrequently: true });
  if (!ctx) throw new Error('This browser gives no 2D canvas.');
  ctx.drawImage(source, (width - side) / 2, (height - side) / 2, side, side, 0, 0, size, size);
  const d = ctx.getImageData(0, 0, size, size);
  return { data: d.data, width: size, height: size };
}

async function pictureFromBlob(blob: Blob): Promise<Picture> {
  let bitmap: ImageBitmap;
  try {
    bitmap = await createImageBitmap(blob, { imageOrientation: 'from-image' });
  } catch {
    throw new CameraError(`That file${blob.type ? ` (${blob.type})` : ''} is not an image this browser can open. Use a JPEG or PNG photo.`);
  }
  try {
    return toPicture(bitmap, bitmap.width, bitmap.height);
  } finally {
    bitmap.close();
  }
}

// ---------------------------------------------------------------- explaining

function resetRun(): void {
  state.maps = {};
  state.skipped = {};
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
    renderPredictions();
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

async function explain(picture: Picture, classIndex?: number): Promise<void> {
  if (!state.client || !state.model) {
    status('The model is still loading; the photo will be explained once it is ready.');
    return;
  }
  clearError();
  // Counts new pictures (not re-explanations of the same one after a model or class change), so
  // a test or a tool can tell which picture the stages in data-stages belong to.
  if (picture !== state.picture) ROOT.dataset.picture = String(Number(ROOT.dataset.picture ?? 0) + 1);
  state.picture = picture;
  resetRun();
  if (classIndex === undefined) state.predictions = [];
  render();
  status(classIndex === undefined ? 'Predicting…' : `Explaining “${state.model.labels[classIndex] ?? classIndex}”…`, 0);
  const image = new ImageData(new Uint8ClampedArray(picture.data), picture.width, picture.height);
  try {
    const summary: ExplainSummary = await state.client.explain(image, { topK: 5, ...(classIndex !== undefined ? { class: classIndex } : {}) }, onStage);
    ROOT.dataset.done = String(Number(ROOT.dataset.done ?? 0) + 1);
    void summary;
  } catch (e) {
    if ((e as { code?: string })?.code === 'CANCELLED') return;
    showError(errorMessage(e));
    status('Something went wrong; see the message above.');
  }
}

// ---------------------------------------------------------------- rendering

function look() {
  return { colormap: state.colormap, opacity: state.opacity };
}

function render(): void {
  renderMethods();
  const picture = state.picture;
  const compare = state.method === 'compare';
  $('compare').hidden = !compare;
  const shown: Method = compare ? (state.maps['guided-gradcam'] ? 'guided-gradcam' : 'gradcam') : state.method as Method;
  if (picture) {
    const map = state.maps[shown];
    drawPicture(view, picture, map, shown, look());
    ROOT.dataset.shown = map ? shown : '';
    const label = state.predictions.find((p) => p.index === state.classIndex)?.label ?? state.model?.labels[state.classIndex];
    view.setAttribute('aria-label', map
      ? `${methodLabel(shown)} heat map for “${label}” over the photo: warm colours mark the pixels that raised the score.`
      : 'The photo; its heat map is being computed.');
    ($('share') as HTMLButtonElement).disabled = ($('save') as HTMLButtonElement).disabled = !map;
    renderLegend(map, shown, label);
  }
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
      : `${methodLabel(method)}: |gradient| of the “${label}” score per pixel; the strongest 1 % saturate at the right end.`;
}

function renderCompare(): void {
  const box = $('compare');
  box.replaceChildren();
  if (!state.picture) return;
  for (const m of METHODS) {
    const canvas = h('canvas', { role: 'img' });
    const map = state.maps[m.id];
    drawPicture(canvas, state.picture, map, m.id, look());
    canvas.setAttribute('aria-label', map ? `${m.label} heat map` : `${m.label}: ${state.skipped[m.id] ?? 'not computed yet'}`);
    const caption = map ? m.label : `${m.label} — ${state.skipped[m.id] ? 'does not apply' : 'computing…'}`;
    box.append(h('figure', {}, canvas, h('figcaption', {}, caption)));
  }
}

function renderMethods(): void {
  const box = $('methods');
  const camApplies = state.model ? state.model.cam.applies : true;
  const entries: Array<{ id: Method | 'compare'; label: string; title: string }> = [
    ...METHODS.map((m) => ({ id: m.id, label: m.label, title: m.what })),
    { id: 'compare', label: 'Compare all', title: 'all five methods side by side' },
  ];
  if (box.childElementCount !== entries.length) {
    box.replaceChildren(...entries.map((e) => {
      const b = h('button', { type: 'button', role: 'radio', 'data-method': e.id, title: e.title }, e.label);
      b.addEventListener('click', () => {
        state.method = e.id;
        state.methodPicked = true;
        render();
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

function renderPredictions(): void {
  const list = $('predictions');
  list.replaceChildren(...state.predictions.map((p) => {
    const pct = `${(p.probability * 100).toFixed(1)} %`;
    const b = h('button', { type: 'button', 'aria-pressed': String(p.index === state.classIndex), 'data-class': String(p.index) },
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

// ---------------------------------------------------------------- camera and live mode

function setCameraUi(running: boolean): void {
  $('camera').textContent = running ? 'Stop camera' : 'Start camera';
  $('capture').hidden = !running;
  $('switch').hidden = !running;
  $('live-label').hidden = !running;
  video.hidden = !running;
  view.hidden = running;
  liveCanvas.hidden = !(running && state.live);
  $('fps').hidden = !(running && state.live);
}

async function startCamera(): Promise<void> {
  clearError();
  try {
    await camera.start();
    setCameraUi(true);
    status('Camera on. Capture a frame, or turn on the live map.');
    if (state.live) void liveLoop();
  } catch (e) {
    setCameraUi(false);
    showError(errorMessage(e));
  }
}

function stopCamera(): void {
  state.live = false;
  ($('live') as HTMLInputElement).checked = false;
  camera.stop();
  setCameraUi(false);
}

/** The other camera (front/rear); the preview, and the live map if on, go on with whichever camera runs after. */
async function switchCamera(): Promise<void> {
  clearError();
  try {
    const r = await camera.switchCamera();
    ROOT.dataset.facing = r.facing;
    ROOT.dataset.cameraSwitch = r.changed ? 'switched' : 'same-camera';
    status(r.changed
      ? `Switched to the ${r.facing === 'user' ? 'front' : 'rear'} camera.`
      : r.cameras <= 1 ? 'This device has one camera; it stays on.' : 'The other camera gave the same picture source; it stays on.');
  } catch (e) {
    ROOT.dataset.cameraSwitch = 'failed';
    showError(errorMessage(e));
  }
  setCameraUi(camera.running);
  if (state.live && camera.running) void liveLoop();
}

/** Freezes the current frame and computes every map for it. */
async function capture(): Promise<void> {
  if (!camera.running) return;
  const { sx, sy, side } = camera.crop();
  if (!side) return;
  const c = document.createElement('canvas');
  c.width = c.height = side;
  c.getContext('2d')?.drawImage(video, sx, sy, side, side, 0, 0, side, side);
  const picture = toPicture(c, side, side);
  stopCamera();
  await explain(picture);
}

let liveLoopRunning = false;

/** Newest frame only, as fast as the worker manages: the coarse map follows the preview. One loop at a time. */
async function liveLoop(): Promise<void> {
  if (liveLoopRunning) return;
  liveLoopRunning = true;
  try {
    await liveFrames();
  } finally {
    liveLoopRunning = false;
  }
}

async function liveFrames(): Promise<void> {
  if (!state.client || !state.model) return;
  const method: Method = state.model.cam.applies ? 'cam' : 'gradcam';
  liveCanvas.width = liveCanvas.height = 224;
  while (state.live && camera.running && state.client) {
    let frame: ImageBitmap;
    try {
      frame = await camera.grab(224);
    } catch {
      await new Promise((r) => setTimeout(r, 100));
      continue;
    }
    try {
      await state.client.explainLatest(frame, { methods: [method], topK: 5 }, (stage) => {
        if (!state.live) return;
        if (stage.stage === 'prediction') {
          state.predictions = stage.predictions;
          state.classIndex = stage.classIndex;
          renderPredictions();
        } else if (stage.maps[method]) {
          drawLiveOverlay(liveCanvas, stage.maps[method] as SaliencyMap, method, look());
        }
      });
      const now = performance.now();
      state.liveFrames = [...state.liveFrames.filter((t) => now - t < 2000), now];
      const fps = state.liveFrames.length > 1 ? (state.liveFrames.length - 1) / ((now - state.liveFrames[0]) / 1000) : 0;
      $('fps').textContent = `${fps.toFixed(1)} maps/s`;
      ROOT.dataset.liveFrames = String(Number(ROOT.dataset.liveFrames ?? 0) + 1);
    } catch (e) {
      if ((e as { code?: string })?.code !== 'CANCELLED') {
        showError(errorMessage(e));
        break;
      }
    }
  }
}

// ---------------------------------------------------------------- save / share

async function explanationPng(): Promise<File> {
  const blob = await new Promise<Blob | null>((resolve) => view.toBlob(resolve, 'image/png'));
  if (!blob) throw new Error('The picture could not be encoded as PNG.');
  const label = state.predictions.find((p) => p.index === state.classIndex)?.label ?? 'class';
  const name = `whycam-${label.replace(/[^a-z0-9]+/gi, '-').toLowerCase()}-${state.method}.png`;
  return new File([blob], name, { type: 'image/png' });
}

function download(file: File): void {
  const url = URL.createObjectURL(file);
  const a = h('a', { href: url, download: file.name });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

async function share(): Promise<void> {
  try {
    const file = await explanationPng();
    const data: ShareData = { files: [file], title: 'whycam explanation', text: `Why the model said “${state.predictions.find((p) => p.index === state.classIndex)?.label}”` };
    if (navigator.canShare?.(data)) {
      await navigator.share(data);
    } else {
      download(file);
      status('This browser cannot share files; the PNG was downloaded instead.');
    }
  } catch (e) {
    if ((e as { name?: string })?.name !== 'AbortError') showError(`Sharing failed: ${(e as Error)?.message ?? e}`);
  }
}

// ---------------------------------------------------------------- models

function setModelName(): void {
  $('model-name').textContent = state.model ? `Model: ${state.model.name} · ${state.model.labels.length} classes` : 'No model loaded';
}

async function loadModel(id: string): Promise<void> {
  const client = state.client;
  const config = state.config;
  if (!client || !config) return;
  const previous = state.activeModel;
  ROOT.dataset.model = 'loading';
  status('Loading the model…', 0);
  try {
    if (id === 'default') {
      state.model = await client.load({ url: config.defaultModel.url }, { onProgress: (f) => status(`Loading the model… ${Math.round(f * 100)} %`) });
      state.model = { ...state.model, name: config.defaultModel.name };
    } else {
      const stored = (await listModels()).find((m) => m.id === id);
      if (!stored) throw new StorageError('That model is no longer stored on this device.');
      if (stored.kind === 'url') {
        state.model = await client.load({ url: await urlModelToLoad(stored) }, { onProgress: (f) => status(`Loading the model… ${Math.round(f * 100)} %`) });
      } else {
        const files = await readModel(stored);
        state.model = await client.load(stored.kind === 'zip' ? { zip: files[0].data } : { files });
      }
      state.model = { ...state.model, name: stored.name };
    }
    state.activeModel = id;
    localStorage.setItem('whycam.model', id);
    ROOT.dataset.model = 'ready';
    setModelName();
    status('Ready. Start the camera, pick a photo or try a sample.', 0);
    state.predictions = [];
    renderPredictions();
    render();
    await renderModels();
    if (state.picture) await explain(state.picture);
  } catch (e) {
    ROOT.dataset.model = 'failed';
    const message = errorMessage(e);
    showError(message);
    status('The model could not be loaded.');
    if (id !== 'default') localStorage.removeItem('whycam.model');
    // Go back to the model that worked; its re-explanation clears messages, so say again why
    // the chosen one was not used (a small model is back within ~100 ms: the message would flash).
    const fallback = previous !== id ? previous : id !== 'default' ? 'default' : null;
    if (fallback) {
      state.activeModel = fallback;
      await loadModel(fallback);
      if (ROOT.dataset.model === 'ready') showError(message);
    }
  }
}

/**
 * The URL the worker loads a URL model from: its own URL naming the unit the service worker keeps,
 * after the service worker has checked every file of it (and repaired what it could). Kept copy gone
 * (storage cleared): downloaded again as a whole. No service worker: straight from the network.
 */
async function urlModelToLoad(stored: StoredModel): Promise<string> {
  let r = await urlModel('check', stored.source);
  if (!r) return stored.source;
  if (!r.ok && r.missing) {
    status('The kept copy of this model is gone; downloading it again…');
    r = await urlModel('add', stored.source);
    if (!r) return stored.source;
  }
  if (!r.ok) throw new StorageError(r.message);
  const info = r.info;
  if (!info) throw new StorageError('The service worker gave no details of the kept model.');
  if (info.unit !== stored.unit) await saveUrlModel(stored.name, info.url, info.unit, info.bytes);
  return withUnit(info.url, info.unit);
}

/** Deletes a user model; a URL model's files are dropped by the service worker that keeps them. */
async function deleteUserModel(model: StoredModel): Promise<void> {
  await deleteModel(model.id);
  if (model.kind === 'url') await urlModel('remove', model.source).catch(() => null);
}

async function renderModels(): Promise<void> {
  const list = $('models');
  const config = state.config;
  if (!config) return;
  let stored: StoredModel[] = [];
  try {
    stored = await listModels();
  } catch (e) {
    showError(errorMessage(e));
  }
  const item = (id: string, name: string, bytes: number, extra: string, deletable: boolean) => {
    const active = id === state.activeModel;
    // Visible text first in the accessible name (WCAG 2.5.3); the model's name only for screen readers.
    const use = h('button', { type: 'button' }, active ? 'In use' : 'Use', h('span', { class: 'sr-only' }, ` ${name}`));
    use.toggleAttribute('disabled', active);
    use.addEventListener('click', () => {
      clearError();
      void loadModel(id);
    });
    const li = h('li', { 'aria-current': String(active), 'data-model-id': id },
      h('span', { class: 'name' }, name), h('span', { class: 'size' }, `${formatBytes(bytes)}${extra}`), use);
    if (deletable) {
      const del = h('button', { type: 'button', 'data-action': 'delete' }, 'Delete', h('span', { class: 'sr-only' }, ` ${name}`));
      del.addEventListener('click', async () => {
        const model = stored.find((m) => m.id === id);
        if (model) await deleteUserModel(model);
        if (state.activeModel === id) await loadModel('default');
        else await renderModels();
      });
      li.append(del);
    }
    return li;
  };
  list.replaceChildren(
    item('default', `${config.defaultModel.name} (built in)`, config.defaultModel.bytes, '', false),
    ...stored.map((m) => item(m.id, m.name, m.bytes, m.quantized ? ` · float16 (${m.quantized})` : '', true)),
  );
}

async function nameFromFiles(files: Array<{ name: string; data: Blob }>, fallback: string): Promise<string> {
  const meta = files.find((f) => f.name === 'metadata.json');
  if (meta) {
    try {
      const m = JSON.parse(await meta.data.text()) as { modelName?: string };
      if (m.modelName && m.modelName !== 'untitled') return m.modelName;
    } catch {
      // Unreadable metadata: the engine will say so when it loads.
    }
  }
  return fallback;
}

async function importFiles(list: FileList): Promise<void> {
  const files = [...list];
  const importStatus = $('import-status');
  clearError();
  try {
    let model: StoredModel;
    const zip = files.find((f) => /\.zip$/i.test(f.name) || f.type === 'application/zip');
    if (zip && files.length > 1) throw new StorageError('Pick either one Teachable Machine zip, or the model files (model.json, weights, metadata.json) — not both.');
    if (!zip && !files.some((f) => f.name.endsWith('.json') && f.name !== 'metadata.json')) {
      throw new StorageError('No model.json among the picked files. Pick model.json together with its weight files (and metadata.json), or a Teachable Machine zip.');
    }
    if ($<HTMLInputElement>('quantize').checked) {
      const q = await quantizeOnImport(zip ? { zip } : { files });
      const name = await nameFromFiles(q.files, zip ? zip.name.replace(/\.zip$/i, '') : 'Imported model');
      model = await saveModel(name, 'files', q.files, 'files', q.summary);
      importStatus.textContent = q.message;
    } else if (zip) {
      importStatus.textContent = `Storing ${zip.name}…`;
      model = await saveModel(zip.name.replace(/\.zip$/i, ''), 'zip', [{ name: 'model.zip', data: zip }], 'files');
    } else {
      const parts = files.map((f) => ({ name: f.name, data: f as Blob }));
      importStatus.textContent = `Storing ${files.length} files…`;
      model = await saveModel(await nameFromFiles(parts, 'Imported model'), 'files', parts, 'files');
    }
    const quantNote = model.quantized ? ` ${importStatus.textContent}` : '';
    importStatus.textContent = `Stored “${model.name}” (${formatBytes(model.bytes)}). Loading it…${quantNote}`;
    await loadModel(model.id);
    if (state.activeModel !== model.id) {
      // It does not load: do not keep a model that cannot be used.
      await deleteModel(model.id);
      await renderModels();
      importStatus.textContent = `“${model.name}” could not be loaded and was not kept.`;
    } else {
      importStatus.textContent = `“${model.name}” is stored on this device and in use.${quantNote}`;
    }
  } catch (e) {
    importStatus.textContent = '';
    showError(errorMessage(e));
  }
}

/** Decodes an image URL into model-sized pixels for the fidelity check. */
async function pixelsOf(url: string): Promise<{ data: Uint8ClampedArray; width: number; height: number; channels: 4 }> {
  const bitmap = await createImageBitmap(await (await fetch(url)).blob());
  const p = toPicture(bitmap, bitmap.width, bitmap.height);
  bitmap.close();
  return { ...p, channels: 4 };
}

/**
 * Quantises to float16 in the PWA's own worker and reports the quantiser's fidelity numbers
 * (on the sample scenes and the current photo) next to the sizes.
 */
async function quantizeOnImport(input: { zip: File } | { files: File[] }): Promise<{ files: Array<{ name: string; data: Blob }>; summary: string; message: string }> {
  const config = state.config;
  if (!config) throw new Error('The app is not ready yet.');
  const importStatus = $('import-status');
  importStatus.textContent = 'Quantising to float16 and checking fidelity on the sample scenes…';
  const images = await Promise.all(config.samples.map((s) => pixelsOf(s.url)));
  if (state.picture) images.push({ ...state.picture, channels: 4 });
  const before = 'zip' in input ? input.zip.size : input.files.reduce((a, f) => a + f.size, 0);
  const source = 'zip' in input
    ? { zip: await input.zip.arrayBuffer() }
    : { files: await Promise.all(input.files.map(async (f) => ({ name: f.name, data: await f.arrayBuffer() }))) };
  const worker = new Worker(config.quantizeWorker);
  try {
    const api = Comlink.wrap<QuantizeApi>(worker);
    const { files, report } = await api.quantize(source, images);
    const f = report.fidelity;
    const pct = (x: number) => `${(x * 100).toFixed(1)} %`;
    const r = f.gradcamPearson === null ? 'Grad-CAM does not apply' : `Grad-CAM correlation ${f.gradcamPearson.toFixed(3)} (lowest ${f.minGradcamPearson?.toFixed(3)})`;
    const summary = `top-1 ${pct(f.top1Agreement)}, ${f.gradcamPearson === null ? 'no Grad-CAM' : `Grad-CAM r ${f.gradcamPearson.toFixed(3)}`}`;
    const message = `float16: ${formatBytes(before)} → ${formatBytes(report.totalBytes)}. Against the original on ${f.n} images: same top class on ${pct(f.top1Agreement)}, ${r}, ` +
      `largest probability change ${pct(f.maxProbabilityChange)}${report.keptFloat32.length ? `; ${report.keptFloat32.length} tensors kept as float32` : ''}.`;
    return { files: files.map((x) => ({ name: x.name, data: new Blob([x.data]) })), summary, message };
  } finally {
    worker.terminate();
  }
}

const DTYPE_BYTES: Record<string, number> = { float32: 4, int32: 4, float16: 2, uint16: 2, uint8: 1, bool: 1 };

/**
 * A model from a URL. With a service worker running the page, it downloads and keeps the model as
 * one unit (pwa/sw-url-models.ts) and the page lists it; importing the same URL again updates it
 * to the version now there, as a whole. Without one, the page downloads it into its own store.
 */
async function importUrl(raw: string): Promise<void> {
  const importStatus = $('import-status');
  clearError();
  let url: URL;
  try {
    url = new URL(raw, document.baseURI);
  } catch {
    showError(`“${raw}” is not a URL. Give the full address of the model's model.json.`);
    return;
  }
  if (!serviceWorkerOwnsUrlModels()) {
    await importUrlByPage(url);
    return;
  }
  try {
    importStatus.textContent = `Downloading ${url.href}…`;
    const r = await urlModel('add', url.href, (loaded, total) => {
      importStatus.textContent = `Downloading ${url.href}… ${Math.round((100 * loaded) / Math.max(1, total))} %`;
    });
    if (!r) {
      await importUrlByPage(url);
      return;
    }
    if (!r.ok) throw new StorageError(r.message);
    if (!r.info) throw new StorageError('The service worker gave no details of the downloaded model.');
    const name = r.info.name ?? (url.pathname.split('/').slice(-2, -1)[0] || url.host);
    const { model, existed } = await saveUrlModel(name, r.info.url, r.info.unit, r.info.bytes);
    const kept = existed
      ? r.changed ? `Updated “${model.name}” to the version now at its URL (${formatBytes(model.bytes)}).` : `“${model.name}” is already the version at its URL.`
      : `Kept “${model.name}” (${formatBytes(model.bytes)}).`;
    importStatus.textContent = `${kept} Loading it…`;
    await loadModel(model.id);
    if (state.activeModel !== model.id) {
      if (!existed) await deleteUserModel(model);
      await renderModels();
      importStatus.textContent = existed ? kept : `“${model.name}” could not be loaded and was not kept.`;
    } else {
      importStatus.textContent = `${kept} It is on this device and in use.`;
    }
  } catch (e) {
    importStatus.textContent = '';
    showError(errorMessage(e));
  }
}

/** Without a service worker: fetches model.json, its weight files and metadata.json, checking each weight group's size against the manifest. */
async function importUrlByPage(url: URL): Promise<void> {
  const importStatus = $('import-status');
  try {
    importStatus.textContent = `Downloading ${url.href}…`;
    const res = await fetch(url, { mode: 'cors', cache: 'no-store' });
    if (!res.ok) throw new StorageError(`The model URL answered ${res.status} ${res.statusText}: check the address (it should end in model.json).`);
    const modelJson = await res.blob();
    const manifest = JSON.parse(await modelJson.text()) as { weightsManifest?: Array<{ paths: string[]; weights: Array<{ shape: number[]; dtype: string; quantization?: { dtype: string } }> }> };
    if (!Array.isArray(manifest.weightsManifest)) throw new StorageError('That URL is not a tfjs layers model.json (no weightsManifest).');
    const parts: Array<{ name: string; data: Blob }> = [{ name: 'model.json', data: modelJson }];
    for (const group of manifest.weightsManifest) {
      const expected = group.weights.reduce((s, w) => s + w.shape.reduce((a, b) => a * b, 1) * (DTYPE_BYTES[w.quantization?.dtype ?? w.dtype] ?? 4), 0);
      let got = 0;
      for (const p of group.paths) {
        const r = await fetch(new URL(p, url), { mode: 'cors', cache: 'no-store' });
        if (!r.ok) throw new StorageError(`Weight file ${p} answered ${r.status}; the model is incomplete.`);
        const data = await r.blob();
        got += data.size;
        parts.push({ name: p, data });
      }
      if (got !== expected) throw new StorageError(`The weight files hold ${got} bytes where model.json promises ${expected}: the download is incomplete or the files do not belong together.`);
    }
    const meta = await fetch(new URL('metadata.json', url), { mode: 'cors', cache: 'no-store' }).catch(() => null);
    if (meta?.ok) parts.push({ name: 'metadata.json', data: await meta.blob() });
    const model = await saveModel(await nameFromFiles(parts, url.pathname.split('/').slice(-2, -1)[0] || url.host), 'files', parts, url.href);
    importStatus.textContent = `Stored “${model.name}” (${formatBytes(model.bytes)}).`;
    await loadModel(model.id);
  } catch (e) {
    importStatus.textContent = '';
    showError(e instanceof TypeError ? `The model could not be downloaded (${e.message}). The server must allow cross-origin requests (CORS), and you must be online.` : errorMessage(e));
  }
}

// ---------------------------------------------------------------- start-up

function wire(): void {
  $('camera').addEventListener('click', () => (camera.running ? stopCamera() : void startCamera()));
  $('capture').addEventListener('click', () => void capture());
  $('switch').addEventListener('click', () => void switchCamera());
  $('live').addEventListener('change', (ev) => {
    state.live = (ev.target as HTMLInputElement).checked;
    state.liveFrames = [];
    setCameraUi(camera.running);
    if (state.live) void liveLoop();
    else void state.client?.cancel();
  });
  // A tap on the live preview freezes the frame and completes the sharp maps.
  video.addEventListener('click', () => void capture());
  $('pick').addEventListener('change', async (ev) => {
    const input = ev.target as HTMLInputElement;
    const file = input.files?.[0];
    input.value = '';
    if (!file) return;
    try {
      stopCamera();
      await explain(await pictureFromBlob(file));
    } catch (e) {
      showError(errorMessage(e));
    }
  });
  const opacity = $<HTMLInputElement>('opacity');
  opacity.addEventListener('input', () => {
    state.opacity = Number(opacity.value) / 100;
    $('opacity-out').textContent = `${opacity.value} %`;
    render();
  });
  const cm = $<HTMLSelectElement>('colormap');
  cm.replaceChildren(...COLORMAP_NAMES.map((n) => h('option', { value: n }, n)));
  cm.value = state.colormap;
  cm.addEventListener('change', () => {
    state.colormap = cm.value as ColormapName;
    render();
  });
  $('save').addEventListener('click', () => void explanationPng().then(download, (e) => showError(String(e))));
  $('share').addEventListener('click', () => void share());
  $('import-files').addEventListener('change', (ev) => {
    const input = ev.target as HTMLInputElement;
    if (input.files?.length) void importFiles(input.files).finally(() => { input.value = ''; });
  });
  $('import-url-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    const v = $<HTMLInputElement>('import-url').value.trim();
    if (v) void importUrl(v);
  });
  drawLegend($<HTMLCanvasElement>('legend'), state.colormap);
  renderMethods();
}

function renderSamples(samples: AppConfig['samples']): void {
  $('samples').replaceChildren(...samples.map((s) => {
    const b = h('button', { type: 'button', 'aria-label': `Sample scene: ${s.label}`, title: s.label }, h('img', { src: s.url, alt: '' }));
    b.addEventListener('click', async () => {
      try {
        stopCamera();
        const res = await fetch(s.url);
        await explain(await pictureFromBlob(await res.blob()));
      } catch (e) {
        showError(errorMessage(e));
      }
    });
    return b;
  }));
}

async function registerServiceWorker(): Promise<void> {
  if (!('serviceWorker' in navigator)) return;
  try {
    // Only a page that an older version already controls can be offered an update; on a first
    // visit the service worker installing is this version, not a new one.
    const controlled = navigator.serviceWorker.controller !== null;
    const reg = await navigator.serviceWorker.register('sw.js');
    let updating = false;
    const offer = (waiting: ServiceWorker) => {
      if (!controlled) return;
      $('update').hidden = false;
      $('update-now').onclick = () => {
        updating = true;
        waiting.postMessage({ type: 'SKIP_WAITING' });
      };
    };
    // Only an update (a controller already exists) is offered; the first install just takes over.
    if (reg.waiting && navigator.serviceWorker.controller) offer(reg.waiting);
    reg.addEventListener('updatefound', () => {
      const w = reg.installing;
      w?.addEventListener('statechange', () => {
        if (w.state === 'installed' && navigator.serviceWorker.controller) offer(w);
      });
    });
    // A new version controls the page now (this tab's "Update now", or another tab's): reload, so
    // that every file comes from it. (On a first visit the first version merely claims the page.)
    navigator.serviceWorker.addEventListener('controllerchange', () => {
      if (updating || controlled) {
        updating = true;
        location.reload();
      }
    });
    // Look for a new version when the app comes back to the foreground, and hourly while it stays open.
    document.addEventListener('visibilitychange', () => {
      if (document.visibilityState === 'visible' && !updating) void reg.update().catch(() => {});
    });
    setInterval(() => { if (!updating) void reg.update().catch(() => {}); }, 60 * 60 * 1000);
  } catch (e) {
    // The app still works online; only offline use is lost.
    console.warn('whycam: service worker not registered', e);
  }
}

/**
 * Starts the worker and waits for its backend. If the best binary crashes the worker outright
 * (rather than failing over inside it), start again capped at the single-threaded SIMD binary.
 */
async function startWorker(url: string): Promise<WhycamClient> {
  const worker = new Worker(url);
  const client = createClient(worker);
  try {
    const b = await client.backendInfo();
    $('backend').textContent = `Computing on this device: ${b.backend}${b.binary ? ` (${b.binary})` : ''}, ${b.threads} thread${b.threads > 1 ? 's' : ''}${b.crossOriginIsolated ? ', cross-origin isolated' : ''}. Nothing is uploaded.`;
    ROOT.dataset.backend = `${b.binary ?? b.backend}:${b.threads}`;
    return client;
  } catch (e) {
    worker.terminate();
    if (url.includes('#')) throw e;
    console.warn('whycam: the worker failed with the best binary; retrying single-threaded', e);
    return startWorker(`${url}#binary=simd`);
  }
}

async function main(): Promise<void> {
  ROOT.dataset.version = VERSION;
  $('version').textContent = `whycam ${VERSION}`;
  wire();
  const missing = unsupported();
  if (missing) {
    showError(missing);
    status('whycam cannot run in this browser.');
    return;
  }
  void registerServiceWorker();
  try {
    const res = await fetch('app-config.json');
    state.config = (await res.json()) as AppConfig;
  } catch {
    showError('The app is not fully installed (app-config.json is missing). Reload while online.');
    return;
  }
  renderSamples(state.config.samples);
  try {
    state.client = await startWorker(state.config.worker);
  } catch (e) {
    showError(errorMessage(e));
    status('The compute worker could not start.');
    return;
  }
  await renderModels();
  const saved = localStorage.getItem('whycam.model');
  await loadModel(saved ?? 'default');
}

void main();
