/**
 * How many bytes a model.json promises for each weight group, so an incomplete download, or weight
 * files that do not belong to it, are caught before the model is kept (by the page and by the
 * service worker alike).
 */

/** A weights manifest group as model.json gives it. */
export interface WeightGroup {
  paths: string[];
  weights: Array<{ shape: number[]; dtype: string; quantization?: { dtype: string } }>;
}

/** Bytes per stored value; a quantised weight is stored in its quantisation dtype. */
export const DTYPE_BYTES: Record<string, number> = { float32: 4, int32: 4, float16: 2, uint16: 2, uint8: 1, bool: 1 };

/** The bytes the group's weight files must hold together. */
export function expectedGroupBytes(group: WeightGroup): number {
  return group.weights.reduce((s, w) => s + w.shape.reduce((a, b) => a * b, 1) * (DTYPE_BYTES[w.quantization?.dtype ?? w.dtype] ?? 4), 0);
}
