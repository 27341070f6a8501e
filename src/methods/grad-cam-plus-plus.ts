/**
 * Grad-CAM++ (Chattopadhay et al., WACV 2018), computed as pytorch-grad-cam computes it: with the
 * exponential-score simplification, the per-cell coefficients come from powers of the gradient,
 *   alpha_k(x,y) = g^2 / (2 g^2 + sum_xy A_k * g^3 + eps), g = d y^c / d A_k(x,y) (0 where g = 0),
 *   w_k = sum_xy alpha_k(x,y) ReLU(g), map = sum_k w_k A_k,
 * returned before the final ReLU like Grad-CAM.
 */
import { weightedSum } from './grad-cam';
import type { MethodDescriptor } from './types';

const EPS = 1e-6;

export const gradCamPlusPlus: MethodDescriptor = {
  name: 'gradcam++',
  label: 'Grad-CAM++',
  description: 'Grad-CAM with per-location weights: better with several objects of the class',
  stage: 'class-maps',
  resolution: 'layer',
  normalize: 'positive',
  byDefault: false,
  needs: ['activations', 'activation-gradient'],
  compute: (ctx) => {
    const a = ctx.activations();
    const { data: g, width, height, channels: k } = ctx.activationGradient();
    const cells = width * height;
    const sumA = new Float64Array(k);
    for (let p = 0; p < cells; p++) for (let j = 0; j < k; j++) sumA[j] += a.data[p * k + j];
    const weights = new Float64Array(k);
    for (let p = 0; p < cells; p++) {
      for (let j = 0; j < k; j++) {
        const gj = g[p * k + j];
        if (gj === 0) continue;
        const g2 = gj * gj;
        const alpha = g2 / (2 * g2 + sumA[j] * g2 * gj + EPS);
        if (gj > 0) weights[j] += alpha * gj;
      }
    }
    return weightedSum(a, weights);
  },
};
