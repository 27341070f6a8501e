/**
 * Grad-CAM (Selvaraju et al., IJCV 2019): a_k^c = mean over (x,y) of d y^c / d A_k(x,y),
 * map = sum_k a_k^c A_k. Returned before the paper's ReLU (raw signed values); the
 * ReLU belongs to rendering and to Guided Grad-CAM.
 */
import type { LayerValues, MethodDescriptor } from './types';

/** Per channel, the mean over the grid of `values`. */
export function channelMeans({ data, width, height, channels }: LayerValues): Float64Array {
  const mean = new Float64Array(channels);
  const n = width * height;
  for (let p = 0; p < n; p++) for (let k = 0, o = p * channels; k < channels; k++) mean[k] += data[o + k];
  for (let k = 0; k < channels; k++) mean[k] /= n;
  return mean;
}

/** sum_k weights[k] A_k at every cell of A's grid. */
export function weightedSum({ data, width, height, channels }: LayerValues, weights: ArrayLike<number>): Float32Array {
  const out = new Float32Array(width * height);
  for (let p = 0; p < out.length; p++) {
    let s = 0;
    for (let k = 0, o = p * channels; k < channels; k++) s += weights[k] * data[o + k];
    out[p] = s;
  }
  return out;
}

export const gradCam: MethodDescriptor = {
  name: 'gradcam',
  label: 'Grad-CAM',
  description: 'last conv maps weighted by their mean gradient',
  stage: 'class-maps',
  resolution: 'layer',
  normalize: 'positive',
  byDefault: true,
  needs: ['activations', 'activation-gradient'],
  compute: (ctx) => weightedSum(ctx.activations(), channelMeans(ctx.activationGradient())),
};
