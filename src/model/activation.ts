/**
 * What activation a layer applies, as a descriptor independent of where it came from (a
 * layer's `activation`, a ReLU layer, ...): the forward pass splits these off and the
 * backward pass differentiates them, so both read the model through this one description.
 */
import type * as tf from '@tensorflow/tfjs-core';
import type { GraphOp } from './graph';

export type ActivationSpec =
  | { kind: 'linear' }
  | { kind: 'relu'; maxValue?: number; threshold?: number }
  | { kind: 'leaky'; alpha: number | tf.Tensor }
  | { kind: 'sigmoid' }
  | { kind: 'tanh' }
  | { kind: 'softmax'; axis: number }
  /** Anything else: differentiate `fn` with tfjs autodiff (elementwise kernels exist on every backend). */
  | { kind: 'other'; name: string; fn: (z: tf.Tensor) => tf.Tensor };

/** A graph model's fused activation carries its spec (src/model/graph-model.ts). */
type LayerActivation = { getClassName(): string; apply(t: tf.Tensor): tf.Tensor; spec?: ActivationSpec } | null | undefined;

/** Maps a tfjs-layers Activation object to a spec. */
export function activationSpecOf(activation: LayerActivation): ActivationSpec {
  if (!activation) return { kind: 'linear' };
  if (activation.spec) return activation.spec;
  const name = activation.getClassName();
  switch (name) {
    case 'linear': return { kind: 'linear' };
    case 'relu': return { kind: 'relu' };
    case 'relu6': return { kind: 'relu', maxValue: 6 };
    case 'sigmoid': return { kind: 'sigmoid' };
    case 'tanh': return { kind: 'tanh' };
    case 'softmax': return { kind: 'softmax', axis: -1 };
    default: return { kind: 'other', name, fn: (z) => activation.apply(z) };
  }
}

/** The spec of a layer's own `activation` field (linear when it has none). */
export function ownActivationSpec(op: GraphOp): ActivationSpec {
  return activationSpecOf(op.layer.activation as LayerActivation);
}

/** Layers whose linear part has a hand-written gradient; their activation is run separately. */
export const SPLIT_ACTIVATION_CLASSES = new Set([
  'Conv2D', 'DepthwiseConv2D', 'SeparableConv2D', 'Dense', 'tf:_FusedConv2D', 'tf:FusedDepthwiseConv2dNative', 'tf:_FusedMatMul',
]);

/** The activation the forward pass runs apart from the layer's linear part, or null. */
export function splitActivationOf(op: GraphOp): ActivationSpec | null {
  if (!SPLIT_ACTIVATION_CLASSES.has(op.className)) return null;
  const spec = ownActivationSpec(op);
  return spec.kind === 'linear' ? null : spec;
}

type LayerVar = { read(): tf.Tensor };

/** The activation of a standalone activation layer (ReLU, LeakyReLU, Softmax, ...), or null for any other layer. */
export function layerActivationSpec(op: GraphOp): ActivationSpec | null {
  const l = op.layer as Record<string, unknown>;
  // A graph model's standalone activation node (Relu, Relu6, Softmax, ...).
  if (l.standaloneActivation) return l.standaloneActivation as ActivationSpec;
  switch (op.className) {
    case 'Activation':
      return ownActivationSpec(op);
    case 'ReLU': {
      const maxValue = l.maxValue as number | null | undefined;
      return maxValue == null ? { kind: 'relu' } : { kind: 'relu', maxValue };
    }
    case 'LeakyReLU':
      return { kind: 'leaky', alpha: l.alpha as number };
    case 'PReLU':
      return { kind: 'leaky', alpha: (l.alpha as LayerVar).read() };
    case 'ThresholdedReLU':
      return { kind: 'relu', threshold: l.theta as number };
    case 'Softmax':
      return { kind: 'softmax', axis: (l.axis as number | undefined) ?? -1 };
    case 'ELU':
      return { kind: 'other', name: 'elu', fn: (z) => (op.layer.apply(z) as tf.Tensor) };
    default:
      return null;
  }
}
