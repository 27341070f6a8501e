/**
 * CAM (Zhou et al., CVPR 2016): CAM_c(x,y) = sum_k w_k^c A_k(x,y), with w^c the class's
 * weights in the Dense layer after global average pooling; for a Darknet-style class
 * convolution the target already holds one map per class and CAM_c = A_c. The Dense
 * bias is a constant offset and is left out, as in the paper.
 */
import type { MethodDescriptor } from './types';

export const cam: MethodDescriptor = {
  name: 'cam',
  label: 'CAM',
  description: 'class activation map: last conv maps weighted by the class weights',
  stage: 'class-maps',
  resolution: 'layer',
  normalize: 'positive',
  byDefault: true,
  needs: ['activations'],
  skipReason: (ctx) => {
    const head = ctx.camHead();
    return head.applies ? null : head.reason;
  },
  compute: (ctx) => {
    const head = ctx.camHead();
    const { data: a, width, height, channels: k } = ctx.activations();
    const out = new Float32Array(width * height);
    if (!head.applies) return out;
    if (head.kind === 'class-conv') {
      for (let p = 0; p < out.length; p++) out[p] = a[p * k + ctx.classIndex];
      return out;
    }
    const w = head.classWeights;
    for (let p = 0; p < out.length; p++) {
      let s = 0;
      for (let j = 0, o = p * k; j < k; j++) s += a[o + j] * w[j];
      out[p] = s;
    }
    return out;
  },
};
