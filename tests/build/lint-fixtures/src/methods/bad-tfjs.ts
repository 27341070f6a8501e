import * as tf from '@tensorflow/tfjs-core';

export const sum = (t: tf.Tensor): tf.Tensor => tf.sum(t);
