/**
 * Input gradients (vector-Jacobian products) of single layers, written out per layer
 * class so that explaining never computes a weight gradient and never needs a backward
 * kernel the backend lacks. A layer class without a rule here falls back to tfjs
 * autodiff through the layer itself.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { GraphOp } from '../model/graph';
import { WhycamError } from '../errors';
import { layerActivationSpec, splitActivationOf } from '../model/activation';
import { convGeometry } from '../model/conv-geometry';
import { weightKey, type WeightCache } from '../model/weight-cache';
import { activationGrad, type GradMode } from './activation-grad';
import { graphOpInputGrads, isGraphNodeOp } from './graph-op-grads';
import { conv2dBackwardFilter, conv2dInputGrad, depthwiseBackwardFilter, depthwiseInputGrad } from './conv-input-grad';

export interface OpGradContext {
  op: GraphOp;
  inputs: tf.Tensor[];
  outputs: tf.Tensor[];
  /** Pre-activation, for layers whose activation the forward pass split off. */
  z?: tf.Tensor;
  /** The op's activation is the final softmax: the incoming gradient is already w.r.t. z. */
  skipActivation: boolean;
  mode: GradMode;
  cache: WeightCache;
}

type LayerVar = { read(): tf.Tensor };
/** A separable conv's pointwise half: 1x1, stride 1. */
const POINTWISE = { strides: [1, 1] as [number, number], dilations: [1, 1] as [number, number], pad: 'valid' as const };
const weight = (op: GraphOp, field: string): tf.Tensor => (op.layer[field] as LayerVar).read();

/** Gradient w.r.t. the input of the linear part (conv/dense without activation), or null if no rule. */
function linearPartGrad(ctx: OpGradContext, dz: tf.Tensor): tf.Tensor | null {
  const { op, inputs, cache } = ctx;
  const x = inputs[0];
  switch (op.className) {
    case 'Conv2D': {
      const g = convGeometry(op);
      if (!g || x.rank !== 4) return null;
      const k = weight(op, 'kernel') as tf.Tensor4D;
      const back = cache.get(weightKey(op, 'conv-back'), () => conv2dBackwardFilter(k, g)) as tf.Tensor4D;
      return conv2dInputGrad(x.shape, dz as tf.Tensor4D, k.shape, back, g);
    }
    case 'DepthwiseConv2D': {
      const g = convGeometry(op);
      if (!g || x.rank !== 4) return null;
      const k = weight(op, 'depthwiseKernel') as tf.Tensor4D;
      const back = cache.get(weightKey(op, 'dw-back'), () => depthwiseBackwardFilter(k)) as tf.Tensor4D;
      return depthwiseInputGrad(x.shape, dz as tf.Tensor4D, k.shape, back, g);
    }
    case 'SeparableConv2D': {
      const g = convGeometry(op);
      if (!g || x.rank !== 4) return null;
      const dk = weight(op, 'depthwiseKernel') as tf.Tensor4D;
      const pk = weight(op, 'pointwiseKernel') as tf.Tensor4D;
      const pBack = cache.get(weightKey(op, 'pw-back'), () => conv2dBackwardFilter(pk, POINTWISE)) as tf.Tensor4D;
      const dBack = cache.get(weightKey(op, 'dw-back'), () => depthwiseBackwardFilter(dk)) as tf.Tensor4D;
      return tf.tidy(() => {
        const dMid = tf.conv2d(dz as tf.Tensor4D, pBack, 1, 'valid');
        return depthwiseInputGrad(x.shape, dMid, dk.shape, dBack, g);
      });
    }
    case 'Dense': {
      const k = weight(op, 'kernel') as tf.Tensor2D;
      // The kernel transposed once per model: wasm's MatMul would transpose it on every call,
      // which costs more than the product itself.
      const kT = cache.get(weightKey(op, 'dense-t'), () => tf.transpose(k)) as tf.Tensor2D;
      return tf.tidy(() => {
        const units = k.shape[1];
        const flat = tf.reshape(dz, [-1, units]) as tf.Tensor2D;
        return tf.reshape(tf.matMul(flat, kT), x.shape);
      });
    }
    default:
      return null;
  }
}

const IDENTITY = new Set(['Dropout', 'SpatialDropout1D', 'SpatialDropout2D', 'GaussianNoise', 'GaussianDropout', 'AlphaDropout', 'ActivityRegularization']);

/** Rules for layers without weights in the linear sense: pooling, merges, reshapes, normalisation. */
function structuralGrad(ctx: OpGradContext, dy: tf.Tensor): Array<tf.Tensor | null> | null {
  const { op, inputs, outputs, cache } = ctx;
  const x = inputs[0];
  const l = op.layer as Record<string, unknown>;
  if (IDENTITY.has(op.className)) return [tf.clone(dy)];
  switch (op.className) {
    case 'BatchNormalization': {
      const axis = l.axis as number;
      if (axis !== -1 && axis !== x.rank - 1) return null;
      // Inference mode: y = (x - mean) * gamma / sqrt(var + eps) + beta, so dx = dy * gamma / sqrt(var + eps).
      const scale = cache.get(weightKey(op, 'bn-scale'), () => {
        const inv = tf.rsqrt(tf.add(weight(op, 'movingVariance'), l.epsilon as number));
        return l.scale ? tf.mul(inv, weight(op, 'gamma')) : inv;
      });
      return [tf.mul(dy, scale)];
    }
    case 'MaxPooling2D':
    case 'AveragePooling2D': {
      if (l.dataFormat !== 'channelsLast') return null;
      const attrs = { filterSize: l.poolSize as [number, number], strides: l.strides as [number, number], pad: l.padding as 'same' | 'valid' };
      if (op.className === 'MaxPooling2D') {
        return [tf.engine().runKernel('MaxPoolGrad', { dy, input: x, output: outputs[0] }, attrs as unknown as tf.NamedAttrMap) as tf.Tensor];
      }
      return [tf.engine().runKernel('AvgPoolGrad', { dy, input: x }, attrs as unknown as tf.NamedAttrMap) as tf.Tensor];
    }
    case 'GlobalAveragePooling2D': {
      if (l.dataFormat !== 'channelsLast') return null;
      const [n, h, w, c] = x.shape;
      return [tf.tidy(() => tf.mul(tf.ones([1, h, w, 1]), tf.reshape(tf.div(dy, h * w), [n, 1, 1, c])))];
    }
    case 'GlobalMaxPooling2D': {
      if (l.dataFormat !== 'channelsLast') return null;
      const [n, , , c] = x.shape;
      // Like tfjs's Max gradient: every position equal to the maximum receives the gradient.
      return [tf.tidy(() => {
        const y4 = tf.reshape(outputs[0], [n, 1, 1, c]);
        return tf.mul(tf.cast(tf.equal(x, y4), 'float32'), tf.reshape(dy, [n, 1, 1, c]));
      })];
    }
    case 'Add':
      return inputs.map(() => tf.clone(dy));
    case 'Subtract':
      return [tf.clone(dy), tf.neg(dy)];
    case 'Average':
      return inputs.map(() => tf.div(dy, inputs.length));
    case 'Multiply':
      return inputs.map((_, i) => tf.tidy(() => inputs.reduce((acc, t, j) => (j === i ? acc : tf.mul(acc, t)), dy)));
    case 'Concatenate': {
      const axis = (l.axis as number) < 0 ? dy.rank + (l.axis as number) : (l.axis as number);
      return tf.split(dy, inputs.map((t) => t.shape[axis]), axis);
    }
    case 'ZeroPadding2D': {
      if (l.dataFormat !== 'channelsLast') return null;
      const [[top], [left]] = l.padding as [[number, number], [number, number]];
      return [tf.slice(dy, [0, top, left, 0], x.shape)];
    }
    case 'Cropping2D': {
      if (l.dataFormat !== 'channelsLast') return null;
      const [[t, b], [le, r]] = l.cropping as [[number, number], [number, number]];
      return [tf.pad(dy, [[0, 0], [t, b], [le, r], [0, 0]])];
    }
    case 'Flatten':
    case 'Reshape':
      return [tf.reshape(dy, x.shape)];
    case 'Permute': {
      const dims = [0, ...(l.dims as number[])];
      const inverse = dims.map((_, i) => dims.indexOf(i));
      return [tf.transpose(dy, inverse)];
    }
    case 'Rescaling':
      return [tf.mul(dy, l.scale as number)];
    default:
      return null;
  }
}

/** Last resort: tfjs autodiff through the layer's own call. */
function autodiffGrad(ctx: OpGradContext, dy: tf.Tensor): tf.Tensor[] {
  const { op, inputs } = ctx;
  try {
    const f = (...xs: tf.Tensor[]) => op.layer.apply(xs.length === 1 ? xs[0] : xs, { training: false }) as tf.Tensor;
    return tf.grads(f)(inputs, dy);
  } catch (e) {
    throw new WhycamError(
      'UNSUPPORTED_LAYER',
      `Layer '${op.path}' (${op.className}) has no gradient on the ${tf.getBackend()} backend: ${(e as Error).message}`,
      { cause: e },
    );
  }
}

/** Gradients w.r.t. each input of `op` given the gradient of its (single) output. */
export function opInputGrads(ctx: OpGradContext, dy: tf.Tensor): Array<tf.Tensor | null> {
  return tf.tidy((): tf.TensorContainer => {
    const split = splitActivationOf(ctx.op);
    if (isGraphNodeOp(ctx.op) && !layerActivationSpec(ctx.op)) {
      const dz = split && !ctx.skipActivation ? activationGrad(split, ctx.z as tf.Tensor, ctx.outputs[0], dy, ctx.mode) : dy;
      return graphOpInputGrads(ctx.op, ctx.inputs, ctx.outputs[0], dz, ctx.cache) as tf.TensorContainer;
    }
    if (split) {
      const dz = ctx.skipActivation ? dy : activationGrad(split, ctx.z as tf.Tensor, ctx.outputs[0], dy, ctx.mode);
      const dx = linearPartGrad(ctx, dz);
      if (dx) return [dx];
      // No linear rule (e.g. channels-first): differentiate the whole layer instead.
      return autodiffGrad(ctx, dy);
    }
    const linearDx = linearPartGrad(ctx, dy);
    if (linearDx) return [linearDx];
    const actSpec = layerActivationSpec(ctx.op);
    if (actSpec) {
      if (ctx.skipActivation) return [tf.clone(dy)];
      return [activationGrad(actSpec, ctx.inputs[0], ctx.outputs[0], dy, ctx.mode)];
    }
    const structural = structuralGrad(ctx, dy);
    if (structural) return structural as tf.TensorContainer;
    return autodiffGrad(ctx, dy);
  }) as Array<tf.Tensor | null>;
}
