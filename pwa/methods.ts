import type { NormalizeMode } from '../src/render';

/** The five methods, in the order the switcher shows them (coarse first). */
export type Method = 'cam' | 'gradcam' | 'guided' | 'guided-gradcam' | 'vanilla';

export const METHODS: ReadonlyArray<{ id: Method; label: string; coarse: boolean; what: string }> = [
  { id: 'cam', label: 'CAM', coarse: true, what: 'class activation map: last conv maps weighted by the class weights' },
  { id: 'gradcam', label: 'Grad-CAM', coarse: true, what: 'last conv maps weighted by their mean gradient' },
  { id: 'guided', label: 'Guided backprop', coarse: false, what: 'gradient through ReLUs that pass only positive signal (not class-specific)' },
  { id: 'guided-gradcam', label: 'Guided Grad-CAM', coarse: false, what: 'guided backprop times Grad-CAM: sharp and class-specific' },
  { id: 'vanilla', label: 'Vanilla gradient', coarse: false, what: 'how much each pixel moves the class score' },
];

export function methodLabel(m: Method): string {
  return METHODS.find((x) => x.id === m)?.label ?? m;
}

/** Class maps are signed sums before the papers' ReLU; gradient maps are read by magnitude. */
export function normalizeModeFor(m: Method): NormalizeMode {
  return m === 'cam' || m === 'gradcam' ? 'positive' : 'abs';
}
