/**
 * The object the worker exposes over Comlink. It owns the Explainer(s), streams stages
 * with their buffers transferred, and keeps one request in flight per client session:
 * a newer request (or cancel) flips the older one's `signal`, so the engine stops at its
 * next stage boundary and nothing more of it is emitted. No Worker or DOM API here, so
 * it runs in-process in Node tests too; the entries pass in the platform parts.
 */
import * as Comlink from 'comlink';
import * as tf from '@tensorflow/tfjs-core';
import { Explainer } from '../src/explainer';
import type { MethodProgress, Stage } from '../src/explainer';
import { evaluateTrust, type TrustReport } from '../src/trust/evaluate';
import { WhycamError } from '../src/errors';
import type { ModelFile, ModelSource } from '../src/model/load';
import { DEFAULT_MAX_ZIP_BYTES, readZip } from '../src/model-files/zip';
import { quantizeFilesWithReport } from '../src/quantize/artifacts';
import { compareLevels } from '../src/quantize/fidelity';
import type { MethodName, SaliencyMap } from '../src/methods/types';
import { isBlob, isImageBitmap, readBlob, toImageInput, type ImageDecoders } from './image';
import {
  cancelledError, toWhycamError,
  type BackendInfo, type ExplainSummary, type LoadOptions, type ModelInfo, type WorkerQuantizeOptions, type QuantizeResult,
  type SpatialLayer, type WireExplainOptions, type WireModelFile, type WireModelSource, type WireQuantizeSource,
  type WireTrustOptions, type WorkerApi, type WorkerImage, type WorkerStats,
} from './protocol';

export interface ServiceOptions {
  /** Starts the compute backend. Called once, at construction, so the wasm binary loads before the first call. */
  startBackend(): Promise<BackendInfo>;
  decoders: ImageDecoders;
}

/** A loaded model and who uses it: sessions and in-flight requests. Disposed when nobody does. */
class HeldModel {
  private refs = 0;
  disposed = false;
  /** Requests computing with the trained weights now, and whether the sanity check has swapped them. */
  private readers = 0;
  private writing = false;
  private waiters: Array<() => void> = [];
  constructor(readonly explainer: Explainer, private readonly onFree: () => void = () => {}) {}

  /**
   * The sanity check replaces the weights in place while it runs, and a URL model is shared by
   * sessions: so a request that reads the model waits for it, and it waits for every reader.
   */
  async use<T>(exclusive: boolean, work: () => Promise<T>): Promise<T> {
    while (this.writing || (exclusive && this.readers > 0)) await new Promise<void>((resolve) => this.waiters.push(resolve));
    if (exclusive) this.writing = true;
    else this.readers++;
    try {
      return await work();
    } finally {
      if (exclusive) this.writing = false;
      else this.readers--;
      const waiting = this.waiters;
      this.waiters = [];
      waiting.forEach((wake) => wake());
    }
  }
  acquire(): this {
    this.refs++;
    return this;
  }
  release(): void {
    if (--this.refs > 0) return;
    this.disposed = true;
    this.explainer.dispose();
    this.onFree();
  }
}

interface Request {
  id: number;
  signal: { aborted: boolean };
}

interface Session {
  model: HeldModel | null;
  /** Bumped by every load: only the latest load of a session installs its model. */
  loads: number;
  current: Request | null;
}

type Callback = ((...args: never[]) => unknown) | undefined;

/** Frees the MessagePort behind a Comlink callback proxy now instead of at garbage collection. */
function releaseCallback(cb: Callback): void {
  const release = cb ? (cb as unknown as { [Comlink.releaseProxy]?: unknown })[Comlink.releaseProxy] : undefined;
  if (typeof release === 'function') (release as () => void)();
}

/**
 * Lets messages already queued for the worker (a newer request, a cancel) run before this
 * request starts real work, so a burst of superseding requests computes only the newest.
 */
function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => (typeof setImmediate === 'function' ? setImmediate(resolve) : setTimeout(resolve, 0)));
}

const isSharedBuffer = (b: ArrayBufferLike) => Object.prototype.toString.call(b) === '[object SharedArrayBuffer]';

export class WhycamService implements WorkerApi {
  private readonly backend: Promise<BackendInfo>;
  private readonly sessions = new Map<string, Session>();
  /** Models loaded from a URL, shared by every session that loads the same URL with the same options. */
  private readonly byUrl = new Map<string, Promise<HeldModel>>();
  private readonly counts = { completed: 0, cancelled: 0, failed: 0, started: 0, stages: 0, transferredBytes: 0, copiedBytes: 0 };
  private heldModels = 0;

  constructor(private readonly options: ServiceOptions) {
    this.backend = options.startBackend().catch((e) => {
      throw e instanceof WhycamError ? e : new WhycamError('BACKEND', `The compute backend failed to start: ${(e as Error)?.message ?? String(e)}`, { cause: e });
    });
    // Reported by every call that needs it; not an unhandled rejection meanwhile.
    this.backend.catch(() => {});
  }

  async backendInfo(): Promise<BackendInfo> {
    return this.backend;
  }

  private session(id: string): Session {
    if (typeof id !== 'string' || !id) throw new WhycamError('BAD_OPTION', 'Each call needs the session id of its client.');
    let s = this.sessions.get(id);
    if (!s) {
      s = { model: null, loads: 0, current: null };
      this.sessions.set(id, s);
    }
    return s;
  }

  private model(s: Session): HeldModel {
    if (!s.model) throw new WhycamError('MODEL_NOT_FOUND', 'No model is loaded: call load() with a URL, the model files or a Teachable Machine zip first.');
    return s.model;
  }

  async load(sessionId: string, source: WireModelSource, options: LoadOptions = {}, onProgress?: (fraction: number) => void): Promise<ModelInfo> {
    try {
      const s = this.session(sessionId);
      const load = ++s.loads;
      await this.backend;
      const held = await this.acquire(source, options ?? {}, onProgress);
      if (load !== s.loads) {
        held.release();
        throw new WhycamError('CANCELLED', 'This load was superseded by a newer load() on the same client.');
      }
      // A new model supersedes the request in flight: its stages would describe the old model.
      if (s.current) s.current.signal.aborted = true;
      const previous = s.model;
      s.model = held;
      previous?.release();
      // Same port as the earlier progress calls: awaiting the last one means all have arrived before load() resolves.
      if (onProgress) await onProgress(1);
      return describeModel(held.explainer);
    } catch (e) {
      throw toWhycamError(e);
    } finally {
      releaseCallback(onProgress);
    }
  }

  private async acquire(source: WireModelSource, options: LoadOptions, onProgress?: (fraction: number) => void): Promise<HeldModel> {
    if (!source || typeof source !== 'object') throw new WhycamError('BAD_OPTION', 'A model source is { url }, { files } or { zip }.');
    if ('url' in source) {
      if (typeof source.url !== 'string' || !source.url) throw new WhycamError('BAD_OPTION', 'The model URL must be a non-empty string.');
      const key = `${source.url}\n${JSON.stringify(options)}`;
      for (;;) {
        let entry = this.byUrl.get(key);
        if (!entry) {
          const loading = Explainer.load({ url: source.url, onProgress: (f) => void Promise.resolve(onProgress?.(f)).catch(() => {}) }, options)
            .then((explainer) => this.hold(explainer, () => { if (this.byUrl.get(key) === loading) this.byUrl.delete(key); }));
          loading.catch(() => { if (this.byUrl.get(key) === loading) this.byUrl.delete(key); });
          this.byUrl.set(key, loading);
          entry = loading;
        }
        const held = await entry;
        // Its last user may have let it go while we waited: load it again.
        if (!held.disposed) return held.acquire();
        if (this.byUrl.get(key) === entry) this.byUrl.delete(key);
      }
    }
    let modelSource: ModelSource;
    if ('files' in source) {
      if (!Array.isArray(source.files)) throw new WhycamError('BAD_OPTION', 'files must be a list of { name, data }.');
      modelSource = { files: await Promise.all(source.files.map(readModelFile)) };
    } else if ('zip' in source) {
      modelSource = { zip: isBlob(source.zip) ? await readBlob(source.zip, 'zip file', 'MODEL_CORRUPT') : source.zip };
    } else {
      throw new WhycamError('BAD_OPTION', 'A model source is { url }, { files } or { zip }.');
    }
    return this.hold(await Explainer.load(modelSource, options)).acquire();
  }

  private hold(explainer: Explainer, onFree: () => void = () => {}): HeldModel {
    this.heldModels++;
    return new HeldModel(explainer, () => {
      this.heldModels--;
      onFree();
    });
  }

  async describe(sessionId: string): Promise<ModelInfo> {
    try {
      return describeModel(this.model(this.session(sessionId)).explainer);
    } catch (e) {
      throw toWhycamError(e);
    }
  }

  async classes(sessionId: string): Promise<string[]> {
    try {
      return [...this.model(this.session(sessionId)).explainer.labels];
    } catch (e) {
      throw toWhycamError(e);
    }
  }

  /** Makes `req` the session's request in flight (superseding the one before) and waits for the backend and the model. */
  private async begin(sessionId: string, req: Request): Promise<{ s: Session; held: HeldModel }> {
    const s = this.session(sessionId);
    if (s.current) s.current.signal.aborted = true;
    s.current = req;
    await yieldToEventLoop();
    if (req.signal.aborted) throw cancelledError();
    await this.backend;
    return { s, held: this.model(s).acquire() };
  }

  /** Ends a request: its outcome counted, its model and callbacks released, a transferred bitmap closed. */
  private finish(sessionId: string, req: Request, held: HeldModel | null, image: WorkerImage, callbacks: Callback[]): void {
    held?.release();
    const s = this.sessions.get(sessionId);
    if (s && s.current === req) s.current = null;
    callbacks.forEach(releaseCallback);
    // A transferred bitmap is ours now; free its pixels right away.
    if (isImageBitmap(image)) image.close();
  }

  private failed(e: unknown): WhycamError {
    const err = toWhycamError(e);
    if (err.code === 'CANCELLED') this.counts.cancelled++;
    else this.counts.failed++;
    return err;
  }

  async explain(sessionId: string, requestId: number, image: WorkerImage, options: WireExplainOptions = {},
    onStage?: (stage: Stage) => unknown, onProgress?: (progress: MethodProgress) => unknown): Promise<ExplainSummary> {
    const req: Request = { id: requestId, signal: { aborted: false } };
    let held: HeldModel | null = null;
    const check = () => {
      if (req.signal.aborted) throw cancelledError();
    };
    try {
      held = (await this.begin(sessionId, req)).held;
      const pixels = await toImageInput(image, this.options.decoders);
      check();
      const explainer = held.explainer;
      return await held.use(false, async () => {
        check();
        this.counts.started++;
        const opts = { ...(options ?? {}) } as WireExplainOptions & { signal?: unknown; onProgress?: unknown };
        delete opts.signal;
        delete opts.onProgress;
        const summary: ExplainSummary = { predictions: [], classIndex: -1, fit: 'cover', region: { x: 0, y: 0, width: 0, height: 0 }, stages: [] };
        for await (const stage of explainer.explain(pixels, { ...opts, signal: req.signal, onProgress: progressTo(onProgress, req) })) {
          this.counts.stages++;
          check();
          summary.stages.push({ stage: stage.stage, elapsedMs: stage.elapsedMs, ms: stage.ms });
          if (stage.stage === 'prediction') {
            summary.predictions = stage.predictions;
            summary.classIndex = stage.classIndex;
            summary.fit = stage.fit;
            summary.region = stage.region;
          }
          // The page answers each stage with whether it still wants this request (false once it
          // has superseded or cancelled it): stop right here rather than wait for its message.
          if (onStage && (await this.emit(stage, onStage)) === false) req.signal.aborted = true;
          check();
        }
        this.counts.completed++;
        return summary;
      });
    } catch (e) {
      throw this.failed(e);
    } finally {
      this.finish(sessionId, req, held, image, [onStage, onProgress]);
    }
  }

  async evaluate(sessionId: string, requestId: number, image: WorkerImage, options: WireTrustOptions = {},
    onProgress?: (progress: MethodProgress) => unknown): Promise<TrustReport> {
    const req: Request = { id: requestId, signal: { aborted: false } };
    let held: HeldModel | null = null;
    try {
      held = (await this.begin(sessionId, req)).held;
      const pixels = await toImageInput(image, this.options.decoders);
      if (req.signal.aborted) throw cancelledError();
      const opts = { ...(options ?? {}) } as WireTrustOptions & { signal?: unknown; onProgress?: unknown };
      delete opts.signal;
      delete opts.onProgress;
      // The sanity check randomises the weights in place: nobody else may compute meanwhile.
      const exclusive = (opts.metrics ?? ['sanity']).includes('sanity');
      const explainer = held.explainer;
      const report = await held.use(exclusive, () => {
        if (req.signal.aborted) throw cancelledError();
        this.counts.started++;
        return evaluateTrust(explainer, pixels, { ...opts, signal: req.signal, onProgress: progressTo(onProgress, req) });
      });
      if (req.signal.aborted) throw cancelledError();
      this.counts.completed++;
      return report;
    } catch (e) {
      throw this.failed(e);
    } finally {
      this.finish(sessionId, req, held, image, [onProgress]);
    }
  }

  /** Sends one stage; each map's buffer is transferred (moved, not copied) to the page. Resolves to the page's answer. */
  private async emit(stage: Stage, onStage: (stage: Stage) => unknown): Promise<unknown> {
    if (stage.stage === 'prediction') return onStage(stage);
    const maps: typeof stage.maps = {};
    const buffers: ArrayBuffer[] = [];
    for (const [method, map] of Object.entries(stage.maps) as Array<[MethodName, SaliencyMap]>) {
      let data = map.data;
      const whole = data.byteOffset === 0 && data.byteLength === data.buffer.byteLength;
      // The engine never reads a yielded map again (src/explainer.ts), so whole buffers move as they are.
      if (!whole || isSharedBuffer(data.buffer) || buffers.includes(data.buffer as ArrayBuffer)) {
        data = data.slice();
        this.counts.copiedBytes += data.byteLength;
      }
      buffers.push(data.buffer as ArrayBuffer);
      maps[method] = { ...map, data };
    }
    const sizes = buffers.map((b) => b.byteLength);
    const answer = await onStage(Comlink.transfer({ ...stage, maps }, buffers));
    // A transferred buffer is detached on this side: count what really moved.
    buffers.forEach((b, i) => {
      if (b.byteLength === 0) this.counts.transferredBytes += sizes[i];
    });
    return answer;
  }

  async cancel(sessionId: string): Promise<void> {
    const s = this.sessions.get(sessionId);
    if (s?.current) s.current.signal.aborted = true;
  }

  async quantize(source: WireQuantizeSource, images: WorkerImage[], options: WorkerQuantizeOptions = {}): Promise<QuantizeResult> {
    try {
      if (!Array.isArray(images) || !images.length) throw new WhycamError('BAD_OPTION', 'The fidelity check needs at least one image.');
      await this.backend;
      const files = await readQuantizeSource(source);
      const pixels = await Promise.all(images.map((image) => toImageInput(image, this.options.decoders)));
      const [report] = await compareLevels(files, pixels, { levels: [options?.level ?? 'float16'] });
      const out = quantizeFilesWithReport(files, report.level).files.map((f) => ({ name: f.name, data: ownBuffer(f.data) }));
      return Comlink.transfer({ files: out, report }, [...new Set(out.map((f) => f.data))]);
    } catch (e) {
      throw toWhycamError(e);
    }
  }

  async closeSession(sessionId: string): Promise<void> {
    const s = this.sessions.get(sessionId);
    if (!s) return;
    this.sessions.delete(sessionId);
    if (s.current) s.current.signal.aborted = true;
    s.loads++;
    s.model?.release();
    s.model = null;
  }

  async stats(): Promise<WorkerStats> {
    const m = tf.memory();
    return { numTensors: m.numTensors, numBytes: m.numBytes, ...this.counts, models: this.heldModels };
  }
}

/** Progress of a request to the page, fire and forget (a page gone away must not fail the request), until it is superseded. */
function progressTo(onProgress: ((p: MethodProgress) => unknown) | undefined, req: Request): ((p: MethodProgress) => void) | undefined {
  if (!onProgress) return undefined;
  return (p) => {
    if (!req.signal.aborted) void Promise.resolve(onProgress({ method: p.method, done: p.done, total: p.total })).catch(() => {});
  };
}

/** What the engine says of a model, and its layers with spatial outputs. */
function describeModel(explainer: Explainer): ModelInfo {
  const { graph } = explainer;
  const spatialLayers: SpatialLayer[] = [];
  for (const op of graph.ops) {
    if (op.outputs.length !== 1) continue;
    const shape = graph.shapes[op.outputs[0]];
    const [, height, width, channels] = shape;
    if (shape.length === 4 && ((height ?? 0) > 1 || (width ?? 0) > 1)) {
      spatialLayers.push({ name: op.path, width: width ?? 0, height: height ?? 0, channels: channels ?? 0 });
    }
  }
  return { ...explainer.describe(), spatialLayers };
}

async function readModelFile(f: WireModelFile): Promise<ModelFile> {
  if (!f || typeof f.name !== 'string') throw new WhycamError('BAD_OPTION', 'Each model file needs a name and data.');
  if (isBlob(f.data)) return { name: f.name, data: await readBlob(f.data, `model file '${f.name}'`, 'MODEL_CORRUPT') };
  return { name: f.name, data: f.data };
}

/** The files of a model to quantise, named by their base names (a zip's folders dropped). */
async function readQuantizeSource(source: WireQuantizeSource): Promise<ModelFile[]> {
  let files: ModelFile[];
  if (source && typeof source === 'object' && 'files' in source && Array.isArray(source.files)) {
    files = await Promise.all(source.files.map(readModelFile));
  } else if (source && typeof source === 'object' && 'zip' in source) {
    files = await readZip(isBlob(source.zip) ? await readBlob(source.zip, 'zip file', 'MODEL_CORRUPT') : source.zip, { maxBytes: DEFAULT_MAX_ZIP_BYTES });
  } else {
    throw new WhycamError('BAD_OPTION', 'A model to quantise is { files } or { zip }; import a URL model first.');
  }
  return files.map((f) => ({ name: f.name.split(/[\\/]/).pop() as string, data: f.data }));
}

/** The bytes in a buffer of their own, so it can be transferred without taking anything else along. */
function ownBuffer(data: ArrayBuffer | Uint8Array): ArrayBuffer {
  if (!(data instanceof Uint8Array)) return data;
  const whole = data.byteOffset === 0 && data.byteLength === data.buffer.byteLength && !isSharedBuffer(data.buffer);
  return whole ? (data.buffer as ArrayBuffer) : (data.slice().buffer as ArrayBuffer);
}
