import type * as tf from '@tensorflow/tfjs-core';

export type Map = tf.Tensor;
