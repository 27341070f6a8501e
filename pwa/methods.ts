import { getMethod, isMethodName, listMethods } from '../src/methods/registry';
import type { MethodName } from '../src/methods/types';
import type { NormalizeMode } from '../src/render';

/** A method the app can show: any registered method (src/methods/registry.ts). */
export type Method = MethodName;

/** The registry's methods in the switcher's order: class maps first, then the sharp maps. */
export function methodList(): ReadonlyArray<{ id: Method; label: string; coarse: boolean; what: string; byDefault: boolean }> {
  return listMethods().map((m) => ({ id: m.name, label: m.label, coarse: m.stage === 'class-maps', what: m.description, byDefault: m.byDefault }));
}

export function methodLabel(m: Method): string {
  return isMethodName(m) ? getMethod(m).label : m;
}

/** Class maps are signed sums before the papers' ReLU; gradient maps are read by magnitude. */
export function normalizeModeFor(m: Method): NormalizeMode {
  return isMethodName(m) ? getMethod(m).normalize : 'abs';
}

/** The methods every explanation computes (the registry's defaults), in the switcher. */
export const METHODS = methodList().filter((m) => m.byDefault);
