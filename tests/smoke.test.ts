import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-wasm';
test('wasm backend starts in node', async () => {
  expect(await tf.setBackend('wasm')).toBe(true);
  const y = tf.conv2d(tf.ones([1, 4, 4, 1]) as tf.Tensor4D, tf.ones([3, 3, 1, 1]) as tf.Tensor4D, 1, 'same');
  expect(Array.from(y.dataSync()).slice(0, 2)).toEqual([4, 6]);
});
