/**
 * Loading a tfjs LayersModel from a URL, from in-memory files (model.json + weight
 * files + optional metadata.json) or from a Teachable Machine zip, with errors a
 * person can act on instead of tfjs's internal ones.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { WhycamError } from '../errors';
import { expectedWeightBytes, weightSizeMismatch } from '../model-files/weights';
import { readZip } from '../model-files/zip';
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

function checkModelJson(json: ModelJson): void {
  if (json.format === 'graph-model') {
    throw new WhycamError('UNSUPPORTED_MODEL', 'This is a tfjs graph model (a converted SavedModel); whycam needs a LayersModel (Keras-converted or Teachable Machine) to reach its layers.');
  }
  if (!json.modelTopology || typeof json.modelTopology !== 'object') {
    throw new WhycamError('MODEL_CORRUPT', 'model.json has no modelTopology: it is not a tfjs LayersModel.');
  }
  if (!Array.isArray(json.weightsManifest)) {
    throw new WhycamError('MODEL_CORRUPT', 'model.json has no weightsManifest.');
  }
}

async function fromArtifacts(json: ModelJson, weightFiles: Map<string, Uint8Array>): Promise<tfl.LayersModel> {
  checkModelJson(json);
  const manifest = json.weightsManifest as NonNullable<ModelJson['weightsManifest']>;
  const specs: tf.io.WeightsManifestEntry[] = [];
  const chunks: Uint8Array[] = [];
  for (const group of manifest) {
    specs.push(...group.weights);
    for (const p of group.paths) {
      const file = weightFiles.get(baseName(p));
      if (!file) throw new WhycamError('MODEL_CORRUPT', `The weight file '${baseName(p)}' named in model.json is missing.`);
      chunks.push(file);
    }
  }
  const total = chunks.reduce((a, c) => a + c.byteLength, 0);
  const expected = expectedWeightBytes(specs);
  const mismatch = weightSizeMismatch(total, expected);
  if (mismatch) throw new WhycamError(total < (expected as number) ? 'MODEL_CORRUPT' : 'WEIGHTS_MISMATCH', mismatch);
  const weightData = new Uint8Array(total);
  let offset = 0;
  for (const c of chunks) { weightData.set(c, offset); offset += c.byteLength; }
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

async function fromFiles(files: ModelFile[]): Promise<LoadedModel> {
  const byName = new Map<string, Uint8Array>();
  for (const f of files) byName.set(baseName(f.name), toBytes(f.data));
  const modelBytes = byName.get('model.json') ?? [...byName.entries()].find(([n]) => n.endsWith('.json') && n !== 'metadata.json')?.[1];
  if (!modelBytes) throw new WhycamError('MODEL_NOT_FOUND', `No model.json among the files (${[...byName.keys()].join(', ') || 'none'}).`);
  const json = parseJson<ModelJson>(modelBytes, 'model.json');
  const metaBytes = byName.get('metadata.json');
  const metadata = metaBytes ? parseJson<ModelMetadata>(metaBytes, 'metadata.json') : null;
  const model = await fromArtifacts(json, byName);
  return { model, metadata, range: rangeFromMetadata(metadata) };
}

async function fromZip(data: ArrayBuffer | Uint8Array): Promise<LoadedModel> {
  return fromFiles(await readZip(data));
}

async function fromUrl(url: string, onProgress?: (f: number) => void): Promise<LoadedModel> {
  const model = await withVariableCleanup(() => tfl.loadLayersModel(url, { onProgress }), (e) => {
    const msg = (e as Error)?.message ?? String(e);
    if (/404|Not Found|Failed to fetch|ENOENT|fetch failed|status code|ECONNREFUSED/i.test(msg)) {
      return new WhycamError('MODEL_NOT_FOUND', `Could not fetch the model at ${url}: ${msg}`, { cause: e });
    }
    return classifyLoadError(e);
  });
  let metadata: ModelMetadata | null = null;
  try {
    const res = await tf.env().platform.fetch(new URL('metadata.json', url).toString());
    if (res.ok) metadata = (await res.json()) as ModelMetadata;
  } catch {
    // metadata.json is optional.
  }
  return { model, metadata, range: rangeFromMetadata(metadata) };
}

export async function loadModel(source: ModelSource): Promise<LoadedModel> {
  if (!source || typeof source !== 'object') throw new WhycamError('BAD_OPTION', 'A model source is { url }, { files } or { zip }.');
  if ('url' in source) return fromUrl(source.url, source.onProgress);
  if ('files' in source) return fromFiles(source.files);
  if ('zip' in source) return fromZip(source.zip);
  throw new WhycamError('BAD_OPTION', 'A model source is { url }, { files } or { zip }.');
}
