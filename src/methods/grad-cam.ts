/**
 * Grad-CAM (Selvaraju et al., IJCV 2019): a_k^c = mean over (x,y) of d y^c / d A_k(x,y),
 * map = sum_k a_k^c A_k. Returned before the paper's ReLU (raw signed values); the
 * ReLU belongs to rendering and to Guided Grad-CAM.
 */
import * as tf from '@tensorflow/tfjs-core';

/** `features` A and `grads` dy^c/dA, both [1, H, W, K]. Returns H*W values. */
export function gradCamMap(features: tf.Tensor4D, grads: tf.Tensor4D): Float32Array {
  const t = tf.tidy(() => {
    const [, h, w, k] = features.shape;
    const weights = tf.reshape(tf.mean(grads, [1, 2]), [k, 1]);
    return tf.matMul(tf.reshape(features, [h * w, k]), weights);
  });
  const data = t.dataSync() as Float32Array;
  t.dispose();
  return data;
}
