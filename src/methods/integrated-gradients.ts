/**
 * Integrated Gradients (Sundararajan et al., ICML 2017): IG = (x - x') * integral over a in [0, 1]
 * of d y^c / d x at x' + a (x - x'), by Gauss-Legendre quadrature with `steps` nodes (50, as
 * Captum's default rule). The baseline x' is a black image (pixel value 0 through the model's
 * scaling: -1 for a -1..1 model), another grey level (`baseline`: 0..255), or an input of the
 * model's size in its own value range. The map reports its completeness gap
 * |sum IG - (y^c(x) - y^c(x'))| / |y^c(x) - y^c(x')|, which falls as `steps` grows.
 */
import { WhycamError } from '../errors';
import { numberOption, onlyOptions } from './options';
import { gaussLegendre } from './sampling';
import type { MethodContext, MethodDescriptor } from './types';

function baselineOf(ctx: MethodContext, size: number): Float32Array {
  const b = ctx.options.baseline;
  if (b instanceof Float32Array) {
    if (b.length !== size) throw new WhycamError('BAD_OPTION', `integrated-gradients: a baseline input has ${size} values (the model's input, HWC); got ${b.length}.`);
    return b;
  }
  const level = numberOption(ctx.options, 'integrated-gradients', 'baseline', 0, { min: 0, max: 255 });
  const { min, max } = ctx.inputDomain;
  return new Float32Array(size).fill(min + (level / 255) * (max - min));
}

export const integratedGradients: MethodDescriptor = {
  name: 'integrated-gradients',
  label: 'Integrated Gradients',
  description: 'gradients summed along the path from a black image to the photo: they add up to the score',
  stage: 'sampled-maps',
  resolution: 'input',
  normalize: 'abs',
  byDefault: false,
  needs: [],
  compute: async (ctx) => {
    onlyOptions(ctx.options, 'integrated-gradients', ['steps', 'baseline', 'batchSize']);
    const steps = numberOption(ctx.options, 'integrated-gradients', 'steps', 50, { min: 1, max: 1000, integer: true });
    const batchSize = numberOption(ctx.options, 'integrated-gradients', 'batchSize', 8, { min: 1, max: 256, integer: true });
    const x = ctx.modelInput().data;
    const base = baselineOf(ctx, x.length);
    const { nodes, weights } = gaussLegendre(steps);
    // The baseline's score rides along as one more input at a = 0, with weight 0.
    const alphas = [0, ...nodes];
    const w = [0, ...weights];
    const sum = new Float64Array(x.length);
    let baselineScore = 0;
    await ctx.gradients(alphas.length, (start, n, out) => {
      for (let i = 0; i < n; i++) {
        const a = alphas[start + i];
        for (let j = 0; j < x.length; j++) out[i * x.length + j] = base[j] + a * (x[j] - base[j]);
      }
    }, 'vanilla', batchSize, (start, n, gradients, scores) => {
      for (let i = 0; i < n; i++) {
        if (start + i === 0) baselineScore = scores[0];
        const wi = w[start + i];
        if (wi === 0) continue;
        for (let j = 0; j < x.length; j++) sum[j] += wi * gradients[i * x.length + j];
      }
    });
    const data = new Float32Array(x.length);
    let total = 0;
    for (let j = 0; j < x.length; j++) {
      data[j] = (x[j] - base[j]) * sum[j];
      total += data[j];
    }
    const delta = ctx.score() - baselineScore;
    const completenessGap = delta === 0 ? (total === 0 ? 0 : Infinity) : Math.abs(total - delta) / Math.abs(delta);
    return { data, stats: { completenessGap, scoreDelta: delta, attributionSum: total, steps } };
  },
};
