/**
 * One forward pass that records what every method needs: each value of the flat
 * graph, the pre-activation of layers whose activation we split off (so the score
 * is the logit before a final softmax, and activation gradients can use it), the
 * logits and the class probabilities.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { WhycamError } from '../errors';
import { layerActivationSpec, splitActivationOf } from '../model/activation';
import type { FlatGraph, GraphOp } from '../model/graph';
import type { WeightCache } from '../model/weight-cache';
import { chainWeights, runChain, type FusionPlan } from './fusion';

let linearActivation: unknown;
function linear(): unknown {
  // tfjs-layers does not export activation instances; borrow one from a throwaway layer.
  if (!linearActivation) linearActivation = (tfl.layers.dense({ units: 1 }) as unknown as { activation: unknown }).activation;
  return linearActivation;
}

/** Where the class score comes from. */
export type LogitsSource =
  /** Pre-activation of the final layer (its softmax/sigmoid split off). */
  | { kind: 'pre-activation'; op: number }
  /** Input of a final Activation/Softmax layer. */
  | { kind: 'activation-input'; op: number }
  /** The model output itself (it has no final softmax). */
  | { kind: 'output' };

export interface ForwardRecord {
  graph: FlatGraph;
  /** Fused conv chains: their inner values are never materialised. */
  plan: FusionPlan;
  /** Concrete value of every ref of the graph. */
  values: tf.Tensor[];
  /** Pre-activation values of ops whose activation was split off. */
  preActivations: Map<number, tf.Tensor>;
  logits: tf.Tensor2D;
  logitsSource: LogitsSource;
  probabilities: tf.Tensor2D;
  dispose(): void;
}

function callLayer(op: GraphOp, inputs: tf.Tensor[]): tf.Tensor[] {
  const out = op.layer.apply(inputs.length === 1 ? inputs[0] : inputs, { training: false });
  return Array.isArray(out) ? (out as tf.Tensor[]) : [out as tf.Tensor];
}

function runOp(op: GraphOp, inputs: tf.Tensor[]): { outputs: tf.Tensor[]; z?: tf.Tensor } {
  const split = splitActivationOf(op);
  if (!split) return { outputs: callLayer(op, inputs) };
  const layer = op.layer as { activation: unknown } & GraphOp['layer'];
  const act = layer.activation as { apply(t: tf.Tensor): tf.Tensor };
  layer.activation = linear();
  let z: tf.Tensor;
  try {
    z = callLayer(op, inputs)[0];
  } finally {
    layer.activation = act;
  }
  return { outputs: [act.apply(z)], z };
}

/** Every row in [0, 1] and summing to 1: the output is already a softmax. */
function looksLikeDistribution(p: tf.Tensor2D): boolean {
  const v = p.dataSync();
  const [rows, cols] = p.shape;
  for (let r = 0; r < rows; r++) {
    let sum = 0;
    for (let c = 0; c < cols; c++) {
      const x = v[r * cols + c];
      if (!(x >= 0 && x <= 1)) return false;
      sum += x;
    }
    if (Math.abs(sum - 1) >= 1e-3) return false;
  }
  return true;
}

/** For each ref, the index of the last op that reads it (-1 when none does). */
function lastUses(graph: FlatGraph, plan: FusionPlan): Int32Array {
  const last = new Int32Array(graph.shapes.length).fill(-1);
  for (const op of graph.ops) {
    if (plan.inner.has(op.index)) continue;
    const chain = plan.byHead.get(op.index);
    for (const r of chain ? [chain.input] : op.inputs) last[r] = Math.max(last[r], op.index);
  }
  return last;
}

export interface ForwardOptions {
  /**
   * Free each value once the last op that reads it has run: the record then holds only the
   * logits and probabilities (for forward-only scoring of many inputs, in a fraction of the memory).
   */
  scoresOnly?: boolean;
}

export function runForward(graph: FlatGraph, input: tf.Tensor4D, plan: FusionPlan, cache: WeightCache, options: ForwardOptions = {}): ForwardRecord {
  const values: tf.Tensor[] = new Array(graph.shapes.length);
  const preActivations = new Map<number, tf.Tensor>();
  const owned = new Set<tf.Tensor>();
  const dispose = () => {
    for (const t of owned) t.dispose();
    owned.clear();
  };
  const finalIndex = graph.producer[graph.outputRef];
  const last = options.scoresOnly ? lastUses(graph, plan) : null;
  const protectedRefs = new Set([graph.outputRef, ...(graph.ops[finalIndex]?.inputs ?? [])]);
  const releaseAfter = (index: number) => {
    if (!last) return;
    for (let r = 0; r < last.length; r++) {
      if (last[r] === index && !protectedRefs.has(r) && values[r]) {
        values[r].dispose();
        owned.delete(values[r]);
      }
    }
  };
  try {
    values[graph.inputRef] = tf.clone(input);
    owned.add(values[graph.inputRef]);
    for (const op of graph.ops) {
      if (plan.inner.has(op.index)) continue;
      const chain = plan.byHead.get(op.index);
      if (chain) {
        const y = tf.tidy(() => runChain(chain, values[chain.input] as tf.Tensor4D, chainWeights(chain, cache)));
        values[chain.output] = y;
        owned.add(y);
        releaseAfter(op.index);
        continue;
      }
      const ins = op.inputs.map((r) => values[r]);
      let result: { outputs: tf.Tensor[]; z?: tf.Tensor };
      try {
        result = tf.tidy(() => {
          const r = runOp(op, ins);
          return { outputs: r.outputs, z: r.z };
        }) as { outputs: tf.Tensor[]; z?: tf.Tensor };
      } catch (e) {
        throw new WhycamError('UNSUPPORTED_LAYER', `Layer '${op.path}' (${op.className}) failed in the forward pass: ${(e as Error).message}`, { cause: e });
      }
      result.outputs.forEach((t, i) => { values[op.outputs[i]] = t; owned.add(t); });
      if (result.z && last && op.index !== finalIndex) result.z.dispose();
      else if (result.z) { preActivations.set(op.index, result.z); owned.add(result.z); }
      releaseAfter(op.index);
    }

    const finalOp = graph.ops[graph.producer[graph.outputRef]];
    const output = values[graph.outputRef];
    if (output.rank !== 2) {
      throw new WhycamError('UNSUPPORTED_MODEL', `The model output has shape [${output.shape}]; whycam needs a classifier with output [batch, classes].`);
    }
    let logits: tf.Tensor2D;
    let logitsSource: LogitsSource;
    const finalSplit = finalOp ? splitActivationOf(finalOp) : null;
    // A final softmax or sigmoid of its own (a layer, an Activation, a graph's Softmax or Sigmoid node).
    const finalActLayer = finalOp && ['softmax', 'sigmoid'].includes(layerActivationSpec(finalOp)?.kind ?? '');
    if (finalSplit && (finalSplit.kind === 'softmax' || finalSplit.kind === 'sigmoid')) {
      logits = preActivations.get(finalOp.index) as tf.Tensor2D;
      logitsSource = { kind: 'pre-activation', op: finalOp.index };
    } else if (finalActLayer) {
      logits = values[finalOp.inputs[0]] as tf.Tensor2D;
      logitsSource = { kind: 'activation-input', op: finalOp.index };
    } else {
      logits = output as tf.Tensor2D;
      logitsSource = { kind: 'output' };
    }
    let probabilities: tf.Tensor2D;
    if (logitsSource.kind !== 'output' || looksLikeDistribution(output as tf.Tensor2D)) {
      probabilities = output as tf.Tensor2D;
    } else {
      probabilities = tf.softmax(output as tf.Tensor2D);
      owned.add(probabilities);
    }
    return { graph, plan, values, preActivations, logits, logitsSource, probabilities, dispose };
  } catch (e) {
    dispose();
    throw e;
  }
}
