/**
 * SmoothGrad (Smilkov et al. 2017): the mean input gradient over `samples` noisy copies
 * x + N(0, sigma^2), sigma = `noise` x (max - min of this input's values), as the authors' code
 * sets it. The gradient is the vanilla one, or the guided one with `gradient: 'guided'`. The noise
 * is seeded (`seed`), so the same request gives the same map.
 */
import { WhycamError } from '../errors';
import { numberOption, onlyOptions } from './options';
import { gaussian } from './sampling';
import type { MethodDescriptor } from './types';

export const smoothGrad: MethodDescriptor = {
  name: 'smoothgrad',
  label: 'SmoothGrad',
  description: 'the gradient averaged over noisy copies of the photo: less speckle',
  stage: 'sampled-maps',
  resolution: 'input',
  normalize: 'abs',
  byDefault: false,
  needs: [],
  compute: async (ctx) => {
    const o = ctx.options;
    onlyOptions(o, 'smoothgrad', ['samples', 'noise', 'seed', 'gradient', 'batchSize']);
    const samples = numberOption(o, 'smoothgrad', 'samples', 25, { min: 1, max: 1000, integer: true });
    const noise = numberOption(o, 'smoothgrad', 'noise', 0.15, { min: 0, max: 10 });
    const seed = numberOption(o, 'smoothgrad', 'seed', 0, { min: 0, max: 2 ** 32 - 1, integer: true });
    const batchSize = numberOption(o, 'smoothgrad', 'batchSize', 8, { min: 1, max: 256, integer: true });
    const mode = o.gradient ?? 'vanilla';
    if (mode !== 'vanilla' && mode !== 'guided') throw new WhycamError('BAD_OPTION', `smoothgrad: 'gradient' is 'vanilla' or 'guided'; got ${JSON.stringify(mode)}.`);
    const x = ctx.modelInput().data;
    let lo = Infinity, hi = -Infinity;
    for (const v of x) {
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
    const sigma = noise * (hi - lo);
    const normal = gaussian(seed);
    const sum = new Float64Array(x.length);
    await ctx.gradients(samples, (_start, n, out) => {
      for (let i = 0; i < n; i++) for (let j = 0; j < x.length; j++) out[i * x.length + j] = x[j] + sigma * normal();
    }, mode, batchSize, (_start, n, gradients) => {
      for (let i = 0; i < n; i++) for (let j = 0; j < x.length; j++) sum[j] += gradients[i * x.length + j];
    });
    return Float32Array.from(sum, (v) => v / samples);
  },
};
