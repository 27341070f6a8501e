/** Shared types of the five methods' outputs. */
export type MethodName = 'cam' | 'gradcam' | 'vanilla' | 'guided' | 'guided-gradcam';
export const METHOD_NAMES: readonly MethodName[] = ['cam', 'gradcam', 'vanilla', 'guided', 'guided-gradcam'];

/**
 * One map, with raw signed values: row-major HWC `data` of `height * width * channels`.
 * Class maps (CAM, Grad-CAM) have channels 1 and are the weighted sums *before* the
 * ReLU of the papers (apply it when rendering: `normalize(map, 'positive')`); gradient
 * maps have the model input's channels (3 for RGB models).
 */
export interface SaliencyMap {
  method: MethodName;
  data: Float32Array;
  width: number;
  height: number;
  channels: number;
  /** Target layer path for class maps (and Guided Grad-CAM); null for pure gradient maps. */
  layer: string | null;
  classIndex: number;
  /** Time spent computing this map alone. */
  ms: number;
}
