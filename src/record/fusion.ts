/**
 * Conv -> BatchNorm -> ReLU-family chains run as one fused convolution: batch norm
 * (inference) is folded into the filter and bias, the activation into the kernel. The
 * forward pass then records only the chain's output; the backward pass needs nothing
 * else, because a ReLU unit's mask can be read from its output (y > 0 iff z > 0, and
 * 0 < y < 6 iff 0 < z < 6), and the folded filter gives the input gradient of conv and
 * batch norm in one correlation. A ZeroPadding2D in front of a 'valid' conv becomes the
 * conv's explicit padding (its backward would be a slow strided Slice). On MobileNetV2
 * this removes every batch-norm and padding pass in both directions.
 */
import * as tf from '@tensorflow/tfjs-core';
import { ownActivationSpec } from '../model/activation';
import { convGeometry, type ConvGeometry, type ExplicitPadding } from '../model/conv-geometry';
import type { FlatGraph, GraphOp } from '../model/graph';
import { weightKey, type WeightCache } from '../model/weight-cache';

export type FusedActivation = { kind: 'linear' } | { kind: 'relu' } | { kind: 'relu6' } | { kind: 'leakyrelu'; alpha: number };

export interface FusedChain {
  /** A ZeroPadding2D before a 'valid' conv, folded into the conv's explicit padding. */
  pad: GraphOp | null;
  conv: GraphOp;
  padding: 'same' | 'valid' | ExplicitPadding;
  bn: GraphOp | null;
  /** A separate activation layer folded in (null when the conv's own activation is used). */
  act: GraphOp | null;
  activation: FusedActivation;
  /** Op indices in the chain, first op first. */
  members: number[];
  /** Ref the chain reads and ref it produces. */
  input: number;
  output: number;
}

export interface FusionPlan {
  /** Chains by the index of their last op. */
  byTail: Map<number, FusedChain>;
  /** Chains by the index of their first op. */
  byHead: Map<number, FusedChain>;
  /** Ops inside a chain other than its head (their outputs are never materialised). */
  inner: Set<number>;
}

const CONVS = new Set(['Conv2D', 'DepthwiseConv2D']);

function convGeometryOk(op: GraphOp): boolean {
  return convGeometry(op) !== null && op.inputs.length === 1;
}

function ownActivation(op: GraphOp): FusedActivation | null {
  const spec = ownActivationSpec(op);
  if (spec.kind === 'linear') return { kind: 'linear' };
  if (spec.kind === 'relu' && spec.maxValue === undefined && spec.threshold === undefined) return { kind: 'relu' };
  if (spec.kind === 'relu' && spec.maxValue === 6 && spec.threshold === undefined) return { kind: 'relu6' };
  return null;
}

function layerActivation(op: GraphOp): FusedActivation | null {
  const l = op.layer as Record<string, unknown>;
  if (op.className === 'ReLU') {
    if (l.maxValue == null) return { kind: 'relu' };
    if (l.maxValue === 6) return { kind: 'relu6' };
    return null;
  }
  if (op.className === 'LeakyReLU' && typeof l.alpha === 'number' && l.alpha > 0) return { kind: 'leakyrelu', alpha: l.alpha };
  if (op.className === 'Activation') {
    const a = ownActivation(op);
    return a && a.kind !== 'linear' ? a : null;
  }
  return null;
}

/** The single consumer of `ref`, if it has exactly one and `ref` need not be kept. */
function soleConsumer(graph: FlatGraph, ref: number, keep: Set<number>): GraphOp | null {
  if (keep.has(ref) || ref === graph.outputRef) return null;
  const c = graph.consumers[ref];
  return c.length === 1 ? graph.ops[c[0]] : null;
}

/** Plans the chains; refs in `keep` (the target layer) stay materialised. */
export function planFusion(graph: FlatGraph, keep: number[]): FusionPlan {
  const keepSet = new Set(keep);
  const plan: FusionPlan = { byTail: new Map(), byHead: new Map(), inner: new Set() };
  for (const conv of graph.ops) {
    if (!CONVS.has(conv.className) || !convGeometryOk(conv) || plan.inner.has(conv.index)) continue;
    let activation = ownActivation(conv);
    if (!activation) continue;
    let bn: GraphOp | null = null;
    let act: GraphOp | null = null;
    let tail = conv;
    if (activation.kind === 'linear') {
      const next = soleConsumer(graph, conv.outputs[0], keepSet);
      if (next && next.className === 'BatchNormalization') {
        const axis = (next.layer as Record<string, unknown>).axis as number;
        if (axis === -1 || axis === 3) { bn = next; tail = next; }
      }
      const after = soleConsumer(graph, tail.outputs[0], keepSet);
      const a = after ? layerActivation(after) : null;
      if (after && a) { act = after; activation = a; tail = after; }
    }
    const l = conv.layer as Record<string, unknown>;
    let padding: FusedChain['padding'] = l.padding as 'same' | 'valid';
    let pad: GraphOp | null = null;
    const before = graph.ops[graph.producer[conv.inputs[0]]];
    if (padding === 'valid' && before && before.className === 'ZeroPadding2D' && soleConsumer(graph, before.outputs[0], keepSet) === conv &&
      (before.layer as Record<string, unknown>).dataFormat === 'channelsLast') {
      const [[t, b], [le, r]] = (before.layer as Record<string, unknown>).padding as [[number, number], [number, number]];
      pad = before;
      padding = [[0, 0], [t, b], [le, r], [0, 0]];
    }
    if (!pad && !bn && !act && activation.kind === 'linear') continue;
    const members = [...(pad ? [pad.index] : []), conv.index, ...(bn ? [bn.index] : []), ...(act ? [act.index] : [])];
    const chain: FusedChain = { pad, conv, padding, bn, act, activation, members, input: (pad ?? conv).inputs[0], output: tail.outputs[0] };
    plan.byTail.set(tail.index, chain);
    plan.byHead.set(members[0], chain);
    for (const m of members.slice(1)) plan.inner.add(m);
  }
  return plan;
}

type LayerVar = { read(): tf.Tensor };
const w = (op: GraphOp, field: string) => (op.layer[field] as LayerVar).read();

/** Folded filter and bias: W' = W * s, b' = (b - mean) * s + beta, s = gamma / sqrt(var + eps). */
export function foldedWeights(chain: FusedChain): { filter: tf.Tensor4D; bias: tf.Tensor1D | null } {
  return tf.tidy((): tf.TensorContainer => {
    const { conv, bn } = chain;
    const depthwise = conv.className === 'DepthwiseConv2D';
    const kernel = w(conv, depthwise ? 'depthwiseKernel' : 'kernel') as tf.Tensor4D;
    const l = conv.layer as Record<string, unknown>;
    const bias = l.useBias ? (w(conv, 'bias') as tf.Tensor1D) : null;
    if (!bn) return { filter: tf.clone(kernel), bias: bias ? tf.clone(bias) : null } as unknown as tf.TensorContainer;
    const b = bn.layer as Record<string, unknown>;
    let scale = tf.rsqrt(tf.add(w(bn, 'movingVariance'), b.epsilon as number)) as tf.Tensor1D;
    if (b.scale) scale = tf.mul(scale, w(bn, 'gamma'));
    const [, , c, m] = kernel.shape;
    // Output channel o of a depthwise conv is c*M + m: lay the scale out as [C, M].
    const filter = depthwise
      ? tf.mul(kernel, tf.reshape(scale, [1, 1, c, m]))
      : tf.mul(kernel, tf.reshape(scale, [1, 1, 1, m]));
    let folded: tf.Tensor1D = tf.mul(tf.neg(w(bn, 'movingMean')), scale);
    if (bias) folded = tf.add(folded, tf.mul(bias, scale));
    if (b.center) folded = tf.add(folded, w(bn, 'beta'));
    return { filter: filter as tf.Tensor4D, bias: folded };
  }) as { filter: tf.Tensor4D; bias: tf.Tensor1D | null };
}

/** The chain's conv geometry, with a folded ZeroPadding2D as explicit padding. Chains are planned only for convs that have one. */
export function chainGeometry(chain: FusedChain): ConvGeometry {
  return { ...(convGeometry(chain.conv) as ConvGeometry), pad: chain.padding };
}

/** What the chain's folded weights are called in the weight cache. */
export function chainWeightsKey(chain: FusedChain): string {
  return `fold${chain.bn ? '+bn' : ''}`;
}

/** Folded filter and bias of a chain, built once per model and kept in the cache. */
export function chainWeights(chain: FusedChain, cache: WeightCache): { filter: tf.Tensor4D; bias: tf.Tensor1D | null } {
  const key = weightKey(chain.conv, chainWeightsKey(chain));
  const filter = cache.get(`${key}:filter`, () => foldedWeights(chain).filter) as tf.Tensor4D;
  const hasBias = chain.bn !== null || Boolean((chain.conv.layer as Record<string, unknown>).useBias);
  const bias = hasBias ? (cache.get(`${key}:bias`, () => foldedWeights(chain).bias as tf.Tensor1D) as tf.Tensor1D) : null;
  return { filter, bias };
}

/** Runs a chain forward with its folded weights. */
export function runChain(chain: FusedChain, x: tf.Tensor4D, folded: { filter: tf.Tensor4D; bias: tf.Tensor1D | null }): tf.Tensor4D {
  const g = chainGeometry(chain);
  const a = chain.activation;
  const common = {
    x,
    filter: folded.filter,
    strides: g.strides,
    // fused.depthwiseConv2d's type omits explicit padding, but its kernels take it (computeConv2DInfo).
    pad: g.pad as 'same',
    dilations: g.dilations,
    bias: folded.bias ?? undefined,
    activation: a.kind,
    leakyreluAlpha: a.kind === 'leakyrelu' ? a.alpha : undefined,
  };
  return chain.conv.className === 'DepthwiseConv2D' ? tf.fused.depthwiseConv2d(common) : tf.fused.conv2d(common);
}
