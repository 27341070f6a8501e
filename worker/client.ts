/**
 * The typed client the page (pwa/, the widget) uses to talk to the whycam worker. It never
 * computes: it forwards requests over Comlink, delivers stages to the caller's callback,
 * and enforces "newest request wins" on this side of the boundary too, so a stage of a
 * superseded request is never delivered, whatever order the messages arrive in.
 *
 *   const client = createClient(new Worker('/worker/whycam-worker.js'));
 *   await client.load({ url: '/models/tm/model.json' }, { onProgress: (f) => bar(f) });
 *   await client.explain(bitmap, { class: 'cat' }, (stage) => draw(stage));
 *
 * In a page, `startWhycamWorker(url)` starts the browser worker with its fallback binary.
 */
import * as Comlink from 'comlink';
import nodeEndpoint from 'comlink/dist/umd/node-adapter';
import { WhycamError } from '../src/errors';
import type { ExplainOptions, MethodProgress, Stage } from '../src/explainer';
import type { TrustOptions, TrustReport } from '../src/trust/evaluate';
import type { ModelFile } from '../src/model/load';
import { isBlob, isImageBitmap } from './image';
import {
  cancelledError, registerTransferHandlers, toWhycamError,
  type BackendInfo, type ExplainSummary, type LoadOptions, type ModelInfo, type ModelInput, type QuantizeInput,
  type WorkerQuantizeOptions, type QuantizeResult, type WasmBinary, type WireExplainOptions, type WireModelFile,
  type WireModelSource, type WireQuantizeSource, type WireTrustOptions, type WorkerApi, type WorkerImage, type WorkerStats,
} from './protocol';

export type {
  BackendInfo, ExplainSummary, ModelInfo, ModelInput, PixelImage, QuantizeInput, WorkerQuantizeOptions, QuantizeResult,
  SpatialLayer, WasmBinary, WorkerImage, WorkerStats,
} from './protocol';
export type { MethodProgress, Stage } from '../src/explainer';
export type { TrustReport } from '../src/trust/evaluate';

export type StageCallback = (stage: Stage) => void;
/** The engine's explain options; `onProgress` hears the sampled methods' batches (until the request is superseded). */
export type ClientExplainOptions = Omit<ExplainOptions, 'signal'>;
/** The engine's trust options (src/trust/evaluate.ts); `onProgress` hears each batch of forward passes and each sanity step. */
export type ClientTrustOptions = Omit<TrustOptions, 'signal'>;

export interface WhycamClient {
  /** Which binary and how many threads the worker computes with; resolves once its backend has started. */
  backendInfo(): Promise<BackendInfo>;
  /** Loads a model (a URL, model files, or a Teachable Machine zip as a Blob); a URL already loaded in this worker is reused. */
  load(source: ModelInput, options?: LoadOptions & { onProgress?: (fraction: number) => void }): Promise<ModelInfo>;
  classes(): Promise<string[]>;
  describe(): Promise<ModelInfo>;
  /**
   * Explains one image; stages go to `onStage` as they are computed (prediction, class maps,
   * gradient maps, Guided Grad-CAM), each map's Float32Array moved here without a copy.
   * Supersedes this client's request in flight (and any waiting frame): that one's promise
   * rejects with CANCELLED and none of its stages is delivered from now on. An ImageBitmap is
   * transferred to the worker (it is unusable here afterwards).
   */
  explain(image: WorkerImage, options?: ClientExplainOptions, onStage?: StageCallback): Promise<ExplainSummary>;
  /**
   * For live camera frames: runs now if nothing is in flight, else waits, keeping only the
   * newest waiting frame (an older waiting one rejects with CANCELLED; its bitmap is closed).
   * The request in flight is not interrupted, so results keep coming at the rate the worker manages.
   */
  explainLatest(frame: WorkerImage, options?: ClientExplainOptions, onStage?: StageCallback): Promise<ExplainSummary>;
  /**
   * "Can I trust this map?" for one image: deletion and insertion curves against a random order,
   * the sanity check, one sentence per map. The request in flight of this client, like explain:
   * each supersedes the other, and cancel() stops it.
   */
  evaluate(image: WorkerImage, options?: ClientTrustOptions): Promise<TrustReport>;
  /** Cancels the request in flight and any waiting frame (their promises reject with CANCELLED). */
  cancel(): Promise<void>;
  /**
   * Quantises a model given as files or a zip (float16 unless `options.level` says otherwise) and
   * measures the result against the original on `images` (top-1 agreement, Grad-CAM correlation,
   * largest probability change). Independent of this client's loaded model and requests.
   */
  quantize(source: QuantizeInput, images: WorkerImage[], options?: WorkerQuantizeOptions): Promise<QuantizeResult>;
  /** Tensor count and request counters in the worker (diagnostics, leak checks). */
  stats(): Promise<WorkerStats>;
  /** Ends this client's session (its model is freed unless another client holds it). The worker keeps running. */
  dispose(): Promise<void>;
}

/** A browser Worker, a Node worker_threads Worker (or MessagePort), or any Comlink endpoint. */
export type WorkerTarget = Worker | Comlink.Endpoint | NodeWorkerLike;

interface NodeWorkerLike {
  postMessage(message: unknown, transfer?: readonly unknown[]): void;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  on(event: string, listener: (...args: any[]) => void): unknown;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  off(event: string, listener: (...args: any[]) => void): unknown;
}

interface InFlight {
  id: number;
  settled: boolean;
  resolve(value: unknown): void;
  reject(e: unknown): void;
}

interface Waiting {
  image: WorkerImage;
  options: ClientExplainOptions;
  onStage?: StageCallback;
  resolve(s: ExplainSummary): void;
  reject(e: unknown): void;
}

const isNodeWorkerLike = (t: object): t is NodeWorkerLike =>
  typeof (t as NodeWorkerLike).on === 'function' && typeof (t as { addEventListener?: unknown }).addEventListener !== 'function';

/**
 * One root proxy per worker, kept as long as the worker object lives. Comlink releases a proxy
 * that is garbage-collected, and a released root makes the worker stop listening altogether:
 * every later client would wait forever. Clients talk over ports of their own (createEndpoint).
 */
const roots = new WeakMap<object, Comlink.Remote<WorkerApi>>();

function rootOf(target: WorkerTarget): Comlink.Remote<WorkerApi> {
  let root = roots.get(target);
  if (!root) {
    const endpoint = isNodeWorkerLike(target) ? nodeEndpoint(target as Parameters<typeof nodeEndpoint>[0]) : (target as Comlink.Endpoint);
    root = Comlink.wrap<WorkerApi>(endpoint);
    roots.set(target, root);
  }
  return root;
}

function randomId(): string {
  return Array.from({ length: 4 }, () => Math.floor(Math.random() * 0xffffffff).toString(16)).join('');
}

function closeIfBitmap(image: WorkerImage): void {
  if (isImageBitmap(image)) image.close();
}

class Client implements WhycamClient {
  private readonly session = randomId();
  /** The worker's API on a MessagePort of this client's own, so dispose() can close it without affecting other clients. */
  private readonly remote: Promise<Comlink.Remote<WorkerApi>>;
  private readonly failed: Promise<never>;
  private fail!: (e: WhycamError) => void;
  private failure: WhycamError | null = null;
  private disposed = false;
  private seq = 0;
  private current: InFlight | null = null;
  private waiting: Waiting | null = null;

  constructor(target: WorkerTarget) {
    registerTransferHandlers();
    this.failed = new Promise<never>((_, reject) => {
      this.fail = (e) => {
        if (this.failure) return;
        this.failure = e;
        reject(e);
      };
    });
    this.failed.catch(() => {});
    this.watch(target);
    this.remote = Promise.race([rootOf(target)[Comlink.createEndpoint](), this.failed]).then((port) => Comlink.wrap<WorkerApi>(port));
    this.remote.catch(() => {});
  }

  /** A worker that fails to load or dies would leave every call pending forever: fail them instead. */
  private watch(target: WorkerTarget): void {
    const crashed = (what: string) => this.fail(new WhycamError('BACKEND',
      `The whycam worker ${what}. If the page is cross-origin isolated, the worker script must be served from the same origin with ` +
      "'Cross-Origin-Embedder-Policy: require-corp'; check the browser console for the cause."));
    if (isNodeWorkerLike(target)) {
      target.on('error', (e: Error) => crashed(`failed: ${e?.message ?? e}`));
      target.on('exit', (code: number) => crashed(`exited (code ${code})`));
    } else if (typeof (target as Worker).terminate === 'function') {
      (target as Worker).addEventListener('error', (e) => crashed(`failed to start or crashed${(e as ErrorEvent).message ? `: ${(e as ErrorEvent).message}` : ''}`));
    }
  }

  private async call<T>(f: (api: Comlink.Remote<WorkerApi>) => Promise<T>): Promise<T> {
    if (this.disposed) throw new WhycamError('BAD_OPTION', 'This whycam client has been disposed; create a new one.');
    if (this.failure) throw this.failure;
    try {
      return await Promise.race([this.remote.then(f), this.failed]);
    } catch (e) {
      throw toWhycamError(e);
    }
  }

  backendInfo(): Promise<BackendInfo> {
    return this.call((api) => api.backendInfo());
  }

  load(source: ModelInput, options: LoadOptions & { onProgress?: (fraction: number) => void } = {}): Promise<ModelInfo> {
    const { onProgress, ...loadOptions } = options;
    return this.call(async (api) => {
      const wire = toWireSource(source);
      return api.load(this.session, wire, loadOptions, onProgress ? Comlink.proxy((f: number) => onProgress(f)) : undefined);
    });
  }

  classes(): Promise<string[]> {
    return this.call((api) => api.classes(this.session));
  }

  describe(): Promise<ModelInfo> {
    return this.call((api) => api.describe(this.session));
  }

  stats(): Promise<WorkerStats> {
    return this.call((api) => api.stats());
  }

  quantize(source: QuantizeInput, images: WorkerImage[], options: WorkerQuantizeOptions = {}): Promise<QuantizeResult> {
    return this.call(async (api) => {
      const wire = toWireSource(source);
      if ('url' in wire) throw new WhycamError('BAD_OPTION', 'A model to quantise is { files } or { zip }; import a URL model first.');
      return api.quantize(wire as WireQuantizeSource, images, options);
    });
  }

  explain(image: WorkerImage, options: ClientExplainOptions = {}, onStage?: StageCallback): Promise<ExplainSummary> {
    this.dropAll();
    return this.start(image, options, onStage);
  }

  explainLatest(frame: WorkerImage, options: ClientExplainOptions = {}, onStage?: StageCallback): Promise<ExplainSummary> {
    if (!this.current) return this.start(frame, options, onStage);
    if (this.waiting) {
      this.waiting.reject(cancelledError());
      closeIfBitmap(this.waiting.image);
    }
    return new Promise((resolve, reject) => {
      this.waiting = { image: frame, options, onStage, resolve, reject };
    });
  }

  async cancel(): Promise<void> {
    const hadWork = this.dropAll();
    if (hadWork) await this.call((api) => api.cancel(this.session));
  }

  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.dropAll();
    try {
      await this.call((api) => api.closeSession(this.session));
      (await this.remote)[Comlink.releaseProxy]();
    } catch {
      // A dead worker has nothing left to free.
    }
    this.disposed = true;
  }

  /** Rejects the request in flight and the waiting frame as CANCELLED, here and now. */
  private dropAll(): boolean {
    const had = this.current !== null || this.waiting !== null;
    if (this.current) {
      this.current.settled = true;
      this.current.reject(cancelledError());
      this.current = null;
    }
    if (this.waiting) {
      this.waiting.reject(cancelledError());
      closeIfBitmap(this.waiting.image);
      this.waiting = null;
    }
    return had;
  }

  evaluate(image: WorkerImage, options: ClientTrustOptions = {}): Promise<TrustReport> {
    this.dropAll();
    const id = ++this.seq;
    return new Promise<TrustReport>((resolve, reject) => {
      const req: InFlight = { id, settled: false, resolve: resolve as (v: unknown) => void, reject };
      this.current = req;
      const { onProgress, ...rest } = options;
      const wireOptions: WireTrustOptions = rest;
      const progress = this.progressFor(req, onProgress);
      const sent = isImageBitmap(image) ? Comlink.transfer(image, [image as Transferable]) : image;
      this.call((api) => api.evaluate(this.session, id, sent, wireOptions, progress))
        .then((report) => this.settle(req, null, report), (e) => this.settle(req, e));
    });
  }

  /** A proxied progress callback that stays silent once `req` is superseded or cancelled. */
  private progressFor(req: InFlight, onProgress?: (p: MethodProgress) => void): ((p: MethodProgress) => void) | undefined {
    if (!onProgress) return undefined;
    return Comlink.proxy((p: MethodProgress) => {
      if (req.settled || this.current !== req) return;
      try {
        onProgress(p);
      } catch (e) {
        // The caller's callback failed: end this request with its error, here and in the worker.
        this.settle(req, e);
        void this.call((api) => api.cancel(this.session)).catch(() => {});
      }
    });
  }

  private start(image: WorkerImage, options: ClientExplainOptions, onStage?: StageCallback): Promise<ExplainSummary> {
    const id = ++this.seq;
    return new Promise<ExplainSummary>((resolve, reject) => {
      const req: InFlight = { id, settled: false, resolve: resolve as (v: unknown) => void, reject };
      this.current = req;
      const wanted = () => !req.settled && this.current === req;
      // The answer tells the worker whether to go on: false once this request was superseded or
      // cancelled (even from inside onStage), so it stops at this stage boundary.
      const deliver = (stage: Stage): boolean => {
        // Superseded or cancelled here already: whatever the worker still sends is stale.
        if (!wanted()) return false;
        try {
          onStage?.(stage);
        } catch (e) {
          // The caller's callback failed: end this request with its error.
          this.settle(req, e);
          return false;
        }
        return wanted();
      };
      const { onProgress, ...rest } = options;
      const wireOptions: WireExplainOptions = rest;
      delete (wireOptions as ExplainOptions).signal;
      const progress = this.progressFor(req, onProgress);
      // A bitmap moves to the worker; pixels and Blobs are cloned (a Blob clone is only a handle).
      const sent = isImageBitmap(image) ? Comlink.transfer(image, [image as Transferable]) : image;
      this.call((api) => api.explain(this.session, id, sent, wireOptions, Comlink.proxy(deliver), progress))
        .then((summary) => this.settle(req, null, summary), (e) => this.settle(req, e));
    });
  }

  private settle(req: InFlight, error: unknown, value?: unknown): void {
    if (req.settled) return;
    req.settled = true;
    if (this.current === req) this.current = null;
    if (error) req.reject(toWhycamError(error));
    else req.resolve(value);
    this.startWaiting();
  }

  private startWaiting(): void {
    if (this.current || !this.waiting) return;
    const w = this.waiting;
    this.waiting = null;
    this.start(w.image, w.options, w.onStage).then(w.resolve, w.reject);
  }
}

/** Page-side shapes to what crosses: URLs made absolute (the worker would resolve them against its own script), File names kept. */
function toWireSource(source: ModelInput): WireModelSource {
  if (isBlob(source)) return { zip: source };
  if (!source || typeof source !== 'object') throw new WhycamError('BAD_OPTION', 'A model source is { url }, { files }, { zip } or a zip Blob.');
  if ('url' in source) {
    const base = (globalThis as { location?: { href: string } }).location?.href;
    let url = source.url;
    try {
      if (base && typeof url === 'string') url = new URL(url, base).href;
    } catch {
      // Left as is: the worker reports it.
    }
    return { url };
  }
  if ('files' in source) {
    const files = Array.from(source.files as ArrayLike<File | ModelFile | WireModelFile>).map((f): WireModelFile =>
      isBlob(f) ? { name: (f as File).name, data: f } : { name: (f as ModelFile).name, data: (f as ModelFile).data });
    return { files };
  }
  if ('zip' in source) return { zip: source.zip };
  throw new WhycamError('BAD_OPTION', 'A model source is { url }, { files }, { zip } or a zip Blob.');
}

export function createClient(worker: WorkerTarget): WhycamClient {
  return new Client(worker);
}

export interface StartOptions {
  /** The binary to fall back to when the best one crashes the worker; null: no second start. Default 'simd'. */
  fallback?: WasmBinary | null;
  /** Told why the first start failed, before the second start (default: a console warning). */
  onFallback?(error: WhycamError): void;
  /** Makes the worker; default `new Worker(url)`. */
  create?(url: string): WorkerTarget & { terminate(): unknown };
}

/**
 * Starts the whycam worker at `url` and waits for its backend. If the best binary crashes the
 * worker outright (rather than failing over inside it), the worker is started again capped at
 * the fallback binary (`#binary=simd`, single-threaded). A URL with a fragment is started as given.
 */
export async function startWhycamWorker(url: string, options: StartOptions = {}): Promise<{ client: WhycamClient; backend: BackendInfo }> {
  const create = options.create ?? ((u: string) => new Worker(u));
  const fallback = options.fallback === undefined ? 'simd' : options.fallback;
  const worker = create(url);
  const client = createClient(worker);
  try {
    return { client, backend: await client.backendInfo() };
  } catch (e) {
    void worker.terminate();
    if (url.includes('#') || !fallback) throw e;
    const error = toWhycamError(e);
    if (options.onFallback) options.onFallback(error);
    else console.warn(`whycam: the worker failed with the best binary; retrying with ${fallback}`, error);
    return startWhycamWorker(`${url}#binary=${fallback}`, options);
  }
}

export { WhycamError };
