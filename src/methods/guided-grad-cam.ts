/**
 * Guided Grad-CAM (Selvaraju et al.): guided backprop (HWC at input size) times
 * ReLU(Grad-CAM) bilinearly upsampled to the input size, element-wise per channel.
 */
import { upsample } from '../render/upsample';
import type { MethodDescriptor } from './types';

export function guidedGradCamMap(
  guided: { data: Float32Array; width: number; height: number; channels: number },
  gradCam: { data: Float32Array; width: number; height: number },
): Float32Array {
  const positive = gradCam.data.map((v) => (v > 0 ? v : 0));
  const cam = upsample({ data: positive, width: gradCam.width, height: gradCam.height }, guided.width, guided.height);
  const out = new Float32Array(guided.data.length);
  const c = guided.channels;
  for (let p = 0; p < cam.length; p++) {
    for (let k = 0; k < c; k++) out[p * c + k] = guided.data[p * c + k] * cam[p];
  }
  return out;
}

export const guidedGradCam: MethodDescriptor = {
  name: 'guided-gradcam',
  label: 'Guided Grad-CAM',
  description: 'guided backprop times Grad-CAM: sharp and class-specific',
  stage: 'guided-gradcam',
  resolution: 'input',
  normalize: 'abs',
  byDefault: true,
  needs: [],
  uses: ['gradcam', 'guided'],
  compute: (ctx) => guidedGradCamMap(ctx.map('guided'), ctx.map('gradcam')),
};
