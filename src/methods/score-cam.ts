/**
 * Score-CAM (Wang et al., CVPR-W 2020), as pytorch-grad-cam computes it: each activation channel
 * A_k is upsampled bilinearly to the input (corners aligned, as torch's UpsamplingBilinear2d),
 * min-max normalised to a mask M_k in [0, 1], the input is multiplied by it, and the masked
 * input's class score s_k (the logit) is measured by a forward pass. map = sum_k softmax(s)_k A_k.
 * No gradients; one forward pass per channel, in batches.
 */
import { numberOption, onlyOptions } from './options';
import type { LayerValues, MethodDescriptor } from './types';

/** Channel k of `a` upsampled to width x height with corner-aligned bilinear sampling. */
export function upsampleAlignCorners(a: LayerValues, k: number, width: number, height: number, out: Float32Array): void {
  const { data, width: w, height: h, channels } = a;
  const sy = height > 1 ? (h - 1) / (height - 1) : 0;
  const sx = width > 1 ? (w - 1) / (width - 1) : 0;
  for (let y = 0; y < height; y++) {
    const fy = y * sy;
    const y0 = Math.floor(fy);
    const y1 = Math.min(y0 + 1, h - 1);
    const dy = fy - y0;
    for (let x = 0; x < width; x++) {
      const fx = x * sx;
      const x0 = Math.floor(fx);
      const x1 = Math.min(x0 + 1, w - 1);
      const dx = fx - x0;
      const v00 = data[(y0 * w + x0) * channels + k], v01 = data[(y0 * w + x1) * channels + k];
      const v10 = data[(y1 * w + x0) * channels + k], v11 = data[(y1 * w + x1) * channels + k];
      out[y * width + x] = (v00 * (1 - dx) + v01 * dx) * (1 - dy) + (v10 * (1 - dx) + v11 * dx) * dy;
    }
  }
}

export const scoreCam: MethodDescriptor = {
  name: 'scorecam',
  label: 'Score-CAM',
  description: 'gradient-free: each channel masks the photo, and the class score of the masked photo weights it',
  stage: 'sampled-maps',
  resolution: 'layer',
  normalize: 'positive',
  byDefault: false,
  needs: ['activations'],
  compute: async (ctx) => {
    onlyOptions(ctx.options, 'scorecam', ['batchSize']);
    const batchSize = numberOption(ctx.options, 'scorecam', 'batchSize', 32, { min: 1, max: 1024, integer: true });
    const a = ctx.activations();
    const x = ctx.modelInput().data;
    const { width, height, channels } = ctx.input;
    const pixels = width * height;
    const mask = new Float32Array(pixels);
    const scores = await ctx.scores(a.channels, (start, n, out) => {
      for (let i = 0; i < n; i++) {
        upsampleAlignCorners(a, start + i, width, height, mask);
        let lo = Infinity, hi = -Infinity;
        for (const v of mask) {
          if (v < lo) lo = v;
          if (v > hi) hi = v;
        }
        const scale = 1 / (hi - lo + 1e-8);
        const o = i * pixels * channels;
        for (let p = 0; p < pixels; p++) {
          const m = (mask[p] - lo) * scale;
          for (let c = 0; c < channels; c++) out[o + p * channels + c] = x[p * channels + c] * m;
        }
      }
    }, batchSize);
    // Softmax over channels, shifted by the maximum for stability.
    let max = -Infinity;
    for (const s of scores) if (s > max) max = s;
    const weights = new Float64Array(a.channels);
    let sum = 0;
    for (let k = 0; k < a.channels; k++) sum += weights[k] = Math.exp(scores[k] - max);
    for (let k = 0; k < a.channels; k++) weights[k] /= sum;
    const out = new Float32Array(a.width * a.height);
    for (let p = 0; p < out.length; p++) {
      let s = 0;
      for (let k = 0; k < a.channels; k++) s += weights[k] * a.data[p * a.channels + k];
      out[p] = s;
    }
    return out;
  },
};
