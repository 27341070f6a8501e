/** Model files without tfjs: weight sizes from a manifest, zip reading, labels files. Safe for pages and service workers. */
export {
  DEFAULT_MAX_WEIGHT_BYTES, DTYPE_BYTES, MAX_TENSOR_ELEMENTS, elementCount, expectedWeightBytes, manifestShapeProblem, shapeProblem,
  weightBytes, weightSizeMismatch,
} from './weights';
export type { ManifestWeight } from './weights';
export { checkZipSize, DEFAULT_MAX_ZIP_BYTES, listZip, readZip } from './zip';
export type { ZipEntry, ZipLimits, ZipListing } from './zip';
export { parseLabels } from './labels';
