/**
 * saveModelArtifacts and compareQuantized on a small MobileNetV2-like network built in
 * memory: tfjs's own loader reads what we write; the fidelity figures equal a direct
 * recomputation from two explainers; nothing leaks.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { Explainer, isWhycamError, loadModel } from '../../src';
import { artifactsToFiles, compareQuantized, pearson, quantizeModelArtifacts, saveModelArtifacts } from '../../src/quantize';
import { pearson as referencePearson, switchTo } from '../helpers/backends';
import { buildFamily, randomInput } from '../helpers/families';

beforeAll(() => switchTo('wasm'));

const loadStock = (a: { modelJson: tf.io.ModelJSON; weightData: ArrayBuffer }) =>
  tfl.loadLayersModel(tf.io.fromMemory({ modelTopology: a.modelJson.modelTopology, weightSpecs: a.modelJson.weightsManifest[0].weights, weightData: a.weightData }));

function maxAbsDiff(a: Float32Array | Int32Array | Uint8Array, b: Float32Array | Int32Array | Uint8Array): number {
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i] - b[i]));
  return d;
}

describe('saveModelArtifacts', () => {
  test('float32 artifacts reload in stock tfjs with identical weights and outputs', async () => {
    const before = tf.memory().numTensors;
    const model = buildFamily('mobilenet-v2');
    const a = await saveModelArtifacts(model);
    expect(a.modelJson.weightsManifest[0].paths).toEqual(['weights.bin']);
    expect(a.weightData.byteLength).toBe(model.weights.reduce((s, w) => s + w.shape.reduce((p, d) => p! * d!, 1)! * 4, 0));
    const back = await loadStock(a);
    const x = randomInput(32, 3, 11);
    const [y0, y1] = [model.predict(x) as tf.Tensor, back.predict(x) as tf.Tensor];
    expect(Array.from(y1.dataSync())).toEqual(Array.from(y0.dataSync()));
    const w0 = model.getWeights(), w1 = back.getWeights();
    w0.forEach((w, i) => expect(maxAbsDiff(w1[i].dataSync(), w.dataSync())).toBe(0));
    tf.dispose([x, y0, y1]);
    model.dispose();
    back.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  test('uint8 artifacts load through loadModel({files}) with every weight within scale/2', async () => {
    const before = tf.memory().numTensors;
    const model = buildFamily('mobilenet-v2');
    const a = await saveModelArtifacts(model);
    const q = quantizeModelArtifacts(a.modelJson, a.weightData, 'uint8');
    const { model: back } = await loadModel({ files: artifactsToFiles(q) });
    const w0 = model.getWeights(), w1 = back.getWeights();
    expect(w1).toHaveLength(w0.length);
    w0.forEach((w, i) => {
      const v = w.dataSync() as Float32Array;
      let lo = Infinity, hi = -Infinity;
      for (const t of v) { lo = Math.min(lo, t); hi = Math.max(hi, t); }
      // (max - min) / 255 is the converter's scale; the nudge shifts the grid, not its step.
      const halfStep = (hi - lo) / 255 / 2;
      expect(maxAbsDiff(w1[i].dataSync(), v)).toBeLessThanOrEqual(halfStep * (1 + 1e-6) + 1e-7 * Math.max(Math.abs(lo), Math.abs(hi)));
    });
    model.dispose();
    back.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('compareQuantized', () => {
  test('its figures are those of the two explainers, recomputed here; tensors passed in survive', async () => {
    const before = tf.memory().numTensors;
    const model = buildFamily('mobilenet-v2');
    const a = await saveModelArtifacts(model);
    const ref = new Explainer(model);
    const same = new Explainer(await loadStock(a));
    const u8 = new Explainer(await loadStock(quantizeModelArtifacts(a.modelJson, a.weightData, 'uint8')));
    const images = [3, 5, 8, 13, 21].map((s) => randomInput(32, 3, s));
    try {
      const identical = await compareQuantized(ref, same, images);
      expect(identical.n).toBe(5);
      expect(identical.top1Agreement).toBe(1);
      expect(identical.gradcamPearson).toBeCloseTo(1, 10);
      expect(identical.maxProbabilityChange).toBe(0);

      const report = await compareQuantized(ref, u8, images);
      let agree = 0;
      const rs: number[] = [];
      for (const [i, x] of images.entries()) {
        const r = await ref.explainAll(x, { methods: ['gradcam'] });
        const c = await u8.explainAll(x, { methods: ['gradcam'], class: r.classIndex, topK: 5 });
        if (c.predictions[0].index === r.classIndex) agree++;
        const rho = referencePearson(r.maps.gradcam!.data, c.maps.gradcam!.data);
        rs.push(rho);
        expect(report.images[i].gradcamPearson).toBeCloseTo(rho, 10);
        expect(report.images[i].referenceClass).toBe(r.classIndex);
      }
      expect(report.top1Agreement).toBe(agree / images.length);
      expect(report.gradcamPearson).toBeCloseTo(rs.reduce((s, v) => s + v, 0) / rs.length, 10);
      expect(report.minGradcamPearson).toBeCloseTo(Math.min(...rs), 10);
      expect(images.every((x) => !x.isDisposed)).toBe(true);
    } finally {
      tf.dispose(images);
      [ref, same, u8].forEach((e) => e.dispose());
    }
    expect(tf.memory().numTensors).toBe(before);
  });

  test('refuses models that are not versions of one another, and empty image sets', async () => {
    const a = new Explainer(buildFamily('mobilenet-v2'));
    const b = new Explainer(buildFamily('mobilenet-v2', 'softmax', 24));
    const x = tf.zeros([1, 32, 32, 3]) as tf.Tensor4D;
    const code = async (p: Promise<unknown>) => p.then(() => 'no error', (e) => (isWhycamError(e) ? e.code : String(e)));
    expect(await code(compareQuantized(a, b, [x]))).toBe('BAD_OPTION');
    expect(await code(compareQuantized(a, a, []))).toBe('BAD_OPTION');
    x.dispose(); a.dispose(); b.dispose();
  });

  test('pearson of maps without variance is 1 when equal, 0 otherwise', () => {
    expect(pearson([0, 0, 0], [0, 0, 0])).toBe(1);
    expect(pearson([0, 0, 0], [0, 1, 0])).toBe(0);
    expect(pearson([1, 2, 3], [2, 4, 6.5])).toBeCloseTo(referencePearson([1, 2, 3], [2, 4, 6.5]), 12);
  });
});
