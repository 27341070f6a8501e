/**
 * What a saliency method is: a descriptor the registry holds and the explainer iterates.
 * Methods are plain TypeScript over typed arrays; the explainer's shared passes hand them
 * the tensors' values (src/passes/shared.ts), so this folder runs without tfjs.
 */
import type { NormalizeMode } from '../render/normalize';

export type BuiltinMethodName =
  | 'cam' | 'gradcam' | 'gradcam++' | 'layercam' | 'vanilla' | 'guided' | 'guided-gradcam' | 'scorecam' | 'smoothgrad' | 'integrated-gradients';
/** A registered method's name: one of the built-ins, or one added with `registerMethod`. */
export type MethodName = BuiltinMethodName | (string & Record<never, never>);

/**
 * The map stages, in the order the explainer emits them after the prediction: the cheap class
 * maps, the one-pass gradient maps, their combination, then the maps that sample the model many
 * times (Score-CAM, SmoothGrad, Integrated Gradients), so those never delay the others.
 */
export type MapStageName = 'class-maps' | 'gradient-maps' | 'guided-gradcam' | 'sampled-maps';
export const MAP_STAGES: readonly MapStageName[] = ['class-maps', 'gradient-maps', 'guided-gradcam', 'sampled-maps'];

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
  /** The model's input as the model sees it (resized and scaled to its value range). */
  modelInput(): LayerValues;
  /** The value range of the model's input (e.g. -1..1 for a Teachable Machine model). */
  readonly inputDomain: { readonly min: number; readonly max: number };
  /** The class score y^c of the request's own input. */
  score(): number;
  /** This method's options from the request (`ExplainOptions.methodOptions[name]`), to be checked by the method. */
  readonly options: Readonly<Record<string, unknown>>;
  /**
   * y^c of each of `count` inputs, in batches of `batchSize` with progress and cancellation;
   * `fill(start, n, out)` writes inputs start..start+n-1 into `out`, row-major [n, H, W, C] in the
   * model's value range (so no more than a batch of inputs is ever held).
   */
  scores(count: number, fill: FillInputs, batchSize: number): Promise<Float32Array>;
  /** The input gradient of y^c and y^c for each of `count` inputs, handed batch by batch to `take`. */
  gradients(count: number, fill: FillInputs, mode: 'vanilla' | 'guided', batchSize: number, take: TakeGradients): Promise<void>;
}

export type FillInputs = (start: number, n: number, out: Float32Array) => void;
/** `gradients` holds n inputs' gradients, row-major [n, H, W, C]; `scores` their n scores. */
export type TakeGradients = (start: number, n: number, gradients: Float32Array, scores: Float32Array) => void;

/** A map's raw values, with figures about it (e.g. Integrated Gradients' completeness gap). */
export interface MethodResult {
  data: Float32Array;
  stats?: Record<string, number>;
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
  compute(ctx: MethodContext): Float32Array | MethodResult | Promise<Float32Array | MethodResult>;
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
  /** Figures a method reports about its map (e.g. `completenessGap` of Integrated Gradients). */
  stats?: Record<string, number>;
}
