/**
 * What the page and the worker agree on: the shapes that cross the boundary, and the
 * Comlink transfer handlers that carry WhycamError intact (stable `code`, message).
 * Both sides call `registerTransferHandlers()` before any call crosses.
 */
import * as Comlink from 'comlink';
import { WhycamError, type WhycamErrorCode } from '../src/errors';
import type { Fit, Region } from '../src/image/fit';
import type { ExplainerOptions, ExplainOptions, MethodProgress, ModelDescription, Prediction, Stage } from '../src/explainer';
import type { TrustOptions, TrustReport } from '../src/trust/evaluate';
import type { ModelFile } from '../src/model/load';
import type { QuantizationLevel } from '../src/quantize/artifacts';
import type { LevelReport } from '../src/quantize/fidelity';

/** Which tfjs-backend-wasm binary runs: best first. */
export type WasmBinary = 'threaded-simd' | 'simd' | 'plain';
export const WASM_BINARIES: readonly WasmBinary[] = ['threaded-simd', 'simd', 'plain'];

/** The file tfjs-backend-wasm fetches for each binary (setWasmPaths keys). */
export const WASM_FILES: Record<WasmBinary, string> = {
  'threaded-simd': 'tfjs-backend-wasm-threaded-simd.wasm',
  simd: 'tfjs-backend-wasm-simd.wasm',
  plain: 'tfjs-backend-wasm.wasm',
};

export interface BackendInfo {
  backend: 'wasm' | 'cpu';
  /** The wasm binary in use; null on the cpu backend. */
  binary: WasmBinary | null;
  /** Threads the backend computes with (1 unless the threaded binary runs). */
  threads: number;
  /** Whether the worker is cross-origin isolated (SharedArrayBuffer available). */
  crossOriginIsolated: boolean;
  /** URL the binary was fetched from (browser), or null. */
  wasmUrl: string | null;
  /** Binaries tried before this one and why they failed (empty when the first choice ran). */
  fallbacks: Array<{ binary: WasmBinary; reason: string }>;
}

/** Pixels as plain data (Node tests, or a page that already has RGBA). `channels` defaults to data.length / (width * height). */
export interface PixelImage {
  data: Uint8Array | Uint8ClampedArray;
  width: number;
  height: number;
  channels?: 1 | 3 | 4;
}

/**
 * An image the worker accepts: an ImageBitmap (transferred), ImageData or pixels (copied), or
 * an encoded file as a Blob (PNG, JPEG, and in a browser whatever createImageBitmap decodes).
 */
export type WorkerImage = ImageBitmap | ImageData | Blob | PixelImage;

/** A model file on the wire: bytes, or a Blob read in the worker (a File's name travels separately, as Node drops it). */
export interface WireModelFile {
  name: string;
  data: ArrayBuffer | Uint8Array | Blob;
}

export type WireModelSource =
  | { url: string }
  | { files: WireModelFile[] }
  | { zip: ArrayBuffer | Uint8Array | Blob };

/** What the page may pass to `load`: also File lists straight from an <input type=file>, or a zip Blob. */
export type ModelInput =
  | { url: string }
  | { files: ArrayLike<File> | Array<File | ModelFile | WireModelFile> }
  | { zip: ArrayBuffer | Uint8Array | Blob }
  | Blob;

export type LoadOptions = ExplainerOptions;

/** A model to quantise: its files or a zip, as for `load` (a URL model is quantised once imported as files). */
export type WireQuantizeSource = Exclude<WireModelSource, { url: string }>;
export type QuantizeInput = Exclude<ModelInput, { url: string }>;

export interface WorkerQuantizeOptions {
  /** Default 'float16' (half the size); 'float32' rewrites the model unquantised. */
  level?: QuantizationLevel;
}

/** The quantised model's files (model.json, one weight file, the rest as given) and its fidelity against the original. */
export interface QuantizeResult {
  files: Array<{ name: string; data: ArrayBuffer }>;
  report: LevelReport;
}

/**
 * Explain options across the boundary: the engine's, without `signal` (cancellation is the
 * client's job) and `onProgress` (a callback of its own argument, as it cannot be cloned).
 */
export type WireExplainOptions = Omit<ExplainOptions, 'signal' | 'onProgress'>;

/** Trust options across the boundary, likewise; `maps` (already computed, e.g. by explain) are cloned. */
export type WireTrustOptions = Omit<TrustOptions, 'signal' | 'onProgress'>;

export type { MethodProgress, TrustReport };

/** What an explain promise resolves to; the maps themselves went to onStage (their buffers moved). */
export interface ExplainSummary {
  predictions: Prediction[];
  classIndex: number;
  /** How the image was fitted and the part of it the model saw (the prediction stage's). */
  fit: Fit;
  region: Region;
  stages: Array<{ stage: Stage['stage']; elapsedMs: number; ms: number }>;
}

/** A layer whose output is a spatial grid: where a class map can be placed (e.g. Layer-CAM's layer choice). */
export interface SpatialLayer {
  /** Its path, as `ExplainOptions.layer` takes it. */
  name: string;
  width: number;
  height: number;
  channels: number;
}

export interface ModelInfo extends ModelDescription {
  /** The layers with spatial outputs, from the input to the head (the last is the default target layer). */
  spatialLayers: SpatialLayer[];
}

export interface WorkerStats {
  numTensors: number;
  numBytes: number;
  /** Explain requests by outcome since the worker started. */
  completed: number;
  cancelled: number;
  failed: number;
  /** Requests whose engine work started (superseded requests that never reached the engine are not counted). */
  started: number;
  /** Stages the engine computed, delivered or not: a superseded request stops adding to it. */
  stages: number;
  /** Map bytes moved to the page by transfer, and bytes that had to be copied first. */
  transferredBytes: number;
  copiedBytes: number;
  /** Models held (a URL loaded by two clients counts once). */
  models: number;
}

/** The object the worker exposes. Every call names the client session it belongs to. */
export interface WorkerApi {
  backendInfo(): Promise<BackendInfo>;
  load(session: string, source: WireModelSource, options: LoadOptions, onProgress?: (fraction: number) => void): Promise<ModelInfo>;
  describe(session: string): Promise<ModelInfo>;
  classes(session: string): Promise<string[]>;
  /** `onProgress` hears each batch of the sampled methods (Score-CAM, SmoothGrad, Integrated Gradients). */
  explain(session: string, request: number, image: WorkerImage, options: WireExplainOptions, onStage: (stage: Stage) => unknown,
    onProgress?: (progress: MethodProgress) => unknown): Promise<ExplainSummary>;
  /**
   * "Can I trust this map?": deletion and insertion curves and the sanity check (src/trust). One
   * request in flight per session, shared with explain: either supersedes the other.
   */
  evaluate(session: string, request: number, image: WorkerImage, options: WireTrustOptions, onProgress?: (progress: MethodProgress) => unknown): Promise<TrustReport>;
  cancel(session: string): Promise<void>;
  /** Quantises a model and measures it against the original on `images`; needs no session or loaded model. */
  quantize(source: WireQuantizeSource, images: WorkerImage[], options: WorkerQuantizeOptions): Promise<QuantizeResult>;
  closeSession(session: string): Promise<void>;
  stats(): Promise<WorkerStats>;
}

export function cancelledError(): WhycamError {
  return new WhycamError('CANCELLED', 'The request was superseded or cancelled.');
}

/**
 * Any failure as a WhycamError. The engine throws typed errors itself; what else reaches
 * here comes from tfjs or the runtime (a kernel failure, memory), reported as INTERNAL.
 */
export function toWhycamError(e: unknown): WhycamError {
  if (e instanceof WhycamError) return e;
  if (isWireError(e)) return WhycamError.fromJSON(e);
  const message = e instanceof Error ? e.message : String(e);
  return new WhycamError('INTERNAL', `The worker failed unexpectedly: ${message}`, { cause: e });
}

interface WireError {
  name: 'WhycamError';
  code: WhycamErrorCode;
  message: string;
}

function isWireError(v: unknown): v is WireError {
  return typeof v === 'object' && v !== null && (v as WireError).name === 'WhycamError' && typeof (v as WireError).code === 'string' && typeof (v as WireError).message === 'string';
}

/** Comlink's own 'throw' handler keeps only message/name/stack; this one keeps a WhycamError's code. */
type Thrown = { value: unknown };
type SerializedThrown = { isError: boolean; whycam?: WireError; value: unknown };

let registered = false;

export function registerTransferHandlers(): void {
  if (registered) return;
  registered = true;
  const original = Comlink.transferHandlers.get('throw') as Comlink.TransferHandler<Thrown, SerializedThrown>;
  // Map.set on an existing key keeps its place, so Comlink still checks this before anything else.
  Comlink.transferHandlers.set('throw', {
    canHandle: (v: unknown): v is Thrown => original.canHandle(v),
    serialize(thrown: Thrown): [SerializedThrown, Transferable[]] {
      const value = thrown.value;
      if (value instanceof WhycamError) return [{ isError: true, whycam: value.toJSON() as WireError, value: { message: value.message, name: value.name } }, []];
      return original.serialize(thrown);
    },
    deserialize(s: SerializedThrown): Thrown {
      if (s.whycam) throw WhycamError.fromJSON(s.whycam);
      return original.deserialize(s);
    },
  } as Comlink.TransferHandler<unknown, unknown>);
  // A WhycamError passed or returned as a value (Comlink applies handlers to whole arguments and
  // results only, not to objects nested inside them).
  Comlink.transferHandlers.set('whycam-error', {
    canHandle: (v: unknown): v is WhycamError => v instanceof WhycamError,
    serialize: (e: WhycamError): [WireError, Transferable[]] => [e.toJSON() as WireError, []],
    deserialize: (w: WireError): WhycamError => WhycamError.fromJSON(w),
  } as Comlink.TransferHandler<unknown, unknown>);
}
