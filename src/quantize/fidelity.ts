/**
 * How much a quantised model still says and shows what the original does: top-1
 * agreement and the Pearson correlation of the two Grad-CAM maps for the reference's
 * top class, on a set of images. What the app shows on import and the model card reports.
 */
import * as tf from '@tensorflow/tfjs-core';
import { WhycamError } from '../errors';
import { Explainer, type ExplainerOptions } from '../explainer';
import type { ImageInput } from '../image/types';
import type { ModelFile } from '../model/load';
import { QUANTIZATION_LEVELS, quantizeFilesWithReport, type QuantizationLevel, type QuantizationReport, type QuantizeOptions } from './artifacts';

export interface ImageFidelity {
  /** The reference's top class, and the candidate's. */
  referenceClass: number;
  candidateClass: number;
  /** Probability of the reference's top class under each model. */
  referenceProbability: number;
  candidateProbability: number;
  /** Pearson correlation of the Grad-CAM maps for the reference's top class; null without a target layer. */
  gradcamPearson: number | null;
}

export interface FidelityReport {
  n: number;
  /** Fraction of images on which both models have the same top class. */
  top1Agreement: number;
  /** Mean over images of the Grad-CAM Pearson correlation (null when Grad-CAM does not apply). */
  gradcamPearson: number | null;
  minGradcamPearson: number | null;
  /** Largest change of the reference top class's probability. */
  maxProbabilityChange: number;
  images: ImageFidelity[];
}

export interface CompareOptions {
  /** Target layer for Grad-CAM (default: each model's default, the same layer for the same topology). */
  layer?: string;
  /** Checked between images; once aborted the comparison throws CANCELLED. */
  signal?: { readonly aborted: boolean };
}

type Image = ImageInput | tf.Tensor4D;

interface Run {
  top: number;
  probs: Float64Array;
  gradcam: Float32Array | null;
}

/**
 * Pearson correlation; maps with no variance (an all-zero Grad-CAM after its ReLU) count
 * as 1 when both are the same constant map and 0 otherwise, instead of NaN.
 */
export function pearson(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const n = a.length;
  if (n !== b.length) throw new WhycamError('BAD_OPTION', `Cannot correlate maps of ${n} and ${b.length} values.`);
  let ma = 0, mb = 0;
  for (let i = 0; i < n; i++) { ma += a[i]; mb += b[i]; }
  ma /= n; mb /= n;
  let sab = 0, saa = 0, sbb = 0;
  for (let i = 0; i < n; i++) {
    const da = a[i] - ma, db = b[i] - mb;
    sab += da * db; saa += da * da; sbb += db * db;
  }
  if (saa === 0 || sbb === 0) {
    let same = saa === sbb;
    for (let i = 0; same && i < n; i++) same = a[i] === b[i];
    return same ? 1 : 0;
  }
  return sab / Math.sqrt(saa * sbb);
}

async function run(ex: Explainer, image: Image, cls: number | undefined, options: CompareOptions): Promise<Run> {
  const r = await ex.explainAll(image, { methods: ['gradcam'], topK: ex.numClasses, class: cls, layer: options.layer, signal: options.signal });
  const probs = new Float64Array(ex.numClasses);
  for (const p of r.predictions) probs[p.index] = p.probability;
  return { top: r.predictions[0].index, probs, gradcam: r.maps.gradcam?.data ?? null };
}

function checkCompatible(reference: Explainer, candidate: Explainer): void {
  const a = reference.input, b = candidate.input;
  if (reference.numClasses !== candidate.numClasses || a.height !== b.height || a.width !== b.width || a.channels !== b.channels) {
    throw new WhycamError('BAD_OPTION', 'The two models differ in input shape or number of classes: they are not versions of one model.');
  }
}

/** The reference's side of a comparison, computed once for several candidates. */
async function referenceRuns(reference: Explainer, images: Image[], options: CompareOptions): Promise<Run[]> {
  if (!Array.isArray(images) || images.length === 0) throw new WhycamError('BAD_OPTION', 'Comparing models needs at least one image.');
  const runs: Run[] = [];
  for (const img of images) runs.push(await run(reference, img, undefined, options));
  return runs;
}

async function compareWith(refRuns: Run[], candidate: Explainer, images: Image[], options: CompareOptions): Promise<FidelityReport> {
  const per: ImageFidelity[] = [];
  for (let i = 0; i < images.length; i++) {
    const ref = refRuns[i];
    const cand = await run(candidate, images[i], ref.top, options);
    let candTop = 0;
    for (let c = 1; c < cand.probs.length; c++) if (cand.probs[c] > cand.probs[candTop]) candTop = c;
    per.push({
      referenceClass: ref.top,
      candidateClass: candTop,
      referenceProbability: ref.probs[ref.top],
      candidateProbability: cand.probs[ref.top],
      gradcamPearson: ref.gradcam && cand.gradcam ? pearson(ref.gradcam, cand.gradcam) : null,
    });
  }
  const rs = per.map((p) => p.gradcamPearson).filter((r): r is number => r !== null);
  return {
    n: per.length,
    top1Agreement: per.filter((p) => p.referenceClass === p.candidateClass).length / per.length,
    gradcamPearson: rs.length ? rs.reduce((a, b) => a + b, 0) / rs.length : null,
    minGradcamPearson: rs.length ? Math.min(...rs) : null,
    maxProbabilityChange: Math.max(...per.map((p) => Math.abs(p.referenceProbability - p.candidateProbability))),
    images: per,
  };
}

/** Compares a candidate (e.g. quantised) model with a reference on `images`. Tensors passed in are not disposed. */
export async function compareQuantized(reference: Explainer, candidate: Explainer, images: Image[], options: CompareOptions = {}): Promise<FidelityReport> {
  checkCompatible(reference, candidate);
  return compareWith(await referenceRuns(reference, images, options), candidate, images, options);
}

export interface LevelReport {
  level: QuantizationLevel;
  modelJsonBytes: number;
  weightBytes: number;
  /** All files, metadata included. */
  totalBytes: number;
  keptFloat32: QuantizationReport['keptFloat32'];
  fidelity: FidelityReport;
}

export interface CompareLevelsOptions extends CompareOptions {
  levels?: QuantizationLevel[];
  explainer?: ExplainerOptions;
  /** Passed to quantizeFiles (e.g. `levelFor`). */
  quantize?: QuantizeOptions;
}

const bytesOf = (f: ModelFile) => f.data.byteLength;

/**
 * Disposes an explainer this module loaded, and then any of its model's variables still
 * registered: tfjs-layers' dispose leaves those of a nested Sequential head (3 of the
 * Teachable Machine export's per load). Only this model's own variable names are touched.
 */
function disposeLoaded(ex: Explainer): void {
  const names = ex.loadedModel.weights.map((w: { name: string }) => w.name);
  ex.dispose();
  const vars = tf.engine().registeredVariables;
  for (const n of names) vars[n]?.dispose();
}

/**
 * For a model given as files: each level's byte sizes and its fidelity against the
 * model as given, on `images`. Loads one quantised model at a time.
 */
export async function compareLevels(files: ModelFile[], images: Image[], options: CompareLevelsOptions = {}): Promise<LevelReport[]> {
  const levels = options.levels ?? [...QUANTIZATION_LEVELS];
  const reference = await Explainer.load({ files }, options.explainer);
  const out: LevelReport[] = [];
  try {
    const refRuns = await referenceRuns(reference, images, options);
    for (const level of levels) {
      const q = quantizeFilesWithReport(files, level, options.quantize);
      const candidate = await Explainer.load({ files: q.files }, options.explainer);
      try {
        checkCompatible(reference, candidate);
        const [json, weights] = q.files;
        out.push({
          level,
          modelJsonBytes: bytesOf(json),
          weightBytes: bytesOf(weights),
          totalBytes: q.files.reduce((a, f) => a + bytesOf(f), 0),
          keptFloat32: q.report.keptFloat32,
          fidelity: await compareWith(refRuns, candidate, images, options),
        });
      } finally {
        disposeLoaded(candidate);
      }
    }
  } finally {
    disposeLoaded(reference);
  }
  return out;
}
