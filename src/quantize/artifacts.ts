/**
 * Writing quantised tfjs weights: the `quantization` field of the weights manifest that
 * tfjs-core's decodeWeights (io/io_utils.ts) reads and tfjs-converter's Python writer
 * (write_weights.py `_quantize_entry`, quantization.py) produces. tfjs has no JavaScript
 * writer; this is one. Plain TypeScript over ArrayBuffers: runs in Node, a Worker, a page.
 */
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { WhycamError } from '../errors';
import type { ModelFile } from '../model/load';
import { quantizeAffine, type AffineDtype } from './affine';
import { float16BitsToNumber, float32ToFloat16Bits } from './float16';
import { elementCount, weightBytes } from '../model-files/weights';

export type QuantizationLevel = 'float32' | 'float16' | 'uint16' | 'uint8';
export const QUANTIZATION_LEVELS: readonly QuantizationLevel[] = ['float32', 'float16', 'uint16', 'uint8'];

/** A manifest entry as the converter writes it (it adds `original_dtype`; tfjs ignores it). */
export interface QuantizedWeightSpec extends tf.io.WeightsManifestEntry {
  quantization?: { dtype: 'uint8' | 'uint16' | 'float16'; scale?: number; min?: number; original_dtype?: string };
}

/** model.json as text, bytes or a parsed object. */
export type ModelJsonInput = tf.io.ModelJSON | string | Uint8Array | ArrayBuffer;
/** The weight bytes of all manifest groups, concatenated in manifest order (or the shards in that order). */
export type WeightDataInput = ArrayBuffer | Uint8Array | Array<ArrayBuffer | Uint8Array>;

export interface QuantizeOptions {
  /** File name the new manifest points at. Default 'weights.bin'. */
  weightsPath?: string;
  /**
   * Per-weight level, overriding `level` (as the converter's per-pattern quantisation map
   * does): e.g. keep BatchNorm statistics in float16 while kernels go to uint8.
   */
  levelFor?: (spec: tf.io.WeightsManifestEntry, level: QuantizationLevel) => QuantizationLevel;
}

export interface QuantizationReport {
  level: QuantizationLevel;
  /** Bytes of weight data before and after. */
  inputWeightBytes: number;
  weightBytes: number;
  /** float32 tensors written at `level`. */
  quantized: number;
  /** Tensors of other dtypes (int32, bool, string, ...), copied unchanged. */
  passedThrough: number;
  /** float32 tensors that could not be written at `level` without damage, kept as float32. */
  keptFloat32: Array<{ name: string; reason: string }>;
}

export interface ModelArtifactsOut {
  modelJson: tf.io.ModelJSON;
  weightData: ArrayBuffer;
}

export interface QuantizedArtifacts extends ModelArtifactsOut {
  report: QuantizationReport;
}

const DEFAULT_WEIGHTS_PATH = 'weights.bin';

const toBytes = (d: ArrayBuffer | Uint8Array): Uint8Array => (d instanceof Uint8Array ? d : new Uint8Array(d));
const baseName = (p: string) => p.split(/[\\/]/).pop() as string;

function checkLevel(level: QuantizationLevel): void {
  if (!QUANTIZATION_LEVELS.includes(level)) {
    throw new WhycamError('BAD_OPTION', `Unknown quantisation level '${String(level)}'; use one of ${QUANTIZATION_LEVELS.join(', ')}.`);
  }
}

export function parseModelJson(input: ModelJsonInput): tf.io.ModelJSON {
  let json: unknown = input;
  if (typeof input === 'string' || input instanceof Uint8Array || input instanceof ArrayBuffer) {
    const text = typeof input === 'string' ? input : new TextDecoder().decode(toBytes(input));
    try {
      json = JSON.parse(text);
    } catch (e) {
      throw new WhycamError('MODEL_CORRUPT', `model.json is not valid JSON (${(e as Error).message}).`);
    }
  }
  const m = json as Partial<tf.io.ModelJSON> | null;
  if (!m || typeof m !== 'object' || !Array.isArray(m.weightsManifest)) {
    throw new WhycamError('MODEL_CORRUPT', 'model.json has no weightsManifest: there are no weights to quantise.');
  }
  return m as tf.io.ModelJSON;
}

function joinBytes(parts: Uint8Array[]): Uint8Array {
  if (parts.length === 1) return parts[0];
  const out = new Uint8Array(parts.reduce((a, p) => a + p.byteLength, 0));
  let o = 0;
  for (const p of parts) { out.set(p, o); o += p.byteLength; }
  return out;
}

/** Bytes of one weight at `offset`; strings are length-prefixed (uint32 LE) values, as tfjs writes them. */
function byteLengthOf(spec: QuantizedWeightSpec, data: Uint8Array, offset: number): number {
  if (spec.dtype === 'string' && !spec.quantization) {
    const n = elementCount(spec.shape);
    const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
    let len = 0;
    for (let i = 0; i < n; i++) {
      if (offset + len + 4 > data.byteLength) return Infinity;
      len += 4 + view.getUint32(offset + len, true);
    }
    return len;
  }
  return weightBytes(spec);
}

/** float32 values of a float32 weight, undoing any quantisation the way tfjs-core does. */
function float32Values(spec: QuantizedWeightSpec, bytes: Uint8Array): Float32Array {
  const copy = bytes.slice(); // aligned, owned
  const q = spec.quantization;
  if (!q) return new Float32Array(copy.buffer);
  if (q.dtype === 'float16') {
    const h = new Uint16Array(copy.buffer);
    const out = new Float32Array(h.length);
    for (let i = 0; i < h.length; i++) out[i] = float16BitsToNumber(h[i]);
    return out;
  }
  const qs = q.dtype === 'uint8' ? copy : new Uint16Array(copy.buffer);
  const scale = q.scale ?? NaN;
  const min = q.min ?? NaN;
  const out = new Float32Array(qs.length);
  for (let i = 0; i < qs.length; i++) out[i] = qs[i] * scale + min;
  return out;
}

interface Encoded {
  spec: QuantizedWeightSpec;
  bytes: Uint8Array;
  kept?: string;
}

function plainSpec(spec: QuantizedWeightSpec): QuantizedWeightSpec {
  const { quantization: _dropped, ...rest } = spec;
  return rest;
}

function encodeFloat32(spec: QuantizedWeightSpec, values: Float32Array, level: QuantizationLevel): Encoded {
  const asFloat32 = (kept?: string): Encoded => ({ spec: plainSpec(spec), bytes: new Uint8Array(values.buffer, values.byteOffset, values.byteLength), kept });
  if (level === 'float32') return asFloat32();
  if (level === 'float16') {
    const h = new Uint16Array(values.length);
    for (let i = 0; i < values.length; i++) {
      h[i] = float32ToFloat16Bits(values[i]);
      // The converter would write Infinity here (numpy overflow); a model with infinite weights is broken.
      if ((h[i] & 0x7fff) === 0x7c00 && Number.isFinite(values[i])) return asFloat32('beyond the float16 range (|x| > 65504)');
    }
    return { spec: { ...plainSpec(spec), quantization: { dtype: 'float16', original_dtype: 'float32' } }, bytes: new Uint8Array(h.buffer) };
  }
  for (let i = 0; i < values.length; i++) {
    // min/max of a tensor with NaN or Infinity give no usable affine range (the converter would write garbage).
    if (!Number.isFinite(values[i])) return asFloat32('contains NaN or Infinity');
  }
  const { data, scale, min } = quantizeAffine(values, level as AffineDtype);
  return {
    spec: { ...plainSpec(spec), quantization: { dtype: level, min, scale, original_dtype: 'float32' } },
    bytes: new Uint8Array(data.buffer, data.byteOffset, data.byteLength),
  };
}

/**
 * Re-encodes every float32 weight at `level` (float32, float16, uint16 or uint8, per tensor)
 * and returns a new model.json (one manifest group pointing at `weightsPath`) and one
 * weight buffer. Other dtypes are copied unchanged. Weights already quantised at `level`
 * keep their bytes; weights quantised otherwise are decoded as tfjs would and re-encoded.
 */
export function quantizeModelArtifacts(
  modelJson: ModelJsonInput,
  weightData: WeightDataInput,
  level: QuantizationLevel,
  options: QuantizeOptions = {},
): QuantizedArtifacts {
  checkLevel(level);
  const json = parseModelJson(modelJson);
  const data = joinBytes(Array.isArray(weightData) ? weightData.map(toBytes) : [toBytes(weightData)]);
  const specs: QuantizedWeightSpec[] = json.weightsManifest.flatMap((g) => g.weights as QuantizedWeightSpec[]);

  const out: Encoded[] = [];
  const report: QuantizationReport = { level, inputWeightBytes: data.byteLength, weightBytes: 0, quantized: 0, passedThrough: 0, keptFloat32: [] };
  let offset = 0;
  for (const spec of specs) {
    const len = byteLengthOf(spec, data, offset);
    if (!Number.isFinite(len)) {
      throw new WhycamError('MODEL_CORRUPT', `Weight '${spec.name}' has an unknown dtype (${spec.quantization?.dtype ?? spec.dtype}) or its data is cut short.`);
    }
    if (offset + len > data.byteLength) {
      throw new WhycamError('MODEL_CORRUPT', `The weight data holds ${data.byteLength} bytes but model.json describes more (at '${spec.name}'): it looks truncated.`);
    }
    const bytes = data.subarray(offset, offset + len);
    offset += len;
    const target = spec.dtype === 'float32' && options.levelFor ? options.levelFor(spec, level) : level;
    if (spec.dtype !== 'float32') {
      out.push({ spec, bytes });
      report.passedThrough++;
    } else if (spec.quantization && spec.quantization.dtype === target) {
      out.push({ spec, bytes }); // re-quantising would only add error
      report.quantized++;
    } else {
      checkLevel(target);
      const e = encodeFloat32(spec, float32Values(spec, bytes), target);
      out.push(e);
      if (e.kept) report.keptFloat32.push({ name: spec.name, reason: e.kept });
      else report.quantized++;
    }
  }
  if (offset !== data.byteLength) {
    throw new WhycamError('WEIGHTS_MISMATCH', `The weight data holds ${data.byteLength} bytes but model.json describes ${offset}: they belong to another model.`);
  }

  const weights = joinBytes(out.map((e) => e.bytes));
  // joinBytes owns what it builds from several parts; a single part may be a view of the input.
  const buffer = (out.length === 1 ? weights.slice() : weights).buffer as ArrayBuffer;
  report.weightBytes = buffer.byteLength;
  const manifest: tf.io.WeightsManifestConfig = [{ paths: [options.weightsPath ?? DEFAULT_WEIGHTS_PATH], weights: out.map((e) => e.spec) }];
  return { modelJson: { ...json, weightsManifest: manifest }, weightData: buffer, report };
}

/** model.json text and one weight file, as files for `loadModel({ files })` or a download. */
export function artifactsToFiles(artifacts: ModelArtifactsOut, modelJsonName = 'model.json'): ModelFile[] {
  const paths = artifacts.modelJson.weightsManifest.flatMap((g) => g.paths);
  if (paths.length !== 1) throw new WhycamError('BAD_OPTION', 'artifactsToFiles expects a manifest with one weight file.');
  return [
    { name: modelJsonName, data: new TextEncoder().encode(JSON.stringify(artifacts.modelJson)) },
    { name: paths[0], data: new Uint8Array(artifacts.weightData) },
  ];
}

/**
 * Quantises a model given as files (model.json, its weight shards, anything else such as
 * metadata.json): returns model.json, one weight file and the other files unchanged.
 */
export function quantizeFiles(files: ModelFile[], level: QuantizationLevel, options: QuantizeOptions = {}): ModelFile[] {
  return quantizeFilesWithReport(files, level, options).files;
}

/** quantizeFiles, plus what was quantised and what was kept. */
export function quantizeFilesWithReport(
  files: ModelFile[], level: QuantizationLevel, options: QuantizeOptions = {},
): { files: ModelFile[]; report: QuantizationReport } {
  const byName = new Map<string, ModelFile>();
  for (const f of files) byName.set(baseName(f.name), f);
  const jsonName = byName.has('model.json') ? 'model.json' : [...byName.keys()].find((n) => n.endsWith('.json') && n !== 'metadata.json');
  if (!jsonName) throw new WhycamError('MODEL_NOT_FOUND', `No model.json among the files (${[...byName.keys()].join(', ') || 'none'}).`);
  const json = parseModelJson(toBytes((byName.get(jsonName) as ModelFile).data));
  const paths = json.weightsManifest.flatMap((g) => g.paths.map(baseName));
  const shards = paths.map((p) => {
    const f = byName.get(p);
    if (!f) throw new WhycamError('MODEL_CORRUPT', `The weight file '${p}' named in model.json is missing.`);
    return toBytes(f.data);
  });
  const q = quantizeModelArtifacts(json, shards, level, options);
  const used = new Set([jsonName, ...paths]);
  const rest = files.filter((f) => !used.has(baseName(f.name)) && baseName(f.name) !== (options.weightsPath ?? DEFAULT_WEIGHTS_PATH));
  return { files: [...artifactsToFiles(q, jsonName), ...rest], report: q.report };
}

/**
 * float32 artifacts of an in-memory LayersModel (e.g. one built or trained in the app),
 * through tfjs's own serialisation: `model.save(tf.io.withSaveHandler(...))`.
 */
export async function saveModelArtifacts(model: tfl.LayersModel, weightsPath = DEFAULT_WEIGHTS_PATH): Promise<ModelArtifactsOut> {
  let saved: tf.io.ModelArtifacts | null = null;
  await model.save(tf.io.withSaveHandler(async (artifacts) => {
    saved = artifacts;
    return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
  }));
  const a = saved as tf.io.ModelArtifacts | null;
  if (!a || !a.modelTopology || !a.weightSpecs) throw new WhycamError('UNSUPPORTED_MODEL', 'The model did not serialise to a topology and weights.');
  const weightData = a.weightData === undefined ? new ArrayBuffer(0) : tf.io.CompositeArrayBuffer.join(a.weightData);
  const modelJson: tf.io.ModelJSON = {
    modelTopology: a.modelTopology,
    format: a.format,
    generatedBy: a.generatedBy,
    convertedBy: a.convertedBy,
    weightsManifest: [{ paths: [weightsPath], weights: a.weightSpecs }],
  };
  if (a.trainingConfig) modelJson.trainingConfig = a.trainingConfig;
  if (a.userDefinedMetadata) modelJson.userDefinedMetadata = a.userDefinedMetadata;
  return { modelJson, weightData };
}
