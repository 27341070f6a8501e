/**
 * No tensor outlives a request: after a warm-up (which builds the per-model weight cache),
 * tf.memory().numTensors is back to its baseline after 50 explanations, after failing
 * requests of every kind, after a cancelled one and after a consumer that stops early.
 */
import * as tf from '@tensorflow/tfjs-core';
import { Explainer, WhycamError } from '../../src';
import { modelSourceFromPath } from '../../src/node/model-path';
import { BACKENDS, switchTo } from '../helpers/backends';
import { buildFamily, randomInput } from '../helpers/families';
import { readImage, tmPhotos, TM_MODEL } from '../helpers/fixtures';

async function drain(gen: AsyncGenerator<unknown>): Promise<void> {
  for await (const _ of gen) { /* consume */ }
}

describe.each(BACKENDS)('tensor accounting on %s', (backend) => {
  beforeAll(async () => { await switchTo(backend); });

  test('50 explanations of a ResNet-style net leave no tensor behind', async () => {
    const ex = new Explainer(buildFamily('resnet'), { range: '-1..1' });
    const x = randomInput(32);
    await ex.explainAll(x);
    const baseline = tf.memory().numTensors;
    for (let i = 0; i < 50; i++) await ex.explainAll(x, { class: i % 5 });
    expect(tf.memory().numTensors).toBe(baseline);
    x.dispose(); ex.dispose();
  });

  test('loading and disposing a nested Teachable Machine model leaves nothing behind', async () => {
    const before = tf.memory().numTensors;
    const ex = await Explainer.load(await modelSourceFromPath(TM_MODEL));
    await ex.explainAll(await readImage(tmPhotos()[0][0]), { methods: ['gradcam'] });
    ex.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  test('failing, cancelled and abandoned requests leave no tensor behind', async () => {
    const ex = await Explainer.load(await modelSourceFromPath(TM_MODEL));
    const img = await readImage(tmPhotos()[0][0]);
    await ex.explainAll(img);
    const baseline = tf.memory().numTensors;
    const failures: Array<[string, () => Promise<unknown>]> = [
      ['EMPTY_IMAGE', () => ex.explainAll({ data: new Uint8Array(0), width: 0, height: 0, channels: 4 })],
      ['BAD_IMAGE', () => ex.explainAll({ data: new Uint8Array(10), width: 4, height: 4, channels: 4 })],
      ['IMAGE_TOO_LARGE', () => ex.explainAll({ data: new Uint8Array(4), width: 20000, height: 1, channels: 4 })],
      ['UNKNOWN_CLASS', () => ex.explainAll(img, { class: 'Class 3' })],
      ['UNKNOWN_CLASS', () => ex.explainAll(img, { class: 7 })],
      ['UNKNOWN_LAYER', () => ex.explainAll(img, { layer: 'no_such_layer' })],
      ['UNKNOWN_METHOD', () => ex.explainAll(img, { methods: ['lime' as never] })],
      ['INPUT_SHAPE', () => { const t = tf.zeros([1, 10, 10, 3]) as tf.Tensor4D; return ex.explainAll(t).finally(() => t.dispose()); }],
    ];
    for (const [code, run] of failures) {
      await expect(run()).rejects.toMatchObject({ code });
      expect(tf.memory().numTensors).toBe(baseline);
    }
    // Cancelled after the first stage: the rest is never computed, tensors are freed.
    const signal = { aborted: false };
    const stages: string[] = [];
    await expect((async () => {
      for await (const s of ex.explain(img, { signal })) { stages.push(s.stage); signal.aborted = true; }
    })()).rejects.toBeInstanceOf(WhycamError);
    expect(stages).toEqual(['prediction']);
    expect(tf.memory().numTensors).toBe(baseline);
    // A consumer that breaks out early.
    for await (const s of ex.explain(img)) { if (s.stage === 'class-maps') break; }
    expect(tf.memory().numTensors).toBe(baseline);
    // And it keeps serving.
    await drain(ex.explain(img));
    expect(tf.memory().numTensors).toBe(baseline);
    ex.dispose();
  });
});
