/**
 * Vanilla gradient (Simonyan et al. 2014): d y^c / d input, the raw input gradient of
 * the class logit, with the true gradient at every activation.
 */
import type * as tf from '@tensorflow/tfjs-core';
import type { BackwardPass } from '../gradients/backward';

/** Runs (or finishes) a 'vanilla' backward pass down to the input. Returns HWC values. */
export function vanillaGradient(pass: BackwardPass, inputRef: number): Float32Array {
  return Float32Array.from((pass.runTo(inputRef) as tf.Tensor4D).dataSync());
}
