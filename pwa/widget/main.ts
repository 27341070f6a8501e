/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
/**
 * The whycam widget: a page meant for an iframe on another site. It answers the host page's
 * postMessage requests (pwa/widget/protocol.ts) with the same worker the app uses
 * (worker/client.ts; tfjs never loads on this page) and draws the overlay itself (src/render).
 *
 * - Only origins on the deploy-time allowlist (widget-config.json, narrowed by the URL fragment
 *   `#origins=`) are heard; anything else is dropped without an answer and changes nothing.
 * - Every answer goes to the window that asked, restricted to the origin that asked.
 * - Maps are sent raw (Float32Array, transferred) after the widget has drawn them.
 * - The camera works when the host grants `allow="camera"`; the threaded wasm binary runs when
 *   the host is cross-origin isolated and grants `allow="cross-origin-isolated"`.
 * - Registers the app's service worker (same scope), so it works offline after the first load.
 *
 * For tests and diagnosis the root element carries data-state (starting|ready|failed), data-host
 * (the origin that said hello), data-requests (accepted messages), data-dropped (messages from
 * origins not allowed), data-stages (stages of the last explanation) and data-backend.
 */
import { startWhycamWorker, type BackendInfo, type ModelInfo, type Stage, type WhycamClient } from '../../worker/client';
import { normalizeMap, overlay } from '../../src/render';
import { Camera } from '../camera/camera';
import { normalizeModeFor, methodLabel, type Method } from '../methods';
import {
  DEFAULT_LIMITS, errorMessage, narrowRules, originAllowed, PROTOCOL_VERSION, validateHostMessage,
  type ExplainRequestOptions, type HostMessage, type MethodName, type ProtocolErrorCode, type WidgetConfig,
  type WidgetInfo, type WidgetLimits, type WidgetMessage, type WireMap, type WireRegion,
} from './protocol';
import { shadeOutside } from '../explain/draw';
import { MAX_SIDE } from '../explain/picture';

interface AppConfig {
  defaultModel: { url: string; name: string };
  worker: string;
}

/** Longest side of the picture drawn in the widget. */
const DISPLAY_SIDE = 512;
const ROOT = document.documentElement;
const APP_ROOT = new URL('../', location.href);
const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;

interface Peer { source: MessageEventSource; origin: string }

const state = {
  rules: [] as string[],
  limits: DEFAULT_LIMITS as WidgetLimits,
  client: null as WhycamClient | null,
  backend: null as BackendInfo | null,
  model: null as ModelInfo | null,
  modelUrl: '',
  defaultModelUrl: '',
  /** The origin (and window) that said hello last: where widget-initiated results go. */
  host: null as Peer | null,
  /** Sequence of explain requests; only the newest may start computing. */
  seq: 0,
  current: null as { id: string; seq: number; peer: Peer } | null,
  requests: 0,
  dropped: 0,
  ownRequests: 0,
};

const camera = new Camera($<HTMLVideoElement>('video'));

function count(key: 'requests' | 'dropped'): void {
  state[key]++;
  ROOT.dataset[key] = String(state[key]);
}

function status(text: string): void {
  $('status').textContent = text;
}

function alertText(text: string | null): void {
  const el = $('alert');
  el.textContent = text ?? '';
  el.hidden = !text;
}

function send(peer: Peer, message: WidgetMessage, transfer: Transferable[] = []): void {
  try {
    (peer.source as WindowProxy).postMessage(message, { targetOrigin: peer.origin, transfer });
  } catch (e) {
    // The host went away or navigated elsewhere: nothing to answer.
    console.warn('whycam widget: could not answer', e);
  }
}

function sendError(peer: Peer, id: string | null, e: unknown): void {
  const code = ((e as { code?: string })?.code ?? 'INTERNAL') as ProtocolErrorCode;
  send(peer, errorMessage(id, code, (e as Error)?.message ?? String(e)));
}

class WidgetError extends Error {
  constructor(readonly code: ProtocolErrorCode, message: string) {
    super(message);
  }
}

/** Whether this frame may use the camera (the host's `allow="camera"`). */
function cameraAllowed(): boolean {
  const policy = (document as { permissionsPolicy?: { allowsFeature(f: string): boolean }; featurePolicy?: { allowsFeature(f: string): boolean } });
  const p = policy.permissionsPolicy ?? policy.featurePolicy;
  if (p) return p.allowsFeature('camera');
  return Boolean(navigator.mediaDevices?.getUserMedia);
}

// ------------------------------------------------------------------ start-up

async function fetchJson<T>(url: URL): Promise<T> {
  const res = await fetch(url);
  if (!res.ok) throw new Error(`${url.pathname}: HTTP ${res.status}`);
  return (await res.json()) as T;
}

/** Rules first (so messages can be judged), then the worker and the default model. */
const configured: Promise<void> = (async () => {
  const config = await fetchJson<WidgetConfig>(new URL('widget-config.json', location.href));
  const fragment = new URLSearchParams(location.hash.slice(1));
  state.rules = narrowRules(Array.isArray(config.allowedOrigins) ? config.allowedOrigins.filter((r) => typeof r === 'string') : [], fragment.get('origins'));
  if (config.limits) state.limits = { ...DEFAULT_LIMITS, ...config.limits };
})().catch((e) => {
  // No configuration: nobody is allowed. Say so in the frame for whoever deploys it.
  state.rules = [];
  alertText(`The widget is not configured (widget-config.json: ${(e as Error).message}); it answers no one.`);
});

const started: Promise<void> = (async () => {
  ROOT.dataset.state = 'starting';
  const app = await fetchJson<AppConfig>(new URL('app-config.json', APP_ROOT));
  state.defaultModelUrl = new URL(app.defaultModel.url, APP_ROOT).href;
  const { client, backend: b } = await startWhycamWorker(new URL(app.worker, APP_ROOT).href);
  state.client = client;
  state.backend = b;
  ROOT.dataset.backend = `${b.binary ?? b.backend}:${b.threads}`;
})();
started.catch((e) => {
  ROOT.dataset.state = 'failed';
  alertText(`The widget could not start: ${(e as Error).message}`);
});

/** Loads a model unless it is the one in use (none named: the one in use, else the default). Loads are serialised. */
let loading: Promise<unknown> = Promise.resolve();
function useModel(model: string | undefined): Promise<ModelInfo> {
  const next = loading.then(async () => {
    await started;
    const target = model && model !== 'default' ? model : !model && state.modelUrl ? state.modelUrl : state.defaultModelUrl;
    if (state.model && state.modelUrl === target) return state.model;
    status('Loading the model…');
    state.model = await state.client!.load({ url: target }, { onProgress: (f) => status(`Loading the model… ${Math.round(f * 100)} %`) });
    state.modelUrl = target;
    status(`Model “${state.model.name}” ready.`);
    return state.model;
  });
  loading = next.catch(() => {});
  return next;
}

function info(model: ModelInfo): WidgetInfo {
  const b = state.backend!;
  return {
    protocol: PROTOCOL_VERSION,
    model: { name: model.name, labels: model.labels, input: { width: model.input.width, height: model.input.height, channels: model.input.channels } },
    backend: { binary: b.binary, threads: b.threads, crossOriginIsolated: b.crossOriginIsolated },
    camera: cameraAllowed(),
    limits: state.limits,
  };
}

// ------------------------------------------------------------------ drawing

/** The image as drawn here, and its scale from the image the worker explains (whose pixels the region is in). */
interface Picture { data: Uint8ClampedArray; width: number; height: number; scale: number }
let picture: Picture | null = null;
/** The part of the image the model saw (from the prediction stage), in the displayed picture's pixels. */
let seen: WireRegion | null = null;

function drawPicture(source: CanvasImageSource, width: number, height: number): void {
  const scale = Math.min(1, DISPLAY_SIDE / Math.max(width, height));
  const w = Math.max(1, Math.round(width * scale));
  const h = Math.max(1, Math.round(height * scale));
  const canvas = $<HTMLCanvasElement>('view');
  canvas.width = w;
  canvas.height = h;
  const ctx = canvas.getContext('2d', { willReadFrequently: true })!;
  ctx.drawImage(source, 0, 0, w, h);
  picture = { data: ctx.getImageData(0, 0, w, h).data, width: w, height: h, scale: w / width };
  seen = null;
  canvas.setAttribute('aria-label', 'The image being explained');
}

/** The picture with the part the model saw framed and the rest dimmed. */
function drawRegion(region: WireRegion): void {
  if (!picture) return;
  const s = picture.scale;
  seen = { x: region.x * s, y: region.y * s, width: region.width * s, height: region.height * s };
  const ctx = $<HTMLCanvasElement>('view').getContext('2d')!;
  ctx.putImageData(new ImageData(new Uint8ClampedArray(picture.data), picture.width, picture.height), 0, 0);
  shadeOutside(ctx, picture.width, picture.height, seen);
}

/** The map over the part of the picture the model saw (values upsampled, then coloured and blended there). */
function drawMap(method: Method, map: WireMap): void {
  if (!picture || !seen) return;
  const canvas = $<HTMLCanvasElement>('view');
  const ctx = canvas.getContext('2d')!;
  const w = Math.max(1, Math.round(seen.width));
  const h = Math.max(1, Math.round(seen.height));
  // The region's pixels of the picture (black where it reaches past the picture, as `contain` pads).
  const under = document.createElement('canvas');
  under.width = w;
  under.height = h;
  const uctx = under.getContext('2d', { willReadFrequently: true })!;
  uctx.fillStyle = '#000';
  uctx.fillRect(0, 0, w, h);
  ctx.putImageData(new ImageData(new Uint8ClampedArray(picture.data), picture.width, picture.height), 0, 0);
  uctx.drawImage(canvas, seen.x, seen.y, seen.width, seen.height, 0, 0, w, h);
  const norm = normalizeMap(map, { mode: normalizeModeFor(method) });
  const out = overlay({ data: uctx.getImageData(0, 0, w, h).data, width: w, height: h, channels: 4 }, { data: norm, width: map.width, height: map.height }, { colormap: 'turbo', opacity: 0.55 });
  under.getContext('2d')!.putImageData(new ImageData(out.data as Uint8ClampedArray<ArrayBuffer>, w, h), 0, 0);
  ctx.drawImage(under, seen.x, seen.y, seen.width, seen.height);
  shadeOutside(ctx, picture.width, picture.height, seen);
  $('shown').textContent = `Showing ${methodLabel(method)}`;
  canvas.setAttribute('aria-label', `Heat map (${methodLabel(method)}) over the image`);
  ROOT.dataset.shown = method;
}

function drawPredictions(predictions: Array<{ label: string; probability: number }>): void {
  const ol = $('predictions');
  ol.replaceChildren(...predictions.slice(0, 3).map((p) => {
    const li = document.createElement('li');
    const label = document.createElement('span');
    label.textContent = p.label;
    const pct = document.createElement('span');
    pct.textContent = `${(100 * p.probability).toFixed(1)} %`;
    const bar = document.createElement('span');
    bar.className = 'bar';
    bar.style.width = `${Math.max(1, 100 * p.probability)}%`;
    li.append(label, pct, bar);
    return li;
  }));
}

/** The sharpest class-specific map a stage brings: Guided Grad-CAM, else Grad-CAM, else CAM. */
const PREFERRED: Method[] = ['guided-gradcam', 'gradcam', 'cam'];

// ------------------------------------------------------------------ explaining

async function explain(peer: Peer, id: string, image: ImageBitmap | Blob, options: ExplainRequestOptions): Promise<void> {
  const seq = ++state.seq;
  // A newer request wins: the one in flight ends with CANCELLED (from the client), one still
  // waiting for its model here ends the same way when it gets its turn.
  try {
    await useModel(options.model);
    if (seq !== state.seq) throw new WidgetError('CANCELLED', 'The request was superseded or cancelled.');
    // Draw it here first: a bitmap is transferred to the worker afterwards.
    if (image instanceof Blob) {
      try {
        const bitmap = await createImageBitmap(image, { imageOrientation: 'from-image' });
        drawPicture(bitmap, bitmap.width, bitmap.height);
        bitmap.close();
      } catch {
        picture = null; // the worker reports why it cannot be decoded
      }
    } else {
      drawPicture(image, image.width, image.height);
    }
    if (seq !== state.seq) throw new WidgetError('CANCELLED', 'The request was superseded or cancelled.');
    state.current = { id, seq, peer };
    ROOT.dataset.stages = '';
    alertText(null);
    status('Predicting…');
    const { topK, methods } = options;
    const summary = await state.client!.explain(image, {
      ...(options.class !== undefined ? { class: options.class } : {}),
      ...(methods ? { methods } : {}),
      topK: topK ?? 5,
    }, (stage) => onStage(peer, id, stage));
    status(`Done in ${Math.round(summary.stages[summary.stages.length - 1]?.elapsedMs ?? 0)} ms.`);
    send(peer, { whycam: PROTOCOL_VERSION, type: 'done', id, predictions: summary.predictions, classIndex: summary.classIndex, fit: summary.fit, region: summary.region, stages: summary.stages });
  } catch (e) {
    const code = (e as { code?: string })?.code;
    if (code !== 'CANCELLED') {
      alertText((e as Error)?.message ?? String(e));
      status('That image could not be explained.');
    }
    sendError(peer, id, e);
  } finally {
    if (state.current?.seq === seq) state.current = null;
  }
}

function onStage(peer: Peer, id: string, stage: Stage): void {
  ROOT.dataset.stages = `${ROOT.dataset.stages ?? ''} ${stage.stage}`.trim();
  if (stage.stage === 'prediction') {
    drawPredictions(stage.predictions);
    drawRegion(stage.region);
    status('Computing the coarse class map…');
    send(peer, { whycam: PROTOCOL_VERSION, type: 'stage', id, stage: 'prediction', predictions: stage.predictions, classIndex: stage.classIndex, fit: stage.fit, region: stage.region, elapsedMs: stage.elapsedMs, ms: stage.ms });
    return;
  }
  const maps: Partial<Record<MethodName, WireMap>> = {};
  const transfer: Transferable[] = [];
  for (const [name, m] of Object.entries(stage.maps)) {
    if (!m) continue;
    maps[name as MethodName] = {
      method: m.method, data: m.data, width: m.width, height: m.height, channels: m.channels, layer: m.layer, classIndex: m.classIndex,
      ...(m.stats ? { stats: m.stats } : {}),
    };
    if (!transfer.includes(m.data.buffer)) transfer.push(m.data.buffer as ArrayBuffer);
  }
  // Draw before the buffers move to the host.
  // A request for other methods only (e.g. Layer-CAM) shows its first map.
  const best = PREFERRED.find((m) => maps[m]) ?? (Object.keys(maps)[0] as Method | undefined);
  if (best) drawMap(best, maps[best]!);
  status(stage.stage === 'class-maps' ? 'Coarse map ready. Sharpening…' : stage.stage === 'gradient-maps' ? 'Gradient maps ready…'
    : stage.stage === 'sampled-maps' ? 'Sampled maps ready.' : 'Guided Grad-CAM ready.');
  send(peer, { whycam: PROTOCOL_VERSION, type: 'stage', id, stage: stage.stage, maps, skipped: stage.skipped, elapsedMs: stage.elapsedMs, ms: stage.ms }, transfer);
}

// ------------------------------------------------------------------ camera

async function startCamera(): Promise<void> {
  if (!cameraAllowed()) {
    throw new WidgetError('CAMERA_BLOCKED', 'The page embedding this widget does not allow the camera: its iframe needs allow="camera".');
  }
  try {
    await camera.start();
  } catch (e) {
    const blocked = /denied/i.test((e as Error).message);
    throw new WidgetError(blocked ? 'CAMERA_BLOCKED' : 'CAMERA_UNAVAILABLE', (e as Error).message);
  }
  $('video').hidden = false;
  $('capture').hidden = false;
  $('camera').textContent = 'Stop camera';
}

function stopCamera(): void {
  camera.stop();
  $('video').hidden = true;
  $('capture').hidden = true;
  $('camera').textContent = 'Start camera';
}

async function grabFrame(): Promise<ImageBitmap> {
  if (!camera.running) throw new WidgetError('CAMERA_UNAVAILABLE', "The camera is not running: send { type: 'camera', action: 'start' } first.");
  // The whole frame (at most MAX_SIDE a side): the worker crops it as the model needs.
  return camera.grab((w, h) => MAX_SIDE / Math.max(w, h), 'high');
}

// ------------------------------------------------------------------ messages

async function handle(peer: Peer, message: HostMessage): Promise<void> {
  switch (message.type) {
    case 'hello':
      state.host = peer;
      ROOT.dataset.host = peer.origin;
      // At once, before the worker and the model: embed.js gives up on a widget that says nothing.
      send(peer, { whycam: PROTOCOL_VERSION, type: 'accepted', id: message.id });
      try {
        await started;
        const model = await useModel(message.model);
        ROOT.dataset.state = 'ready';
        send(peer, { whycam: PROTOCOL_VERSION, type: 'ready', id: message.id, widget: info(model) });
      } catch (e) {
        sendError(peer, message.id, e);
      }
      return;
    case 'explain':
      return explain(peer, message.id, message.image, message.options);
    case 'cancel':
      if (state.current?.id === message.id && state.current.peer.origin === peer.origin) {
        state.seq++;
        await state.client?.cancel();
      }
      return;
    case 'camera':
      try {
        if (message.action === 'start') {
          await startCamera();
          send(peer, { whycam: PROTOCOL_VERSION, type: 'camera', id: message.id, state: 'on' });
        } else if (message.action === 'stop') {
          stopCamera();
          send(peer, { whycam: PROTOCOL_VERSION, type: 'camera', id: message.id, state: 'off' });
        } else {
          const frame = await grabFrame();
          return explain(peer, message.id, frame, message.options);
        }
      } catch (e) {
        sendError(peer, message.id, e);
      }
  }
}

/** Messages are judged in arrival order, once the allowlist is known. */
let queue: Promise<void> = Promise.resolve();
window.addEventListener('message', (event: MessageEvent) => {
  queue = queue.then(() => configured).then(() => {
    const { origin, source } = event;
    if (!source || !originAllowed(origin, state.rules)) {
      // Not on the allowlist: no answer, no effect (the counter is for diagnosis only).
      count('dropped');
      return;
    }
    const peer: Peer = { source, origin };
    const checked = validateHostMessage(event.data, state.limits);
    if (!checked.ok) {
      if (checked.reply) send(peer, checked.reply);
      return;
    }
    count('requests');
    // Not awaited: a long explanation must not hold back a cancel or a newer request.
    void handle(peer, checked.message).catch((e) => sendError(peer, checked.message.id, e));
  });
});

// ------------------------------------------------------------------ the frame's own controls

function wireControls(): void {
  const cameraButton = $<HTMLButtonElement>('camera');
  cameraButton.hidden = !cameraAllowed();
  cameraButton.addEventListener('click', () => {
    if (camera.running) return stopCamera();
    startCamera().catch((e) => alertText((e as Error).message));
  });
  $('capture').addEventListener('click', () => {
    // Explained here; the results also go to the host that said hello, under an id of the widget's own.
    const host = state.host;
    const id = `widget-${++state.ownRequests}`;
    const sink: Peer = host ?? { source: { postMessage() {} } as unknown as MessageEventSource, origin: location.origin };
    grabFrame().then((frame) => explain(sink, id, frame, {}), (e) => alertText((e as Error).message));
  });
}

async function registerServiceWorker(): Promise<void> {
  if (!('serviceWorker' in navigator)) return;
  try {
    // The app's own service worker and scope: precaches this page too.
    await navigator.serviceWorker.register(new URL('sw.js', APP_ROOT), { scope: APP_ROOT.pathname });
  } catch (e) {
    console.warn('whycam widget: service worker not registered (no offline use)', e);
  }
}

wireControls();
void registerServiceWorker();
started.then(() => status('Ready. Waiting for an image from the page.'), () => {});
if (window.parent === window) status('This is the whycam widget: embed it in a page with embed.js (see docs/widget.md).');
