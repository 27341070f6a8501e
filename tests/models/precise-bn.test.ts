/**
 * Precise batch-norm statistics: the moving mean and variance of the first batch-norm layer
 * must equal the average over batches of its input's batch mean and biased batch variance,
 * computed here independently (tf.conv2d + tf.moments on the stem's output).
 */
import * as tf from '@tensorflow/tfjs-core';
import { BACKENDS, relMaxDiff, switchTo } from '../helpers/backends';
import { suppressTfjsNodeBanner } from '../../src/cli/quiet-tfjs';
import { buildModel, type ArchSpec } from '../../models/pipeline/model';
import { preciseBatchNorm } from '../../models/pipeline/precise-bn';

const ARCH: ArchSpec = {
  inputSize: 16, stemFilters: 6, classes: 3,
  blocks: [{ filters: 8, stride: 1 }, { filters: 12, stride: 2 }],
};

describe.each(BACKENDS)('preciseBatchNorm on %s', (backend) => {
  beforeAll(async () => {
    suppressTfjsNodeBanner();
    await switchTo(backend);
  });

  test('leaves the mean of the batch statistics in the moving statistics, and nothing else changes', () => {
    const model = buildModel(ARCH, 3);
    const batches = [0, 1, 2, 3].map((b) => tf.randomUniform([5, 16, 16, 3], 0, 1 + b, 'float32', 10 + b) as tf.Tensor4D);
    const read = (name: string) => model.weights.find((w) => w.originalName === name)!.read().dataSync() as Float32Array;
    const kernel = model.getLayer('stem_conv').getWeights()[0] as tf.Tensor4D; // the layer's own tensor
    // Expected, independently: the stem conv's output statistics per batch, averaged.
    const expected = tf.tidy(() => {
      const stats = batches.map((x) => tf.moments(tf.conv2d(x, kernel, 2, 'same'), [0, 1, 2]));
      return {
        mean: tf.div(tf.addN(stats.map((s) => s.mean)), batches.length).dataSync() as Float32Array,
        variance: tf.div(tf.addN(stats.map((s) => s.variance)), batches.length).dataSync() as Float32Array,
      };
    });
    const trainable = model.trainableWeights.map((w) => w.read().dataSync().slice());
    const movingBefore = read('block2_pw_bn/moving_mean').slice();
    const base = tf.memory().numTensors;

    preciseBatchNorm(model, (b) => tf.clone(batches[b]), batches.length);

    expect(tf.memory().numTensors).toBe(base);
    expect(relMaxDiff(read('stem_bn/moving_mean'), expected.mean)).toBeLessThan(1e-4);
    expect(relMaxDiff(read('stem_bn/moving_variance'), expected.variance)).toBeLessThan(1e-4);
    // The batches differ (ranges 1..4), so one batch's statistics would not pass the check above.
    const first = tf.tidy(() => tf.moments(tf.conv2d(batches[0], kernel, 2, 'same'), [0, 1, 2]).mean.dataSync() as Float32Array);
    expect(relMaxDiff(first, expected.mean)).toBeGreaterThan(0.1);
    expect(relMaxDiff(read('block2_pw_bn/moving_mean'), movingBefore)).toBeGreaterThan(0);
    model.trainableWeights.forEach((w, i) => expect(Array.from(w.read().dataSync())).toEqual(Array.from(trainable[i])));
    // The layers' momentum is back to what training uses.
    expect((model.getLayer('stem_bn') as unknown as { momentum: number }).momentum).toBe(0.9);
    tf.dispose(batches);
    model.dispose();
  });
});
