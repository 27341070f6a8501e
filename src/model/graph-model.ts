/**
 * tfjs GraphModels (`"format": "graph-model"`, what tensorflowjs_converter makes of a SavedModel)
 * flattened into the same FlatGraph a LayersModel becomes: one GraphOp per TensorFlow node that
 * computes on the image, in topological order, each holding its constant inputs (weights) and
 * running its forward pass with tfjs ops. Its className is the TensorFlow op prefixed with `tf:`,
 * which the recorder, the backward rules (src/gradients/graph-op-grads.ts) and the head analysis
 * dispatch on. Const nodes become tensors held by the ops that read them; Identity nodes vanish.
 */
import * as tf from '@tensorflow/tfjs-core';
import { WhycamError } from '../errors';
import type { ActivationSpec } from './activation';
import type { FlatGraph, GraphOp, LayerLike } from './graph';

/** One attribute value of a TensorFlow NodeDef as the converter writes it to JSON. */
interface AttrValue {
  i?: string | number;
  f?: number;
  b?: boolean;
  s?: string;
  type?: string;
  list?: { i?: Array<string | number>; s?: string[]; f?: number[] };
  shape?: { dim?: Array<{ size: string | number }>; unknownRank?: boolean };
}

export interface TfNode {
  name: string;
  op: string;
  input?: string[];
  attr?: Record<string, AttrValue>;
}

export interface GraphModelJson {
  format?: string;
  modelTopology?: { node?: TfNode[] };
  signature?: { inputs?: Record<string, { name: string }>; outputs?: Record<string, { name: string }> };
  userDefinedMetadata?: { signature?: GraphModelJson['signature'] };
}

/** The ops whose forward and backward whycam implements. */
export const SUPPORTED_OPS = new Set([
  'Placeholder', 'Const', 'Identity', 'Conv2D', '_FusedConv2D', 'DepthwiseConv2dNative', 'FusedDepthwiseConv2dNative', 'BiasAdd',
  'Add', 'AddV2', 'AddN', 'Sub', 'Mul', 'RealDiv', 'Maximum', 'Minimum', 'Relu', 'Relu6', 'LeakyRelu', 'Elu', 'Sigmoid', 'Tanh',
  'MaxPool', 'AvgPool', 'Mean', 'Pad', 'PadV2', 'MirrorPad', 'ConcatV2', 'Reshape', 'Squeeze', 'ExpandDims', 'MatMul', '_FusedMatMul',
  'FusedBatchNorm', 'FusedBatchNormV3', 'Softmax', 'Cast', 'Shape', 'StridedSlice', 'Pack',
]);

/** Ops that compute only shapes and indices: no gradient flows through them. */
export const SHAPE_OPS = new Set(['Shape', 'StridedSlice', 'Pack']);

const FUSED = new Set(['_FusedConv2D', 'FusedDepthwiseConv2dNative', '_FusedMatMul']);

/** The converter writes string attributes base64-encoded; atob is global in browsers, workers and Node. */
export const decodeString = (s: string): string => {
  try {
    return (globalThis as unknown as { atob(b64: string): string }).atob(s);
  } catch {
    return s;
  }
};

const attrInt = (n: TfNode, k: string, d: number): number => (n.attr?.[k]?.i !== undefined ? Number(n.attr[k].i) : d);
const attrFloat = (n: TfNode, k: string, d: number): number => n.attr?.[k]?.f ?? d;
const attrBool = (n: TfNode, k: string): boolean => n.attr?.[k]?.b === true;
const attrString = (n: TfNode, k: string, d: string): string => (n.attr?.[k]?.s !== undefined ? decodeString(n.attr[k].s as string) : d);
const attrInts = (n: TfNode, k: string): number[] | undefined => n.attr?.[k]?.list?.i?.map(Number);
const attrStrings = (n: TfNode, k: string): string[] => (n.attr?.[k]?.list?.s ?? []).map(decodeString);

/** A fused op's activation as the tfjs-layers activation objects the recorder swaps out (getClassName/apply). */
export interface NodeActivation {
  getClassName(): string;
  apply(z: tf.Tensor): tf.Tensor;
  spec: ActivationSpec;
}

function activationOf(name: string, alpha: number): NodeActivation | undefined {
  const make = (cls: string, spec: ActivationSpec, fn: (z: tf.Tensor) => tf.Tensor): NodeActivation => ({ getClassName: () => cls, apply: fn, spec });
  switch (name) {
    case 'Relu': return make('relu', { kind: 'relu' }, (z) => tf.relu(z));
    case 'Relu6': return make('relu6', { kind: 'relu', maxValue: 6 }, (z) => tf.relu6(z));
    case 'LeakyRelu': return make('leakyrelu', { kind: 'leaky', alpha }, (z) => tf.leakyRelu(z, alpha));
    case 'Sigmoid': return make('sigmoid', { kind: 'sigmoid' }, (z) => tf.sigmoid(z));
    case 'Tanh': return make('tanh', { kind: 'tanh' }, (z) => tf.tanh(z));
    case 'Elu': return make('elu', { kind: 'other', name: 'elu', fn: (z) => tf.elu(z) }, (z) => tf.elu(z));
    case 'Softmax': return make('softmax', { kind: 'softmax', axis: -1 }, (z) => tf.softmax(z));
    default: return undefined;
  }
}

const STANDALONE_ACTIVATIONS = new Set(['Relu', 'Relu6', 'LeakyRelu', 'Elu', 'Sigmoid', 'Tanh', 'Softmax']);

/** An argument of a node: a value of the flat graph (by position among the op's inputs) or a constant. */
type Arg = { ref: number } | { constant: tf.Tensor };

let nextId = 1;

/** A TensorFlow node as the layer-like object the engine drives. */
export class GraphNodeLayer implements LayerLike {
  readonly name: string;
  readonly id = nextId++;
  readonly inboundNodes: never[] = [];
  readonly op: string;
  /** The fused activation (null when none); the recorder swaps it for linear to record the pre-activation. */
  activation: NodeActivation | { getClassName(): string; apply(z: tf.Tensor): tf.Tensor } | undefined;
  /** For a standalone activation node (Relu, Relu6, Softmax, ...), its spec. */
  readonly standaloneActivation: ActivationSpec | undefined;
  [field: string]: unknown;

  constructor(readonly node: TfNode, readonly args: Arg[]) {
    this.name = node.name;
    this.op = node.op;
    if (FUSED.has(node.op)) {
      const ops = attrStrings(node, 'fused_ops');
      const act = ops.find((o) => o !== 'BiasAdd' && o !== 'FusedBatchNorm');
      this.activation = act ? activationOf(act, attrFloat(node, 'leakyrelu_alpha', 0.2)) : undefined;
    }
    this.standaloneActivation = STANDALONE_ACTIVATIONS.has(node.op) ? activationOf(node.op, attrFloat(node, 'alpha', 0.2))?.spec : undefined;
  }

  getClassName(): string {
    return `tf:${this.op}`;
  }

  /** The constant at argument position `i`, or null when it is a value of the graph. */
  constantAt(i: number): tf.Tensor | null {
    const a = this.args[i];
    return a && 'constant' in a ? a.constant : null;
  }

  /** Every argument, the graph values taken from `inputs` (in the order of the op's inputs). */
  argValues(inputs: tf.Tensor[]): tf.Tensor[] {
    return this.args.map((a) => ('constant' in a ? a.constant : inputs[a.ref]));
  }

  apply(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    const xs = this.argValues(Array.isArray(inputs) ? inputs : [inputs]);
    const y = linearForward(this, xs);
    const act = this.activation;
    return act && act.getClassName() !== 'linear' ? act.apply(y) : y;
  }

  /** Kernel of a MatMul as [features, classes] (for CAM). */
  get kernel(): { read(): tf.Tensor } | undefined {
    if (this.op !== 'MatMul' && this.op !== '_FusedMatMul') return undefined;
    const w = this.constantAt(1);
    if (!w || attrBool(this.node, 'transpose_a')) return undefined;
    const transposed = attrBool(this.node, 'transpose_b');
    const self = this as { kernelCache?: tf.Tensor };
    return { read: () => (transposed ? (self.kernelCache ??= tf.keep(tf.transpose(w))) : w) };
  }

  dispose(): void {
    (this as { kernelCache?: tf.Tensor }).kernelCache?.dispose();
  }
}

export interface ConvAttrs {
  strides: [number, number];
  dilations: [number, number];
  pad: 'same' | 'valid' | [[number, number], [number, number], [number, number], [number, number]];
}

export function convAttrs(node: TfNode): ConvAttrs {
  const s = attrInts(node, 'strides') ?? [1, 1, 1, 1];
  const d = attrInts(node, 'dilations') ?? [1, 1, 1, 1];
  const padding = attrString(node, 'padding', 'VALID');
  let pad: ConvAttrs['pad'];
  if (padding === 'EXPLICIT') {
    const e = attrInts(node, 'explicit_paddings') ?? [0, 0, 0, 0, 0, 0, 0, 0];
    pad = [[e[0], e[1]], [e[2], e[3]], [e[4], e[5]], [e[6], e[7]]];
  } else {
    pad = padding === 'SAME' ? 'same' : 'valid';
  }
  return { strides: [s[1], s[2]], dilations: [d[1], d[2]], pad };
}

export function poolAttrs(node: TfNode): { filterSize: [number, number]; strides: [number, number]; pad: 'same' | 'valid' } {
  const k = attrInts(node, 'ksize') ?? [1, 1, 1, 1];
  const s = attrInts(node, 'strides') ?? [1, 1, 1, 1];
  return { filterSize: [k[1], k[2]], strides: [s[1], s[2]], pad: attrString(node, 'padding', 'VALID') === 'SAME' ? 'same' : 'valid' };
}

export const fusedOps = (node: TfNode): string[] => attrStrings(node, 'fused_ops');
export const batchNormEpsilon = (node: TfNode): number => attrFloat(node, 'epsilon', 1e-3);
export const matMulTransposes = (node: TfNode): [boolean, boolean] => [attrBool(node, 'transpose_a'), attrBool(node, 'transpose_b')];
export const squeezeDims = (node: TfNode): number[] => attrInts(node, 'squeeze_dims') ?? attrInts(node, 'axis') ?? [];
export const meanKeepDims = (node: TfNode): boolean => attrBool(node, 'keep_dims');

const intsOf = (t: tf.Tensor): number[] => Array.from(t.dataSync()).map(Number);

/** The node's forward computation before its fused activation (apply() adds it, as a layer's does). */
function linearForward(layer: GraphNodeLayer, xs: tf.Tensor[]): tf.Tensor {
  const n = layer.node;
  const x = xs[0];
  // A fused op's bias (or batch norm) after the convolution or product.
  const finish = (y: tf.Tensor, fused: boolean): tf.Tensor => (fused ? fusedTail(n, y, xs.slice(2)) : y);
  switch (n.op) {
    case 'Identity': return tf.clone(x);
    case 'Conv2D':
    case '_FusedConv2D': {
      const g = convAttrs(n);
      return finish(tf.conv2d(x as tf.Tensor4D, xs[1] as tf.Tensor4D, g.strides, g.pad, 'NHWC', g.dilations), n.op === '_FusedConv2D');
    }
    case 'DepthwiseConv2dNative':
    case 'FusedDepthwiseConv2dNative': {
      const g = convAttrs(n);
      return finish(tf.depthwiseConv2d(x as tf.Tensor4D, xs[1] as tf.Tensor4D, g.strides, g.pad, 'NHWC', g.dilations), n.op === 'FusedDepthwiseConv2dNative');
    }
    case 'MatMul':
    case '_FusedMatMul': {
      const [ta, tb] = matMulTransposes(n);
      return finish(tf.matMul(x as tf.Tensor2D, xs[1] as tf.Tensor2D, ta, tb), n.op === '_FusedMatMul');
    }
    case 'BiasAdd': return tf.add(x, xs[1]);
    case 'Add':
    case 'AddV2': return tf.add(x, xs[1]);
    case 'AddN': return tf.addN(xs);
    case 'Sub': return tf.sub(x, xs[1]);
    case 'Mul': return tf.mul(x, xs[1]);
    case 'RealDiv': return tf.div(x, xs[1]);
    case 'Maximum': return tf.maximum(x, xs[1]);
    case 'Minimum': return tf.minimum(x, xs[1]);
    case 'Relu': return tf.relu(x);
    case 'Relu6': return tf.relu6(x);
    case 'LeakyRelu': return tf.leakyRelu(x, attrFloat(n, 'alpha', 0.2));
    case 'Elu': return tf.elu(x);
    case 'Sigmoid': return tf.sigmoid(x);
    case 'Tanh': return tf.tanh(x);
    case 'Softmax': return tf.softmax(x);
    case 'MaxPool': {
      const p = poolAttrs(n);
      return tf.maxPool(x as tf.Tensor4D, p.filterSize, p.strides, p.pad);
    }
    case 'AvgPool': {
      const p = poolAttrs(n);
      return tf.avgPool(x as tf.Tensor4D, p.filterSize, p.strides, p.pad);
    }
    case 'Mean': return tf.mean(x, intsOf(xs[1]), meanKeepDims(n));
    case 'Pad':
    case 'PadV2': {
      const p = intsOf(xs[1]);
      const pairs = Array.from({ length: p.length / 2 }, (_, i) => [p[2 * i], p[2 * i + 1]] as [number, number]);
      return tf.pad(x, pairs, n.op === 'PadV2' && xs[2] ? xs[2].dataSync()[0] : 0);
    }
    case 'MirrorPad': {
      const p = intsOf(xs[1]);
      const pairs = Array.from({ length: p.length / 2 }, (_, i) => [p[2 * i], p[2 * i + 1]] as [number, number]);
      return tf.mirrorPad(x, pairs, attrString(n, 'mode', 'REFLECT') === 'SYMMETRIC' ? 'symmetric' : 'reflect');
    }
    case 'ConcatV2': {
      const axis = intsOf(xs[xs.length - 1])[0];
      return tf.concat(xs.slice(0, -1), axis);
    }
    case 'Reshape': return tf.reshape(x, intsOf(xs[1]));
    case 'Squeeze': {
      const dims = squeezeDims(n);
      return tf.squeeze(x, dims.length ? dims : undefined);
    }
    case 'ExpandDims': return tf.expandDims(x, intsOf(xs[1])[0]);
    case 'FusedBatchNorm':
    case 'FusedBatchNormV3':
      return tf.batchNorm(x, xs[3], xs[4], xs[2], xs[1], batchNormEpsilon(n));
    case 'Cast': {
      const to = n.attr?.DstT?.type ?? 'DT_FLOAT';
      return tf.cast(x, to === 'DT_INT32' || to === 'DT_INT64' ? 'int32' : to === 'DT_BOOL' ? 'bool' : 'float32');
    }
    case 'Shape': return tf.tensor1d(x.shape, 'int32');
    case 'StridedSlice': {
      const [begin, end, strides] = [intsOf(xs[1]), intsOf(xs[2]), intsOf(xs[3])];
      return tf.stridedSlice(x, begin, end, strides, attrInt(n, 'begin_mask', 0), attrInt(n, 'end_mask', 0),
        attrInt(n, 'ellipsis_mask', 0), attrInt(n, 'new_axis_mask', 0), attrInt(n, 'shrink_axis_mask', 0));
    }
    case 'Pack': return tf.stack(xs, attrInt(n, 'axis', 0));
    default:
      throw new WhycamError('UNSUPPORTED_LAYER', `Node '${n.name}' is a ${n.op}, an op whycam cannot run.`);
  }
}

/** The fused ops after a conv or matmul, before its activation: BiasAdd, or FusedBatchNorm (scale, offset, mean, variance). */
function fusedTail(n: TfNode, y: tf.Tensor, extra: tf.Tensor[]): tf.Tensor {
  const ops = fusedOps(n);
  if (ops[0] === 'BiasAdd') return tf.add(y, extra[0]);
  if (ops[0] === 'FusedBatchNorm') return tf.batchNorm(y, extra[2], extra[3], extra[1], extra[0], batchNormEpsilon(n));
  return y;
}

/** "name:1" -> ["name", 1]; control inputs ("^name") -> null. */
function parseInput(s: string): [string, number] | null {
  if (s.startsWith('^')) return null;
  const m = /^(.*?)(?::(\d+))?$/.exec(s) as RegExpExecArray;
  return [m[1], m[2] ? Number(m[2]) : 0];
}

const corrupt = (msg: string) => new WhycamError('MODEL_CORRUPT', `The graph model is corrupt: ${msg}.`);

export interface FlattenedGraphModel {
  graph: FlatGraph;
  /** Every constant the ops hold (freed with the model). */
  constants: tf.Tensor[];
}

/**
 * Flattens a graph model: checks every node's inputs exist and the graph has no cycle, refuses
 * ops whycam cannot run (UNSUPPORTED_LAYER naming the op and the node), and infers each value's
 * shape by one forward pass of a batch of one at load.
 */
export function flattenGraphModel(json: GraphModelJson, weights: tf.NamedTensorMap): FlattenedGraphModel {
  const nodes = json.modelTopology?.node;
  if (!Array.isArray(nodes) || nodes.length === 0) throw corrupt('modelTopology has no nodes');
  const byName = new Map<string, TfNode>();
  for (const n of nodes) {
    if (!n || typeof n.name !== 'string' || typeof n.op !== 'string') throw corrupt('a node without a name or an op');
    if (byName.has(n.name)) throw corrupt(`two nodes are named '${n.name}'`);
    byName.set(n.name, n);
  }
  const inputsOf = (n: TfNode): Array<[string, number]> => (n.input ?? []).map(parseInput).filter((x): x is [string, number] => x !== null);
  const consumed = new Set<string>();
  for (const n of nodes) {
    for (const [from] of inputsOf(n)) {
      if (!byName.has(from)) throw corrupt(`node '${n.name}' reads '${from}', which is not a node of the graph`);
      consumed.add(from);
    }
  }
  // The output: the signature's, else the one node nothing reads.
  const signature = json.signature ?? json.userDefinedMetadata?.signature;
  const sigOutputs = Object.values(signature?.outputs ?? {}).map((o) => parseInput(o.name)?.[0]).filter((x): x is string => !!x && byName.has(x));
  const sinks = sigOutputs.length ? sigOutputs : nodes.filter((n) => !consumed.has(n.name) && n.op !== 'Const' && n.op !== 'NoOp').map((n) => n.name);
  if (sinks.length !== 1) {
    throw new WhycamError('UNSUPPORTED_MODEL', `The graph model has ${sinks.length} outputs (${sinks.slice(0, 5).join(', ')}); whycam explains image classifiers with one class output.`);
  }
  // Topological order of what the output depends on (iterative DFS; a node met while on the stack closes a cycle).
  const order: TfNode[] = [];
  const state = new Map<string, 1 | 2>();
  const stack: Array<{ n: TfNode; i: number }> = [{ n: byName.get(sinks[0]) as TfNode, i: 0 }];
  state.set(sinks[0], 1);
  while (stack.length) {
    const top = stack[stack.length - 1];
    const ins = inputsOf(top.n);
    if (top.i >= ins.length) {
      state.set(top.n.name, 2);
      order.push(top.n);
      stack.pop();
      continue;
    }
    const dep = ins[top.i++][0];
    const s = state.get(dep);
    if (s === 1) throw corrupt(`its nodes form a cycle through '${dep}'`);
    if (s === undefined) {
      state.set(dep, 1);
      stack.push({ n: byName.get(dep) as TfNode, i: 0 });
    }
  }
  for (const n of order) {
    if (!SUPPORTED_OPS.has(n.op)) {
      throw new WhycamError('UNSUPPORTED_LAYER', `Node '${n.name}' is a ${n.op}, an op whycam cannot explain through (see docs/bringing-your-model.md for the ops it runs).`);
    }
    // Index arithmetic only: on a feature map (a channel slice, a stack) the gradient would be lost silently.
    if ((n.op === 'StridedSlice' || n.op === 'Pack') && !['DT_INT32', 'DT_INT64'].includes(n.attr?.T?.type ?? '')) {
      throw new WhycamError('UNSUPPORTED_LAYER', `Node '${n.name}' is a ${n.op} of ${n.attr?.T?.type ?? 'unknown type'} values; whycam runs it only on shapes and indices (int32), not on feature maps.`);
    }
    for (const f of FUSED.has(n.op) ? fusedOps(n) : []) {
      if (!['BiasAdd', 'FusedBatchNorm', 'Relu', 'Relu6', 'LeakyRelu', 'Elu', 'Sigmoid', 'Tanh'].includes(f)) {
        throw new WhycamError('UNSUPPORTED_LAYER', `Node '${n.name}' (${n.op}) fuses ${f}, which whycam cannot run.`);
      }
    }
  }
  const placeholders = order.filter((n) => n.op === 'Placeholder');
  if (placeholders.length !== 1) {
    throw new WhycamError('UNSUPPORTED_MODEL', `The graph model's output depends on ${placeholders.length} inputs; whycam explains image classifiers with one image input.`);
  }
  const dims = placeholders[0].attr?.shape?.shape?.dim?.map((d) => Number(d.size)) ?? [];
  const inputShape = dims.map((d, i) => (i === 0 || d < 0 ? null : d));

  // Values: each node's output 0 becomes a ref; constants stay with the ops that read them.
  const ops: GraphOp[] = [];
  const constants: tf.Tensor[] = [];
  const refOf = new Map<string, number>();
  const constOf = new Map<string, tf.Tensor>();
  const producer: number[] = [-1];
  refOf.set(placeholders[0].name, 0);
  for (const n of order) {
    if (n.op === 'Placeholder') continue;
    const ins = inputsOf(n);
    for (const [from, port] of ins) {
      if (port !== 0) throw new WhycamError('UNSUPPORTED_LAYER', `Node '${n.name}' (${n.op}) reads output ${port} of '${from}'; whycam runs only first outputs.`);
    }
    if (n.op === 'Const') {
      const w = weights[n.name];
      if (!w) throw corrupt(`the constant '${n.name}' has no value in the weights`);
      constOf.set(n.name, w);
      continue;
    }
    if (n.op === 'Identity') {
      // An alias: of a constant or of a value.
      const [from] = ins[0];
      if (constOf.has(from)) constOf.set(n.name, constOf.get(from) as tf.Tensor);
      else refOf.set(n.name, refOf.get(from) as number);
      continue;
    }
    const refs: number[] = [];
    const args: Arg[] = ins.map(([from]) => {
      const c = constOf.get(from);
      if (c) return { constant: c };
      refs.push(refOf.get(from) as number);
      return { ref: refs.length - 1 };
    });
    if (refs.length === 0) throw new WhycamError('UNSUPPORTED_LAYER', `Node '${n.name}' (${n.op}) computes from constants only; whycam expects such chains to be folded by the converter.`);
    const layer = new GraphNodeLayer(n, args);
    for (const [i, what] of [['Conv2D', 1], ['_FusedConv2D', 1], ['DepthwiseConv2dNative', 1], ['FusedDepthwiseConv2dNative', 1]] as const) {
      if (n.op === i && !layer.constantAt(what)) throw new WhycamError('UNSUPPORTED_LAYER', `Node '${n.name}' (${n.op}) has a filter that is not a constant.`);
    }
    const index = ops.length;
    producer.push(index);
    const out = producer.length - 1;
    refOf.set(n.name, out);
    ops.push({ index, layer, className: layer.getClassName(), path: n.name, inputs: refs, outputs: [out] });
  }
  const outputRef = refOf.get(sinks[0]);
  if (outputRef === undefined || outputRef === 0) throw new WhycamError('UNSUPPORTED_MODEL', 'The graph model\'s output is its input or a constant.');

  const shapes = inferShapes(ops, producer.length, inputShape);
  const consumers: number[][] = shapes.map(() => []);
  for (const op of ops) for (const r of op.inputs) consumers[r].push(op.index);
  return { graph: { ops, inputRef: 0, outputRef, shapes, producer, consumers }, constants };
}

/** Each value's shape, from one forward pass of a batch of one (the batch dimension then null). */
function inferShapes(ops: GraphOp[], count: number, inputShape: Array<number | null>): Array<Array<number | null>> {
  const shapes: Array<Array<number | null>> = new Array(count);
  shapes[0] = inputShape;
  if (inputShape.length !== 4 || inputShape.slice(1).some((d) => d === null)) {
    throw new WhycamError('UNSUPPORTED_MODEL', `The graph model input has shape [${inputShape.map(String)}]; whycam needs a fixed-size image input [batch, height, width, channels].`);
  }
  tf.tidy(() => {
    const values: tf.Tensor[] = new Array(count);
    values[0] = tf.zeros([1, ...(inputShape.slice(1) as number[])]);
    for (const op of ops) {
      let y: tf.Tensor;
      try {
        y = op.layer.apply(op.inputs.map((r) => values[r])) as tf.Tensor;
      } catch (e) {
        if (e instanceof WhycamError) throw e;
        throw new WhycamError('MODEL_CORRUPT', `The graph model cannot run: node '${op.path}' (${op.className.slice(3)}) fails on its inputs (${(e as Error).message}).`, { cause: e });
      }
      values[op.outputs[0]] = y;
      const batched = op.inputs.some((r) => shapes[r].length > 0 && shapes[r][0] === null);
      shapes[op.outputs[0]] = y.shape.map((d, i) => (i === 0 && batched && y.rank > 0 && !SHAPE_OPS.has(op.className.slice(3)) ? null : d));
    }
  });
  return shapes;
}

/** A loaded graph model: its flat graph and the constants it holds. */
export class LoadedGraphModel {
  readonly format = 'graph-model';
  /** No trainable variables: the weights are constants of the graph. */
  readonly weights: Array<{ name: string }> = [];
  private disposed = false;

  constructor(readonly name: string, readonly flat: FlattenedGraphModel) {}

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const op of this.flat.graph.ops) (op.layer as unknown as GraphNodeLayer).dispose();
    for (const t of this.flat.constants) t.dispose();
  }
}

export const isGraphModel = (m: unknown): m is LoadedGraphModel => m instanceof LoadedGraphModel;

/** Builds a graph model from model.json and its decoded weights (which it then owns, freeing them if it fails). */
export function buildGraphModel(json: GraphModelJson, weights: tf.NamedTensorMap, name = 'graph model'): LoadedGraphModel {
  try {
    const flat = flattenGraphModel(json, weights);
    flat.constants.push(...Object.values(weights));
    return new LoadedGraphModel(name, flat);
  } catch (e) {
    for (const t of Object.values(weights)) t.dispose();
    throw e;
  }
}
