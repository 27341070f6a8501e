/**
 * The per-op arithmetic behind the thread advice, against multiply-adds counted by hand on a
 * small model, and the advice on the shipped models (measured: docs/performance.md, Threads).
 */
import * as path from 'path';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { Explainer } from '../../src';
import { computeCost, THREADS_MIN_MACS_PER_OP } from '../../src/model/compute-cost';
import { flattenModel } from '../../src/model/graph';
import { modelSourceFromPath } from '../../src/node/model-path';
import { switchTo } from '../helpers/backends';

const REPO = path.resolve(__dirname, '../..');

describe('compute cost and thread advice', () => {
  beforeAll(async () => { await switchTo('cpu'); });

  test('multiply-adds of conv, depthwise, separable and dense layers, counted by hand', () => {
    const input = tfl.input({ shape: [8, 8, 3] });
    let x = tfl.layers.conv2d({ filters: 4, kernelSize: 3, padding: 'same' }).apply(input) as tfl.SymbolicTensor; // 8*8 * 3*3*3*4 = 6912
    x = tfl.layers.depthwiseConv2d({ kernelSize: 3, strides: 2, padding: 'same', depthMultiplier: 2 }).apply(x) as tfl.SymbolicTensor; // 4*4 * 3*3*4*2 = 1152
    x = tfl.layers.separableConv2d({ filters: 5, kernelSize: 3, padding: 'valid' }).apply(x) as tfl.SymbolicTensor; // 2*2 * (3*3*8*1 + 1*1*8*5) = 448
    x = tfl.layers.reLU().apply(x) as tfl.SymbolicTensor;
    x = tfl.layers.flatten().apply(x) as tfl.SymbolicTensor;
    const out = tfl.layers.dense({ units: 3 }).apply(x) as tfl.SymbolicTensor; // 20*3 = 60
    const model = tfl.model({ inputs: input, outputs: out });
    expect(computeCost(flattenModel(model))).toEqual({ macs: 6912 + 1152 + 448 + 60, ops: 4 });
    model.dispose();
  });

  test.each([
    ['the garment model', 'models/fashion-scenes', 'one'],
    ['the ImageNet default', 'models/imagenet-darknet-tiny', 'all'],
  ])('%s: %s', async (_, dir, preferred) => {
    const ex = await Explainer.load(await modelSourceFromPath(path.join(REPO, dir)));
    try {
      const advice = ex.describe().threads;
      expect(advice.preferred).toBe(preferred);
      expect(advice.macsPerOp! >= THREADS_MIN_MACS_PER_OP).toBe(preferred === 'all');
      expect(advice.reason).toMatch(/multiply-adds per op/);
    } finally {
      ex.dispose();
    }
    expect(tf.memory().numTensors).toBe(0);
  });
});
