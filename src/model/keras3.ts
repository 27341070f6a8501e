/**
 * Keras 3 layers-model configs rewritten into the Keras 2 form tfjs-layers reads (tfjs issue
 * 8328): `module`/`registered_name` wrappers dropped, `InputLayer.batch_shape` renamed,
 * dtype-policy objects reduced to their dtype, `Functional` named `Model`, and functional
 * `inbound_nodes` of `{ args, kwargs }` with `__keras_tensor__` arguments turned back into
 * `[layer, node, tensor, kwargs]` lists. Keras 2 configs pass through unchanged. Whatever
 * cannot be mapped is refused with UNSUPPORTED_LAYER naming it.
 */
import { WhycamError } from '../errors';

type Json = Record<string, unknown>;

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
/** Keras 3 bookkeeping tfjs-layers has no use for. */
const DROPPED_KEYS = new Set(['module', 'registered_name', 'build_config', 'compile_config', 'shared_object_id']);
/** Dtype policies whose variables and outputs tfjs keeps in float32. */
const FLOAT32_POLICIES = new Set(['float32', 'mixed_float16', 'mixed_bfloat16']);
const MAX_DEPTH = 200;

const unsupported = (what: string) => new WhycamError('UNSUPPORTED_LAYER', `This Keras 3 model uses ${what}, which whycam cannot map to tfjs-layers.`);

function dtypeOf(policy: Json, where: string): string {
  const name = isObject(policy.config) ? policy.config.name : undefined;
  if (typeof name === 'string' && FLOAT32_POLICIES.has(name)) return 'float32';
  throw unsupported(`the dtype policy '${String(name)}' (in ${where})`);
}

/** `[layer, node, tensor]` of one `__keras_tensor__`, or null when `v` is not one. */
function kerasHistory(v: unknown): [string, number, number] | null {
  if (!isObject(v) || v.class_name !== '__keras_tensor__') return null;
  const h = isObject(v.config) ? v.config.keras_history : undefined;
  if (!Array.isArray(h) || typeof h[0] !== 'string' || !Number.isInteger(h[1]) || !Number.isInteger(h[2])) {
    throw new WhycamError('MODEL_CORRUPT', `model.json is corrupt: a Keras tensor without a keras_history (${JSON.stringify(v).slice(0, 80)}).`);
  }
  return [h[0], h[1] as number, h[2] as number];
}

const untuple = (v: unknown): unknown => (isObject(v) && v.class_name === '__tuple__' && isObject(v.config) ? v.config.value : v);

/** One Keras 3 call `{ args, kwargs }` as a tfjs-layers node: the list of its input tensors. */
function nodeFromCall(call: Json, layer: string): unknown[] {
  const args = untuple(call.args);
  if (!Array.isArray(args)) throw new WhycamError('MODEL_CORRUPT', `model.json is corrupt: layer '${layer}' has a call without args.`);
  // A layer called on one tensor has it as its first argument; a merge layer has a list of them.
  const first = untuple(args[0]);
  const tensors = Array.isArray(first) ? first : [first];
  if (args.length > 1) throw unsupported(`a call of layer '${layer}' with ${args.length} positional arguments`);
  const node = tensors.map((t) => {
    const h = kerasHistory(t);
    if (!h) throw unsupported(`a call of layer '${layer}' on a value that is not a tensor (${JSON.stringify(t)?.slice(0, 60)})`);
    return [...h, {}];
  });
  if (isObject(call.kwargs)) {
    for (const [k, v] of Object.entries(call.kwargs)) {
      if (JSON.stringify(v)?.includes('__keras_tensor__')) throw unsupported(`a call of layer '${layer}' with the tensor keyword argument '${k}'`);
    }
  }
  return node;
}

/** Keras 3 writes a single model input or output as `[name, node, tensor]`; tfjs-layers wants a list of them. */
function endpoints(v: unknown): unknown {
  return Array.isArray(v) && typeof v[0] === 'string' ? [v] : v;
}

function normalise(v: unknown, depth: number, where: string): unknown {
  if (depth > MAX_DEPTH) throw new WhycamError('MODEL_CORRUPT', 'model.json is corrupt: its configuration is nested too deep.');
  if (Array.isArray(v)) return v.map((x) => normalise(x, depth + 1, where));
  if (!isObject(v)) return v;
  if (v.class_name === '__tuple__') return normalise(untuple(v), depth + 1, where);
  if (typeof v.class_name === 'string' && /DTypePolicy$/.test(v.class_name)) return dtypeOf(v, where);
  // An activation serialised as a function object: its name is the config.
  if (v.class_name === 'function' && typeof v.config === 'string') return v.config;
  const name = typeof v.name === 'string' ? v.name : isObject(v.config) && typeof v.config.name === 'string' ? v.config.name : where;
  const out: Json = {};
  for (const [k, x] of Object.entries(v)) {
    if (DROPPED_KEYS.has(k)) continue;
    if (k === 'inbound_nodes' && Array.isArray(x)) {
      out[k] = x.map((node) => (isObject(node) && 'args' in node ? nodeFromCall(node, name) : normalise(node, depth + 1, name)));
    } else if (k === 'input_layers' || k === 'output_layers') {
      out[k] = endpoints(x);
    } else {
      out[k] = normalise(x, depth + 1, name);
    }
  }
  if (out.class_name === 'Functional') out.class_name = 'Model';
  if (isObject(out.config) && Array.isArray(out.config.layers) && out.config.output_layers !== undefined && usesKeras3Calls(v)) shiftSequentialRefs(out.config);
  return finishLayer(out, name);
}

/** Whether a functional config's layers are called the Keras 3 way. */
function usesKeras3Calls(model: Json): boolean {
  const layers = isObject(model.config) ? model.config.layers : undefined;
  return Array.isArray(layers) && layers.some((l) => isObject(l) && Array.isArray(l.inbound_nodes) && l.inbound_nodes.some((n) => isObject(n) && 'args' in n));
}

/**
 * A nested model has a node of its own before its first call in tfjs-layers (and in Keras 2 and
 * Keras 3 files for a nested Functional), but a Keras 3 file counts a nested Sequential's calls from 0.
 */
function shiftSequentialRefs(config: Json): void {
  const layers = config.layers as Json[];
  const sequential = new Set(layers.filter((l) => l.class_name === 'Sequential').map((l) => String(l.name ?? (l.config as Json)?.name)));
  if (!sequential.size) return;
  const shift = (ref: unknown) => {
    if (Array.isArray(ref) && typeof ref[0] === 'string' && sequential.has(ref[0]) && typeof ref[1] === 'number') ref[1] += 1;
  };
  for (const l of layers) for (const node of (l.inbound_nodes as unknown[][] | undefined) ?? []) node.forEach(shift);
  for (const k of ['input_layers', 'output_layers']) (config[k] as unknown[] | undefined)?.forEach(shift);
}

function finishLayer(out: Json, name: string): Json {
  if (out.class_name === 'InputLayer' && isObject(out.config)) {
    const c = out.config;
    if (c.batch_shape !== undefined && c.batch_input_shape === undefined) c.batch_input_shape = c.batch_shape;
    delete c.batch_shape;
    delete c.optional;
    if (c.ragged) throw unsupported(`a ragged input ('${name}')`);
  }
  if (isObject(out.config) && out.config.groups !== undefined) {
    if (out.config.groups !== 1) throw unsupported(`a grouped convolution ('${name}', groups = ${String(out.config.groups)})`);
    delete out.config.groups;
  }
  return out;
}

/** A layers-model topology in the form tfjs-layers 4 reads; Keras 2 topologies come back equal. */
export function normaliseKerasTopology(topology: unknown): unknown {
  return normalise(topology, 0, 'the model');
}
