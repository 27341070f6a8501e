/**
 * Backward rules for the TensorFlow ops of a graph model (src/model/graph-model.ts): the
 * gradient w.r.t. each of the op's graph inputs (its constants get none), written out per op
 * like the layer rules, so no op depends on tfjs autodiff or on a backward kernel the backend
 * lacks. A fused op's activation is handled by the caller (split off like a layer's); these
 * rules see the gradient w.r.t. its pre-activation.
 */
import * as tf from '@tensorflow/tfjs-core';
import { WhycamError } from '../errors';
import {
  batchNormEpsilon, convAttrs, decodeString, fusedOps, matMulTransposes, meanKeepDims, poolAttrs, SHAPE_OPS, type GraphNodeLayer,
} from '../model/graph-model';
import type { GraphOp } from '../model/graph';
import { weightKey, type WeightCache } from '../model/weight-cache';
import { conv2dBackwardFilter, conv2dInputGrad, depthwiseBackwardFilter, depthwiseInputGrad } from './conv-input-grad';

export const isGraphNodeOp = (op: GraphOp): boolean => op.className.startsWith('tf:');

/** `g` summed down to `shape` (undoing broadcasting); always a tensor of its own (the caller frees `g`). */
function sumToShape(g: tf.Tensor, shape: number[]): tf.Tensor {
  if (g.rank === shape.length && g.shape.every((d, i) => d === shape[i])) return tf.clone(g);
  let out = g;
  const lead = out.rank - shape.length;
  if (lead > 0) out = tf.sum(out, Array.from({ length: lead }, (_, i) => i));
  const axes = shape.map((d, i) => (d === 1 && out.shape[i] !== 1 ? i : -1)).filter((i) => i >= 0);
  if (axes.length) out = tf.sum(out, axes, true);
  return out.rank === shape.length && out.shape.every((d, i) => d === shape[i]) ? out : tf.reshape(out, shape);
}

const ints = (t: tf.Tensor): number[] => Array.from(t.dataSync()).map(Number);

/** The scale a folded batch norm multiplies by: scale / sqrt(variance + epsilon). */
function bnScale(layer: GraphNodeLayer, scale: tf.Tensor, variance: tf.Tensor): tf.Tensor {
  return tf.mul(scale, tf.rsqrt(tf.add(variance, batchNormEpsilon(layer.node))));
}

/**
 * Gradients w.r.t. the op's graph inputs given dy (w.r.t. its pre-activation for fused ops).
 * `inputs` are the op's graph input values, `output` its recorded output.
 */
export function graphOpInputGrads(op: GraphOp, inputs: tf.Tensor[], output: tf.Tensor, dy: tf.Tensor, cache: WeightCache): Array<tf.Tensor | null> {
  const layer = op.layer as unknown as GraphNodeLayer;
  const n = layer.node;
  const xs = layer.argValues(inputs);
  /** Per argument position, its gradient; returned in the order of the op's graph inputs. */
  const byArg = (grads: Array<tf.Tensor | null>): Array<tf.Tensor | null> => {
    const out: Array<tf.Tensor | null> = inputs.map(() => null);
    layer.args.forEach((a, i) => {
      if ('ref' in a && grads[i]) out[a.ref] = out[a.ref] ? tf.add(out[a.ref] as tf.Tensor, grads[i] as tf.Tensor) : grads[i];
    });
    return out;
  };
  // A constant argument (a kernel, a bias, a scale) needs no gradient: skip computing it.
  const forArg = (i: number, grad: () => tf.Tensor): tf.Tensor | null => ('ref' in layer.args[i] ? grad() : null);
  const x = xs[0];
  switch (n.op) {
    case 'Conv2D':
    case '_FusedConv2D':
    case 'DepthwiseConv2dNative':
    case 'FusedDepthwiseConv2dNative': {
      let dz = dy;
      if (fusedOps(n)[0] === 'FusedBatchNorm') dz = tf.mul(dy, bnScale(layer, xs[2], xs[5]));
      const g = convAttrs(n);
      const k = xs[1] as tf.Tensor4D;
      const depthwise = n.op.includes('Depthwise');
      const back = cache.get(weightKey(op, depthwise ? 'dw-back' : 'conv-back'), () => (depthwise ? depthwiseBackwardFilter(k) : conv2dBackwardFilter(k, g))) as tf.Tensor4D;
      const dx = depthwise
        ? depthwiseInputGrad(x.shape as [number, number, number, number], dz as tf.Tensor4D, k.shape, back, g)
        : conv2dInputGrad(x.shape as [number, number, number, number], dz as tf.Tensor4D, k.shape, back, g);
      return byArg([dx]);
    }
    case 'MatMul':
    case '_FusedMatMul': {
      const [ta, tb] = matMulTransposes(n);
      const [a, b] = [xs[0] as tf.Tensor2D, xs[1] as tf.Tensor2D];
      const g = dy as tf.Tensor2D;
      // C = op(A) op(B): dA = dC op(B)^T (transposed back when A was), dB likewise.
      const da = forArg(0, () => (ta ? tf.matMul(b, g, tb, true) : tf.matMul(g, b, false, !tb)));
      const db = forArg(1, () => (tb ? tf.matMul(g, a, true, ta) : tf.matMul(a, g, !ta, false)));
      return byArg([da, db]);
    }
    case 'BiasAdd':
    case 'Add':
    case 'AddV2':
      return byArg([forArg(0, () => sumToShape(dy, xs[0].shape)), forArg(1, () => sumToShape(dy, xs[1].shape))]);
    case 'AddN':
      return byArg(xs.map(() => tf.clone(dy)));
    case 'Sub':
      return byArg([forArg(0, () => sumToShape(dy, xs[0].shape)), forArg(1, () => sumToShape(tf.neg(dy), xs[1].shape))]);
    case 'Mul':
      return byArg([forArg(0, () => sumToShape(tf.mul(dy, xs[1]), xs[0].shape)), forArg(1, () => sumToShape(tf.mul(dy, xs[0]), xs[1].shape))]);
    case 'RealDiv':
      return byArg([
        forArg(0, () => sumToShape(tf.div(dy, xs[1]), xs[0].shape)),
        forArg(1, () => sumToShape(tf.neg(tf.div(tf.mul(dy, xs[0]), tf.square(xs[1]))), xs[1].shape)),
      ]);
    case 'Maximum':
    case 'Minimum': {
      // Like TensorFlow's: the gradient goes to the first input where it wins or ties.
      const first = n.op === 'Maximum' ? tf.greaterEqual(xs[0], xs[1]) : tf.lessEqual(xs[0], xs[1]);
      const mask = tf.cast(first, 'float32');
      return byArg([forArg(0, () => sumToShape(tf.mul(dy, mask), xs[0].shape)), forArg(1, () => sumToShape(tf.mul(dy, tf.sub(1, mask)), xs[1].shape))]);
    }
    case 'MaxPool': {
      const p = poolAttrs(n);
      return byArg([tf.engine().runKernel('MaxPoolGrad', { dy, input: x, output }, { filterSize: p.filterSize, strides: p.strides, pad: p.pad } as unknown as tf.NamedAttrMap) as tf.Tensor]);
    }
    case 'AvgPool': {
      const p = poolAttrs(n);
      return byArg([tf.engine().runKernel('AvgPoolGrad', { dy, input: x }, { filterSize: p.filterSize, strides: p.strides, pad: p.pad } as unknown as tf.NamedAttrMap) as tf.Tensor]);
    }
    case 'Mean': {
      const axes = ints(xs[1]).map((a) => (a < 0 ? a + x.rank : a));
      const count = axes.reduce((c, a) => c * x.shape[a], 1);
      const kept = meanKeepDims(n) ? dy : tf.reshape(dy, x.shape.map((d, i) => (axes.includes(i) ? 1 : d)));
      return byArg([tf.mul(tf.ones(x.shape), tf.div(kept, count))]);
    }
    case 'Pad':
    case 'PadV2': {
      const p = ints(xs[1]);
      return byArg([tf.slice(dy, x.shape.map((_, i) => p[2 * i]), x.shape)]);
    }
    case 'MirrorPad': {
      // Each padded border copies values of the input: its gradient folds back onto them (tfjs 4.22's
      // own MirrorPad gradient only slices the centre out, dropping the borders' share).
      const p = ints(xs[1]);
      const off = n.attr?.mode?.s && decodeString(n.attr.mode.s) === 'SYMMETRIC' ? 0 : 1;
      let g = dy;
      for (let axis = 0; axis < x.rank; axis++) {
        const [l, r] = [p[2 * axis], p[2 * axis + 1]];
        if (l === 0 && r === 0) continue;
        const size = x.shape[axis];
        const part = (start: number, length: number) => tf.slice(g, g.shape.map((_, i) => (i === axis ? start : 0)), g.shape.map((d, i) => (i === axis ? length : d)));
        const along = (before: number, after: number): Array<[number, number]> => g.shape.map((_, i) => (i === axis ? [before, after] : [0, 0]));
        let folded = part(l, size);
        // The left border, reversed, lands on input positions off .. off + l - 1; the right one ends at size - 1 - off.
        if (l > 0) folded = tf.add(folded, tf.pad(tf.reverse(part(0, l), axis), along(off, size - off - l)));
        if (r > 0) folded = tf.add(folded, tf.pad(tf.reverse(part(l + size, r), axis), along(size - off - r, off)));
        g = folded;
      }
      return byArg([g]);
    }
    case 'ConcatV2': {
      const parts = xs.slice(0, -1);
      let axis = ints(xs[xs.length - 1])[0];
      if (axis < 0) axis += dy.rank;
      return byArg([...tf.split(dy, parts.map((t) => t.shape[axis]), axis), null]);
    }
    case 'Reshape':
    case 'Squeeze':
    case 'ExpandDims':
    case 'Identity':
      return byArg([tf.reshape(dy, x.shape)]);
    case 'Cast':
      return byArg([x.dtype === 'float32' ? tf.clone(dy) : null]);
    case 'FusedBatchNorm':
    case 'FusedBatchNormV3':
      return byArg([tf.mul(dy, bnScale(layer, xs[1], xs[4]))]);
    default:
      if (SHAPE_OPS.has(n.op)) return inputs.map(() => null);
      throw new WhycamError('UNSUPPORTED_LAYER', `Node '${op.path}' (${n.op}) has no backward rule.`);
  }
}
