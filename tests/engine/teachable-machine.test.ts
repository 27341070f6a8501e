/**
 * The real Teachable Machine export (MobileNetV2-0.35 nested in a Sequential, GAP,
 * Dense(100, relu), Dense(2, softmax)) on the wasm backend: it predicts its own 22
 * training photos, the nested target layer is found, CAM says why it does not apply,
 * and it loads the same from the directory, the zip and model.json.
 */
import * as tf from '@tensorflow/tfjs-core';
import { Explainer } from '../../src';
import { modelSourceFromPath } from '../../src/node/model-path';
import { switchTo } from '../helpers/backends';
import { readImage, tmPhotos, TM_MODEL, TM_TINY, TM_ZIP } from '../helpers/fixtures';
import * as path from 'path';

describe('Teachable Machine export on wasm', () => {
  let ex: Explainer;
  beforeAll(async () => {
    await switchTo('wasm');
    ex = await Explainer.load(await modelSourceFromPath(TM_MODEL));
  });
  afterAll(() => ex.dispose());

  test('reads labels, input and range from the export', () => {
    const d = ex.describe();
    expect(d.labels).toEqual(['Class 1', 'Class 2']);
    expect(d.input).toEqual({ height: 224, width: 224, channels: 3 });
    expect(d.range).toBe('-1..1');
    expect(d.targetLayer).toBe('out_relu');
    expect(d.cam.applies).toBe(false);
    expect(d.cam.reason).toMatch(/exactly one Dense/);
  });

  test.each(tmPhotos())('predicts %s as %s', async (file, label) => {
    const [top] = await ex.predict(await readImage(file), 2);
    expect(top.label).toBe(label);
    expect(top.probability).toBeGreaterThan(0.5);
  });

  test('the zip and model.json load the same model', async () => {
    const img = await readImage(tmPhotos()[0][0]);
    const want = await ex.predict(img, 2);
    for (const loc of [TM_ZIP, path.join(TM_MODEL, 'model.json')]) {
      const other = await Explainer.load(await modelSourceFromPath(loc));
      const got = await other.predict(img, 2);
      expect(got.map((p) => p.label)).toEqual(want.map((p) => p.label));
      got.forEach((p, i) => expect(p.probability).toBeCloseTo(want[i].probability, 5));
      other.dispose();
    }
  });

  test('all maps of a photo are finite and of the documented shapes', async () => {
    const r = await ex.explainAll(await readImage(tmPhotos()[12][0]));
    expect(Object.keys(r.maps).sort()).toEqual(['gradcam', 'guided', 'guided-gradcam', 'vanilla']);
    expect(r.maps.gradcam).toMatchObject({ width: 7, height: 7, channels: 1, layer: 'out_relu' });
    for (const m of ['vanilla', 'guided', 'guided-gradcam'] as const) {
      expect(r.maps[m]).toMatchObject({ width: 224, height: 224, channels: 3 });
    }
    for (const m of Object.values(r.maps)) {
      expect(m!.data.every(Number.isFinite)).toBe(true);
      expect(m!.data.some((v) => v !== 0)).toBe(true);
    }
  });

  test('the 96x96 grayscale tiny export explains with one-channel gradient maps', async () => {
    const tiny = await Explainer.load(await modelSourceFromPath(TM_TINY));
    expect(tiny.describe().input).toEqual({ height: 96, width: 96, channels: 1 });
    const r = await tiny.explainAll(await readImage(tmPhotos()[0][0]));
    expect(r.maps.vanilla).toMatchObject({ width: 96, height: 96, channels: 1 });
    expect(r.maps.gradcam!.data.every(Number.isFinite)).toBe(true);
    tiny.dispose();
    expect(tf.getBackend()).toBe('wasm');
  });
});
