/**
 * Vector-Jacobian products of activations, in two modes:
 * - 'vanilla': the true gradient.
 * - 'guided': guided backpropagation (Springenberg et al. 2015). At every ReLU-family
 *   unit the gradient passes only where the unit's input is positive AND the incoming
 *   gradient is positive. ReLU6 also blocks above 6 (clipped). LeakyReLU and PReLU keep
 *   their negative slope for negative inputs but still drop negative gradients. Every
 *   other activation (sigmoid, tanh, ELU, swish, ...) passes its true gradient.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { ActivationSpec } from '../model/activation';
import { reluBackward } from './kernels/relu-backward';

export type GradMode = 'vanilla' | 'guided';

/**
 * dL/dz given dL/dy, where y = act(z). `z` is the activation's input, `y` its output
 * (either may be used; both are recorded by the forward pass).
 */
export function activationGrad(spec: ActivationSpec, z: tf.Tensor, y: tf.Tensor, dy: tf.Tensor, mode: GradMode): tf.Tensor {
  return tf.tidy(() => {
    switch (spec.kind) {
      case 'linear':
        return tf.clone(dy);
      case 'relu':
        return reluBackward(z, dy, {
          lower: spec.threshold ?? 0, upper: spec.maxValue ?? Infinity, negativeSlope: 0, guided: mode === 'guided',
        });
      case 'leaky': {
        if (typeof spec.alpha === 'number') {
          return reluBackward(z, dy, { lower: 0, upper: Infinity, negativeSlope: spec.alpha, guided: mode === 'guided' });
        }
        const slope = tf.where(tf.greater(z, 0), tf.onesLike(z), tf.mul(tf.onesLike(z), spec.alpha));
        const g = mode === 'guided' ? tf.relu(dy) : dy;
        return tf.mul(g, slope);
      }
      case 'sigmoid':
        return tf.mul(dy, tf.mul(y, tf.sub(1, y)));
      case 'tanh':
        return tf.mul(dy, tf.sub(1, tf.square(y)));
      case 'softmax': {
        const axis = spec.axis < 0 ? y.rank + spec.axis : spec.axis;
        const dot = tf.sum(tf.mul(dy, y), axis, true);
        return tf.mul(y, tf.sub(dy, dot));
      }
      case 'other':
        return tf.grad(spec.fn)(z, dy);
    }
  });
}
