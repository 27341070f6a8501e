/**
 * What a saliency method is: a descriptor the registry holds and the explainer iterates.
 * Methods are plain TypeScript over typed arrays; the explainer's shared passes hand them
 * the tensors' values (src/shared-passes.ts), so this folder runs without tfjs.
 */
import type { NormalizeMode } from '../render/normalize';

export type BuiltinMethodName = 'cam' | 'gradcam' | 'vanilla' | 'guided' | 'guided-gradcam';
/** A registered method's name: one of the built-ins, or one added with `registerMethod`. */
export type MethodName = BuiltinMethodName | (string & Record<never, never>);

/** The map stages, in the order the explainer emits them after the prediction. */
export type MapStageName = 'class-maps' | 'gradient-maps' | 'guided-gradcam';
export const MAP_STAGES: readonly MapStageName[] = ['class-maps', 'gradient-maps', 'guided-gradcam'];

/**
 * What a method reads from the shared passes over one forward record:
 * - `activations`: the target layer's values A (needs a target layer);
 * - `activation-gradient`: d y^c / d A, from the backward pass that stops at the target layer;
 * - `input-gradient`: d y^c / d x, the rest of that same pass;
 * - `guided-input-gradient`: the input gradient of a second pass with guided ReLUs.
 */
export type Need = 'activations' | 'activation-gradient' | 'input-gradient' | 'guided-input-gradient';

/** Row-major HWC values of one [1, H, W, C] tensor. */
export interface LayerValues {
  data: Float32Array;
  width: number;
  height: number;
  channels: number;
}

/** How CAM reads a class's weights: one Dense layer after global pooling, or a class convolution (CAM_c = A_c). */
export type CamHeadWeights =
  | { applies: true; kind: 'dense'; classWeights: Float32Array }
  | { applies: true; kind: 'class-conv' }
  | { applies: false; reason: string };

/** What a method's compute receives; every value is computed once per request, on first use. */
export interface MethodContext {
  readonly classIndex: number;
  /** The model input's size. */
  readonly input: { width: number; height: number; channels: number };
  /** The target layer's path, or null when the request has none. */
  readonly layer: string | null;
  activations(): LayerValues;
  activationGradient(): LayerValues;
  inputGradient(mode: 'vanilla' | 'guided'): LayerValues;
  camHead(): CamHeadWeights;
  /** Another method's map (it must be listed in `uses`); computed here if it was not requested. */
  map(name: MethodName): SaliencyMap;
}

export interface MethodDescriptor {
  readonly name: MethodName;
  /** Shown in menus and legends. */
  readonly label: string;
  /** One line on what the map shows, for help texts and the app. */
  readonly description: string;
  readonly stage: MapStageName;
  /** 'layer': one value per cell of the target layer's grid; 'input': the model input's size and channels. */
  readonly resolution: 'layer' | 'input';
  /** How a renderer turns its raw values into [0, 1] (src/render/normalize.ts). */
  readonly normalize: NormalizeMode;
  /** Part of a request that names no methods. */
  readonly byDefault: boolean;
  readonly needs: readonly Need[];
  /** Methods whose maps this one combines. */
  readonly uses?: readonly MethodName[];
  /** Why the method does not apply to this model and request, or null when it does. */
  skipReason?(ctx: MethodContext): string | null;
  /** The map's raw values: `resolution`'s size, 1 channel for 'layer', the input's channels for 'input'. */
  compute(ctx: MethodContext): Float32Array | Promise<Float32Array>;
}

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
