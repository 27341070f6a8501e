/**
 * Checks a layers-model topology (model.json's `modelTopology`) before tfjs-layers builds it:
 * tfjs-layers re-queues a layer call whose input does not exist yet until it does, so a
 * dangling input or a cycle would spin forever, and it allocates every layer's variables as it
 * builds, so an absurd shape would exhaust memory before the weights are compared.
 */
import { WhycamError } from '../errors';
import { shapeProblem } from '../model-files/weights';

type Json = Record<string, unknown>;

const CONTAINERS = new Set(['Sequential', 'Model', 'Functional']);
/** Layer config fields that are shapes. */
const SHAPE_FIELDS = ['batch_input_shape', 'batch_shape', 'input_shape', 'target_shape'];
/** Layer config fields that size a weight: far above any classifier's, far below what exhausts memory. */
const SIZE_FIELDS = ['units', 'filters', 'input_dim', 'output_dim'];
const MAX_UNITS = 1 << 20;

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const corrupt = (msg: string) => new WhycamError('MODEL_CORRUPT', `model.json is corrupt: ${msg}.`);

function checkLayerFields(layer: Json, name: string): void {
  const config = isObject(layer.config) ? layer.config : {};
  for (const field of SHAPE_FIELDS) {
    if (config[field] === undefined || config[field] === null) continue;
    const p = shapeProblem(config[field], true);
    if (p) throw new WhycamError(/elements/.test(p) ? 'MODEL_TOO_LARGE' : 'MODEL_CORRUPT', `Layer '${name}' ${field}: ${p}.`);
  }
  for (const field of SIZE_FIELDS) {
    const v = config[field];
    if (v === undefined || v === null) continue;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) throw corrupt(`layer '${name}' has ${field} ${JSON.stringify(v)}`);
    if (v > MAX_UNITS) throw new WhycamError('MODEL_TOO_LARGE', `Layer '${name}' has ${field} = ${v} (the limit is ${MAX_UNITS}).`);
  }
}

/** [layer name, node index] of one inbound entry in the tfjs-layers form `[name, node, tensor, kwargs]`. */
function inboundRef(entry: unknown, owner: string): [string, number] {
  if (!Array.isArray(entry) || typeof entry[0] !== 'string' || !Number.isInteger(entry[1]) || (entry[1] as number) < 0) {
    throw corrupt(`layer '${owner}' has an inbound entry ${JSON.stringify(entry)?.slice(0, 80)} that is not [layer, node, tensor]`);
  }
  return [entry[0], entry[1] as number];
}

function checkFunctional(config: Json, path: string): void {
  const layers = config.layers;
  if (!Array.isArray(layers)) throw corrupt(`model '${path}' has no list of layers`);
  const byName = new Map<string, Json>();
  for (const l of layers) {
    if (!isObject(l)) throw corrupt(`model '${path}' has a layer that is not an object`);
    const name = String(l.name ?? (isObject(l.config) ? l.config.name : ''));
    if (byName.has(name)) throw corrupt(`model '${path}' has two layers named '${name}'`);
    byName.set(name, l);
  }
  // An InputLayer has no inbound nodes but one node of its own; a nested model has one before its calls.
  const nodeCount = (l: Json) => (l.class_name === 'InputLayer' ? 1 : 0) + (CONTAINERS.has(String(l.class_name)) ? 1 : 0) +
    (Array.isArray(l.inbound_nodes) ? l.inbound_nodes.length : 0);
  const deps = new Map<string, string[]>();
  for (const [name, l] of byName) {
    const nodes = l.inbound_nodes ?? [];
    if (!Array.isArray(nodes)) throw corrupt(`layer '${name}' has inbound_nodes that are not a list`);
    nodes.forEach((node, i) => {
      if (!Array.isArray(node)) throw corrupt(`layer '${name}' has an inbound node that is not a list`);
      deps.set(`${name}#${i + (CONTAINERS.has(String(l.class_name)) ? 1 : 0)}`, node.map((entry) => {
        const [from, at] = inboundRef(entry, name);
        const source = byName.get(from);
        if (!source) throw corrupt(`layer '${name}' reads from '${from}', which is not a layer of '${path}'`);
        if (at >= nodeCount(source)) throw corrupt(`layer '${name}' reads node ${at} of '${from}', which has ${nodeCount(source)}`);
        return `${from}#${at}`;
      }));
    });
  }
  // Depth-first over layer calls: a call met again while its own inputs are being walked is a cycle.
  const state = new Map<string, 'walking' | 'done'>();
  const walk = (start: string) => {
    const stack: Array<{ node: string; next: number }> = [{ node: start, next: 0 }];
    state.set(start, 'walking');
    while (stack.length) {
      const top = stack[stack.length - 1];
      const ins = deps.get(top.node) ?? [];
      if (top.next >= ins.length) {
        state.set(top.node, 'done');
        stack.pop();
        continue;
      }
      const dep = ins[top.next++];
      const s = state.get(dep);
      if (s === 'walking') throw corrupt(`the layers of '${path}' form a cycle through '${dep.split('#')[0]}'`);
      if (s === undefined) {
        state.set(dep, 'walking');
        stack.push({ node: dep, next: 0 });
      }
    }
  };
  for (const node of deps.keys()) if (!state.has(node)) walk(node);
  for (const field of ['input_layers', 'output_layers']) {
    const ends = config[field];
    if (!Array.isArray(ends)) throw corrupt(`model '${path}' has no ${field}`);
    for (const e of ends) {
      const [from, at] = inboundRef(e, path);
      const source = byName.get(from);
      if (!source) throw corrupt(`${field} of '${path}' names '${from}', which is not one of its layers`);
      if (at >= nodeCount(source)) throw corrupt(`${field} of '${path}' names node ${at} of '${from}', which has ${nodeCount(source)}`);
    }
  }
}

function checkLayer(layer: Json, path: string, depth: number): void {
  if (depth > 100) throw corrupt('models are nested more than 100 deep');
  const name = String(layer.name ?? (isObject(layer.config) ? layer.config.name : '') ?? '?');
  checkLayerFields(layer, name);
  if (!CONTAINERS.has(String(layer.class_name))) return;
  const config = layer.config;
  const inner = `${path}${name}`;
  // Sequential: a list of layers (older exports) or { name, layers }.
  const layers = Array.isArray(config) ? config : isObject(config) ? config.layers : undefined;
  if (!Array.isArray(layers)) throw corrupt(`model '${inner}' has no list of layers`);
  if (layer.class_name !== 'Sequential' && isObject(config)) checkFunctional(config, inner);
  for (const l of layers) {
    if (!isObject(l)) throw corrupt(`model '${inner}' has a layer that is not an object`);
    checkLayer(l, `${inner}/`, depth + 1);
  }
}

/** Throws MODEL_CORRUPT for dangling inputs, cycles and malformed layer lists, MODEL_TOO_LARGE for absurd shapes. */
export function checkLayersTopology(topology: unknown): void {
  if (!isObject(topology)) throw corrupt('modelTopology is not an object');
  const root = isObject(topology.model_config) ? topology.model_config : topology;
  checkLayer(root, '', 0);
}
