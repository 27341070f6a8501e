/**
 * "Can I trust this map?", measured on the device: deletion and insertion curves for each map
 * (against the same curves for a random pixel order), and the model-randomisation sanity check.
 */
import type { Explainer, MethodProgress } from '../explainer';
import type { ImageInput } from '../image/types';
import type { Fit } from '../image/fit';
import { getMethod, resolveMethods } from '../methods/registry';
import type { MethodName, SaliencyMap } from '../methods/types';
import { uniform } from '../methods/sampling';
import { WhycamError } from '../errors';
import { areaUnder, blur, changedAt, CURVE_STEPS, stepInput, type Curve } from './curves';
import { pixelImportance, pixelOrder } from './importance';
import { sanityCheck, type SanityStep } from './sanity';

export type TrustMetric = 'deletion' | 'insertion' | 'sanity';
export const TRUST_METRICS: readonly TrustMetric[] = ['deletion', 'insertion', 'sanity'];

export interface TrustOptions {
  /** Class to explain: index or label. Default: the top prediction. */
  class?: number | string;
  /** The maps to judge. Default: Grad-CAM and guided backpropagation. */
  methods?: MethodName[];
  /** Default: all three. */
  metrics?: TrustMetric[];
  layer?: string;
  /** How the photo is fitted to the model's input, as for explain(). Default 'cover'. */
  fit?: Fit;
  /** Sanity check: randomisation steps (default 5) and seed (default 0). */
  sanity?: { steps?: number; seed?: number };
  /** Forward passes per batch for the curves. Default 16. */
  batchSize?: number;
  signal?: { readonly aborted: boolean };
  onProgress?: (progress: MethodProgress) => void;
  /** Maps already computed for this image and class (e.g. by explain()), so they are not computed again. */
  maps?: Partial<Record<MethodName, SaliencyMap>>;
}

export interface MapTrust {
  deletion?: Curve;
  insertion?: Curve;
  /** One sentence a person can read. */
  summary: string;
}

export interface TrustReport {
  classIndex: number;
  label: string;
  /** The class probability of the photo itself. */
  probability: number;
  maps: Partial<Record<MethodName, MapTrust>>;
  /** The curves of a seeded random pixel order: what "no better than chance" looks like. */
  random?: { deletion?: Curve; insertion?: Curve };
  sanity?: SanityStep[];
}

function checkMetrics(metrics: TrustMetric[] | undefined): Set<TrustMetric> {
  const list = metrics ?? [...TRUST_METRICS];
  if (!Array.isArray(list) || list.length === 0) throw new WhycamError('BAD_OPTION', `metrics must be a non-empty list of ${TRUST_METRICS.join(', ')}.`);
  for (const m of list) if (!TRUST_METRICS.includes(m)) throw new WhycamError('BAD_OPTION', `Unknown metric '${m}'; use ${TRUST_METRICS.join(', ')}.`);
  return new Set(list);
}

const fmt = (v: number) => v.toFixed(2);

function summaryOf(method: MethodName, t: MapTrust, random: TrustReport['random'], sanity: SanityStep[] | undefined): string {
  const label = getMethod(method).label;
  const parts: string[] = [];
  // Within 0.02 of the random order's area counts as no different: the curves are 21 points.
  const compare = (ours: number, chance: number, lowerIsBetter: boolean) => {
    if (Math.abs(ours - chance) < 0.02) return 'about as fast as';
    return (lowerIsBetter ? ours < chance : ours > chance) ? 'faster than' : 'slower than';
  };
  if (t.deletion && random?.deletion) {
    parts.push(`removing its top pixels first lowers the class ${compare(t.deletion.auc, random.deletion.auc, true)} a random order (deletion area ${fmt(t.deletion.auc)} vs ${fmt(random.deletion.auc)})`);
  }
  if (t.insertion && random?.insertion) {
    parts.push(`restoring them first brings it back ${compare(t.insertion.auc, random.insertion.auc, false)} random (insertion area ${fmt(t.insertion.auc)} vs ${fmt(random.insertion.auc)})`);
  }
  const last = sanity?.[sanity.length - 1]?.correlation[method];
  if (last !== undefined) {
    parts.push(last < 0.5
      ? `it changes when the model's weights are randomised (rank correlation ${fmt(last)}), so it depends on what the model learned`
      : `it barely changes when the model's weights are randomised (rank correlation ${fmt(last)}): it shows the image more than the model`);
  }
  return parts.length ? `${label}: ${parts.join('; ')}.` : `${label}: nothing measured.`;
}

/** Deletion and insertion curves of one pixel order. */
async function curvesFor(
  explainer: Explainer, x: Float32Array, blurred: Float32Array, black: Float32Array, order: Uint32Array, classIndex: number,
  metrics: Set<TrustMetric>, name: string, options: TrustOptions,
): Promise<{ deletion?: Curve; insertion?: Curve }> {
  const { channels } = explainer.input;
  const pixels = order.length;
  const fractions = Array.from({ length: CURVE_STEPS + 1 }, (_, i) => i / CURVE_STEPS);
  const out: { deletion?: Curve; insertion?: Curve } = {};
  for (const kind of ['deletion', 'insertion'] as const) {
    if (!metrics.has(kind)) continue;
    const [from, to] = kind === 'deletion' ? [x, black] : [blurred, x];
    const probabilities = await explainer.scoreInputs(fractions.length, (start, n, buf) => {
      for (let i = 0; i < n; i++) {
        stepInput(from, to, order, changedAt(start + i, pixels), channels, buf.subarray(i * x.length, (i + 1) * x.length));
      }
    }, classIndex, { batchSize: options.batchSize ?? 16, signal: options.signal, onProgress: options.onProgress, progressName: `${kind}:${name}` });
    const p = Array.from(probabilities);
    out[kind] = { fractions, probabilities: p, auc: areaUnder(p) };
  }
  return out;
}

export async function evaluateTrust(explainer: Explainer, image: ImageInput, options: TrustOptions = {}): Promise<TrustReport> {
  const metrics = checkMetrics(options.metrics);
  const methods = resolveMethods(options.methods ?? ['gradcam', 'guided']).map((m) => m.name);
  const given = options.maps && methods.every((m) => options.maps?.[m]) ? options.maps : null;
  const givenClass = given ? given[methods[0]]!.classIndex : -1;
  if (given && methods.some((m) => given[m]!.classIndex !== givenClass)) throw new WhycamError('BAD_OPTION', 'The maps given explain different classes.');
  if (given && options.class !== undefined && explainer.resolveClass(options.class) !== givenClass) {
    throw new WhycamError('BAD_OPTION', `The maps given explain class ${givenClass}, not ${String(options.class)}.`);
  }
  const first = given
    ? { classIndex: givenClass, maps: given }
    : await explainer.explainAll(image, { class: options.class, methods, layer: options.layer, fit: options.fit, signal: options.signal });
  const { classIndex } = first;
  const report: TrustReport = {
    classIndex, label: explainer.labels[classIndex], probability: NaN, maps: {},
  };
  const { width, height, channels } = explainer.input;
  const x = explainer.modelInput(image, options.fit);
  const probability = await explainer.scoreInputs(1, (_s, _n, buf) => buf.set(x), classIndex, { signal: options.signal });
  report.probability = probability[0];

  if (metrics.has('deletion') || metrics.has('insertion')) {
    const blurred = blur(x, width, height, channels);
    const black = new Float32Array(x.length).fill(explainer.inputDomain.min);
    const rand = uniform(1);
    const shuffled = Uint32Array.from({ length: width * height }, (_, i) => i);
    for (let i = shuffled.length - 1; i > 0; i--) {
      const j = Math.floor(rand() * (i + 1));
      [shuffled[i], shuffled[j]] = [shuffled[j], shuffled[i]];
    }
    report.random = await curvesFor(explainer, x, blurred, black, shuffled, classIndex, metrics, 'random', options);
    for (const m of methods) {
      const map = first.maps[m] as SaliencyMap | undefined;
      if (!map) continue;
      const order = pixelOrder(pixelImportance(map, width, height));
      report.maps[m] = { ...(await curvesFor(explainer, x, blurred, black, order, classIndex, metrics, m, options)), summary: '' };
    }
  }
  if (metrics.has('sanity')) {
    report.sanity = await sanityCheck(explainer, image, {
      methods: methods.filter((m) => first.maps[m]), classIndex, layer: options.layer, fit: options.fit, ...options.sanity, signal: options.signal,
      onStep: (done, total) => options.onProgress?.({ method: 'sanity', done, total }),
    });
  }
  for (const m of methods) {
    if (!first.maps[m]) continue;
    const t = report.maps[m] ?? { summary: '' };
    t.summary = summaryOf(m, t, report.random, report.sanity);
    report.maps[m] = t;
  }
  return report;
}
