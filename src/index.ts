/** whycam's public API: the engine, usable in Node, a Worker or a page (no DOM). */
export { Explainer } from './explainer';
export type {
  ExplainerOptions, ExplainOptions, Explanation, MapStage, MapStageName, ModelDescription, Prediction, PredictionStage, Stage,
} from './explainer';
export type { MethodName, SaliencyMap } from './methods/types';
export { METHOD_NAMES } from './methods/types';
export { loadModel } from './model/load';
export type { LoadedModel, ModelFile, ModelMetadata, ModelSource } from './model/load';
export type { InputRange } from './model/preprocess';
export { INPUT_RANGES } from './model/preprocess';
export type { InputSpec, TargetLayer } from './model/inspect';
export type { ImageInput } from './image/types';
export { FITS, DEFAULT_FIT, fitPlan } from './image/fit';
export type { Fit, FitPlan, Region } from './image/fit';
export { prepareInput } from './model/preprocess';
export { WhycamError, isWhycamError } from './errors';
export type { WhycamErrorCode } from './errors';
export { useBackend } from './backend';
export type { BackendName, BackendOptions } from './backend';
export { registerWasmGradientKernels } from './gradients/wasm-kernels';
export {
  QUANTIZATION_LEVELS, artifactsToFiles, compareLevels, compareQuantized, quantizeFiles, quantizeFilesWithReport, quantizeModelArtifacts, saveModelArtifacts,
} from './quantize';
export type {
  CompareLevelsOptions, CompareOptions, FidelityReport, ImageFidelity, LevelReport, ModelArtifactsOut, ModelJsonInput, QuantizationLevel,
  QuantizationReport, QuantizedArtifacts, QuantizedWeightSpec, QuantizeOptions, WeightDataInput,
} from './quantize';
