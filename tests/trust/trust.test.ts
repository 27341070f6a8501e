/**
 * "Can I trust this map?": deletion/insertion curves on a model whose class probability is a
 * known function of one image region (sigmoid of the region's sum), computed here by hand; the
 * blur against tf.conv2d with the same kernel; Spearman against hand values; the cascading
 * randomisation on a small net (1 before, < 0.5 once the top is random, weights put back after).
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { Explainer, evaluateTrust, registerMethod, unregisterMethod, type ImageInput, type MethodDescriptor } from '../../src';
import { blur, CURVE_STEPS } from '../../src/trust/curves';
import { spearman } from '../../src/trust/importance';
import { cascade } from '../../src/trust/sanity';
import { switchTo } from '../helpers/backends';
import { buildFamily, randomizeWeights } from '../helpers/families';

const S = 4; // 4x4 RGB input
const REGION = [0, 1, 4, 5]; // the top-left 2x2 block
const A = 0.4;

/** p(class 0) = sigmoid(A * sum of the region's values): Flatten -> Dense(2, softmax), class 1's logit 0. */
function regionModel(): tfl.LayersModel {
  const input = tfl.input({ shape: [S, S, 3] });
  const out = tfl.layers.dense({ units: 2, activation: 'softmax' }).apply(tfl.layers.flatten().apply(input) as tfl.SymbolicTensor) as tfl.SymbolicTensor;
  const model = tfl.model({ inputs: input, outputs: out });
  const w = new Float32Array(S * S * 3 * 2);
  for (const p of REGION) for (let c = 0; c < 3; c++) w[(p * 3 + c) * 2] = A;
  model.setWeights([tf.tensor2d(w, [S * S * 3, 2]), tf.zeros([2])]);
  return model;
}

/** A fixed importance: the region first (in the order 0, 5, 1, 4), then the rest by index. */
const FIXED = new Float32Array(S * S).map((_, p) => [100, 98, 48, 47, 97, 99][p] ?? 50 - p);
const fixedMap: MethodDescriptor = {
  name: 'toy-fixed', label: 'Fixed', description: 'a fixed test map', stage: 'class-maps', resolution: 'input',
  normalize: 'abs', byDefault: false, needs: [], compute: () => Float32Array.from({ length: S * S * 3 }, (_, i) => FIXED[Math.floor(i / 3)]),
};

const sigmoid = (v: number) => 1 / (1 + Math.exp(-v));
const trapezoid = (p: number[]) => p.slice(1).reduce((s, v, i) => s + (v + p[i]) / 2, 0) / (p.length - 1);

beforeAll(async () => {
  await switchTo('cpu');
  registerMethod(fixedMap);
});
afterAll(() => unregisterMethod('toy-fixed'));

test('deletion and insertion curves and areas, by hand', async () => {
  const ex = new Explainer(regionModel(), { range: '0..1' });
  // Pixel values: 255 in the region, a gradient elsewhere (so the blur moves the region's sum).
  const data = new Uint8ClampedArray(S * S * 4);
  for (let p = 0; p < S * S; p++) for (let c = 0; c < 3; c++) data[p * 4 + c] = REGION.includes(p) ? 255 : (p * 13 + c * 40) % 256;
  for (let p = 0; p < S * S; p++) data[p * 4 + 3] = 255;
  const image: ImageInput = { data, width: S, height: S, channels: 4 };
  const r = await evaluateTrust(ex, image, { class: 0, methods: ['toy-fixed'], metrics: ['deletion', 'insertion'] });
  const x = Float32Array.from({ length: S * S * 3 }, (_, i) => data[Math.floor(i / 3) * 4 + (i % 3)] / 255);
  const order = [0, 5, 1, 4, 2, 3, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15]; // 100, 99, 98, 97, then 48, 47, 44, 43, ...
  expect(order.slice(0, 4).map((p) => FIXED[p])).toEqual([100, 99, 98, 97]);
  const regionSum = (input: ArrayLike<number>) => REGION.reduce((s, p) => s + input[p * 3] + input[p * 3 + 1] + input[p * 3 + 2], 0);
  const changed = (i: number) => Math.round((i / CURVE_STEPS) * S * S);

  // Deletion: the first `changed` pixels of the order become black (0 for a 0..1 model).
  const deletion = Array.from({ length: CURVE_STEPS + 1 }, (_, i) => {
    const input = x.slice();
    for (const p of order.slice(0, changed(i))) input.fill(0, p * 3, p * 3 + 3);
    return sigmoid(A * regionSum(input));
  });
  expect(r.maps['toy-fixed']!.deletion!.probabilities).toEqual(deletion.map((v) => expect.closeTo(v, 5)));
  expect(r.maps['toy-fixed']!.deletion!.auc).toBeCloseTo(trapezoid(deletion), 5);
  expect(deletion[0]).toBeCloseTo(sigmoid(A * 12), 6);
  expect(deletion[CURVE_STEPS]).toBeCloseTo(0.5, 6);

  // Insertion: from the blurred photo (tf.conv2d with the same 3x3 Gaussian, edges replicated), the photo's pixels come back in order.
  const blurred = tf.tidy(() => {
    const sigma = 0.5;
    const k1 = [-1, 0, 1].map((t) => Math.exp(-(t * t) / (2 * sigma * sigma)));
    const norm = k1.reduce((s, v) => s + v, 0);
    const k2 = k1.flatMap((a) => k1.map((b) => (a * b) / (norm * norm)));
    const kernel = tf.tensor4d(k2, [3, 3, 1, 1]);
    const img = tf.tensor4d(x, [1, S, S, 3]);
    const channels = tf.split(tf.mirrorPad(img, [[0, 0], [1, 1], [1, 1], [0, 0]], 'symmetric'), 3, 3);
    return tf.concat(channels.map((c) => tf.conv2d(c as tf.Tensor4D, kernel, 1, 'valid')), 3).dataSync();
  });
  const ours = blur(x, S, S, 3);
  for (let i = 0; i < ours.length; i++) expect(ours[i]).toBeCloseTo(blurred[i], 5);
  const insertion = Array.from({ length: CURVE_STEPS + 1 }, (_, i) => {
    const input = Float32Array.from(blurred);
    for (const p of order.slice(0, changed(i))) for (let c = 0; c < 3; c++) input[p * 3 + c] = x[p * 3 + c];
    return sigmoid(A * regionSum(input));
  });
  expect(r.maps['toy-fixed']!.insertion!.probabilities).toEqual(insertion.map((v) => expect.closeTo(v, 5)));
  expect(r.maps['toy-fixed']!.insertion!.auc).toBeCloseTo(trapezoid(insertion), 5);
  // The map that puts the region first beats a random order at deletion; at insertion the blurred start already holds most of the region's sum.
  expect(r.maps['toy-fixed']!.deletion!.auc).toBeLessThan(r.random!.deletion!.auc);
  expect(r.maps['toy-fixed']!.insertion!.auc).toBeGreaterThan(r.random!.insertion!.auc);
  expect(r.maps['toy-fixed']!.summary).toMatch(/^Fixed: removing its top pixels first lowers the class faster than a random order .*restoring them first brings it back about as fast as random \(insertion area 0\.99 vs 0\.99\)/);
  expect(r.probability).toBeCloseTo(sigmoid(A * 12), 6);
  ex.dispose();
});

test('Spearman with ties, by hand; the cascade splits the layers evenly', () => {
  expect(spearman([1, 2, 3, 4], [1, 3, 2, 4])).toBeCloseTo(0.8, 12);
  expect(spearman([1, 2, 3, 4], [4, 3, 2, 1])).toBeCloseTo(-1, 12);
  // Ties share the average rank: ranks (1.5, 1.5, 3) and (1, 2, 3) -> r = 0.866...
  expect(spearman([5, 5, 9], [1, 2, 3])).toBeCloseTo(Math.sqrt(3) / 2, 12);
  expect(spearman([1, 1, 1], [1, 2, 3])).toBe(0);
  expect(cascade(10, 5)).toEqual([2, 4, 6, 8, 10]);
  expect(cascade(3, 5)).toEqual([1, 2, 3]);
});

test('sanity check: 1 before, < 0.5 once the top layers are random; the trained weights come back', async () => {
  const model = buildFamily('vgg');
  randomizeWeights(model, 42);
  const ex = new Explainer(model, { range: '-1..1' });
  const data = new Uint8ClampedArray(32 * 32 * 3).map((_, i) => (i * 37 + (i >> 5) * 11) % 256);
  const image: ImageInput = { data, width: 32, height: 32, channels: 3 };
  const before = await ex.explainAll(image, { class: 1, methods: ['gradcam', 'vanilla'] });
  const tensors = tf.memory().numTensors;
  const r = await evaluateTrust(ex, image, { class: 1, methods: ['gradcam', 'vanilla'], metrics: ['sanity'], sanity: { steps: 3, seed: 7 } });
  const steps = r.sanity!;
  expect(steps.map((s) => s.randomized)).toEqual([0, 2, 3, 5]); // vgg has 5 weighted layers: round(5/3), round(10/3), 5
  expect(steps[0].correlation).toEqual({ gradcam: 1, vanilla: 1 });
  expect(steps[3].correlation.gradcam!).toBeLessThan(0.5);
  expect(steps[3].correlation.vanilla!).toBeLessThan(0.5);
  expect(r.maps.gradcam!.summary).toMatch(/changes when the model's weights are randomised/);
  const after = await ex.explainAll(image, { class: 1, methods: ['gradcam', 'vanilla'] });
  // Restoring drops the weight cache; the request above rebuilt it: nothing else stays behind.
  expect(tf.memory().numTensors).toBe(tensors);
  expect(Array.from(after.maps.gradcam!.data)).toEqual(Array.from(before.maps.gradcam!.data));
  expect(Array.from(after.maps.vanilla!.data)).toEqual(Array.from(before.maps.vanilla!.data));

  // A cancel in the middle puts the weights back too.
  const signal = { aborted: false };
  await expect(evaluateTrust(ex, image, { class: 1, metrics: ['sanity'], signal, onProgress: (p) => { if (p.method === 'sanity') signal.aborted = true; } }))
    .rejects.toMatchObject({ code: 'CANCELLED' });
  const again = await ex.explainAll(image, { class: 1, methods: ['gradcam'] });
  expect(Array.from(again.maps.gradcam!.data)).toEqual(Array.from(before.maps.gradcam!.data));
  await expect(evaluateTrust(ex, image, { metrics: ['faithful' as never] })).rejects.toMatchObject({ code: 'BAD_OPTION' });
  ex.dispose();
});
