/**
 * Guided backpropagation (Springenberg et al. 2015): the input gradient with every
 * ReLU-family unit passing only positive input *and* positive gradient (see
 * gradients/activation-grad.ts for ReLU6, LeakyReLU and the rest).
 */
import type * as tf from '@tensorflow/tfjs-core';
import type { BackwardPass } from '../gradients/backward';

/** Runs a 'guided' backward pass down to the input. Returns HWC values. */
export function guidedBackprop(pass: BackwardPass, inputRef: number): Float32Array {
  return Float32Array.from((pass.runTo(inputRef) as tf.Tensor4D).dataSync());
}
