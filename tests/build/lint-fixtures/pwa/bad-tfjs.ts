import * as tf from '@tensorflow/tfjs-core';

export const backend = (): string => tf.getBackend();
