/** whycam's public API: the engine, usable in Node, a Worker or a page (no DOM). */
export { Explainer } from './explainer';
export type { ThreadAdvice } from './model/compute-cost';
export type {
  ExplainerOptions, ExplainOptions, Explanation, MapStage, MapStageName, MethodProgress, ModelDescription, Prediction, PredictionStage, Stage,
} from './explainer';
export type {
  BuiltinMethodName, CamHeadWeights, LayerValues, MethodContext, MethodDescriptor, MethodName, Need, SaliencyMap,
} from './methods/types';
export { MAP_STAGES } from './methods/types';
export {
  METHOD_NAMES, defaultMethodNames, getMethod, isMethodName, listMethods, methodNames, registerMethod, unregisterMethod,
} from './methods/registry';
export { loadModel } from './model/load';
export type { LoadedModel, LoadOptions, ModelFile, ModelMetadata, ModelSource } from './model/load';
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
export { evaluateTrust, TRUST_METRICS } from './trust/evaluate';
export type { MapTrust, TrustMetric, TrustOptions, TrustReport } from './trust/evaluate';
export type { Curve } from './trust/curves';
export type { SanityStep } from './trust/sanity';
