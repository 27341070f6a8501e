/**
 * The values methods read (src/methods/types.ts MethodContext), computed from one forward
 * record on first use and kept for the rest of the request: the target layer's activations,
 * one backward pass that stops at the target layer and then carries on to the input, and a
 * guided pass. Nothing is computed twice; each pass is freed as soon as nothing needs it.
 */
import type * as tf from '@tensorflow/tfjs-core';
import { BackwardPass } from '../gradients/backward';
import type { WeightCache } from '../model/weight-cache';
import { denseKernel, type CamHead, type InputSpec, type TargetLayer } from '../model/inspect';
import type { ForwardRecord } from '../record/forward';
import type { CamHeadWeights, LayerValues, MethodContext, MethodName, Need, SaliencyMap } from '../methods/types';
import type { SampledPasses } from './sampled';

// A Dense kernel's values, keyed by its tensor's data id (an assign gives new weights a new id).
// Read once per model: tfjs-backend-wasm's Slice copies its whole input, so a column is cheaper picked in JS.
const kernelValues = new WeakMap<object, Float32Array>();

function classColumn(kernel: tf.Tensor2D, classIndex: number): Float32Array {
  const key = kernel.dataId as object;
  let values = kernelValues.get(key);
  if (!values) {
    values = kernel.dataSync() as Float32Array;
    kernelValues.set(key, values);
  }
  const [k, classes] = kernel.shape;
  const column = new Float32Array(k);
  for (let i = 0; i < k; i++) column[i] = values[i * classes + classIndex];
  return column;
}

function valuesOf(t: tf.Tensor): LayerValues {
  const [, height, width, channels] = t.shape;
  return { data: Float32Array.from(t.dataSync()), width, height, channels };
}

export interface SharedPassesInit {
  record: ForwardRecord;
  cache: WeightCache;
  classIndex: number;
  input: InputSpec;
  target: TargetLayer | null;
  camHead: () => CamHead;
  /** Everything the request's methods read; decides which gradients the vanilla pass keeps. */
  needs: ReadonlySet<Need>;
  inputDomain: { min: number; max: number };
  sampled: SampledPasses;
}

export class SharedPasses {
  readonly classIndex: number;
  readonly input: InputSpec;
  readonly layer: string | null;
  private readonly maps = new Map<MethodName, SaliencyMap>();
  private vanillaPass: BackwardPass | null = null;
  private activationValues: LayerValues | null = null;
  private activationGrad: LayerValues | null = null;
  private readonly inputGrads = new Map<'vanilla' | 'guided', LayerValues>();
  private head: CamHeadWeights | null = null;
  private inputValues: LayerValues | null = null;

  constructor(private readonly init: SharedPassesInit) {
    this.classIndex = init.classIndex;
    this.input = init.input;
    this.layer = init.target?.path ?? null;
  }

  private targetLayer(): TargetLayer {
    if (!this.init.target) throw new Error('A method that needs a target layer ran without one.');
    return this.init.target;
  }

  activations(): LayerValues {
    this.activationValues ??= valuesOf(this.init.record.values[this.targetLayer().ref]);
    return this.activationValues;
  }

  private pass(): BackwardPass {
    if (!this.vanillaPass) {
      const { record, classIndex, cache, needs, target } = this.init;
      const keep = [record.graph.inputRef];
      if (target && needs.has('activation-gradient')) keep.push(target.ref);
      this.vanillaPass = new BackwardPass(record, classIndex, 'vanilla', cache, keep);
    }
    return this.vanillaPass;
  }

  activationGradient(): LayerValues {
    if (!this.activationGrad) {
      this.activationGrad = valuesOf(this.pass().runTo(this.targetLayer().ref));
      if (!this.init.needs.has('input-gradient')) this.releaseVanillaPass();
    }
    return this.activationGrad;
  }

  inputGradient(mode: 'vanilla' | 'guided'): LayerValues {
    let g = this.inputGrads.get(mode);
    if (g) return g;
    const { record, classIndex, cache } = this.init;
    const inputRef = record.graph.inputRef;
    if (mode === 'vanilla') {
      // The target's gradient is passed on the way down: read it before the pass goes.
      if (this.init.target && this.init.needs.has('activation-gradient')) this.activationGradient();
      g = valuesOf(this.pass().runTo(inputRef));
      this.releaseVanillaPass();
    } else {
      const pass = new BackwardPass(record, classIndex, 'guided', cache, [inputRef]);
      try {
        g = valuesOf(pass.runTo(inputRef));
      } finally {
        pass.dispose();
      }
    }
    this.inputGrads.set(mode, g);
    return g;
  }

  camHead(): CamHeadWeights {
    if (!this.head) {
      const head = this.init.camHead();
      if (!head.applies) this.head = head;
      else if (head.kind === 'class-conv') this.head = head;
      else this.head = { applies: true, kind: 'dense', classWeights: classColumn(denseKernel(this.init.record.graph, head.denseOp), this.classIndex) };
    }
    return this.head;
  }

  /** Keeps a computed map for the methods that use it. */
  setMap(map: SaliencyMap): void {
    this.maps.set(map.method, map);
  }

  map(name: MethodName): SaliencyMap {
    const m = this.maps.get(name);
    if (!m) throw new Error(`Map '${name}' was read before it was computed; list it in the method's 'uses'.`);
    return m;
  }

  modelInput(): LayerValues {
    this.inputValues ??= valuesOf(this.init.record.values[this.init.record.graph.inputRef]);
    return this.inputValues;
  }

  score(): number {
    const { logits } = this.init.record;
    return logits.dataSync()[this.classIndex];
  }

  /** The view of the shared values one method's compute gets: its own options and progress. */
  contextFor(method: MethodName, options: Readonly<Record<string, unknown>>): MethodContext {
    const { sampled, inputDomain } = this.init;
    return {
      classIndex: this.classIndex,
      input: this.input,
      layer: this.layer,
      inputDomain,
      options,
      activations: () => this.activations(),
      activationGradient: () => this.activationGradient(),
      inputGradient: (mode) => this.inputGradient(mode),
      camHead: () => this.camHead(),
      map: (name) => this.map(name),
      modelInput: () => this.modelInput(),
      score: () => this.score(),
      scores: (count, fill, batchSize) => sampled.scores(method, count, fill, batchSize),
      gradients: (count, fill, mode, batchSize, take) => sampled.gradients(method, count, fill, mode, batchSize, take),
    };
  }

  private releaseVanillaPass(): void {
    this.vanillaPass?.dispose();
    this.vanillaPass = null;
  }

  dispose(): void {
    this.releaseVanillaPass();
  }
}
