/**
 * Flattens a tfjs LayersModel — including Sequential and Functional models nested
 * inside it, as Teachable Machine exports are — into one list of leaf-layer
 * applications in topological order. Every later step (forward record, backward
 * pass, target-layer search) works on this flat graph, so nesting is solved once.
 */
import type * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { WhycamError } from '../errors';

/** The parts of a tfjs-layers Layer this project reads (the class is not exported by name). */
export interface LayerLike {
  name: string;
  getClassName(): string;
  apply(inputs: tf.Tensor | tf.Tensor[], kwargs?: Record<string, unknown>): tf.Tensor | tf.Tensor[] | unknown;
  inboundNodes: NodeLike[];
  [field: string]: unknown;
}

interface SymbolicLike {
  id: number;
  shape: Array<number | null>;
  sourceLayer: LayerLike;
  nodeIndex: number;
  tensorIndex: number;
}

interface NodeLike {
  inputTensors: SymbolicLike[];
  outputTensors: SymbolicLike[];
  outboundLayer: LayerLike;
}

interface ContainerLike extends LayerLike {
  inputs: SymbolicLike[];
  outputs: SymbolicLike[];
  layers: LayerLike[];
}

/** One application of a leaf layer. `inputs`/`outputs` are value refs (indices into `FlatGraph.shapes`). */
export interface GraphOp {
  index: number;
  layer: LayerLike;
  className: string;
  /** Layer name, prefixed with the names of the models it is nested in ("sequential_2/mobilenet/out_relu"). */
  path: string;
  inputs: number[];
  outputs: number[];
}

export interface FlatGraph {
  ops: GraphOp[];
  inputRef: number;
  outputRef: number;
  /** Symbolic shape of every value ref (batch dimension null). */
  shapes: Array<Array<number | null>>;
  /** Op index that produces each ref (-1 for the model input). */
  producer: number[];
  /** Op indices that consume each ref. */
  consumers: number[][];
}

const CONTAINER_CLASSES = new Set(['Sequential', 'Model', 'Functional', 'LayersModel']);

export function isContainer(layer: LayerLike): layer is ContainerLike {
  return CONTAINER_CLASSES.has(layer.getClassName()) || layer instanceof tfl.LayersModel;
}

export function flattenModel(model: tfl.LayersModel): FlatGraph {
  const root = model as unknown as ContainerLike;
  if (root.inputs.length !== 1 || root.outputs.length !== 1) {
    throw new WhycamError(
      'UNSUPPORTED_MODEL',
      `The model has ${root.inputs.length} inputs and ${root.outputs.length} outputs; whycam explains image classifiers with one image input and one class output.`,
    );
  }
  const ops: GraphOp[] = [];
  const shapes: Array<Array<number | null>> = [];
  const producer: number[] = [];
  const newRef = (shape: Array<number | null>, by: number): number => {
    shapes.push(shape);
    producer.push(by);
    return shapes.length - 1;
  };

  const inputRef = newRef(root.inputs[0].shape, -1);

  /** Resolves a symbolic tensor to a ref inside one container's scope, adding ops as needed. */
  const resolve = (t: SymbolicLike, scope: Map<number, number>, prefix: string, depth: number): number => {
    const known = scope.get(t.id);
    if (known !== undefined) return known;
    if (depth > 10000) throw new WhycamError('UNSUPPORTED_MODEL', 'The model graph is too deep to walk.');
    const layer = t.sourceLayer;
    const node = layer.inboundNodes[t.nodeIndex];
    if (!node || layer.getClassName() === 'InputLayer') {
      throw new WhycamError('UNSUPPORTED_MODEL', `Layer '${layer.name}' is not connected to the model input.`);
    }
    const inputRefs = node.inputTensors.map((s) => resolve(s, scope, prefix, depth + 1));
    let outputRefs: number[];
    if (isContainer(layer)) {
      // A model used as a layer: map its own inputs to ours and walk it in a scope of its own.
      const inner = new Map<number, number>();
      layer.inputs.forEach((s, i) => inner.set(s.id, inputRefs[i]));
      const innerPrefix = `${prefix}${layer.name}/`;
      outputRefs = layer.outputs.map((s) => resolve(s, inner, innerPrefix, depth + 1));
    } else {
      const index = ops.length;
      outputRefs = node.outputTensors.map((s) => newRef(s.shape, index));
      ops.push({
        index,
        layer,
        className: layer.getClassName(),
        path: prefix + layer.name,
        inputs: inputRefs,
        outputs: outputRefs,
      });
    }
    node.outputTensors.forEach((s, i) => scope.set(s.id, outputRefs[i]));
    const ref = scope.get(t.id);
    if (ref === undefined) throw new WhycamError('UNSUPPORTED_MODEL', `Could not resolve an output of layer '${layer.name}'.`);
    return ref;
  };

  const rootScope = new Map<number, number>([[root.inputs[0].id, inputRef]]);
  const outputRef = resolve(root.outputs[0], rootScope, '', 0);

  const consumers: number[][] = shapes.map(() => []);
  for (const op of ops) for (const r of op.inputs) consumers[r].push(op.index);
  return { ops, inputRef, outputRef, shapes, producer, consumers };
}

/** Name lookup: accepts the full nested path or the bare layer name (unique match). */
export function findOpByLayerName(graph: FlatGraph, name: string): GraphOp | undefined {
  const exact = graph.ops.filter((o) => o.path === name);
  if (exact.length) return exact[exact.length - 1];
  const bare = graph.ops.filter((o) => o.layer.name === name);
  return bare.length ? bare[bare.length - 1] : undefined;
}
