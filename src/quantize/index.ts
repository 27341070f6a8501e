/** Weight quantisation in the tfjs weights-manifest format, and how faithful the result is. */
export {
  QUANTIZATION_LEVELS, artifactsToFiles, parseModelJson, quantizeFiles, quantizeFilesWithReport, quantizeModelArtifacts, saveModelArtifacts,
} from './artifacts';
export type {
  ModelArtifactsOut, ModelJsonInput, QuantizationLevel, QuantizationReport, QuantizedArtifacts, QuantizedWeightSpec, QuantizeOptions, WeightDataInput,
} from './artifacts';
export { affineRange, quantizeAffine, roundHalfEven } from './affine';
export type { AffineDtype, AffineQuantized, AffineRange } from './affine';
export { float16BitsFromFloat32Bits, float16BitsToNumber, float32ToFloat16Bits } from './float16';
export { compareLevels, compareQuantized, pearson } from './fidelity';
export type { CompareLevelsOptions, CompareOptions, FidelityReport, ImageFidelity, LevelReport } from './fidelity';
