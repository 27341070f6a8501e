/**
 * Loading a tfjs LayersModel from a URL, from in-memory files (model.json + weight
 * files + optional metadata.json) or from a Teachable Machine zip, with errors a
 * person can act on instead of tfjs's internal ones.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { WhycamError } from '../errors';
import { DEFAULT_MAX_WEIGHT_BYTES, expectedWeightBytes, manifestShapeProblem, weightSizeMismatch } from '../model-files/weights';
import { checkZipSize, listZip } from '../model-files/zip';
import { normaliseKerasTopology } from './keras3';
import { checkLayersTopology } from './layers-topology';
import { unsupportedFormat } from './formats';
import { buildGraphModel, isGraphModel, type GraphModelJson, type LoadedGraphModel } from './graph-model';
import type { InputRange } from './preprocess';
import { INPUT_RANGES } from './preprocess';

export interface ModelFile {
  /** File name; only the base name is matched against the weights manifest. */
  name: string;
  data: ArrayBuffer | Uint8Array;
}

export type ModelSource =
  | { url: string; onProgress?: (fraction: number) => void }
  | { files: ModelFile[] }
  | { zip: ArrayBuffer | Uint8Array };

/** metadata.json as written by Teachable Machine, plus whycam's own optional fields. */
export interface ModelMetadata {
  labels?: string[];
  modelName?: string;
  tmVersion?: string;
  packageName?: string;
  /** whycam cards: the pixel range the model expects. */
  inputRange?: InputRange;
  [key: string]: unknown;
}

export interface LoadedModel {
  model: tfl.LayersModel;
  metadata: ModelMetadata | null;
  /** Value range from the metadata, or null when it does not say. */
  range: InputRange | null;
}

const baseName = (p: string) => p.split(/[\\/]/).pop() as string;
const toBytes = (d: ArrayBuffer | Uint8Array) => (d instanceof Uint8Array ? d : new Uint8Array(d));

function parseJson<T>(bytes: Uint8Array | string, what: string): T {
  try {
    return JSON.parse(typeof bytes === 'string' ? bytes : new TextDecoder().decode(bytes)) as T;
  } catch (e) {
    throw new WhycamError('MODEL_CORRUPT', `${what} is not valid JSON (${(e as Error).message}).`);
  }
}

/** Teachable Machine exports expect x/127.5 - 1; whycam cards say it themselves. */
export function rangeFromMetadata(meta: ModelMetadata | null): InputRange | null {
  if (!meta) return null;
  if (meta.inputRange && INPUT_RANGES.includes(meta.inputRange)) return meta.inputRange;
  if (meta.tmVersion || meta.packageName === '@teachablemachine/image') return '-1..1';
  return null;
}

/** Maps tfjs-layers' deserialisation errors to typed ones. */
function classifyLoadError(e: unknown): WhycamError {
  if (e instanceof WhycamError) return e;
  const msg = (e as Error)?.message ?? String(e);
  if (/Unknown (layer|activation|initializer|constraint|regularizer)|not registered|Unsupported/i.test(msg)) {
    return new WhycamError('UNSUPPORTED_LAYER', `The model uses something tfjs-layers cannot build: ${msg}`, { cause: e });
  }
  if (/shape|expected|mismatch|weight/i.test(msg)) {
    return new WhycamError('WEIGHTS_MISMATCH', `The weights do not match the model topology: ${msg}`, { cause: e });
  }
  return new WhycamError('MODEL_CORRUPT', `The model could not be loaded: ${msg}`, { cause: e });
}

interface ModelJson {
  modelTopology?: unknown;
  format?: string;
  weightsManifest?: Array<{ paths: string[]; weights: tf.io.WeightsManifestEntry[] }>;
}

export interface LoadOptions {
  /** The most bytes a model's weights may take together; larger models are refused (MODEL_TOO_LARGE) before anything is read or allocated. Default 200 MB. */
  maxWeightBytes?: number;
}

/** model.json and metadata.json are small; more than this is not a model description. */
const MAX_JSON_BYTES = 64 * 1024 * 1024;
const mb = (n: number) => `${(n / 1024 / 1024).toFixed(1)} MB`;

function maxWeightBytesOf(options: LoadOptions): number {
  const max = options.maxWeightBytes ?? DEFAULT_MAX_WEIGHT_BYTES;
  if (typeof max !== 'number' || !(max > 0)) throw new WhycamError('BAD_OPTION', `maxWeightBytes must be a positive number of bytes, not ${String(max)}.`);
  return max;
}

const isGraphModelJson = (json: ModelJson) => json.format === 'graph-model' ||
  (!!json.modelTopology && Array.isArray((json.modelTopology as { node?: unknown }).node));

function checkModelJson(json: ModelJson): void {
  if (!json || typeof json !== 'object') throw new WhycamError('MODEL_CORRUPT', 'model.json is not a JSON object.');
  if (!json.modelTopology || typeof json.modelTopology !== 'object') {
    throw new WhycamError('MODEL_CORRUPT', 'model.json has no modelTopology: it is not a tfjs model.');
  }
  if (!Array.isArray(json.weightsManifest) || json.weightsManifest.some((g) => !g || !Array.isArray(g.paths) || !Array.isArray(g.weights))) {
    throw new WhycamError('MODEL_CORRUPT', 'model.json has no weightsManifest (a list of { paths, weights }).');
  }
}

/**
 * What model.json promises, checked before any weight byte is read: the manifest's shapes, its
 * total against the cap, the topology's shape fields, inputs and cycles. Returns the byte count.
 */
function checkBeforeWeights(json: ModelJson, options: LoadOptions): { specs: tf.io.WeightsManifestEntry[]; expected: number | null } {
  checkModelJson(json);
  const specs = (json.weightsManifest as NonNullable<ModelJson['weightsManifest']>).flatMap((g) => g.weights);
  const shapes = manifestShapeProblem(specs);
  if (shapes) throw new WhycamError(/elements/.test(shapes) ? 'MODEL_TOO_LARGE' : 'MODEL_CORRUPT', `model.json's weights manifest: ${shapes}.`);
  const expected = expectedWeightBytes(specs);
  const max = maxWeightBytesOf(options);
  if (expected !== null && expected > max) {
    throw new WhycamError('MODEL_TOO_LARGE', `The model's weights take ${mb(expected)}; the limit is ${mb(max)} (raise it with the maxWeightBytes option if this model is meant to run here).`);
  }
  if (!isGraphModelJson(json)) {
    json.modelTopology = normaliseKerasTopology(json.modelTopology);
    checkLayersTopology(json.modelTopology);
  }
  return { specs, expected };
}

/** Weight file names in manifest order. */
const weightPaths = (json: ModelJson) => (json.weightsManifest as NonNullable<ModelJson['weightsManifest']>).flatMap((g) => g.paths);

/** Refuses weight files whose sizes do not add up to the manifest's, before they are read or joined. */
function checkWeightSizes(total: number, expected: number | null): void {
  const mismatch = weightSizeMismatch(total, expected);
  if (mismatch) throw new WhycamError(total < (expected as number) ? 'MODEL_CORRUPT' : 'WEIGHTS_MISMATCH', mismatch);
}

async function fromArtifacts(json: ModelJson, weightFiles: Map<string, Uint8Array>, options: LoadOptions): Promise<LoadedAnyModel['model']> {
  const { specs, expected } = checkBeforeWeights(json, options);
  const chunks: Uint8Array[] = [];
  for (const p of weightPaths(json)) {
    const file = weightFiles.get(baseName(p));
    if (!file) throw new WhycamError('MODEL_CORRUPT', `The weight file '${baseName(p)}' named in model.json is missing.`);
    chunks.push(file);
  }
  const total = chunks.reduce((a, c) => a + c.byteLength, 0);
  checkWeightSizes(total, expected);
  const weightData = new Uint8Array(total);
  let offset = 0;
  for (const c of chunks) { weightData.set(c, offset); offset += c.byteLength; }
  if (isGraphModelJson(json)) {
    let weights: tf.NamedTensorMap;
    try {
      weights = tf.io.decodeWeights(weightData.buffer, specs);
    } catch (e) {
      throw new WhycamError('MODEL_CORRUPT', `The graph model's weights cannot be decoded: ${(e as Error).message}`, { cause: e });
    }
    return buildGraphModel(json as GraphModelJson, weights);
  }
  return withVariableCleanup(() => tfl.loadLayersModel(tf.io.fromMemory({
    modelTopology: json.modelTopology as object,
    weightSpecs: specs,
    weightData: weightData.buffer,
  })));
}

/**
 * tfjs-layers creates each layer's weight variables as it builds the model; when a later
 * layer fails, the earlier ones stay registered. Dispose what the failed load created.
 */
async function withVariableCleanup(
  load: () => Promise<tfl.LayersModel>, classify: (e: unknown) => WhycamError = classifyLoadError,
): Promise<tfl.LayersModel> {
  const engine = tf.engine();
  const before = new Set(Object.keys(engine.registeredVariables));
  try {
    return await load();
  } catch (e) {
    for (const [name, v] of Object.entries(engine.registeredVariables)) {
      if (!before.has(name)) v.dispose();
    }
    throw classify(e);
  }
}

/** What `loadAnyModel` gives: a LayersModel, or a graph model (`"format": "graph-model"`) flattened by whycam. */
export type LoadedAnyModel = LoadedModel | (Omit<LoadedModel, 'model'> & { model: LoadedGraphModel });

const isModelJsonName = (n: string) => n === 'model.json' || (n.endsWith('.json') && n !== 'metadata.json');

async function fromFiles(files: ModelFile[], options: LoadOptions): Promise<LoadedAnyModel> {
  const byName = new Map<string, Uint8Array>();
  for (const f of files) byName.set(baseName(f.name), toBytes(f.data));
  const other = byName.has('model.json') ? null : unsupportedFormat([...byName.keys()]);
  if (other) throw other;
  const modelBytes = byName.get('model.json') ?? [...byName.entries()].find(([n]) => isModelJsonName(n))?.[1];
  if (!modelBytes) throw new WhycamError('MODEL_NOT_FOUND', `No model.json among the files (${[...byName.keys()].join(', ') || 'none'}).`);
  const json = parseJson<ModelJson>(modelBytes, 'model.json');
  const metaBytes = byName.get('metadata.json');
  const metadata = metaBytes ? parseJson<ModelMetadata>(metaBytes, 'metadata.json') : null;
  const model = await fromArtifacts(json, byName, options);
  return { model, metadata, range: rangeFromMetadata(metadata) } as LoadedAnyModel;
}

/** A zip: model.json is read first, and the weight files are inflated only once their declared sizes match its manifest. */
async function fromZip(data: ArrayBuffer | Uint8Array, options: LoadOptions): Promise<LoadedAnyModel> {
  const listing = await listZip(data);
  const byName = new Map(listing.map((f) => [baseName(f.name), f]));
  const other = byName.has('model.json') ? null : unsupportedFormat(listing.map((f) => f.name));
  if (other) throw other;
  const modelEntry = byName.get('model.json') ?? listing.find((f) => isModelJsonName(baseName(f.name)));
  if (!modelEntry) throw new WhycamError('MODEL_NOT_FOUND', `No model.json in the zip (${listing.map((f) => f.name).join(', ') || 'it is empty'}).`);
  const metaEntry = byName.get('metadata.json');
  checkZipSize([modelEntry, ...(metaEntry ? [metaEntry] : [])], MAX_JSON_BYTES);
  const json = parseJson<ModelJson>(await modelEntry.read(), 'model.json');
  const metadata = metaEntry ? parseJson<ModelMetadata>(await metaEntry.read(), 'metadata.json') : null;
  const { expected } = checkBeforeWeights(json, options);
  const entries = weightPaths(json).map((p) => {
    const entry = byName.get(baseName(p));
    if (!entry) throw new WhycamError('MODEL_CORRUPT', `The weight file '${baseName(p)}' named in model.json is missing from the zip.`);
    return entry;
  });
  checkZipSize(entries, maxWeightBytesOf(options));
  checkWeightSizes(entries.reduce((a, e) => a + e.size, 0), expected);
  const weightFiles = new Map<string, Uint8Array>();
  for (const e of entries) weightFiles.set(baseName(e.name), await e.read());
  const model = await fromArtifacts(json, weightFiles, options);
  return { model, metadata, range: rangeFromMetadata(metadata) } as LoadedAnyModel;
}

function notFound(url: string, e: unknown): WhycamError {
  const msg = (e as Error)?.message ?? String(e);
  return new WhycamError('MODEL_NOT_FOUND', `Could not fetch the model at ${url}: ${msg}`, { cause: e });
}

/** Fetches one file, refusing it as soon as it exceeds `maxBytes` (a server's Content-Length is not trusted). */
async function fetchBytes(url: string, maxBytes: number, onBytes?: (n: number) => void): Promise<Uint8Array> {
  let res: Response;
  try {
    res = await tf.env().platform.fetch(url);
  } catch (e) {
    throw notFound(url, e);
  }
  if (!res.ok) throw notFound(url, new Error(`status code ${res.status}`));
  const tooBig = () => new WhycamError('MODEL_TOO_LARGE', `${url} holds more than ${mb(maxBytes)}, more than the model may take.`);
  const declared = Number(res.headers?.get?.('content-length'));
  if (Number.isFinite(declared) && declared > maxBytes) throw tooBig();
  const reader = res.body?.getReader?.();
  if (!reader) {
    const whole = new Uint8Array(await res.arrayBuffer());
    if (whole.byteLength > maxBytes) throw tooBig();
    onBytes?.(whole.byteLength);
    return whole;
  }
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > maxBytes) {
      await reader.cancel().catch(() => {});
      throw tooBig();
    }
    chunks.push(value);
    onBytes?.(value.byteLength);
  }
  const out = new Uint8Array(total);
  let offset = 0;
  for (const c of chunks) { out.set(c, offset); offset += c.byteLength; }
  return out;
}

/** A URL: model.json first, then its weight files (each at most what the manifest promises) with progress by bytes. */
async function fromUrl(url: string, options: LoadOptions, onProgress?: (f: number) => void): Promise<LoadedAnyModel> {
  const json = parseJson<ModelJson>(await fetchBytes(url, MAX_JSON_BYTES), `model.json at ${url}`);
  const { expected } = checkBeforeWeights(json, options);
  const budget = expected ?? maxWeightBytesOf(options);
  let received = 0;
  onProgress?.(0);
  const weightFiles = new Map<string, Uint8Array>();
  // As tfjs's http loader: a weight file's URL carries model.json's query string (the app's
  // service worker names the kept copy of a model that way).
  const query = new URL(url, 'http://base.invalid/').search;
  for (const p of weightPaths(json)) {
    if (weightFiles.has(baseName(p))) continue;
    const weightUrl = new URL(p, url);
    if (query && !weightUrl.search) weightUrl.search = query;
    const bytes = await fetchBytes(weightUrl.toString(), budget - received + 1, (n) => {
      received += n;
      if (budget > 0) onProgress?.(Math.min(1, received / budget));
    });
    weightFiles.set(baseName(p), bytes);
  }
  const model = await fromArtifacts(json, weightFiles, options);
  let metadata: ModelMetadata | null = null;
  try {
    metadata = parseJson<ModelMetadata>(await fetchBytes(new URL('metadata.json', url).toString(), MAX_JSON_BYTES), 'metadata.json');
  } catch {
    // metadata.json is optional (and capped like model.json): a missing or unreadable one is ignored.
  }
  return { model, metadata, range: rangeFromMetadata(metadata) } as LoadedAnyModel;
}

/** Loads a LayersModel or a graph model (the Explainer takes either). */
export async function loadAnyModel(source: ModelSource, options: LoadOptions = {}): Promise<LoadedAnyModel> {
  if (!source || typeof source !== 'object') throw new WhycamError('BAD_OPTION', 'A model source is { url }, { files } or { zip }.');
  maxWeightBytesOf(options);
  if ('url' in source) {
    const other = typeof source.url === 'string' && !/\.json([?#]|$)/i.test(source.url) ? unsupportedFormat([source.url.split(/[?#]/)[0]]) : null;
    if (other) throw other;
    return fromUrl(source.url, options, source.onProgress);
  }
  if ('files' in source) return fromFiles(source.files, options);
  if ('zip' in source) return fromZip(source.zip, options);
  throw new WhycamError('BAD_OPTION', 'A model source is { url }, { files } or { zip }.');
}

/** Loads a tfjs LayersModel (a graph model is refused: load it with Explainer.load, which runs it itself). */
export async function loadModel(source: ModelSource, options: LoadOptions = {}): Promise<LoadedModel> {
  const loaded = await loadAnyModel(source, options);
  if (isGraphModel(loaded.model)) {
    loaded.model.dispose();
    throw new WhycamError('UNSUPPORTED_MODEL', 'This is a tfjs graph model: loadModel returns tfjs-layers models only; Explainer.load reads graph models.');
  }
  return loaded as LoadedModel;
}
