/**
 * CAM (Zhou et al., CVPR 2016): CAM_c(x,y) = sum_k w_k^c A_k(x,y), with w^c the class's
 * weights in the Dense layer after global average pooling; for a Darknet-style class
 * convolution the target already holds one map per class and CAM_c = A_c. The Dense
 * bias is a constant offset and is left out, as in the paper.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { CamHead } from '../model/inspect';

/**
 * The dense kernel's values, read once per model, and a class's column of W [K, classes] picked
 * in JS. tfjs-backend-wasm's Slice copies its whole input out of the heap before picking (readSync),
 * so any slice of W, column or row, costs a copy of W: 4-18 ms a request in Chromium
 * (npm run bench:profile), 0.6-16 ms in Node for a row of a 1000x1280 W^T; this path, 0.05 ms.
 */
// Keyed by the tensor's data id, which a Variable.assign replaces: new weights are read again.
const kernelValues = new WeakMap<object, Float32Array>();

function classColumn(denseKernel: tf.Tensor2D, classIndex: number): Float32Array {
  const key = denseKernel.dataId as object;
  let values = kernelValues.get(key);
  if (!values) {
    values = denseKernel.dataSync() as Float32Array;
    kernelValues.set(key, values);
  }
  const [k, classes] = denseKernel.shape;
  const column = new Float32Array(k);
  for (let i = 0; i < k; i++) column[i] = values[i * classes + classIndex];
  return column;
}

/** `features` is A [1, H, W, K]; `denseKernel` is W [K, classes] for the 'dense' head. Returns H*W values. */
export function camMap(features: tf.Tensor4D, head: CamHead & { applies: true }, classIndex: number, denseKernel?: tf.Tensor2D): Float32Array {
  const column = head.kind === 'dense' ? classColumn(denseKernel as tf.Tensor2D, classIndex) : null;
  const map = tf.tidy(() => {
    const [, h, w, k] = features.shape;
    if (head.kind === 'class-conv') {
      return tf.slice(features, [0, 0, 0, classIndex], [1, h, w, 1]);
    }
    return tf.matMul(tf.reshape(features, [h * w, k]), tf.tensor2d(column as Float32Array, [k, 1]));
  });
  const data = map.dataSync() as Float32Array;
  map.dispose();
  return data;
}
