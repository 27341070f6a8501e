/**
 * Layer-CAM (Jiang et al., IEEE TIP 2021): every cell's activation weighted by its own positive
 * gradient, map = sum_k ReLU(d y^c / d A_k) * A_k. Unlike Grad-CAM it keeps spatial detail at
 * earlier, higher-resolution layers: name one with the `layer` option.
 */
import type { MethodDescriptor } from './types';

export const layerCam: MethodDescriptor = {
  name: 'layercam',
  label: 'Layer-CAM',
  description: 'activations weighted by their own positive gradients: sharp at earlier layers',
  stage: 'class-maps',
  resolution: 'layer',
  normalize: 'positive',
  byDefault: false,
  needs: ['activations', 'activation-gradient'],
  compute: (ctx) => {
    const { data: a, width, height, channels: k } = ctx.activations();
    const g = ctx.activationGradient().data;
    const out = new Float32Array(width * height);
    for (let p = 0; p < out.length; p++) {
      let s = 0;
      for (let j = 0, o = p * k; j < k; j++) if (g[o + j] > 0) s += g[o + j] * a[o + j];
      out[p] = s;
    }
    return out;
  },
};
