/** The graph models the tests write: between them, every op whycam runs in a graph model. */
import { attr, GraphBuilder, seeded } from './graph-models';

const conv = (pad = 'SAME', stride = 1) => ({ strides: attr.ints([1, stride, stride, 1]), padding: attr.str(pad), data_format: attr.str('NHWC'), dilations: attr.ints([1, 1, 1, 1]) });
const fused = (ops: string[], pad = 'SAME', stride = 1) => ({ ...conv(pad, stride), fused_ops: attr.strs(ops), num_args: attr.int(1), epsilon: attr.float(0) });

/**
 * 12x12x3 -> scale/shift -> fused conv (Relu6) -> fused depthwise (Relu, stride 2) -> conv, BiasAdd,
 * FusedBatchNormV3, LeakyRelu -> swish, hard-swish, tanh, AddN, RealDiv, Maximum/Minimum, Elu,
 * Sigmoid, ConcatV2 -> Pad, MaxPool -> MirrorPad -> fused conv (Relu, the target 7x7x12) ->
 * Mean over H, W -> MatMul, BiasAdd -> Softmax -> Identity: a GAP -> MatMul head.
 */
export function graphA(seed = 1): GraphBuilder {
  const r = seeded(seed);
  const g = new GraphBuilder();
  const x = g.input('image', [-1, 12, 12, 3]);
  const m = g.op('pre/Mul', 'Mul', [x, g.constant('pre/two', [], [2])]);
  const s = g.op('pre/Sub', 'Sub', [m, g.constant('pre/one', [], [1])]);
  const c1 = g.op('c1/Relu6', '_FusedConv2D', [s, g.random('c1/w', [3, 3, 3, 8], r, 0.4), g.random('c1/b', [8], r, 0.2)], fused(['BiasAdd', 'Relu6']));
  const dw = g.op('dw/Relu', 'FusedDepthwiseConv2dNative', [c1, g.random('dw/w', [3, 3, 8, 1], r, 0.5), g.random('dw/b', [8], r, 0.2)], fused(['BiasAdd', 'Relu'], 'SAME', 2));
  const c2 = g.op('c2/Conv2D', 'Conv2D', [dw, g.random('c2/w', [1, 1, 8, 8], r, 0.6)], conv('VALID'));
  const b2 = g.op('c2/BiasAdd', 'BiasAdd', [c2, g.random('c2/b', [8], r, 0.2)], { data_format: attr.str('NHWC') });
  const bn = g.op('c2/bn', 'FusedBatchNormV3', [b2, g.random('bn/scale', [8], r, 0.3, 1), g.random('bn/offset', [8], r, 0.2), g.random('bn/mean', [8], r, 0.2), g.random('bn/var', [8], r, 0.3, 1)],
    { epsilon: attr.float(0.001), data_format: attr.str('NHWC'), is_training: attr.bool(false), U: attr.type() });
  const lr = g.op('act/LeakyRelu', 'LeakyRelu', [bn], { alpha: attr.float(0.1) });
  const sw = g.op('swish/mul', 'Mul', [lr, g.op('swish/Sigmoid', 'Sigmoid', [lr])]);
  const r6 = g.op('hs/Relu6', 'Relu6', [g.op('hs/add', 'AddV2', [lr, g.constant('hs/three', [], [3])])]);
  const hs = g.op('hs/mul_1', 'Mul', [g.op('hs/mul', 'Mul', [lr, r6]), g.constant('hs/sixth', [], [1 / 6])]);
  const th = g.op('act/Tanh', 'Tanh', [lr]);
  const sum = g.op('sum/AddN', 'AddN', [sw, hs, th], { N: attr.int(3) });
  const dv = g.op('sum/truediv', 'RealDiv', [sum, g.random('sum/div', [8], r, 0.5, 1.5)]);
  const mx = g.op('clip/Maximum', 'Maximum', [dv, g.constant('clip/lo', [], [-0.5])]);
  const mn = g.op('clip/Minimum', 'Minimum', [mx, g.constant('clip/hi', [], [1.5])]);
  const sg = g.op('act/Sigmoid', 'Sigmoid', [g.op('act/Elu', 'Elu', [lr])]);
  const cc = g.op('cat/concat', 'ConcatV2', [mn, sg, g.constant('cat/axis', [], [3], 'int32')], { N: attr.int(2), Tidx: attr.type('DT_INT32') });
  const pd = g.op('pool/Pad', 'Pad', [cc, g.constant('pool/paddings', [4, 2], [0, 0, 1, 1, 1, 1, 0, 0], 'int32')], { Tpaddings: attr.type('DT_INT32') });
  const mp = g.op('pool/MaxPool', 'MaxPool', [pd], { ksize: attr.ints([1, 2, 2, 1]), strides: attr.ints([1, 1, 1, 1]), padding: attr.str('VALID'), data_format: attr.str('NHWC') });
  const mirror = g.op('c3/MirrorPad', 'MirrorPad', [mp, g.constant('c3/paddings', [4, 2], [0, 0, 1, 1, 1, 1, 0, 0], 'int32')], { mode: attr.str('REFLECT'), Tpaddings: attr.type('DT_INT32') });
  const c3 = g.op('c3/Relu', '_FusedConv2D', [mirror, g.random('c3/w', [3, 3, 16, 12], r, 0.3), g.random('c3/b', [12], r, 0.2)], fused(['BiasAdd', 'Relu'], 'VALID'));
  const gap = g.op('head/Mean', 'Mean', [c3, g.constant('head/axes', [2], [1, 2], 'int32')], { keep_dims: attr.bool(false), Tidx: attr.type('DT_INT32') });
  const mm = g.op('head/MatMul', 'MatMul', [gap, g.random('head/w', [12, 5], r, 1)], { transpose_a: attr.bool(false), transpose_b: attr.bool(false) });
  const logits = g.op('head/BiasAdd', 'BiasAdd', [mm, g.random('head/b', [5], r, 0.3)], { data_format: attr.str('NHWC') });
  g.op('Identity', 'Identity', [g.op('head/Softmax', 'Softmax', [logits])]);
  return g;
}

/**
 * 10x10x3 -> fused conv (Elu) -> AvgPool -> PadV2 -> depthwise, BiasAdd, Relu -> Cast,
 * ExpandDims, Squeeze -> Add -> AvgPool over the whole map -> Squeeze -> Reshape by a
 * Shape/StridedSlice/Pack chain -> _FusedMatMul (BiasAdd, transposed kernel) -> Softmax.
 */
export function graphB(seed = 2): GraphBuilder {
  const r = seeded(seed);
  const g = new GraphBuilder();
  const x = g.input('input_1', [-1, 10, 10, 3]);
  const c = g.op('conv/Elu', '_FusedConv2D', [x, g.random('conv/w', [3, 3, 3, 6], r, 0.5), g.random('conv/b', [6], r, 0.2)], fused(['BiasAdd', 'Elu']));
  const p = g.op('pool/AvgPool', 'AvgPool', [c], { ksize: attr.ints([1, 2, 2, 1]), strides: attr.ints([1, 2, 2, 1]), padding: attr.str('VALID'), data_format: attr.str('NHWC') });
  const pv = g.op('pad/PadV2', 'PadV2', [p, g.constant('pad/p', [4, 2], [0, 0, 1, 0, 0, 1, 0, 0], 'int32'), g.constant('pad/v', [], [0.5])], { Tpaddings: attr.type('DT_INT32') });
  const d = g.op('dw/depthwise', 'DepthwiseConv2dNative', [pv, g.random('dw/w', [3, 3, 6, 2], r, 0.5)], conv('SAME'));
  const rl = g.op('dw/Relu', 'Relu', [g.op('dw/BiasAdd', 'BiasAdd', [d, g.random('dw/b', [12], r, 0.3)])]);
  const cast = g.op('cast/Cast', 'Cast', [rl], { SrcT: attr.type(), DstT: attr.type(), Truncate: attr.bool(false) });
  const e = g.op('exp/ExpandDims', 'ExpandDims', [cast, g.constant('exp/dim', [], [1], 'int32')], { Tdim: attr.type('DT_INT32') });
  const sq = g.op('exp/Squeeze', 'Squeeze', [e], { squeeze_dims: attr.ints([1]) });
  const add = g.op('res/add', 'Add', [sq, rl]);
  const gp = g.op('gap/AvgPool', 'AvgPool', [add], { ksize: attr.ints([1, 6, 6, 1]), strides: attr.ints([1, 1, 1, 1]), padding: attr.str('VALID'), data_format: attr.str('NHWC') });
  const f = g.op('gap/Squeeze', 'Squeeze', [gp], { squeeze_dims: attr.ints([1, 2]) });
  const sh = g.op('flat/Shape', 'Shape', [f], { out_type: attr.type('DT_INT32') });
  const n = g.op('flat/strided_slice', 'StridedSlice', [sh, g.constant('flat/b', [1], [0], 'int32'), g.constant('flat/e', [1], [1], 'int32'), g.constant('flat/s', [1], [1], 'int32')],
    { Index: attr.type('DT_INT32'), T: attr.type('DT_INT32'), shrink_axis_mask: attr.int(1), begin_mask: attr.int(0), end_mask: attr.int(0), ellipsis_mask: attr.int(0), new_axis_mask: attr.int(0) });
  const pk = g.op('flat/Pack', 'Pack', [n, g.constant('flat/minus1', [], [-1], 'int32')], { N: attr.int(2), axis: attr.int(0), T: attr.type('DT_INT32') });
  const rs = g.op('flat/Reshape', 'Reshape', [f, pk], { Tshape: attr.type('DT_INT32') });
  const fm = g.op('dense/BiasAdd', '_FusedMatMul', [rs, g.random('dense/w', [4, 12], r, 1), g.random('dense/b', [4], r, 0.3)],
    { fused_ops: attr.strs(['BiasAdd']), num_args: attr.int(1), epsilon: attr.float(0), transpose_a: attr.bool(false), transpose_b: attr.bool(true) });
  g.op('Softmax', 'Softmax', [fm]);
  return g;
}
