/**
 * Loading: every broken model gives a typed error that says what is wrong, and a
 * nested Teachable Machine export flattens to its leaf layers.
 */
import * as fs from 'fs';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs-core';
import { Explainer, loadModel, type ModelFile } from '../../src';
import { flattenModel } from '../../src/model/graph';
import { switchTo } from '../helpers/backends';
import { TM_MODEL, TM_TINY } from '../helpers/fixtures';

const read = (dir: string, name: string) => new Uint8Array(fs.readFileSync(path.join(dir, name)));
const modelJson = () => JSON.parse(fs.readFileSync(path.join(TM_MODEL, 'model.json'), 'utf8'));
const files = (json: unknown, weights: Uint8Array, meta = true): ModelFile[] => [
  { name: 'model.json', data: new TextEncoder().encode(JSON.stringify(json)) },
  { name: 'weights.bin', data: weights },
  ...(meta ? [{ name: 'metadata.json', data: read(TM_MODEL, 'metadata.json') }] : []),
];

describe('loading models', () => {
  beforeAll(async () => { await switchTo('wasm'); });
  const weights = read(TM_MODEL, 'weights.bin');

  test('flattens the nested Teachable Machine model to its leaf layers', async () => {
    const { model } = await loadModel({ files: files(modelJson(), weights) });
    const g = flattenModel(model);
    // 155 MobileNet layers minus the InputLayer, GAP, two Dense.
    expect(g.ops.length).toBe(154 + 1 + 2);
    expect(g.ops.some((o) => ['Sequential', 'Model', 'LayersModel'].includes(o.className))).toBe(false);
    expect(g.ops[g.ops.length - 1].className).toBe('Dense');
    model.dispose();
  });

  test.each([
    ['MODEL_CORRUPT', 'truncated weights', () => files(modelJson(), weights.slice(0, weights.length - 1000))],
    ['WEIGHTS_MISMATCH', 'weights of another model', () => files(modelJson(), new Uint8Array(weights.length + 4096))],
    ['MODEL_CORRUPT', 'model.json that is not JSON', () => [{ name: 'model.json', data: new TextEncoder().encode('{"modelTopology": ') }, { name: 'weights.bin', data: weights }]],
    ['MODEL_CORRUPT', 'a missing weight file', () => files(modelJson(), weights).filter((f) => f.name !== 'weights.bin')],
    ['MODEL_NOT_FOUND', 'no model.json', () => [{ name: 'weights.bin', data: weights }]],
    ['MODEL_CORRUPT', 'a graph model without nodes', () => files({ format: 'graph-model', modelTopology: {}, weightsManifest: [] }, weights)],
    ['UNSUPPORTED_MODEL', 'an ONNX model', () => [{ name: 'model.onnx', data: weights }]],
    ['UNSUPPORTED_LAYER', 'an unknown layer class', () => {
      const j = modelJson();
      j.modelTopology.config[1].config[0].class_name = 'FancyAttention';
      return files(j, weights);
    }],
  ])('%s for %s', async (code, _what, make) => {
    const before = tf.memory().numTensors;
    await expect(Explainer.load({ files: make() })).rejects.toMatchObject({ code });
    expect(tf.memory().numTensors).toBe(before);
  });

  test('weights of the tiny model under the big topology', async () => {
    await expect(Explainer.load({ files: files(modelJson(), read(TM_TINY, 'weights.bin')) })).rejects.toMatchObject({ code: expect.stringMatching(/WEIGHTS_MISMATCH|MODEL_CORRUPT/) });
  });

  test('a corrupt zip', async () => {
    await expect(Explainer.load({ zip: new Uint8Array([80, 75, 3, 4, 1, 2, 3]) })).rejects.toMatchObject({ code: 'MODEL_CORRUPT' });
  });

  test('a URL that does not exist', async () => {
    await expect(Explainer.load({ url: 'http://127.0.0.1:9/model.json' })).rejects.toMatchObject({ code: 'MODEL_NOT_FOUND' });
  });

  test('labels default to "class i" without metadata, and a range can be given', async () => {
    const ex = await Explainer.load({ files: files(modelJson(), weights, false) }, { range: '0..255' });
    expect(ex.labels).toEqual(['class 0', 'class 1']);
    expect(ex.range).toBe('0..255');
    ex.dispose();
  });
});
