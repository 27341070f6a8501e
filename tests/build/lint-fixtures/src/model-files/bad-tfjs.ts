import * as tf from '@tensorflow/tfjs-core';

export const bytes = (dtype: tf.DataType): number => (dtype === 'float32' ? 4 : 1);
