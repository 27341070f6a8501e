/**
 * Grad-CAM++, Layer-CAM, Score-CAM, SmoothGrad and Integrated Gradients against independent
 * computations: on a tiny conv -> GAP -> Dense net, d y^c / d A_k = W[k, c] / (H W) at every cell,
 * so each class map is a closed form of A (computed here with tf.conv2d) and the dense weights;
 * Score-CAM's masks and scores come from tf.image.resizeBilinear (corners aligned) and the stock
 * tfjs-layers forward; SmoothGrad's mean is checked against tf.grad on the same noisy inputs, on
 * every architecture family and both backends; Integrated Gradients is exact on a linear model.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { Explainer, type MapStage, type MethodProgress, type Stage } from '../../src';
import { gaussLegendre, gaussian } from '../../src/methods/sampling';
import { BACKENDS, relMaxDiff, switchTo } from '../helpers/backends';
import { buildFamily, FAMILIES, prng, randomInput, randomizeWeights } from '../helpers/families';

const H = 4, W = 5, K = 3, CLASSES = 2;

/** conv(3x3, relu) -> GAP -> Dense(linear), seeded; the input is H x W x 3. */
function tinyCam(seed = 3): tfl.LayersModel {
  const input = tfl.input({ shape: [H, W, 3] });
  const a = tfl.layers.conv2d({ filters: K, kernelSize: 3, padding: 'same', activation: 'relu', name: 'features' }).apply(input) as tfl.SymbolicTensor;
  const pooled = tfl.layers.globalAveragePooling2d({}).apply(a) as tfl.SymbolicTensor;
  const out = tfl.layers.dense({ units: CLASSES, name: 'logits' }).apply(pooled) as tfl.SymbolicTensor;
  const model = tfl.model({ inputs: input, outputs: out });
  const rand = prng(seed);
  model.setWeights(model.getWeights().map((w) => tf.tensor(Array.from({ length: w.size }, () => rand() * 2 - 1), w.shape)));
  return model;
}

function tinyInput(seed = 1): tf.Tensor4D {
  const rand = prng(seed);
  return tf.tensor4d(Array.from({ length: H * W * 3 }, () => rand()), [1, H, W, 3]);
}

/** A (HWK, after the ReLU) and g_k = W[k, c] / (H W) for the tiny net. */
function closedForm(model: tfl.LayersModel, x: tf.Tensor4D, c: number): { a: Float32Array; g: number[] } {
  const [kernel, bias, dense] = model.getWeights();
  const a = tf.tidy(() => tf.relu(tf.add(tf.conv2d(x, kernel as tf.Tensor4D, 1, 'same'), bias)).dataSync() as Float32Array);
  const w = dense.dataSync();
  return { a, g: Array.from({ length: K }, (_, k) => w[k * CLASSES + c] / (H * W)) };
}

function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tol = 1e-5): void {
  expect(actual.length).toBe(expected.length);
  let scale = 0;
  for (let i = 0; i < expected.length; i++) scale = Math.max(scale, Math.abs(expected[i]));
  expect(scale).toBeGreaterThan(0);
  for (let i = 0; i < expected.length; i++) expect(Math.abs(actual[i] - expected[i])).toBeLessThanOrEqual(tol * scale);
}

beforeAll(async () => { await switchTo('cpu'); });

describe('class maps on a tiny GAP -> Dense net, by hand', () => {
  test.each([0, 1])('class %i: Grad-CAM++ and Layer-CAM equal their definitions', async (c) => {
    const model = tinyCam();
    // Dense weights of mixed signs in both classes, so ReLU(g) and g differ.
    const [kernel, bias, , denseBias] = model.getWeights();
    model.setWeights([kernel, bias, tf.tensor2d([[0.7, -0.4], [-0.5, 0.6], [0.3, 0.2]]), denseBias]);
    const x = tinyInput();
    const { a, g } = closedForm(model, x, c);
    const ex = new Explainer(model);
    const r = await ex.explainAll(x, { class: c, methods: ['gradcam++', 'layercam', 'gradcam'] });
    // Layer-CAM: sum_k ReLU(g_k) A_k.
    const layer = Array.from({ length: H * W }, (_, p) => g.reduce((s, gk, k) => s + Math.max(gk, 0) * a[p * K + k], 0));
    expectClose(r.maps.layercam!.data, layer);
    // Grad-CAM++ (pytorch-grad-cam's form): alpha = g^2 / (2 g^2 + sum_xy A_k g^3 + eps), w_k = sum_xy alpha ReLU(g).
    const sumA = g.map((_, k) => Array.from({ length: H * W }, (__, p) => a[p * K + k]).reduce((s, v) => s + v, 0));
    const wpp = g.map((gk, k) => (H * W) * (gk === 0 ? 0 : (gk * gk) / (2 * gk * gk + sumA[k] * gk ** 3 + 1e-6)) * Math.max(gk, 0));
    const pp = Array.from({ length: H * W }, (_, p) => wpp.reduce((s, wk, k) => s + wk * a[p * K + k], 0));
    expectClose(r.maps['gradcam++']!.data, pp);
    expect(r.maps['gradcam++']!.layer).toBe('features');
    x.dispose();
    ex.dispose();
  });

  test('Score-CAM: masks from tf.image.resizeBilinear (aligned corners), scores from the stock forward', async () => {
    const model = tinyCam(5);
    const x = tinyInput(2);
    const c = 1;
    const { a } = closedForm(model, x, c);
    const ex = new Explainer(model);
    const progress: MethodProgress[] = [];
    const r = await ex.explainAll(x, { class: c, methods: ['scorecam'], methodOptions: { scorecam: { batchSize: 2 } }, onProgress: (p) => progress.push(p) });
    expect(progress).toEqual([{ method: 'scorecam', done: 2, total: 3 }, { method: 'scorecam', done: 3, total: 3 }]);
    const scores = tf.tidy(() => {
      const A = tf.tensor4d(a, [1, H, W, K]);
      const up = tf.image.resizeBilinear(A, [H, W], true); // same size: the mask is A_k itself, min-max normalised
      const masks = tf.unstack(tf.transpose(up, [3, 1, 2, 0])).map((m) => {
        const lo = tf.min(m), hi = tf.max(m);
        return tf.div(tf.sub(m, lo), tf.add(tf.sub(hi, lo), 1e-8));
      });
      const masked = tf.concat(masks.map((m) => tf.mul(x, tf.expandDims(m, 0))));
      return tf.slice(model.predict(masked) as tf.Tensor, [0, c], [K, 1]).dataSync();
    });
    const max = Math.max(...Array.from(scores));
    const e = Array.from(scores, (s: number) => Math.exp(s - max));
    const weights = e.map((v) => v / e.reduce((s, u) => s + u, 0));
    const expected = Array.from({ length: H * W }, (_, p) => weights.reduce((s, wk, k) => s + wk * a[p * K + k], 0));
    expectClose(r.maps.scorecam!.data, expected);
    x.dispose();
    ex.dispose();
  });

  test('Score-CAM upsamples a coarse layer to the input with aligned corners', async () => {
    // conv stride 2 -> 2x3 grid, upsampled to 4x5.
    const input = tfl.input({ shape: [H, W, 3] });
    const f = tfl.layers.conv2d({ filters: 2, kernelSize: 3, strides: 2, padding: 'same', activation: 'relu', name: 'f' }).apply(input) as tfl.SymbolicTensor;
    const out = tfl.layers.dense({ units: 2 }).apply(tfl.layers.globalAveragePooling2d({}).apply(f) as tfl.SymbolicTensor) as tfl.SymbolicTensor;
    const model = tfl.model({ inputs: input, outputs: out });
    randomizeWeights(model, 11);
    const x = tinyInput(4);
    const ex = new Explainer(model);
    const r = await ex.explainAll(x, { class: 0, methods: ['scorecam'] });
    const expected = tf.tidy(() => {
      const A = tfl.model({ inputs: input, outputs: f }).predict(x) as tf.Tensor4D;
      const up = tf.image.resizeBilinear(A, [H, W], true);
      const masks = tf.unstack(tf.transpose(up, [3, 1, 2, 0])).map((m) => tf.div(tf.sub(m, tf.min(m)), tf.add(tf.sub(tf.max(m), tf.min(m)), 1e-8)));
      const scores = tf.softmax(tf.reshape(tf.slice(model.predict(tf.concat(masks.map((m) => tf.mul(x, tf.expandDims(m, 0))))) as tf.Tensor, [0, 0], [2, 1]), [2]));
      return tf.sum(tf.mul(tf.squeeze(A, [0]), scores), 2).dataSync();
    });
    expect([r.maps.scorecam!.width, r.maps.scorecam!.height]).toEqual([3, 2]);
    expectClose(r.maps.scorecam!.data, expected);
    x.dispose();
    ex.dispose();
  });
});

describe.each(BACKENDS)('SmoothGrad on %s', (backend) => {
  beforeAll(async () => { await switchTo(backend); });

  test.each(FAMILIES)('%s: the mean of tf.grad over the same noisy inputs; sigma 0 gives the plain gradient', async (family) => {
    const linear = buildFamily(family, 'linear');
    randomizeWeights(linear, 21);
    const ex = new Explainer(linear, { range: '-1..1' });
    const x = randomInput(32);
    const samples = 5, noise = 0.1, seed = 9, c = 2;
    const r = await ex.explainAll(x, { class: c, methods: ['smoothgrad', 'vanilla', 'guided'], methodOptions: { smoothgrad: { samples, noise, seed, batchSize: 2 } } });
    // Independent: the same noise (seeded generator, in the same order), tf.grad of the logit one input at a time
    // (stock tfjs has no gradient for dilated convolutions: there, the engine's own single-input gradient,
    // checked against finite differences in tests/engine/vanilla-gradient.test.ts).
    const xs = x.dataSync();
    let lo = Infinity, hi = -Infinity;
    for (const v of xs) { lo = Math.min(lo, v); hi = Math.max(hi, v); }
    const normal = gaussian(seed);
    const mean = new Float64Array(xs.length);
    for (let s = 0; s < samples; s++) {
      const noisy = tf.tensor4d(Float32Array.from(xs, (v) => v + noise * (hi - lo) * normal()), x.shape);
      const g = family === 'mixed'
        ? (await ex.explainAll(noisy, { class: c, methods: ['vanilla'] })).maps.vanilla!.data
        : tf.tidy(() => tf.grad((inp: tf.Tensor) => tf.sum(tf.slice(linear.predict(inp) as tf.Tensor, [0, c], [1, 1])))(noisy).dataSync());
      g.forEach((v, i) => { mean[i] += v / samples; });
      noisy.dispose();
    }
    expect(relMaxDiff(r.maps.smoothgrad!.data, mean)).toBeLessThan(1e-3);
    expect(relMaxDiff(r.maps.smoothgrad!.data, r.maps.vanilla!.data)).toBeGreaterThan(1e-3);
    for (const gradient of ['vanilla', 'guided'] as const) {
      const zero = await ex.explainAll(x, { class: c, methods: ['smoothgrad'], methodOptions: { smoothgrad: { noise: 0, samples: 3, gradient } } });
      expect(relMaxDiff(zero.maps.smoothgrad!.data, r.maps[gradient]!.data)).toBeLessThan(1e-5);
    }
    x.dispose();
    ex.dispose();
  });
});

describe('SmoothGrad and Integrated Gradients: seeds, options, exactness', () => {
  test('the same seed gives the same map, another seed another', async () => {
    const ex = new Explainer(tinyCam());
    const x = tinyInput();
    const run = async (seed: number) => (await ex.explainAll(x, { methods: ['smoothgrad'], methodOptions: { smoothgrad: { seed, samples: 4 } } })).maps.smoothgrad!.data;
    const a = await run(1), b = await run(1), c = await run(2);
    expect(Array.from(a)).toEqual(Array.from(b));
    expect(relMaxDiff(a, c)).toBeGreaterThan(1e-4);
    await expect(ex.explainAll(x, { methods: ['smoothgrad'], methodOptions: { smoothgrad: { samples: 0 } } })).rejects.toMatchObject({ code: 'BAD_OPTION' });
    await expect(ex.explainAll(x, { methods: ['smoothgrad'], methodOptions: { smoothgrad: { smaples: 4 } } })).rejects.toThrow(/unknown option 'smaples'/);
    await expect(ex.explainAll(x, { methods: ['smoothgrad'], methodOptions: { smoothgrad: { gradient: 'sideways' } } })).rejects.toMatchObject({ code: 'BAD_OPTION' });
    x.dispose();
    ex.dispose();
  });

  test('Gauss-Legendre nodes integrate polynomials of degree 2n-1 exactly on [0, 1]', () => {
    for (const n of [1, 2, 5, 50]) {
      const { nodes, weights } = gaussLegendre(n);
      expect(weights.reduce((s, w) => s + w, 0)).toBeCloseTo(1, 12);
      const deg = 2 * n - 1;
      const integral = nodes.reduce((s, t, i) => s + weights[i] * t ** deg, 0);
      expect(integral).toBeCloseTo(1 / (deg + 1), 10);
    }
    const two = gaussLegendre(2);
    expect(Array.from(two.nodes)).toEqual([expect.closeTo(0.5 - 0.5 / Math.sqrt(3), 12), expect.closeTo(0.5 + 0.5 / Math.sqrt(3), 12)]);
  });

  test('exact on a linear model: IG = (x - x\') w, completeness gap ~ 0, any step count', async () => {
    const input = tfl.input({ shape: [3, 3, 3] });
    const out = tfl.layers.dense({ units: 2 }).apply(tfl.layers.flatten().apply(input) as tfl.SymbolicTensor) as tfl.SymbolicTensor;
    const model = tfl.model({ inputs: input, outputs: out });
    randomizeWeights(model, 5);
    const ex = new Explainer(model, { range: '-1..1' });
    const x = randomInput(3, 3, 8);
    const w = model.getWeights()[0].dataSync();
    const xs = x.dataSync();
    for (const steps of [1, 7]) {
      const r = await ex.explainAll(x, { class: 1, methods: ['integrated-gradients'], methodOptions: { 'integrated-gradients': { steps } } });
      const ig = r.maps['integrated-gradients']!;
      // Black baseline for a -1..1 model is -1.
      expectClose(ig.data, Array.from(xs, (v, j) => (v + 1) * w[j * 2 + 1]));
      expect(ig.stats!.completenessGap).toBeLessThan(1e-5);
    }
    x.dispose();
    ex.dispose();
  });

  test('on a nonlinear net: the gap agrees with the stock forward, and falls as the steps grow', async () => {
    const model = buildFamily('mobilenet-v2', 'linear');
    randomizeWeights(model, 13);
    const ex = new Explainer(model, { range: '-1..1' });
    const x = randomInput(32, 3, 3);
    const c = 0;
    const gaps: number[] = [];
    for (const steps of [2, 8, 50]) {
      const r = await ex.explainAll(x, { class: c, methods: ['integrated-gradients'], methodOptions: { 'integrated-gradients': { steps, baseline: 127.5 } } });
      const ig = r.maps['integrated-gradients']!;
      const sum = ig.data.reduce((s, v) => s + v, 0);
      const [fx, fb] = tf.tidy(() => {
        const y = model.predict(tf.concat([x, tf.zerosLike(x)])) as tf.Tensor; // grey 127.5 is 0 in -1..1
        return [y.arraySync() as number[][]].map((rows) => [rows[0][c], rows[1][c]])[0];
      });
      const gap = Math.abs(sum - (fx - fb)) / Math.abs(fx - fb);
      expect(ig.stats!.completenessGap).toBeCloseTo(gap, 4);
      expect(ig.stats!.scoreDelta).toBeCloseTo(fx - fb, 4);
      gaps.push(gap);
    }
    expect(gaps[2]).toBeLessThan(gaps[0]);
    expect(gaps[2]).toBeLessThan(0.05);
    x.dispose();
    ex.dispose();
  });
});

describe('the sampled stage', () => {
  test('comes last, after every cheap stage; a cancel between batches stops it and frees everything', async () => {
    const model = buildFamily('resnet');
    randomizeWeights(model, 3);
    const ex = new Explainer(model, { range: '-1..1' });
    const x = randomInput(32);
    // The first request builds the model's weight cache (the sampled passes fuse without a target layer).
    await ex.explainAll(x, { methods: ['gradcam', 'smoothgrad'], methodOptions: { smoothgrad: { samples: 1 } } });
    const before = tf.memory().numTensors;
    const stages: Stage[] = [];
    for await (const s of ex.explain(x, { methods: ['smoothgrad', 'gradcam', 'scorecam', 'vanilla'], methodOptions: { smoothgrad: { samples: 3 } } })) stages.push(s);
    expect(stages.map((s) => s.stage)).toEqual(['prediction', 'class-maps', 'gradient-maps', 'sampled-maps']);
    // Within a stage, the request's order.
    expect(Object.keys((stages[3] as MapStage).maps)).toEqual(['smoothgrad', 'scorecam']);
    expect(tf.memory().numTensors).toBe(before);

    const signal = { aborted: false };
    const seen: MethodProgress[] = [];
    const got: string[] = [];
    await expect((async () => {
      for await (const s of ex.explain(x, { methods: ['gradcam', 'scorecam'], signal, methodOptions: { scorecam: { batchSize: 4 } }, onProgress: (p) => { seen.push(p); signal.aborted = true; } })) got.push(s.stage);
    })()).rejects.toMatchObject({ code: 'CANCELLED' });
    expect(got).toEqual(['prediction', 'class-maps']);
    expect(seen).toHaveLength(1);
    expect(seen[0].done).toBe(4);
    expect(tf.memory().numTensors).toBe(before);
    x.dispose();
    ex.dispose();
  });
});
