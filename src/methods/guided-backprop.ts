/**
 * Guided backpropagation (Springenberg et al. 2015): the input gradient of a backward pass in
 * which every ReLU-family unit passes only positive input *and* positive gradient (the gate is
 * the pass's 'guided' mode; see the activation gradients for ReLU6, LeakyReLU and the rest).
 */
import type { MethodDescriptor } from './types';

export const guidedBackprop: MethodDescriptor = {
  name: 'guided',
  label: 'Guided backprop',
  description: 'gradient through ReLUs that pass only positive signal (not class-specific)',
  stage: 'gradient-maps',
  resolution: 'input',
  normalize: 'abs',
  byDefault: true,
  needs: ['guided-input-gradient'],
  compute: (ctx) => ctx.inputGradient('guided').data,
};
