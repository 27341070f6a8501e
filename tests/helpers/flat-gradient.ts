/** Applies one flat gradient (variables' order, as the training replicas send it) with a stock tfjs optimizer at `learningRate`. */
import * as tf from '@tensorflow/tfjs-core';

export function applyFlatGradient(optimizer: tf.Optimizer, variables: tf.Variable[], flat: Float32Array, learningRate: number): void {
  // tf.train.adam reads its learning rate from this field every step.
  (optimizer as unknown as { learningRate: number }).learningRate = learningRate;
  let at = 0;
  const named = variables.map((v) => {
    const tensor = tf.tensor(flat.subarray(at, at + v.size), v.shape);
    at += v.size;
    return { name: v.name, tensor };
  });
  optimizer.applyGradients(named);
  tf.dispose(named.map((n) => n.tensor));
}
