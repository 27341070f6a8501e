/**
 * Vanilla gradient (Simonyan et al. 2014): d y^c / d input, the raw input gradient of
 * the class logit, with the true gradient at every activation.
 */
import type { MethodDescriptor } from './types';

export const vanillaGradient: MethodDescriptor = {
  name: 'vanilla',
  label: 'Vanilla gradient',
  description: 'how much each pixel moves the class score',
  stage: 'gradient-maps',
  resolution: 'input',
  normalize: 'abs',
  byDefault: true,
  needs: ['input-gradient'],
  compute: (ctx) => ctx.inputGradient('vanilla').data,
};
