/**
 * The training speed-ups in models/pipeline/fast-train.ts must not change the gradients:
 * compared with tfjs's own autodiff of the stock layers on a small model of the
 * shipped architecture, on the wasm backend (where training runs) and on cpu.
 */
import * as tf from '@tensorflow/tfjs-core';
import { BACKENDS, relMaxDiff, switchTo } from '../helpers/backends';
import { suppressTfjsNodeBanner } from '../../src/cli/quiet-tfjs';
import { buildModel, type ArchSpec } from '../../models/pipeline/model';
import { patchForFastTraining, registerFastPointwiseInputGrad } from '../../models/pipeline/fast-train';

const ARCH: ArchSpec = {
  inputSize: 20, stemFilters: 6, classes: 4,
  blocks: [{ filters: 8, stride: 1 }, { filters: 12, stride: 2, kernel: 5 }, { filters: 10, stride: 1 }],
};

function grads(model: ReturnType<typeof buildModel>, x: tf.Tensor4D, y: tf.Tensor2D) {
  const vars = model.trainableWeights.map((w) => (w as unknown as { val: tf.Variable }).val);
  return tf.tidy(() => {
    const { value, grads } = tf.variableGrads(() => {
      const p = model.apply(x, { training: true }) as tf.Tensor;
      return tf.losses.softmaxCrossEntropy(y, tf.log(p)) as tf.Scalar;
    }, vars);
    return { loss: value.dataSync()[0], grads: Object.fromEntries(Object.entries(grads).map(([k, g]) => [k, g.dataSync()])) };
  });
}

describe.each(BACKENDS)('fast training paths on %s', (backend) => {
  beforeAll(async () => {
    suppressTfjsNodeBanner();
    await switchTo(backend);
    if (backend === 'wasm') registerFastPointwiseInputGrad();
  });

  test('give the gradients of stock autodiff for every weight', () => {
    const model = buildModel(ARCH, 7);
    const x = tf.randomUniform([3, 20, 20, 3], 0, 1, 'float32', 3) as tf.Tensor4D;
    const y = tf.oneHot(tf.tensor1d([0, 3, 1], 'int32'), 4) as tf.Tensor2D;
    // Push some BN outputs past 6 and below 0 so the clip's gradient mask is exercised.
    const xs = tf.mul(x, 8) as tf.Tensor4D;
    const base = tf.memory().numTensors;
    const stock = grads(model, xs, y);
    const restore = patchForFastTraining(model);
    const fast = grads(model, xs, y);
    restore();
    expect(Math.abs(fast.loss - stock.loss)).toBeLessThan(1e-4 * Math.max(1, Math.abs(stock.loss)));
    expect(Object.keys(fast.grads).sort()).toEqual(Object.keys(stock.grads).sort());
    for (const k of Object.keys(stock.grads)) {
      expect(relMaxDiff(fast.grads[k], stock.grads[k])).toBeLessThan(2e-3);
    }
    expect(tf.memory().numTensors).toBe(base);
    model.dispose();
    tf.dispose([x, y, xs]);
  });

  test('update the batch-norm moving statistics as tfjs-layers does', () => {
    const a = buildModel(ARCH, 9);
    const b = buildModel(ARCH, 9);
    const x = tf.randomUniform([2, 20, 20, 3], 0, 1, 'float32', 5) as tf.Tensor4D;
    tf.tidy(() => { a.apply(x, { training: true }); });
    const restore = patchForFastTraining(b);
    tf.tidy(() => { b.apply(x, { training: true }); });
    restore();
    const moving = (m: typeof a) => m.weights.filter((w) => /moving/.test(w.originalName)).map((w) => w.read().dataSync());
    const ma = moving(a), mb = moving(b);
    expect(ma.length).toBeGreaterThan(0);
    ma.forEach((v, i) => expect(relMaxDiff(mb[i], v)).toBeLessThan(1e-4));
    a.dispose();
    b.dispose();
    x.dispose();
  });
});
