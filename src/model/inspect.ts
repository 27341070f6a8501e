/**
 * What the methods need to know about a model: its input, the target conv layer for
 * Grad-CAM, and whether its head allows CAM (and if not, why).
 */
import type * as tf from '@tensorflow/tfjs-core';
import { WhycamError } from '../errors';
import { layerActivationSpec, ownActivationSpec } from './activation';
import { findOpByLayerName, type FlatGraph, type GraphOp } from './graph';
import { poolAttrs, type GraphNodeLayer } from './graph-model';

export interface TargetLayer {
  /** Op index in the flat graph. */
  op: number;
  /** Ref of its output, the feature maps A. */
  ref: number;
  /** Nested path, e.g. "sequential_2/mobilenetv2_0.35_224/out_relu". */
  path: string;
  name: string;
  height: number;
  width: number;
  channels: number;
}

/**
 * How CAM reads the class weights:
 * - 'dense': A -> global average pooling -> one Dense layer; CAM_c = sum_k W[k,c] A_k.
 * - 'class-conv': A already has one channel per class, followed by global average
 *   pooling (Darknet-style class convolution); CAM_c = A_c.
 */
export type CamHead =
  | { applies: true; kind: 'dense'; denseOp: number }
  | { applies: true; kind: 'class-conv' }
  | { applies: false; reason: string };

const PASS_THROUGH = new Set([
  'Flatten', 'Reshape', 'Dropout', 'SpatialDropout2D', 'GaussianNoise', 'GaussianDropout', 'AlphaDropout', 'ActivityRegularization',
  'tf:Squeeze', 'tf:Reshape', 'tf:Identity',
]);

/** Global average pooling: the layer, or in a graph model a Mean over H and W or an AvgPool covering the whole map. */
function isGlobalAveragePooling(graph: FlatGraph, op: GraphOp): boolean {
  if (op.className === 'GlobalAveragePooling2D') return true;
  const inShape = graph.shapes[op.inputs[0]];
  const outShape = graph.shapes[op.outputs[0]];
  if (op.className === 'tf:AvgPool') return inShape.length === 4 && outShape[1] === 1 && outShape[2] === 1 && (inShape[1] ?? 0) * (inShape[2] ?? 0) > 0 &&
    poolAttrs((op.layer as unknown as GraphNodeLayer).node).filterSize.join() === `${inShape[1]},${inShape[2]}`;
  if (op.className === 'tf:Mean') {
    const axes = (op.layer as unknown as { constantAt(i: number): tf.Tensor | null }).constantAt(1);
    return !!axes && inShape.length === 4 && Array.from(axes.dataSync()).map((a) => (a < 0 ? a + 4 : a)).sort().join() === '1,2';
  }
  return false;
}

/** A graph model's class scores: MatMul of the pooled features with a constant kernel (a Dense layer's work). */
const isGraphDense = (o: GraphOp) => (o.className === 'tf:MatMul' || o.className === 'tf:_FusedMatMul') && !!o.layer.kernel;
/** A graph model's bias after its MatMul: BiasAdd or Add of a constant. */
const isGraphBias = (o: GraphOp) => ['tf:BiasAdd', 'tf:Add', 'tf:AddV2'].includes(o.className) && o.inputs.length === 1;

function isSpatial(shape: Array<number | null>): boolean {
  return shape.length === 4 && ((shape[1] ?? 0) > 1 || (shape[2] ?? 0) > 1);
}

function targetFromOp(graph: FlatGraph, op: GraphOp): TargetLayer {
  const ref = op.outputs[0];
  const shape = graph.shapes[ref];
  if (shape.length !== 4) {
    throw new WhycamError('UNKNOWN_LAYER', `Layer '${op.path}' has output shape [${shape.map(String)}]; the target layer needs a 4-D [batch, height, width, channels] output.`);
  }
  return {
    op: op.index, ref, path: op.path, name: op.layer.name,
    height: shape[1] ?? 0, width: shape[2] ?? 0, channels: shape[3] ?? 0,
  };
}

/** The last layer with a spatial 4-D output: the last conv block before the classifier head. */
export function findTargetLayer(graph: FlatGraph, name?: string): TargetLayer {
  if (name !== undefined) {
    const op = findOpByLayerName(graph, name);
    if (!op) {
      const candidates = graph.ops.filter((o) => isSpatial(graph.shapes[o.outputs[0]])).slice(-5).map((o) => o.layer.name);
      throw new WhycamError('UNKNOWN_LAYER', `No layer named '${name}'. Layers with spatial outputs near the head: ${candidates.join(', ')}.`);
    }
    return targetFromOp(graph, op);
  }
  for (let i = graph.ops.length - 1; i >= 0; i--) {
    const op = graph.ops[i];
    if (op.outputs.length === 1 && isSpatial(graph.shapes[op.outputs[0]])) return targetFromOp(graph, op);
  }
  throw new WhycamError('UNSUPPORTED_MODEL', 'The model has no layer with a spatial 4-D output, so there is nothing to place a class map on.');
}

function describe(op: GraphOp): string {
  const act = op.layer.activation ? ownActivationSpec(op) : null;
  const actName = act && act.kind !== 'linear' ? (act.kind === 'other' ? act.name : act.kind) : '';
  return `${op.className}${actName ? `(${actName})` : ''}`;
}

/** Decides whether CAM applies between the target layer and the class scores. */
export function analyseCamHead(graph: FlatGraph, target: TargetLayer, numClasses: number): CamHead {
  // Walk the single chain of ops from the target to the output.
  const chain: GraphOp[] = [];
  let ref = target.ref;
  while (ref !== graph.outputRef) {
    const consumers = graph.consumers[ref];
    if (consumers.length !== 1) {
      return { applies: false, reason: `the output of '${target.name}' branches before the classifier; CAM needs a straight head: conv -> global average pooling -> one Dense layer` };
    }
    const op = graph.ops[consumers[0]];
    if (op.inputs.length !== 1 || op.outputs.length !== 1) {
      return { applies: false, reason: `'${op.layer.name}' (${op.className}) merges several inputs between '${target.name}' and the output; CAM needs conv -> global average pooling -> one Dense layer` };
    }
    chain.push(op);
    ref = op.outputs[0];
  }
  const head = chain.filter((o) => !PASS_THROUGH.has(o.className));
  const summary = head.length ? head.map(describe).join(' -> ') : 'nothing';
  const why = (detail: string) => ({
    applies: false as const,
    reason: `the head after '${target.name}' is ${summary}; ${detail}. Grad-CAM still applies.`,
  });
  if (!head.length || !isGlobalAveragePooling(graph, head[0])) {
    return why('CAM needs global average pooling right after the target layer');
  }
  const rest = head.slice(1).filter((o, i, all) => !(isGraphBias(o) && i > 0 && isGraphDense(all[i - 1])));
  const isSoftmaxAct = (o: GraphOp) => ['softmax', 'sigmoid', 'linear'].includes(layerActivationSpec(o)?.kind ?? '');
  const denses = rest.filter((o) => !isSoftmaxAct(o));
  if (denses.length === 0) {
    if (target.channels === numClasses) return { applies: true, kind: 'class-conv' };
    return why(`global average pooling gives ${target.channels} values but the model has ${numClasses} classes`);
  }
  if (denses.length === 1 && (denses[0].className === 'Dense' || isGraphDense(denses[0])) && rest.indexOf(denses[0]) === 0) {
    const act = ownActivationSpec(denses[0]).kind;
    if (act === 'linear' || act === 'softmax' || act === 'sigmoid') return { applies: true, kind: 'dense', denseOp: denses[0].index };
    return why(`the Dense layer has a ${act} activation before the class scores`);
  }
  const nDense = denses.filter((o) => o.className === 'Dense').length;
  return why(nDense > 1
    ? `CAM needs exactly one Dense layer after global average pooling, this head has ${nDense}`
    : 'CAM needs exactly one Dense layer after global average pooling');
}

/** The model's single image input: [batch, height, width, channels]. */
export interface InputSpec {
  height: number;
  width: number;
  channels: 1 | 3;
}

export function inputSpecOf(graph: FlatGraph): InputSpec {
  const shape = graph.shapes[graph.inputRef];
  const [, h, w, c] = shape;
  if (shape.length !== 4 || !h || !w || (c !== 1 && c !== 3)) {
    throw new WhycamError(
      'UNSUPPORTED_MODEL',
      `The model input has shape [${shape.map((d) => (d === null ? 'null' : d))}]; whycam needs a fixed-size image input [batch, height, width, 1 or 3].`,
    );
  }
  return { height: h, width: w, channels: c };
}

/** Reads a Dense layer's kernel column for one class, for CAM. */
export function denseKernel(graph: FlatGraph, denseOp: number): tf.Tensor2D {
  return (graph.ops[denseOp].layer.kernel as { read(): tf.Tensor }).read() as tf.Tensor2D;
}
