/**
 * How many bytes a tfjs weights manifest promises, so that weight files can be checked against
 * their model.json before anything is built from them. Plain TypeScript (no tfjs): the engine,
 * the worker and the page's service worker use the same numbers.
 */

/** Bytes per element of each dtype tfjs writes; a quantised weight takes its quantisation dtype's size. */
export const DTYPE_BYTES: Readonly<Record<string, number>> = { float32: 4, int32: 4, bool: 1, complex64: 8, uint8: 1, uint16: 2, float16: 2 };

/** One entry of a model.json `weightsManifest[].weights`, as far as its size goes. */
export interface ManifestWeight {
  name?: string;
  shape: number[];
  dtype: string;
  quantization?: { dtype: string };
}

export const elementCount = (shape: number[]): number => shape.reduce((a, b) => a * b, 1);

/** Bytes of one weight in the weight files; NaN when the manifest cannot tell (strings are length-prefixed values). */
export function weightBytes(weight: ManifestWeight): number {
  return elementCount(weight.shape) * (DTYPE_BYTES[weight.quantization ? weight.quantization.dtype : weight.dtype] ?? NaN);
}

/** Bytes the weights take together, or null when one of them has a size the manifest cannot tell. */
export function expectedWeightBytes(weights: ManifestWeight[]): number | null {
  let total = 0;
  for (const w of weights) total += weightBytes(w);
  return Number.isNaN(total) ? null : total;
}

/** What is wrong when weight files hold `got` bytes where the manifest describes `expected`; null when they agree (or the size is unknown). */
export function weightSizeMismatch(got: number, expected: number | null): string | null {
  if (expected === null || got === expected) return null;
  return `The weight files hold ${got} bytes but model.json describes ${expected}: they are ${got < expected ? 'truncated, or ' : ''}the weights of another model.`;
}

/** The default cap on a model's total weight bytes (Explainer.load's `maxWeightBytes`). */
export const DEFAULT_MAX_WEIGHT_BYTES = 200 * 1024 * 1024;

/** The most elements one tensor of a model may have: far above any image classifier, far below what exhausts a phone. */
export const MAX_TENSOR_ELEMENTS = 2 ** 28;

/** What is wrong with a shape (dimensions that are not counts, or an absurd element count); null when it is fine. `null` dims (the batch) are allowed where `allowUnknown`. */
export function shapeProblem(shape: unknown, allowUnknown = false): string | null {
  if (!Array.isArray(shape)) return `shape ${JSON.stringify(shape)} is not a list of dimensions`;
  let count = 1;
  for (const d of shape) {
    if (d === null || d === -1) {
      if (allowUnknown) continue;
      return `shape [${shape.map(String)}] has an unknown dimension`;
    }
    if (typeof d !== 'number' || !Number.isInteger(d) || d < 0) return `shape [${shape.map(String)}] has a dimension that is not a count`;
    count *= d;
  }
  if (count > MAX_TENSOR_ELEMENTS) return `shape [${shape.map(String)}] has ${count.toExponential(2)} elements (the limit is ${MAX_TENSOR_ELEMENTS.toExponential(2)})`;
  return null;
}

/** The first manifest weight whose shape is absurd, described; null when all are fine. */
export function manifestShapeProblem(weights: ManifestWeight[]): string | null {
  for (const w of weights) {
    const p = shapeProblem(w.shape);
    if (p) return `weight '${w.name ?? '?'}': ${p}`;
  }
  return null;
}
