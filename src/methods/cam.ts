/**
 * CAM (Zhou et al., CVPR 2016): CAM_c(x,y) = sum_k w_k^c A_k(x,y), with w^c the class's
 * weights in the Dense layer after global average pooling; for a Darknet-style class
 * convolution the target already holds one map per class and CAM_c = A_c. The Dense
 * bias is a constant offset and is left out, as in the paper.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { CamHead } from '../model/inspect';

/** `features` is A [1, H, W, K]; `denseKernel` is W [K, classes] for the 'dense' head. Returns H*W values. */
export function camMap(features: tf.Tensor4D, head: CamHead & { applies: true }, classIndex: number, denseKernel?: tf.Tensor2D): Float32Array {
  const map = tf.tidy(() => {
    const [, h, w, k] = features.shape;
    if (head.kind === 'class-conv') {
      return tf.slice(features, [0, 0, 0, classIndex], [1, h, w, 1]);
    }
    const column = tf.slice(denseKernel as tf.Tensor2D, [0, classIndex], [k, 1]);
    return tf.matMul(tf.reshape(features, [h * w, k]), column);
  });
  const data = map.dataSync() as Float32Array;
  map.dispose();
  return data;
}
