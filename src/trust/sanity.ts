/**
 * The model-randomisation sanity check (Adebayo et al., NeurIPS 2018), cascading: the trained
 * weights are replaced layer by layer from the output down, and after each step the map is
 * computed again and compared with the original by Spearman rank correlation (of the raw class
 * map, or of the largest |value| over channels of a gradient map). A map that explains the model
 * changes as its weights go (the correlation falls); one that barely changes shows the image, not
 * the model. The trained weights are put back afterwards, also after an error or a cancel.
 */
import type { Explainer } from '../explainer';
import type { ImageInput } from '../image/types';
import type { Fit } from '../image/fit';
import type { MethodName } from '../methods/types';
import { WhycamError } from '../errors';
import { cellImportance, spearman } from './importance';

export interface SanityStep {
  /** How many weighted layers are random at this step (0: none, the trained model). */
  randomized: number;
  /** The deepest random layer (null at step 0). */
  layer: string | null;
  /** Rank correlation with the trained model's map, per method. */
  correlation: Partial<Record<MethodName, number>>;
}

export interface SanityOptions {
  methods: MethodName[];
  classIndex: number;
  layer?: string;
  fit?: Fit;
  /** Number of randomisation steps after the trained one (the weighted layers split evenly). Default 5. */
  steps?: number;
  seed?: number;
  signal?: { readonly aborted: boolean };
  onStep?: (done: number, total: number) => void;
}

/** The cumulative number of top layers random at each step 1..steps. */
export function cascade(weightedLayers: number, steps: number): number[] {
  const n = Math.min(steps, weightedLayers);
  return Array.from({ length: n }, (_, i) => Math.round(((i + 1) * weightedLayers) / n));
}

export async function sanityCheck(explainer: Explainer, image: ImageInput, options: SanityOptions): Promise<SanityStep[]> {
  const { methods, classIndex, layer } = options;
  const steps = options.steps ?? 5;
  if (!Number.isInteger(steps) || steps < 1 || steps > 100) throw new WhycamError('BAD_OPTION', `sanity steps must be an integer from 1 to 100; got ${steps}.`);
  const maps = async () => {
    const r = await explainer.explainAll(image, { class: classIndex, methods, layer, fit: options.fit, signal: options.signal });
    return Object.fromEntries(methods.map((m) => [m, r.maps[m] ? cellImportance(r.maps[m]!) : null])) as Record<MethodName, Float32Array | null>;
  };
  const original = await maps();
  const layers = explainer.weightedLayers();
  const plan = [0, ...cascade(layers.length, steps)];
  const out: SanityStep[] = [];
  for (const [i, count] of plan.entries()) {
    if (options.signal?.aborted) throw new WhycamError('CANCELLED', 'The request was superseded or cancelled.');
    const restore = explainer.randomizeLayers(layers.slice(0, count), (options.seed ?? 0) + i);
    try {
      const now = await maps();
      const correlation: SanityStep['correlation'] = {};
      for (const m of methods) {
        const a = original[m], b = now[m];
        if (a && b) correlation[m] = spearman(a, b);
      }
      out.push({ randomized: count, layer: count ? layers[count - 1] : null, correlation });
    } finally {
      restore();
    }
    options.onStep?.(i + 1, plan.length);
  }
  return out;
}
