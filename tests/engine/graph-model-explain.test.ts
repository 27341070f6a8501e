/**
 * Explaining GraphModels: the maps from whycam's own backward rules against independent
 * computations — stock tf.grad over tfjs-converter's GraphModel.execute, central finite
 * differences, guided gating by hand, CAM against Grad-CAM on a GAP -> MatMul head, the same
 * network as a LayersModel — on cpu and wasm, without leaking tensors.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfconv from '@tensorflow/tfjs-converter';
import * as tfl from '@tensorflow/tfjs-layers';
import { compareLevels, Explainer, type ModelFile } from '../../src';
import type { SaliencyMap } from '../../src/methods/types';
import { pearson, relMaxDiff, switchTo } from '../helpers/backends';
import { graphA, graphB } from '../helpers/graph-fixtures';
import { attr, GraphBuilder, seeded } from '../helpers/graph-models';

const FIVE = ['cam', 'gradcam', 'vanilla', 'guided', 'guided-gradcam'] as const;

async function stock(files: ModelFile[]): Promise<tfconv.GraphModel> {
  const json = JSON.parse(new TextDecoder().decode(files[0].data as Uint8Array));
  return tfconv.loadGraphModel(tf.io.fromMemory({
    modelTopology: json.modelTopology, weightSpecs: json.weightsManifest[0].weights, weightData: (files[1].data as Uint8Array).slice().buffer,
  }));
}

function image(shape: [number, number, number, number], seed: number): tf.Tensor4D {
  const r = seeded(seed);
  return tf.tensor4d(Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => (r() + 1) / 2), shape);
}

async function maps(ex: Explainer, x: tf.Tensor4D, classIndex: number, methods: readonly string[] = FIVE): Promise<Partial<Record<string, SaliencyMap>>> {
  const r = await ex.explainAll(x, { class: classIndex, methods: [...methods] as never });
  return r.maps;
}

/**
 * graph A with ReLU where stock tfjs has no fused-activation gradient (Relu6 in a fused conv), and
 * a zero Pad for the MirrorPad, whose stock gradient (tfjs-core 4.22) drops the reflected borders'
 * share; MirrorPad's rule has a test of its own below.
 */
function graphAForStockGrad(): GraphBuilder {
  const g = graphA();
  const c1 = g.nodes.find((n) => n.name === 'c1/Relu6')!;
  (c1.attr as Record<string, unknown>).fused_ops = attr.strs(['BiasAdd', 'Relu']);
  g.nodes.find((n) => n.name === 'c3/MirrorPad')!.op = 'Pad';
  return g;
}

/** Input indices that mirror-pad one axis of length `size` by (before, after), as TensorFlow defines REFLECT and SYMMETRIC. */
function mirrorIndices(size: number, before: number, after: number, mode: 'REFLECT' | 'SYMMETRIC'): number[] {
  const off = mode === 'REFLECT' ? 1 : 0;
  return [
    ...Array.from({ length: before }, (_, k) => before - 1 - k + off),
    ...Array.from({ length: size }, (_, k) => k),
    ...Array.from({ length: after }, (_, k) => size - 1 - off - k),
  ];
}

describe.each(['cpu', 'wasm'] as const)('graph models explained (%s)', (backend) => {
  beforeAll(async () => { await switchTo(backend); });

  test('the input gradient equals stock tf.grad over GraphModel.execute', async () => {
    const files = graphAForStockGrad().files();
    const ex = await Explainer.load({ files });
    const gm = await stock(files);
    const x = image([1, 12, 12, 3], 4);
    for (const c of [0, 3]) {
      const got = (await maps(ex, x, c, ['vanilla'])).vanilla!.data;
      const want = tf.tidy(() => tf.grad((t: tf.Tensor) => tf.sum(tf.mul(gm.execute(t, 'head/BiasAdd') as tf.Tensor, tf.oneHot([c], 5))))(x));
      expect(relMaxDiff(got, want.dataSync())).toBeLessThan(1e-4);
      want.dispose();
    }
    x.dispose();
    gm.dispose();
    ex.dispose();
  });

  test('the input gradient of graph B (Elu, PadV2, pooling, Shape chain) against central finite differences', async () => {
    const files = graphB().files();
    const ex = await Explainer.load({ files });
    const gm = await stock(files);
    const x = image([1, 10, 10, 3], 8);
    const c = 2;
    const got = (await maps(ex, x, c, ['vanilla'])).vanilla!.data;
    const logit = (t: tf.Tensor) => tf.tidy(() => (gm.execute(t, 'dense/BiasAdd') as tf.Tensor).dataSync()[c]);
    const values = x.dataSync();
    const eps = 1e-2;
    let worst = 0;
    const scale = Math.max(...Array.from(got, Math.abs));
    for (let k = 0; k < 40; k++) {
      const i = (k * 37) % values.length;
      const plus = values.slice(); plus[i] += eps;
      const minus = values.slice(); minus[i] -= eps;
      const [tp, tm] = [tf.tensor4d(plus, x.shape), tf.tensor4d(minus, x.shape)];
      const fd = (logit(tp) - logit(tm)) / (2 * eps);
      tf.dispose([tp, tm]);
      worst = Math.max(worst, Math.abs(fd - got[i]) / scale);
    }
    expect(worst).toBeLessThan(2e-2);
    x.dispose();
    gm.dispose();
    ex.dispose();
  });

  test.each(['REFLECT', 'SYMMETRIC'] as const)('MirrorPad (%s): the input gradient folds the borders back, as tf.grad of the same padding written with gather', async (mode) => {
    const r = seeded(5);
    const g = new GraphBuilder();
    const x0 = g.input('image', [-1, 4, 5, 3]);
    const pads = [0, 0, 2, 1, 1, 2, 0, 0];
    const mp = g.op('MirrorPad', 'MirrorPad', [x0, g.constant('paddings', [4, 2], pads, 'int32')], { mode: attr.str(mode), Tpaddings: attr.type('DT_INT32') });
    const w = Array.from({ length: 3 * 3 }, () => r(0.8));
    const cv = g.op('conv', 'Conv2D', [mp, g.constant('conv/w', [1, 1, 3, 3], w)], { strides: attr.ints([1, 1, 1, 1]), padding: attr.str('VALID'), data_format: attr.str('NHWC'), dilations: attr.ints([1, 1, 1, 1]) });
    const sq = g.op('sq', 'Mul', [cv, cv]);
    const gap = g.op('gap', 'Mean', [sq, g.constant('axes', [2], [1, 2], 'int32')], { keep_dims: attr.bool(false), Tidx: attr.type('DT_INT32') });
    const k = Array.from({ length: 3 * 2 }, () => r(1));
    g.op('logits', 'MatMul', [gap, g.constant('w', [3, 2], k)], { transpose_a: attr.bool(false), transpose_b: attr.bool(false) });
    const ex = await Explainer.load({ files: g.files() });
    const x = image([1, 4, 5, 3], 6);
    const got = (await maps(ex, x, 1, ['vanilla'])).vanilla!.data;
    const rows = mirrorIndices(4, 2, 1, mode), cols = mirrorIndices(5, 1, 2, mode);
    const want = tf.tidy(() => tf.grad((t: tf.Tensor) => {
      const padded = tf.gather(tf.gather(t, rows, 1), cols, 2);
      const y = tf.conv2d(padded as tf.Tensor4D, tf.tensor4d(w, [1, 1, 3, 3]), 1, 'valid');
      return tf.sum(tf.mul(tf.matMul(tf.mean(tf.square(y), [1, 2]) as tf.Tensor2D, tf.tensor2d(k, [3, 2])), tf.oneHot([1], 2)));
    })(x));
    expect(relMaxDiff(got, want.dataSync())).toBeLessThan(1e-4);
    want.dispose();
    x.dispose();
    ex.dispose();
  });

  test('a final Sigmoid node: the score is the logit before it, the probabilities are its outputs', async () => {
    const r = seeded(7);
    const g = new GraphBuilder();
    const x0 = g.input('image', [-1, 4, 4, 3]);
    const w = Array.from({ length: 3 * 4 }, () => r(0.8));
    const cv = g.op('conv', 'Conv2D', [x0, g.constant('conv/w', [1, 1, 3, 4], w)], { strides: attr.ints([1, 1, 1, 1]), padding: attr.str('VALID'), data_format: attr.str('NHWC'), dilations: attr.ints([1, 1, 1, 1]) });
    const sq = g.op('sq', 'Mul', [cv, cv]);
    const gap = g.op('gap', 'Mean', [sq, g.constant('axes', [2], [1, 2], 'int32')], { keep_dims: attr.bool(false), Tidx: attr.type('DT_INT32') });
    const k = Array.from({ length: 4 * 3 }, () => r(1));
    g.op('out', 'Sigmoid', [g.op('logits', 'MatMul', [gap, g.constant('w', [4, 3], k)], { transpose_a: attr.bool(false), transpose_b: attr.bool(false) })]);
    const ex = await Explainer.load({ files: g.files() });
    const x = image([1, 4, 4, 3], 8);
    const logits = (t: tf.Tensor) => tf.matMul(tf.mean(tf.square(tf.conv2d(t as tf.Tensor4D, tf.tensor4d(w, [1, 1, 3, 4]), 1, 'valid')), [1, 2]) as tf.Tensor2D, tf.tensor2d(k, [4, 3]));
    const r0 = await ex.explainAll(x, { class: 2, methods: ['vanilla'], topK: 3 });
    const probs = tf.tidy(() => tf.sigmoid(logits(x)).dataSync());
    for (const p of r0.predictions) expect(p.probability).toBeCloseTo(probs[p.index], 5);
    const want = tf.tidy(() => tf.grad((t: tf.Tensor) => tf.sum(tf.mul(logits(t), tf.oneHot([2], 3))))(x));
    expect(relMaxDiff(r0.maps.vanilla!.data, want.dataSync())).toBeLessThan(1e-4);
    want.dispose();
    x.dispose();
    ex.dispose();
  });

  test('CAM equals Grad-CAM up to scale on the GAP -> MatMul head; guided Grad-CAM and the five maps exist', async () => {
    const ex = await Explainer.load({ files: graphA().files() });
    expect(ex.describe()).toMatchObject({ targetLayer: 'c3/Relu', cam: { applies: true } });
    const x = image([1, 12, 12, 3], 9);
    const m = await maps(ex, x, 1);
    expect(Object.keys(m).sort()).toEqual([...FIVE].sort());
    const [cam, grad] = [m.cam!.data, m.gradcam!.data];
    expect(m.cam!.width).toBe(7);
    // Grad-CAM's weights are the class's MatMul column over 7x7: CAM / 49.
    expect(relMaxDiff(grad, cam.map((v) => v / 49))).toBeLessThan(1e-4);
    expect(pearson(cam, grad)).toBeGreaterThan(0.9999);
    x.dispose();
    ex.dispose();
  });

  test('guided backpropagation gates at the fused ReLU by hand', async () => {
    const r = seeded(21);
    const g = new GraphBuilder();
    const w = Array.from({ length: 3 * 3 * 3 * 4 }, () => r(0.5));
    const b = Array.from({ length: 4 }, () => r(0.2));
    const d = Array.from({ length: 4 * 3 }, () => r(1));
    const x0 = g.input('x', [-1, 6, 6, 3]);
    const c = g.op('conv/Relu', '_FusedConv2D', [x0, g.constant('w', [3, 3, 3, 4], w), g.constant('b', [4], b)],
      { strides: attr.ints([1, 1, 1, 1]), padding: attr.str('SAME'), dilations: attr.ints([1, 1, 1, 1]), data_format: attr.str('NHWC'), fused_ops: attr.strs(['BiasAdd', 'Relu']), num_args: attr.int(1) });
    const m = g.op('Mean', 'Mean', [c, g.constant('axes', [2], [1, 2], 'int32')], { keep_dims: attr.bool(false) });
    g.op('Softmax', 'Softmax', [g.op('MatMul', 'MatMul', [m, g.constant('d', [4, 3], d)], { transpose_a: attr.bool(false), transpose_b: attr.bool(false) })]);
    const ex = await Explainer.load({ files: g.files() });
    const x = image([1, 6, 6, 3], 5);
    const cls = 1;
    const guided = (await maps(ex, x, cls, ['guided'])).guided!.data;
    const want = tf.tidy(() => {
      const W = tf.tensor4d(w, [3, 3, 3, 4]);
      const z = tf.add(tf.conv2d(x, W, 1, 'same'), tf.tensor1d(b));
      const column = tf.tensor1d([0, 1, 2, 3].map((k) => d[k * 3 + cls] / 36));
      const dy = tf.mul(tf.onesLike(z), column);
      // Guided: only where the unit is on and the incoming gradient is positive.
      const gated = tf.mul(dy, tf.mul(tf.cast(tf.greater(z, 0), 'float32'), tf.cast(tf.greater(dy, 0), 'float32')));
      return tf.grad((t: tf.Tensor) => tf.sum(tf.mul(tf.conv2d(t as tf.Tensor4D, W, 1, 'same'), gated)))(x);
    });
    expect(relMaxDiff(guided, want.dataSync())).toBeLessThan(1e-4);
    // The gate matters: vanilla differs.
    const vanilla = (await maps(ex, x, cls, ['vanilla'])).vanilla!.data;
    expect(relMaxDiff(vanilla, want.dataSync())).toBeGreaterThan(1e-2);
    want.dispose();
    x.dispose();
    ex.dispose();
  });

  test('a GraphModel and a LayersModel holding the same weights give the same five maps', async () => {
    await switchTo('cpu');
    const r = seeded(31);
    const rand = (n: number, a: number) => Array.from({ length: n }, () => r(a));
    const [w1, b1, w2, b2, wd, bd] = [rand(3 * 3 * 3 * 6, 0.5), rand(6, 0.2), rand(3 * 3 * 6 * 8, 0.3), rand(8, 0.2), rand(8 * 4, 1), rand(4, 0.3)];
    const layers = tfl.sequential({ layers: [
      tfl.layers.conv2d({ inputShape: [10, 10, 3], filters: 6, kernelSize: 3, padding: 'same', activation: 'relu', weights: [tf.tensor4d(w1, [3, 3, 3, 6]), tf.tensor1d(b1)] }),
      tfl.layers.maxPooling2d({ poolSize: 2 }),
      tfl.layers.conv2d({ filters: 8, kernelSize: 3, padding: 'same', activation: 'relu', weights: [tf.tensor4d(w2, [3, 3, 6, 8]), tf.tensor1d(b2)] }),
      tfl.layers.globalAveragePooling2d({}),
      tfl.layers.dense({ units: 4, activation: 'softmax', weights: [tf.tensor2d(wd, [8, 4]), tf.tensor1d(bd)] }),
    ] });
    const g = new GraphBuilder();
    const fusedRelu = { strides: attr.ints([1, 1, 1, 1]), padding: attr.str('SAME'), dilations: attr.ints([1, 1, 1, 1]), data_format: attr.str('NHWC'), fused_ops: attr.strs(['BiasAdd', 'Relu']), num_args: attr.int(1) };
    const c1 = g.op('c1', '_FusedConv2D', [g.input('x', [-1, 10, 10, 3]), g.constant('w1', [3, 3, 3, 6], w1), g.constant('b1', [6], b1)], fusedRelu);
    const p = g.op('pool', 'MaxPool', [c1], { ksize: attr.ints([1, 2, 2, 1]), strides: attr.ints([1, 2, 2, 1]), padding: attr.str('VALID') });
    const c2 = g.op('c2', '_FusedConv2D', [p, g.constant('w2', [3, 3, 6, 8], w2), g.constant('b2', [8], b2)], fusedRelu);
    const m = g.op('gap', 'Mean', [c2, g.constant('axes', [2], [1, 2], 'int32')], { keep_dims: attr.bool(false) });
    const fm = g.op('dense', '_FusedMatMul', [m, g.constant('wd', [8, 4], wd), g.constant('bd', [4], bd)], { fused_ops: attr.strs(['BiasAdd']), num_args: attr.int(1), transpose_a: attr.bool(false), transpose_b: attr.bool(false) });
    g.op('Softmax', 'Softmax', [fm]);
    await switchTo(backend);
    const [fromGraph, fromLayers] = [await Explainer.load({ files: g.files() }), new Explainer(layers)];
    const x = image([1, 10, 10, 3], 12);
    const [a, b] = [await maps(fromGraph, x, 2), await maps(fromLayers, x, 2)];
    for (const k of FIVE) {
      expect(a[k]!.data.length).toBe(b[k]!.data.length);
      expect(relMaxDiff(a[k]!.data, b[k]!.data)).toBeLessThan(1e-4);
    }
    x.dispose();
    fromGraph.dispose();
    fromLayers.dispose();
  });

  test('no tensor leaks over 50 explanations and after failures', async () => {
    const ex = await Explainer.load({ files: graphA().files() });
    const x = image([1, 12, 12, 3], 2);
    await maps(ex, x, 0);
    const before = tf.memory().numTensors;
    for (let i = 0; i < 50; i++) await maps(ex, x, i % 5);
    await expect(ex.explainAll(x, { class: 9 })).rejects.toMatchObject({ code: 'UNKNOWN_CLASS' });
    await expect(ex.explainAll(x, { layer: 'nowhere', methods: ['gradcam'] })).rejects.toMatchObject({ code: 'UNKNOWN_LAYER' });
    expect(tf.memory().numTensors).toBe(before);
    x.dispose();
    ex.dispose();
  }, 120_000);
});

test('wasm = cpu on graph A (all five maps)', async () => {
  const files = graphA().files();
  const result: Record<string, Partial<Record<string, SaliencyMap>>> = {};
  for (const backend of ['cpu', 'wasm'] as const) {
    await switchTo(backend);
    const ex = await Explainer.load({ files });
    const x = image([1, 12, 12, 3], 6);
    result[backend] = await maps(ex, x, 4);
    x.dispose();
    ex.dispose();
  }
  for (const k of FIVE) expect(relMaxDiff(result.wasm[k]!.data, result.cpu[k]!.data)).toBeLessThan(1e-4);
});

test('the quantiser writes float16 and uint8 graph models that keep the class and the Grad-CAM map', async () => {
  await switchTo('cpu');
  const before = tf.memory().numTensors;
  const pixels = { data: Uint8Array.from({ length: 12 * 12 * 4 }, (_, i) => (i * 37) % 256), width: 12, height: 12, channels: 4 as const };
  const reports = await compareLevels(graphA().files(), [pixels], { levels: ['float16', 'uint8'] });
  expect(reports.map((r) => r.level)).toEqual(['float16', 'uint8']);
  for (const r of reports) {
    expect(r.fidelity.top1Agreement).toBe(1);
    expect(r.fidelity.minGradcamPearson).toBeGreaterThan(0.999);
  }
  expect(reports[1].weightBytes).toBeLessThan(reports[0].weightBytes);
  expect(tf.memory().numTensors).toBe(before);
});
