/// <reference lib="dom" />
/**
 * embed.js: the host side of the whycam widget (kept under 5 KB gzipped; tests/widget/embed-size.test.ts).
 * Creates the widget's iframe and speaks its postMessage protocol (pwa/widget/protocol.ts) behind
 * a promise/event API:
 *
 *   <script src="https://whycam.example/widget/embed.js"></script>
 *   const w = whycam.embed('#here', { camera: true });
 *   w.on('class-maps', (s) => ...);
 *   const result = await w.explain(fileOrBlobOrUrlOrImg, { class: 'cat', methods: ['gradcam'] });
 *
 * `whycam.explain(...)` alone embeds a widget at the end of the page on first use.
 * Messages go only to the widget's origin; only the widget's own frame is listened to.
 * A widget that does not answer the hello within `timeout` (10 s) of its frame loading (30 s if it never loads) fails `ready` and every
 * `explain` with ORIGIN_NOT_ALLOWED (reachable, but this page is not on its allowlist) or
 * WIDGET_UNREACHABLE, rather than leaving them pending.
 */
import type {
  CameraAction, ErrorMessage, ExplainRequestOptions, MapStageMessage, PredictionStageMessage, StageMessage, WidgetInfo, WidgetMessage, WireMap,
} from './protocol';

type Listener = (detail: any) => void; // eslint-disable-line @typescript-eslint/no-explicit-any

export interface EmbedOptions {
  /** The widget page (default: widget/ beside this script). */
  src?: string;
  /** Grant the camera to the widget (allow="camera"). Default false. */
  camera?: boolean;
  /** Let the widget use threads when this page is cross-origin isolated (allow="cross-origin-isolated"). Default true. */
  threads?: boolean;
  /** Model the widget loads first: a model.json URL (CORS-readable by the widget), or 'default'. */
  model?: string;
  /** iframe size (CSS). Default 100% x 560px. */
  width?: string;
  height?: string;
  title?: string;
  /** How long the widget may take to answer the hello before `ready` rejects (ms). Default 10000. */
  timeout?: number;
}

export interface ExplainResult {
  predictions: PredictionStageMessage['predictions'];
  classIndex: number;
  maps: Partial<Record<string, WireMap>>;
  skipped: Record<string, string>;
  stages: StageMessage[];
}

export type Image = Blob | ImageBitmap | string | URL | ImageBitmapSource;

export class WhycamEmbedError extends Error {
  constructor(readonly code: string, message: string) {
    super(message);
    this.name = 'WhycamError';
  }
}

const V = 1;
const script = document.currentScript as HTMLScriptElement | null;
const defaultSrc = new URL('./', script?.src || location.href).href;
let counter = 0;

interface Pending {
  resolve(r: ExplainResult): void;
  reject(e: Error): void;
  onStage?: (s: StageMessage) => void;
  result: ExplainResult;
}

async function toImage(image: Image): Promise<Blob | ImageBitmap> {
  if (image instanceof Blob || image instanceof ImageBitmap) return image;
  if (typeof image === 'string' || image instanceof URL) {
    const res = await fetch(new URL(image, location.href).href);
    if (!res.ok) throw new WhycamEmbedError('BAD_IMAGE', `The image URL answered HTTP ${res.status}.`);
    return res.blob();
  }
  if (image instanceof HTMLImageElement && !image.complete) await image.decode();
  return createImageBitmap(image);
}

export class Widget {
  readonly iframe: HTMLIFrameElement;
  readonly origin: string;
  /** Resolves with what the widget runs (model, labels, backend, camera) once it is ready. */
  ready: Promise<WidgetInfo>;
  private readyOk!: (i: WidgetInfo) => void;
  private readyFail!: (e: Error) => void;
  private readonly pending = new Map<string, Pending>();
  private readonly waiting = new Map<string, [(v: unknown) => void, (e: Error) => void]>();
  private readonly listeners: Record<string, Listener[]> = {};
  private readonly onMessage: (e: MessageEvent) => void;
  private helloId = '';
  private answered = false;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private readonly timeoutMs: number;

  constructor(target: string | Element, options: EmbedOptions = {}) {
    const parent = typeof target === 'string' ? document.querySelector(target) : target;
    if (!parent) throw new WhycamEmbedError('BAD_OPTION', `No element matches ${String(target)}.`);
    const src = new URL(options.src ?? defaultSrc, location.href);
    this.origin = src.origin;
    // The widget hears this page's origin only (it can narrow its allowlist, never widen it).
    src.hash = `origins=${encodeURIComponent(location.origin)}`;
    const f = document.createElement('iframe');
    f.src = src.href;
    f.title = options.title ?? 'whycam: why did the model say that?';
    f.allow = [options.camera ? 'camera' : '', options.threads === false ? '' : 'cross-origin-isolated'].filter(Boolean).join('; ');
    f.style.cssText = `border:0;width:${options.width ?? '100%'};height:${options.height ?? '560px'}`;
    this.iframe = f;
    this.timeoutMs = options.timeout ?? 10_000;
    this.ready = this.newReady();
    this.onMessage = (e) => this.receive(e);
    addEventListener('message', this.onMessage);
    // Every (re)load of the frame: say hello again, so a reloaded widget is ready again.
    f.addEventListener('load', () => {
      this.helloId = `h${++counter}`;
      this.post({ whycam: V, type: 'hello', id: this.helloId, ...(options.model ? { model: options.model } : {}) });
      this.arm();
    });
    parent.append(f);
    // The wait for an answer starts when the frame has loaded; this one only covers a frame that never
    // does, so a widget page slow to arrive is not taken for a refusal.
    this.arm(Math.max(this.timeoutMs, 30_000));
  }

  /** (Re)starts the wait for the widget's first answer. */
  private arm(ms = this.timeoutMs): void {
    if (this.answered) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.giveUp(), ms);
  }

  /** No answer in time: tell a page off the allowlist from a widget that cannot be reached. */
  private async giveUp(): Promise<void> {
    if (this.answered) return;
    const s = this.timeoutMs / 1000;
    let reachable = true;
    let reason = '';
    try {
      await fetch(this.iframe.src, { mode: 'no-cors', cache: 'no-store', credentials: 'omit' });
    } catch (e) {
      reachable = false;
      reason = (e as Error)?.message ?? String(e);
    }
    if (this.answered) return;
    this.readyFail(reachable
      ? new WhycamEmbedError('ORIGIN_NOT_ALLOWED', `The whycam widget at ${this.origin} did not answer this page within ${s} s: ` +
        `this page's origin, ${location.origin}, is most likely not on the widget's allowlist (or the widget is not configured). ` +
        `Whoever deploys the widget allows it by building with WHYCAM_WIDGET_ORIGINS="${location.origin}" ` +
        `or by adding "${location.origin}" to "allowedOrigins" in widget/widget-config.json.`)
      : new WhycamEmbedError('WIDGET_UNREACHABLE', `The whycam widget at ${this.iframe.src.split('#')[0]} could not be reached within ${s} s (${reason}). ` +
        'Check the widget URL (the src option, or where embed.js is served from) and that its server is up.'));
  }

  private newReady(): Promise<WidgetInfo> {
    const p = new Promise<WidgetInfo>((ok, fail) => {
      this.readyOk = ok;
      this.readyFail = fail;
    });
    p.catch(() => {});
    return p;
  }

  private post(message: object, transfer: Transferable[] = []): void {
    this.iframe.contentWindow?.postMessage(message, { targetOrigin: this.origin, transfer });
  }

  on(type: string, fn: Listener): this {
    (this.listeners[type] ??= []).push(fn);
    return this;
  }

  off(type: string, fn: Listener): this {
    this.listeners[type] = (this.listeners[type] ?? []).filter((f) => f !== fn);
    return this;
  }

  private emit(type: string, detail: unknown): void {
    for (const f of this.listeners[type] ?? []) {
      try {
        f(detail);
      } catch (e) {
        setTimeout(() => { throw e; });
      }
    }
  }

  private receive(e: MessageEvent): void {
    const m = e.data as WidgetMessage;
    // Only the widget's own frame, from the widget's origin, in this protocol.
    if (e.source !== this.iframe.contentWindow || e.origin !== this.origin || !m || m.whycam !== V || typeof m.type !== 'string') return;
    const p = typeof m.id === 'string' ? this.pending.get(m.id) : undefined;
    if (m.id === this.helloId) {
      this.answered = true;
      clearTimeout(this.timer);
    }
    if (m.type === 'accepted') {
      // The widget is there and starting; ready follows.
    } else if (m.type === 'ready') {
      if (m.id === this.helloId) {
        this.readyOk(m.widget);
        // A later reload starts a fresh promise that resolves at once.
        this.ready = Promise.resolve(m.widget);
        this.emit('ready', m.widget);
      }
    } else if (m.type === 'stage') {
      const r = p?.result;
      if (r) {
        r.stages.push(m);
        if (m.stage === 'prediction') {
          r.predictions = m.predictions;
          r.classIndex = m.classIndex;
        } else {
          Object.assign(r.maps, (m as MapStageMessage).maps);
          Object.assign(r.skipped, (m as MapStageMessage).skipped);
        }
        p!.onStage?.(m);
      }
      this.emit('stage', m);
      this.emit(m.stage, m);
    } else if (m.type === 'done') {
      if (p) {
        this.pending.delete(m.id);
        p.resolve(p.result);
      }
      this.emit('done', m);
    } else if (m.type === 'camera') {
      this.settle(m.id, m.state);
    } else if (m.type === 'error') {
      const err = new WhycamEmbedError((m as ErrorMessage).code, m.message);
      if (m.id === this.helloId) this.readyFail(err);
      if (p) {
        this.pending.delete(m.id as string);
        p.reject(err);
      }
      this.settle(m.id, undefined, err);
      this.emit('error', m);
    }
  }

  private settle(id: string | null, value: unknown, err?: Error): void {
    const w = id === null ? undefined : this.waiting.get(id);
    if (!w) return;
    this.waiting.delete(id!);
    if (err) w[1](err);
    else w[0](value);
  }

  private request(message: Record<string, unknown>, transfer: Transferable[], onStage?: (s: StageMessage) => void): Promise<ExplainResult> {
    const id = `r${++counter}`;
    return new Promise<ExplainResult>((resolve, reject) => {
      this.pending.set(id, { resolve, reject, onStage, result: { predictions: [], classIndex: -1, maps: {}, skipped: {}, stages: [] } });
      this.post({ whycam: V, id, ...message }, transfer);
    });
  }

  /**
   * Explains an image: a Blob/File, a URL (fetched by this page), an ImageBitmap (transferred),
   * or anything createImageBitmap takes (<img>, <canvas>, <video>, ImageData). Stages go to
   * `onStage`, to `on('stage')` and to `on('prediction' | 'class-maps' | 'gradient-maps' | 'guided-gradcam')`.
   * A newer explain supersedes this one: it rejects with code CANCELLED.
   */
  async explain(image: Image, options: ExplainRequestOptions & { onStage?: (s: StageMessage) => void } = {}): Promise<ExplainResult> {
    const { onStage, ...opts } = options;
    const img = await toImage(image);
    await this.ready;
    return this.request({ type: 'explain', image: img, options: opts }, img instanceof ImageBitmap ? [img] : [], onStage);
  }

  /** The camera inside the widget (needs `camera: true`): 'start' and 'stop' resolve with its state, 'capture' explains a frame. */
  async camera(action: CameraAction, options: ExplainRequestOptions & { onStage?: (s: StageMessage) => void } = {}): Promise<unknown> {
    await this.ready;
    const { onStage, ...opts } = options;
    if (action === 'capture') return this.request({ type: 'camera', action, options: opts }, [], onStage);
    const id = `c${++counter}`;
    return new Promise((resolve, reject) => {
      this.waiting.set(id, [resolve, reject]);
      this.post({ whycam: V, type: 'camera', id, action });
    });
  }

  /** Cancels every explanation of this widget in flight (each rejects with CANCELLED). */
  cancel(): void {
    for (const id of this.pending.keys()) this.post({ whycam: V, type: 'cancel', id });
  }

  destroy(): void {
    clearTimeout(this.timer);
    this.answered = true;
    removeEventListener('message', this.onMessage);
    this.iframe.remove();
    for (const p of this.pending.values()) p.reject(new WhycamEmbedError('CANCELLED', 'The widget was removed.'));
    this.pending.clear();
  }
}

let shared: Widget | null = null;

const api = {
  version: V,
  embed: (target: string | Element, options?: EmbedOptions) => new Widget(target, options),
  /** Explains with a widget of its own, embedded at the end of the page (or in [data-whycam]) on first use. */
  explain(image: Image, options?: Parameters<Widget['explain']>[1]) {
    shared ??= new Widget(document.querySelector('[data-whycam]') ?? document.body);
    return shared.explain(image, options);
  },
  Widget,
};

(window as unknown as { whycam: typeof api }).whycam = api;
