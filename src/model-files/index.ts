/** Model files without tfjs: weight sizes from a manifest, zip reading. Safe for pages and service workers. */
export { DTYPE_BYTES, elementCount, expectedWeightBytes, weightBytes, weightSizeMismatch } from './weights';
export type { ManifestWeight } from './weights';
export { readZip } from './zip';
export type { ZipEntry } from './zip';
