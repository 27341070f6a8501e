/**
 * The method registry: every method the explainer, the worker, the CLI, the app and the widget
 * know of. A built-in method is one file in this folder and one line in BUILTINS; an app adds
 * its own with `registerMethod`.
 */
import { WhycamError } from '../errors';
import { cam } from './cam';
import { gradCam } from './grad-cam';
import { vanillaGradient } from './vanilla-gradient';
import { guidedBackprop } from './guided-backprop';
import { guidedGradCam } from './guided-grad-cam';
import { gradCamPlusPlus } from './grad-cam-plus-plus';
import { layerCam } from './layer-cam';
import { scoreCam } from './score-cam';
import { smoothGrad } from './smoothgrad';
import { integratedGradients } from './integrated-gradients';
import { MAP_STAGES, type MethodDescriptor, type MethodName } from './types';

const BUILTINS: readonly MethodDescriptor[] = [
  cam, gradCam, gradCamPlusPlus, layerCam, vanillaGradient, guidedBackprop, guidedGradCam, scoreCam, smoothGrad, integratedGradients,
];

/** The built-in methods' names, in registry order. */
export const METHOD_NAMES: readonly MethodName[] = BUILTINS.map((m) => m.name);

const registry = new Map<string, MethodDescriptor>(BUILTINS.map((m) => [m.name, m]));

const NAME = /^[a-z][a-z0-9+-]{0,39}$/;
const NEEDS = new Set(['activations', 'activation-gradient', 'input-gradient', 'guided-input-gradient']);

/** Adds a method. Its name must be new; the methods it `uses` must be registered already. */
export function registerMethod(method: MethodDescriptor): void {
  const bad = (why: string) => new WhycamError('BAD_OPTION', `Cannot register method '${String(method?.name)}': ${why}.`);
  if (!method || typeof method.name !== 'string' || !NAME.test(method.name)) throw bad('a name is 1-40 characters of a-z, 0-9, + and -, starting with a letter');
  if (registry.has(method.name)) throw bad('a method of that name is registered already');
  if (!MAP_STAGES.includes(method.stage)) throw bad(`its stage must be one of ${MAP_STAGES.join(', ')}`);
  if (method.resolution !== 'layer' && method.resolution !== 'input') throw bad("its resolution must be 'layer' or 'input'");
  if (typeof method.compute !== 'function') throw bad('it has no compute function');
  for (const n of method.needs ?? []) if (!NEEDS.has(n)) throw bad(`unknown need '${n}'`);
  for (const u of method.uses ?? []) {
    const used = registry.get(u);
    if (!used) throw bad(`it uses '${u}', which is not registered`);
    if (MAP_STAGES.indexOf(used.stage) > MAP_STAGES.indexOf(method.stage)) throw bad(`it uses '${u}', which comes in a later stage`);
  }
  registry.set(method.name, method);
}

/** Removes a method added with `registerMethod` (built-ins stay). */
export function unregisterMethod(name: MethodName): void {
  if (METHOD_NAMES.includes(name)) throw new WhycamError('BAD_OPTION', `'${name}' is built in and cannot be removed.`);
  for (const m of registry.values()) {
    if (m.uses?.includes(name)) throw new WhycamError('BAD_OPTION', `'${name}' is used by '${m.name}'.`);
  }
  registry.delete(name);
}

/** Every registered method, stage by stage, in registration order within a stage. */
export function listMethods(): MethodDescriptor[] {
  const all = [...registry.values()];
  return MAP_STAGES.flatMap((s) => all.filter((m) => m.stage === s));
}

export function methodNames(): MethodName[] {
  return listMethods().map((m) => m.name);
}

/** The methods a request that names none runs. */
export function defaultMethodNames(): MethodName[] {
  return listMethods().filter((m) => m.byDefault).map((m) => m.name);
}

export function isMethodName(name: unknown): name is MethodName {
  return typeof name === 'string' && registry.has(name);
}

export function getMethod(name: MethodName): MethodDescriptor {
  const m = registry.get(name);
  if (!m) throw new WhycamError('UNKNOWN_METHOD', `Unknown method '${name}'; use ${methodNames().join(', ')}.`);
  return m;
}

/** Checks a request's method list (default: the default methods) and returns it without repeats, in order. */
export function resolveMethods(names: readonly MethodName[] | undefined): MethodDescriptor[] {
  if (names === undefined) return defaultMethodNames().map(getMethod);
  if (!Array.isArray(names) || names.length === 0) {
    throw new WhycamError('UNKNOWN_METHOD', `Methods must be a non-empty list of ${methodNames().join(', ')}.`);
  }
  const out: MethodDescriptor[] = [];
  for (const n of names) {
    const m = getMethod(n);
    if (!out.includes(m)) out.push(m);
  }
  return out;
}

/** The methods and, recursively, the methods they use. */
export function withDependencies(methods: readonly MethodDescriptor[]): MethodDescriptor[] {
  const out: MethodDescriptor[] = [];
  const visit = (m: MethodDescriptor) => {
    if (out.includes(m)) return;
    for (const u of m.uses ?? []) visit(getMethod(u));
    out.push(m);
  };
  methods.forEach(visit);
  return out;
}

/** Whether a method reads the target layer, itself or through the methods it uses. */
export function needsTargetLayer(m: MethodDescriptor): boolean {
  return m.resolution === 'layer'
    || m.needs.some((n) => n === 'activations' || n === 'activation-gradient')
    || (m.uses ?? []).some((u) => needsTargetLayer(getMethod(u)));
}
