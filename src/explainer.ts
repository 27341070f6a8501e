/**
 * The progressive pipeline (DESIGN.md): one forward pass, then stages in order —
 * prediction; low-resolution class maps (CAM, Grad-CAM) from a backward pass that
 * stops at the target layer; high-resolution gradient maps (vanilla, guided) from the
 * rest of that pass and one guided pass; Guided Grad-CAM. Each stage is usable alone.
 */
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { WhycamError } from './errors';
import type { ImageInput } from './image/types';
import { flattenModel, type FlatGraph } from './model/graph';
import { analyseCamHead, denseKernel, findTargetLayer, inputSpecOf, type CamHead, type InputSpec, type TargetLayer } from './model/inspect';
import { loadModel, type LoadedModel, type ModelMetadata, type ModelSource } from './model/load';
import { prepareInput, INPUT_RANGES, type InputRange } from './model/preprocess';
import { checkFit, DEFAULT_FIT, type Fit, type Region } from './image/fit';
import { runForward, type ForwardRecord } from './record/forward';
import { BackwardPass } from './gradients/backward';
import { WeightCache } from './gradients/weight-cache';
import { planFusion, type FusionPlan } from './record/fusion';
import { camMap } from './methods/cam';
import { gradCamMap } from './methods/grad-cam';
import { vanillaGradient } from './methods/vanilla-gradient';
import { guidedBackprop } from './methods/guided-backprop';
import { guidedGradCamMap } from './methods/guided-grad-cam';
import { METHOD_NAMES, type MethodName, type SaliencyMap } from './methods/types';

export interface Prediction {
  index: number;
  label: string;
  probability: number;
}

export interface ExplainerOptions {
  /** Pixel range the model expects; overrides the metadata. Default: metadata, else '0..1'. */
  range?: InputRange;
  /** Class names; default: metadata labels, else "class 0", "class 1", ... */
  labels?: string[];
}

export interface ExplainOptions {
  /** Class to explain: an index or a label. Default: the top prediction. */
  class?: number | string;
  /** Methods to run. Default: all five. */
  methods?: MethodName[];
  /** Target layer for the class maps (bare name or nested path). Default: the last spatial conv output. */
  layer?: string;
  /** How many predictions to report. Default 5. */
  topK?: number;
  /** How a photo is fitted to the model's input (image/fit.ts). Default 'cover': centre crop to the input's aspect. */
  fit?: Fit;
  /** Checked at every stage boundary; once `aborted`, explain() throws CANCELLED and emits nothing more. */
  signal?: { readonly aborted: boolean };
}

interface StageBase {
  /** Milliseconds from the start of the request to the end of this stage. */
  elapsedMs: number;
  /** Milliseconds this stage computed, not counting time the consumer held the previous stage. */
  ms: number;
}
export interface PredictionStage extends StageBase {
  stage: 'prediction';
  predictions: Prediction[];
  /** The class the following maps explain. */
  classIndex: number;
  /** How the image was fitted to the input (a tensor input is the input itself: 'stretch'). */
  fit: Fit;
  /**
   * The rectangle of the source image, in its pixels, that the model input covers: draw the
   * maps over it. For 'contain' it extends past the image (the padding).
   */
  region: Region;
}
export type MapStageName = 'class-maps' | 'gradient-maps' | 'guided-gradcam';
export interface MapStage extends StageBase {
  stage: MapStageName;
  maps: Partial<Record<MethodName, SaliencyMap>>;
  /** Requested methods of this stage that do not apply to the model, with the reason. */
  skipped: Partial<Record<MethodName, string>>;
}
export type Stage = PredictionStage | MapStage;

export interface Explanation {
  predictions: Prediction[];
  classIndex: number;
  fit: Fit;
  region: Region;
  maps: Partial<Record<MethodName, SaliencyMap>>;
  skipped: Partial<Record<MethodName, string>>;
  stages: Array<{ stage: Stage['stage']; elapsedMs: number; ms: number }>;
}

export interface ModelDescription {
  name: string;
  input: InputSpec;
  range: InputRange;
  labels: string[];
  /** Default target layer, or null when the model has no spatial layer. */
  targetLayer: string | null;
  cam: { applies: boolean; reason?: string };
  layers: number;
}

const CLASS_MAP_METHODS: MethodName[] = ['cam', 'gradcam'];
const GRADIENT_METHODS: MethodName[] = ['vanilla', 'guided'];

export class Explainer {
  readonly model: tfl.LayersModel;
  readonly graph: FlatGraph;
  readonly input: InputSpec;
  readonly range: InputRange;
  readonly labels: string[];
  readonly metadata: ModelMetadata | null;
  private readonly defaultTarget: TargetLayer | null;
  private readonly noTargetReason: string | null;
  private readonly cache = new WeightCache();
  /** Fusion plans by target ref (the target's value must stay materialised). */
  private readonly plans = new Map<number, FusionPlan>();
  private disposed = false;

  static async load(source: ModelSource, options: ExplainerOptions = {}): Promise<Explainer> {
    const loaded = await loadModel(source);
    try {
      return new Explainer(loaded, options);
    } catch (e) {
      loaded.model.dispose();
      throw e;
    }
  }

  constructor(loaded: LoadedModel | tfl.LayersModel, options: ExplainerOptions = {}) {
    const l: LoadedModel = 'model' in loaded && 'range' in loaded ? loaded : { model: loaded as tfl.LayersModel, metadata: null, range: null };
    this.model = l.model;
    this.metadata = l.metadata;
    this.graph = flattenModel(l.model);
    this.input = inputSpecOf(this.graph);
    if (options.range !== undefined && !INPUT_RANGES.includes(options.range)) {
      throw new WhycamError('BAD_OPTION', `Unknown range '${options.range}'; use one of ${INPUT_RANGES.join(', ')}.`);
    }
    this.range = options.range ?? l.range ?? '0..1';
    const outShape = this.graph.shapes[this.graph.outputRef];
    const numClasses = outShape[outShape.length - 1];
    if (outShape.length !== 2 || !numClasses) {
      throw new WhycamError('UNSUPPORTED_MODEL', `The model output has shape [${outShape.map(String)}]; whycam explains classifiers with output [batch, classes].`);
    }
    const labels = options.labels ?? l.metadata?.labels;
    if (labels && labels.length !== numClasses) {
      throw new WhycamError('BAD_OPTION', `${labels.length} labels given for a model with ${numClasses} classes.`);
    }
    this.labels = labels ? [...labels] : Array.from({ length: numClasses }, (_, i) => `class ${i}`);
    try {
      this.defaultTarget = findTargetLayer(this.graph);
      this.noTargetReason = null;
    } catch (e) {
      this.defaultTarget = null;
      this.noTargetReason = (e as Error).message;
    }
  }

  get numClasses(): number {
    return this.labels.length;
  }

  /** The target layer for a request: the named one, or the default. */
  targetLayer(name?: string): TargetLayer | null {
    return name === undefined ? this.defaultTarget : findTargetLayer(this.graph, name);
  }

  camHead(target: TargetLayer | null): CamHead {
    if (!target) return { applies: false, reason: this.noTargetReason ?? 'no target layer' };
    return analyseCamHead(this.graph, target, this.numClasses);
  }

  describe(): ModelDescription {
    const head = this.camHead(this.defaultTarget);
    return {
      name: this.metadata?.modelName ?? this.model.name,
      input: this.input,
      range: this.range,
      labels: [...this.labels],
      targetLayer: this.defaultTarget?.path ?? null,
      cam: head.applies ? { applies: true } : { applies: false, reason: head.reason },
      layers: this.graph.ops.length,
    };
  }

  /** Resolves an index or a label (exact, then case-insensitive, then a numeric string). */
  resolveClass(c: number | string): number {
    if (typeof c === 'number') {
      if (Number.isInteger(c) && c >= 0 && c < this.numClasses) return c;
      throw new WhycamError('UNKNOWN_CLASS', `Class index ${c} is out of range: the model has classes 0..${this.numClasses - 1}.`);
    }
    let i = this.labels.indexOf(c);
    if (i < 0) i = this.labels.findIndex((l) => l.toLowerCase() === c.toLowerCase());
    if (i < 0 && /^\d+$/.test(c.trim())) return this.resolveClass(Number(c));
    if (i < 0) {
      throw new WhycamError('UNKNOWN_CLASS', `No class '${c}'. Classes: ${this.labels.slice(0, 20).map((l) => `'${l}'`).join(', ')}${this.labels.length > 20 ? ', ...' : ''}.`);
    }
    return i;
  }

  private checkMethods(methods: MethodName[] | undefined): Set<MethodName> {
    const list = methods ?? [...METHOD_NAMES];
    if (!Array.isArray(list) || list.length === 0) throw new WhycamError('UNKNOWN_METHOD', `Methods must be a non-empty list of ${METHOD_NAMES.join(', ')}.`);
    for (const m of list) {
      if (!METHOD_NAMES.includes(m)) throw new WhycamError('UNKNOWN_METHOD', `Unknown method '${m}'; use ${METHOD_NAMES.join(', ')}.`);
    }
    return new Set(list);
  }

  private fusionPlan(target: TargetLayer | null): FusionPlan {
    const key = target ? target.ref : -1;
    let plan = this.plans.get(key);
    if (!plan) {
      plan = planFusion(this.graph, target ? [target.ref] : []);
      this.plans.set(key, plan);
    }
    return plan;
  }

  /** An already-preprocessed input must match the model input exactly; it is used as is, not disposed. */
  private checkTensorInput(x: tf.Tensor): tf.Tensor4D {
    const { height, width, channels } = this.input;
    const want = [1, height, width, channels];
    if (x.isDisposed || x.rank !== 4 || x.shape.some((d, i) => d !== want[i])) {
      throw new WhycamError('INPUT_SHAPE', `The input tensor has shape [${x.shape}]; this model needs [${want}] (or pass an image to be resized).`);
    }
    return x as tf.Tensor4D;
  }

  /**
   * Runs the pipeline, yielding stages in order. Every yielded map's buffer is the consumer's
   * to keep, mutate or transfer: the engine never reads it again. `image` is pixels (resized and scaled
   * here) or a preprocessed [1, H, W, C] tensor in the model's own value range. Always iterate to the end or `return()` early: that frees the tensors. */
  async *explain(image: ImageInput | tf.Tensor4D, options: ExplainOptions = {}): AsyncGenerator<Stage, void, undefined> {
    if (this.disposed) throw new WhycamError('BAD_OPTION', 'This explainer has been disposed.');
    const t0 = performance.now();
    const methods = this.checkMethods(options.methods);
    // The target layer matters only to the class maps; a wrong name must not fail a gradient-only request.
    const wantsClassMaps = methods.has('cam') || methods.has('gradcam') || methods.has('guided-gradcam');
    const target = wantsClassMaps ? this.targetLayer(options.layer) : null;
    const requestedClass = options.class === undefined ? undefined : this.resolveClass(options.class);
    const topK = Math.max(1, Math.min(options.topK ?? 5, this.numClasses));
    const fit = options.fit === undefined ? DEFAULT_FIT : checkFit(options.fit);
    const checkAbort = () => {
      if (options.signal?.aborted) throw new WhycamError('CANCELLED', 'The request was superseded or cancelled.');
    };
    // A stage's ms is its own compute: the clock restarts when the consumer resumes the generator,
    // so time the consumer spends with a stage (a worker waiting for delivery) is not charged to the next.
    let last = t0;
    const resumed = () => {
      last = performance.now();
    };
    const lap = () => {
      const now = performance.now();
      const ms = now - last;
      last = now;
      return { elapsedMs: now - t0, ms };
    };

    let record: ForwardRecord | null = null;
    const passes: BackwardPass[] = [];
    try {
      const plan = this.fusionPlan(target);
      let seen: { fit: Fit; region: Region };
      if (image instanceof tf.Tensor) {
        record = runForward(this.graph, this.checkTensorInput(image), plan, this.cache);
        seen = { fit: 'stretch', region: { x: 0, y: 0, width: this.input.width, height: this.input.height } };
      } else {
        const { input, region } = prepareInput(image, this.input, this.range, fit);
        try {
          record = runForward(this.graph, input, plan, this.cache);
        } finally {
          input.dispose();
        }
        seen = { fit, region };
      }
      const probs = record.probabilities.dataSync();
      const order = Array.from(probs.keys()).sort((a, b) => probs[b] - probs[a]);
      const predictions = order.slice(0, topK).map((i) => ({ index: i, label: this.labels[i], probability: probs[i] }));
      const classIndex = requestedClass ?? order[0];
      yield { stage: 'prediction', predictions, classIndex, ...seen, ...lap() };
      resumed();
      checkAbort();

      const inputRef = this.graph.inputRef;
      const needVanillaPass = methods.has('vanilla') || ((methods.has('gradcam') || methods.has('guided-gradcam')) && target !== null);
      const vanillaPass = needVanillaPass
        ? new BackwardPass(record, classIndex, 'vanilla', this.cache, target ? [target.ref, inputRef] : [inputRef])
        : null;
      if (vanillaPass) passes.push(vanillaPass);

      let gradCam: SaliencyMap | null = null;
      if (wantsClassMaps) {
        const maps: MapStage['maps'] = {};
        const skipped: MapStage['skipped'] = {};
        if (!target) {
          for (const m of ['cam', 'gradcam'] as const) if (methods.has(m)) skipped[m] = this.noTargetReason ?? 'no target layer';
        } else {
          const features = record.values[target.ref] as tf.Tensor4D;
          if (methods.has('gradcam') || methods.has('guided-gradcam')) {
            const s = performance.now();
            const dA = (vanillaPass as BackwardPass).runTo(target.ref) as tf.Tensor4D;
            const data = gradCamMap(features, dA);
            gradCam = { method: 'gradcam', data, width: target.width, height: target.height, channels: 1, layer: target.path, classIndex, ms: performance.now() - s };
            // Yielded maps belong to the consumer (a worker transfers their buffers): yield a copy, keep ours.
            if (methods.has('gradcam')) maps.gradcam = { ...gradCam, data: data.slice() };
          }
          if (methods.has('cam')) {
            const head = this.camHead(target);
            if (head.applies) {
              const s = performance.now();
              const kernel = head.kind === 'dense' ? denseKernel(this.graph, head.denseOp) : undefined;
              const data = camMap(features, head, classIndex, kernel);
              maps.cam = { method: 'cam', data, width: target.width, height: target.height, channels: 1, layer: target.path, classIndex, ms: performance.now() - s };
            } else {
              skipped.cam = head.reason;
            }
          }
        }
        if (methods.has('cam') || methods.has('gradcam')) {
          yield { stage: 'class-maps', maps, skipped, ...lap() };
          resumed();
          checkAbort();
        }
      }

      let guided: SaliencyMap | null = null;
      if (methods.has('vanilla') || methods.has('guided') || (methods.has('guided-gradcam') && gradCam)) {
        const maps: MapStage['maps'] = {};
        const { height, width, channels } = this.input;
        const gradientMap = (method: MethodName, data: Float32Array, ms: number): SaliencyMap =>
          ({ method, data, width, height, channels, layer: null, classIndex, ms });
        if (methods.has('vanilla')) {
          const s = performance.now();
          maps.vanilla = gradientMap('vanilla', vanillaGradient(vanillaPass as BackwardPass, inputRef), 0);
          maps.vanilla.ms = performance.now() - s;
        }
        vanillaPass?.dispose();
        if (methods.has('guided') || methods.has('guided-gradcam')) {
          const s = performance.now();
          const guidedPass = new BackwardPass(record, classIndex, 'guided', this.cache, [inputRef]);
          passes.push(guidedPass);
          guided = gradientMap('guided', guidedBackprop(guidedPass, inputRef), 0);
          guidedPass.dispose();
          guided.ms = performance.now() - s;
          if (methods.has('guided')) maps.guided = { ...guided, data: guided.data.slice() };
        }
        if (methods.has('vanilla') || methods.has('guided')) {
          yield { stage: 'gradient-maps', maps, skipped: {}, ...lap() };
          resumed();
          checkAbort();
        }
      }

      if (methods.has('guided-gradcam')) {
        if (gradCam && guided) {
          const s = performance.now();
          const data = guidedGradCamMap(guided, gradCam);
          const map: SaliencyMap = { ...guided, method: 'guided-gradcam', data, layer: gradCam.layer, ms: performance.now() - s };
          yield { stage: 'guided-gradcam', maps: { 'guided-gradcam': map }, skipped: {}, ...lap() };
          resumed();
        } else {
          yield { stage: 'guided-gradcam', maps: {}, skipped: { 'guided-gradcam': this.noTargetReason ?? 'no target layer' }, ...lap() };
          resumed();
        }
      }
    } finally {
      for (const p of passes) p.dispose();
      record?.dispose();
    }
  }

  /** Runs every stage and gathers the result. */
  async explainAll(image: ImageInput | tf.Tensor4D, options: ExplainOptions = {}): Promise<Explanation> {
    const out: Explanation = { predictions: [], classIndex: -1, fit: DEFAULT_FIT, region: { x: 0, y: 0, width: 0, height: 0 }, maps: {}, skipped: {}, stages: [] };
    for await (const stage of this.explain(image, options)) {
      out.stages.push({ stage: stage.stage, elapsedMs: stage.elapsedMs, ms: stage.ms });
      if (stage.stage === 'prediction') {
        out.predictions = stage.predictions;
        out.classIndex = stage.classIndex;
        out.fit = stage.fit;
        out.region = stage.region;
      } else {
        Object.assign(out.maps, stage.maps);
        Object.assign(out.skipped, stage.skipped);
      }
    }
    return out;
  }

  /** Top-k predictions only (one forward pass, no backward). */
  async predict(image: ImageInput | tf.Tensor4D, topK = 5, fit: Fit = DEFAULT_FIT): Promise<Prediction[]> {
    const gen = this.explain(image, { topK, methods: ['cam'], fit });
    try {
      const first = await gen.next();
      return (first.value as PredictionStage).predictions;
    } finally {
      await gen.return();
    }
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.cache.dispose();
    this.model.dispose();
    // tfjs-layers' dispose skips the weights of a model nested in a Sequential (Teachable
    // Machine's head): free every leaf layer's variables that are still alive.
    for (const op of this.graph.ops) {
      const weights = (op.layer as unknown as { weights?: Array<{ val: tf.Variable; dispose(): void }> }).weights ?? [];
      for (const w of weights) if (!w.val.isDisposed) w.dispose();
    }
  }
}

