/**
 * The progressive pipeline: one forward pass, the prediction, then the map stages in order
 * (src/methods/types.ts MAP_STAGES), each computing the requested methods of the registry that
 * belong to it from values shared across methods (src/passes/shared.ts). Each stage is usable alone.
 */
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { WhycamError } from './errors';
import type { ImageInput } from './image/types';
import { flattenModel, type FlatGraph, type GraphOp } from './model/graph';
import { isGraphModel, type LoadedGraphModel } from './model/graph-model';
import { analyseCamHead, findTargetLayer, inputSpecOf, type CamHead, type InputSpec, type TargetLayer } from './model/inspect';
import { loadAnyModel, type LoadedAnyModel, type LoadOptions, type ModelMetadata, type ModelSource } from './model/load';
import { prepareInput, INPUT_RANGES, type InputRange } from './model/preprocess';
import { checkFit, DEFAULT_FIT, type Fit, type Region } from './image/fit';
import { runForward, type ForwardRecord } from './record/forward';
import { WeightCache } from './model/weight-cache';
import { threadAdvice, type ThreadAdvice } from './model/compute-cost';
import { planFusion, type FusionPlan } from './record/fusion';
import { getMethod, needsTargetLayer, resolveMethods, withDependencies } from './methods/registry';
import { MAP_STAGES, type FillInputs, type MapStageName, type MethodDescriptor, type MethodName, type Need, type SaliencyMap } from './methods/types';
import { gaussian } from './methods/sampling';
import { SharedPasses } from './passes/shared';
import { SampledPasses, type MethodProgress } from './passes/sampled';

export type { MethodProgress };

export interface Prediction {
  index: number;
  label: string;
  probability: number;
}

export interface ExplainerOptions extends LoadOptions {
  /** Pixel range the model expects; overrides the metadata. Default: metadata, else '0..1'. */
  range?: InputRange;
  /** Class names; default: metadata labels, else "class 0", "class 1", ... */
  labels?: string[];
}

export interface ExplainOptions {
  /** Class to explain: an index or a label. Default: the top prediction. */
  class?: number | string;
  /** Methods to run (registered names). Default: the registry's default methods (the five built-ins). */
  methods?: MethodName[];
  /** Target layer for the class maps (bare name or nested path). Default: the last spatial conv output. */
  layer?: string;
  /** How many predictions to report. Default 5. */
  topK?: number;
  /** How a photo is fitted to the model's input (image/fit.ts). Default 'cover': centre crop to the input's aspect. */
  fit?: Fit;
  /** Checked at every stage boundary (and between batches of the sampled methods); once `aborted`, explain() throws CANCELLED and emits nothing more. */
  signal?: { readonly aborted: boolean };
  /** Per method, its own options, e.g. `{ smoothgrad: { samples: 50, seed: 1 } }` (see each method). */
  methodOptions?: Partial<Record<MethodName, Record<string, unknown>>>;
  /** Called after each batch of a sampled method (Score-CAM, SmoothGrad, Integrated Gradients). */
  onProgress?: (progress: MethodProgress) => void;
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
export type { MapStageName };
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
  /** Whether this model runs faster on a threaded backend, from the size of its ops (src/model/compute-cost.ts). */
  threads: ThreadAdvice;
}

/** The values a model's input takes, by range. */
const INPUT_DOMAINS: Record<InputRange, { min: number; max: number }> = {
  '0..1': { min: 0, max: 1 },
  '-1..1': { min: -1, max: 1 },
  '0..255': { min: 0, max: 255 },
};

export interface ScoreOptions {
  /** 'probability' (default) or the 'logit' y^c. */
  kind?: 'logit' | 'probability';
  batchSize?: number;
  signal?: { readonly aborted: boolean };
  onProgress?: (progress: MethodProgress) => void;
  /** The name progress reports carry. Default 'scores'. */
  progressName?: string;
}

/** A tfjs-layers LayerVariable, as far as the randomisation reads and writes it. */
interface WeightVariable {
  read(): tf.Tensor;
  write(value: tf.Tensor): void;
}

function trainableOf(op: GraphOp): WeightVariable[] {
  return (op.layer.trainableWeights as WeightVariable[] | undefined) ?? [];
}

function methodOptionsOf(options: ExplainOptions, name: MethodName): Record<string, unknown> {
  const all = options.methodOptions;
  if (all === undefined) return {};
  if (typeof all !== 'object' || all === null) throw new WhycamError('BAD_OPTION', 'methodOptions must be an object of { method: options }.');
  const own = all[name];
  if (own === undefined) return {};
  if (typeof own !== 'object' || own === null || Array.isArray(own)) throw new WhycamError('BAD_OPTION', `methodOptions['${name}'] must be an object.`);
  return own;
}

export class Explainer {
  /** The model as loaded: a tfjs-layers model or a graph model. */
  readonly loadedModel: tfl.LayersModel | LoadedGraphModel;
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
    const loaded = await loadAnyModel(source, { maxWeightBytes: options.maxWeightBytes });
    try {
      return new Explainer(loaded, options);
    } catch (e) {
      loaded.model.dispose();
      throw e;
    }
  }

  constructor(loaded: LoadedAnyModel | tfl.LayersModel, options: ExplainerOptions = {}) {
    const l: LoadedAnyModel = 'model' in loaded && 'range' in loaded ? loaded : { model: loaded as tfl.LayersModel, metadata: null, range: null };
    this.loadedModel = l.model;
    this.metadata = l.metadata;
    // A graph model arrives flattened (src/model/graph-model.ts); a LayersModel is flattened here.
    this.graph = isGraphModel(l.model) ? l.model.flat.graph : flattenModel(l.model);
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

  /** The tfjs-layers model; a graph model has none (UNSUPPORTED_MODEL). */
  get model(): tfl.LayersModel {
    if (isGraphModel(this.loadedModel)) {
      throw new WhycamError('UNSUPPORTED_MODEL', 'This explainer runs a graph model, which is not a tfjs-layers model (training needs one).');
    }
    return this.loadedModel;
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
      name: this.metadata?.modelName ?? this.loadedModel.name,
      input: this.input,
      range: this.range,
      labels: [...this.labels],
      targetLayer: this.defaultTarget?.path ?? null,
      cam: head.applies ? { applies: true } : { applies: false, reason: head.reason },
      layers: this.graph.ops.length,
      threads: threadAdvice(this.graph),
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
    const requested = resolveMethods(options.methods);
    const methods = withDependencies(requested);
    // The target layer matters only to methods that read it; a wrong name must not fail a gradient-only request.
    const target = methods.some(needsTargetLayer) ? this.targetLayer(options.layer) : null;
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
    let passes: SharedPasses | null = null;
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

      const needs = new Set<Need>(methods.filter((m) => target || !needsTargetLayer(m)).flatMap((m) => m.needs));
      const sampled = new SampledPasses({
        graph: this.graph, plan: this.fusionPlan(null), cache: this.cache, input: this.input, classIndex, signal: options.signal, onProgress: options.onProgress,
      });
      const shared = new SharedPasses({
        record, cache: this.cache, classIndex, input: this.input, target, needs, camHead: () => this.camHead(target),
        inputDomain: INPUT_DOMAINS[this.range], sampled,
      });
      passes = shared;
      const skippedBy = new Map<MethodName, string>();
      const used = new Set(methods.flatMap((m) => m.uses ?? []));
      const run = async (m: MethodDescriptor): Promise<SaliencyMap | string> => {
        const skipped = skippedBy.get(m.name);
        if (skipped !== undefined) return skipped;
        for (const u of m.uses ?? []) {
          const dep = await run(getMethod(u));
          if (typeof dep === 'string') return remember(m, dep);
        }
        const layer = needsTargetLayer(m) ? target : null;
        if (needsTargetLayer(m) && !target) return remember(m, this.noTargetReason ?? 'no target layer');
        const ctx = shared.contextFor(m.name, methodOptionsOf(options, m.name));
        const reason = m.skipReason?.(ctx) ?? null;
        if (reason !== null) return remember(m, reason);
        const s = performance.now();
        const result = await m.compute(ctx);
        const { data, stats } = result instanceof Float32Array ? { data: result, stats: undefined } : result;
        const size = m.resolution === 'layer'
          ? { width: (target as TargetLayer).width, height: (target as TargetLayer).height, channels: 1 }
          : { width: this.input.width, height: this.input.height, channels: this.input.channels };
        if (data.length !== size.width * size.height * size.channels) {
          throw new WhycamError('BAD_OPTION', `Method '${m.name}' returned ${data.length} values; a ${m.resolution}-resolution map has ${size.width}x${size.height}x${size.channels}.`);
        }
        const map: SaliencyMap = { method: m.name, data, ...size, layer: layer?.path ?? null, classIndex, ms: performance.now() - s };
        if (stats) map.stats = stats;
        shared.setMap(map);
        return map;
      };
      const remember = (m: MethodDescriptor, reason: string) => {
        skippedBy.set(m.name, reason);
        return reason;
      };

      for (const stage of MAP_STAGES) {
        const inStage = requested.filter((m) => m.stage === stage);
        if (inStage.length === 0) continue;
        const maps: MapStage['maps'] = {};
        const skipped: MapStage['skipped'] = {};
        for (const m of inStage) {
          const r = await run(m);
          if (typeof r === 'string') skipped[m.name] = r;
          // Yielded maps belong to the consumer (a worker transfers their buffers): a map another method reads goes out as a copy.
          else maps[m.name] = used.has(m.name) ? { ...r, data: r.data.slice() } : r;
        }
        yield { stage, maps, skipped, ...lap() };
        resumed();
        checkAbort();
      }
    } finally {
      passes?.dispose();
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

  /** The values the model's input takes (its range as numbers). */
  get inputDomain(): { min: number; max: number } {
    return INPUT_DOMAINS[this.range];
  }

  /** The model's input for an image, as the model sees it (fitted as explain() fits it): row-major HWC in its value range. */
  modelInput(image: ImageInput, fit?: Fit): Float32Array {
    const x = prepareInput(image, this.input, this.range, fit).input;
    try {
      return Float32Array.from(x.dataSync());
    } finally {
      x.dispose();
    }
  }

  /**
   * The class probability (or logit) of `count` inputs that `fill` writes batch by batch (row-major
   * [n, H, W, C] in the model's value range): forward passes only, each value freed after its last use.
   */
  async scoreInputs(count: number, fill: FillInputs, classIndex: number, options: ScoreOptions = {}): Promise<Float32Array> {
    if (this.disposed) throw new WhycamError('BAD_OPTION', 'This explainer has been disposed.');
    const sampled = new SampledPasses({
      graph: this.graph, plan: this.fusionPlan(null), cache: this.cache, input: this.input, classIndex: this.resolveClass(classIndex),
      signal: options.signal, onProgress: options.onProgress,
    });
    return sampled.scores(options.progressName ?? 'scores', count, fill, options.batchSize ?? 32, options.kind ?? 'probability');
  }

  /** Paths of the layers that have trainable weights, from the output down (a cascading randomisation's order). */
  weightedLayers(): string[] {
    return this.graph.ops.filter((op) => trainableOf(op).length > 0).map((op) => op.path).reverse();
  }

  /**
   * Replaces the trainable weights of the named layers with seeded random values (kernels: zero
   * mean and each tensor's own standard deviation; vectors such as biases and batch-norm scales:
   * their own mean and deviation), for the model-randomisation sanity check. Returns the function
   * that puts the trained weights back; until then every request sees the random ones.
   */
  randomizeLayers(paths: string[], seed: number): () => void {
    const normal = gaussian(seed);
    const saved: Array<{ variable: WeightVariable; value: tf.Tensor }> = [];
    const restore = () => {
      for (const { variable, value } of saved.reverse()) {
        variable.write(value);
        value.dispose();
      }
      saved.length = 0;
      this.cache.dispose();
    };
    try {
      for (const path of paths) {
        const op = this.graph.ops.find((o) => o.path === path);
        if (!op) throw new WhycamError('UNKNOWN_LAYER', `No layer '${path}' in this model.`);
        for (const variable of trainableOf(op)) {
          const old = variable.read();
          const values = old.dataSync();
          let mean = 0, sq = 0;
          for (const v of values) mean += v / values.length;
          for (const v of values) sq += (v - mean) ** 2 / values.length;
          const std = Math.sqrt(sq) || 0.05;
          const centre = old.rank >= 2 ? 0 : mean;
          saved.push({ variable, value: tf.clone(old) });
          const random = tf.tensor(Float32Array.from(values, () => centre + std * normal()), old.shape);
          variable.write(random);
          random.dispose();
        }
      }
      this.cache.dispose();
      return restore;
    } catch (e) {
      restore();
      throw e;
    }
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.cache.dispose();
    this.loadedModel.dispose();
    // tfjs-layers' dispose skips the weights of a model nested in a Sequential (Teachable
    // Machine's head): free every leaf layer's variables that are still alive.
    for (const op of this.graph.ops) {
      const weights = (op.layer as unknown as { weights?: Array<{ val: tf.Variable; dispose(): void }> }).weights ?? [];
      for (const w of weights) if (!w.val.isDisposed) w.dispose();
    }
  }
}

