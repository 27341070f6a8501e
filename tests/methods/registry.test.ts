/**
 * The method registry: a method added with registerMethod — one descriptor, no other file
 * touched — runs in the explainer's stages, is listed by `whycam --help`, is accepted by the
 * CLI's --method and by the widget's message validation, and reads the shared passes. Its
 * values are checked against a hand computation on a tiny conv -> GAP -> Dense model, where
 * d y^c / d A[h, w, k] = W[k, c] / (H * W) exactly.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import {
  Explainer, WhycamError, type MapStage, type Stage, defaultMethodNames, getMethod, listMethods, methodNames, registerMethod, unregisterMethod, type MethodDescriptor,
} from '../../src';
import { run } from '../../src/cli/main';
import { parseCommand } from '../../src/cli/args';
import { validateHostMessage } from '../../pwa/widget/protocol';
import { switchTo } from '../helpers/backends';
import { prng } from '../helpers/families';

const H = 4, W = 5, K = 3, CLASSES = 2;

/** Grad-times-activation summed over channels, before any ReLU: sum_k A_k dA_k. */
const toyClassMap: MethodDescriptor = {
  name: 'toy-grad-x-act',
  label: 'Toy gradient x activation',
  description: 'a test method: activation times its gradient, summed over channels',
  stage: 'class-maps',
  resolution: 'layer',
  normalize: 'signed',
  byDefault: false,
  needs: ['activations', 'activation-gradient'],
  compute: (ctx) => {
    const a = ctx.activations(), g = ctx.activationGradient();
    const out = new Float32Array(a.width * a.height);
    for (let p = 0; p < out.length; p++) for (let k = 0; k < a.channels; k++) out[p] += a.data[p * a.channels + k] * g.data[p * a.channels + k];
    return out;
  },
};

/** Combines another method's map: twice the vanilla gradient, in the last stage. */
const toyCombined: MethodDescriptor = {
  name: 'toy-double-vanilla',
  label: 'Toy double gradient',
  description: 'a test method: twice the vanilla gradient',
  stage: 'guided-gradcam',
  resolution: 'input',
  normalize: 'abs',
  byDefault: false,
  needs: [],
  uses: ['vanilla'],
  compute: async (ctx) => ctx.map('vanilla').data.map((v) => 2 * v),
};

function tinyModel(): tfl.LayersModel {
  const input = tfl.input({ shape: [H, W, 3] });
  const a = tfl.layers.conv2d({ filters: K, kernelSize: 3, padding: 'same', activation: 'relu', name: 'features' }).apply(input) as tfl.SymbolicTensor;
  const pooled = tfl.layers.globalAveragePooling2d({}).apply(a) as tfl.SymbolicTensor;
  const out = tfl.layers.dense({ units: CLASSES, name: 'logits' }).apply(pooled) as tfl.SymbolicTensor;
  const model = tfl.model({ inputs: input, outputs: out });
  const rand = prng(3);
  model.setWeights(model.getWeights().map((w) => tf.tensor(Array.from({ length: w.size }, () => rand() * 2 - 1), w.shape)));
  return model;
}

beforeAll(async () => {
  await switchTo('cpu');
  registerMethod(toyClassMap);
  registerMethod(toyCombined);
});
afterAll(() => {
  unregisterMethod('toy-double-vanilla');
  unregisterMethod('toy-grad-x-act');
});

test('a registered method runs in its stage; one it uses is computed without being emitted', async () => {
  const model = tinyModel();
  const ex = new Explainer(model);
  const x = tf.tensor4d(Array.from({ length: H * W * 3 }, (_, i) => Math.sin(i * 1.7)), [1, H, W, 3]);
  await ex.explainAll(x); // the first request caches the model's weights in the layout the passes use
  const before = tf.memory().numTensors;
  const stages: Stage[] = [];
  for await (const s of ex.explain(x, { class: 1, methods: ['toy-double-vanilla', 'gradcam', 'toy-grad-x-act'] })) stages.push(s);
  expect(tf.memory().numTensors).toBe(before);
  expect(stages.map((s) => s.stage)).toEqual(['prediction', 'class-maps', 'guided-gradcam']);
  const classMaps = stages[1] as MapStage;
  expect(Object.keys(classMaps.maps)).toEqual(['gradcam', 'toy-grad-x-act']);
  const last = stages[2] as typeof classMaps;
  expect(Object.keys(last.maps)).toEqual(['toy-double-vanilla']);

  // Hand computation: A = relu(conv(x)), dy_1/dA = W_dense[k, 1] / (H W).
  const [kernel, bias, dense] = model.getWeights();
  const a = tf.tidy(() => tf.relu(tf.add(tf.conv2d(x, kernel as tf.Tensor4D, 1, 'same'), bias)).dataSync());
  const w = dense.dataSync();
  const expected = new Float32Array(H * W);
  for (let p = 0; p < H * W; p++) for (let k = 0; k < K; k++) expected[p] += a[p * K + k] * (w[k * CLASSES + 1] / (H * W));
  const toy = classMaps.maps['toy-grad-x-act']!;
  expect([toy.width, toy.height, toy.channels, toy.layer]).toEqual([W, H, 1, 'features']);
  expect(Math.max(...expected.map(Math.abs))).toBeGreaterThan(1e-3);
  for (let p = 0; p < H * W; p++) expect(toy.data[p]).toBeCloseTo(expected[p], 5);

  // The combined map equals twice the vanilla gradient, computed by tf.grad on the model itself.
  const grad = tf.tidy(() => tf.grad((inp: tf.Tensor) => tf.sum(tf.slice(model.predict(inp) as tf.Tensor, [0, 1], [1, 1])))(x).dataSync());
  const double = last.maps['toy-double-vanilla']!;
  expect([double.width, double.height, double.channels, double.layer]).toEqual([W, H, 3, null]);
  for (let i = 0; i < grad.length; i++) expect(double.data[i]).toBeCloseTo(2 * grad[i], 5);
  x.dispose();
  ex.dispose();
});

test('the CLI lists and accepts it; the widget accepts it; unregistered, both refuse it', async () => {
  let help = '';
  expect(await run(['--help'], { stdout: (t) => { help += t; }, stderr: () => undefined })).toBe(0);
  expect(help).toMatch(/toy-grad-x-act\s+Toy gradient x activation \(not in the default\)/);
  const cmd = parseCommand(['explain', 'a.png', '--method', 'toy-grad-x-act,gradcam']);
  expect(cmd.kind === 'explain' && cmd.args.methods).toEqual(['toy-grad-x-act', 'gradcam']);
  expect(parseCommand(['explain', 'a.png'])).toMatchObject({ args: { methods: ['cam', 'gradcam', 'vanilla', 'guided', 'guided-gradcam'] } });

  const png = new Blob([new Uint8Array([0x89, 0x50, 0x4e, 0x47])], { type: 'image/png' });
  const message = { whycam: 1, type: 'explain', id: 'toy', image: png, options: { methods: ['toy-grad-x-act'] } };
  expect(validateHostMessage(message)).toMatchObject({ ok: true, message: { options: { methods: ['toy-grad-x-act'] } } });

  const spare: MethodDescriptor = { ...toyClassMap, name: 'toy-spare' };
  registerMethod(spare);
  expect(methodNames()).toContain('toy-spare');
  unregisterMethod('toy-spare');
  expect(() => parseCommand(['explain', 'a.png', '--method', 'toy-spare'])).toThrow(/Unknown method 'toy-spare'/);
  const refused = validateHostMessage({ ...message, options: { methods: ['toy-spare'] } });
  expect(refused).toMatchObject({ ok: false, reply: { type: 'error', code: 'BAD_MESSAGE' } });
});

test('the registry: built-ins in stage order, defaults, and what it refuses', () => {
  expect(listMethods().filter((m) => !m.name.startsWith('toy-')).map((m) => `${m.name}:${m.stage}`)).toEqual([
    'cam:class-maps', 'gradcam:class-maps', 'gradcam++:class-maps', 'layercam:class-maps',
    'vanilla:gradient-maps', 'guided:gradient-maps', 'guided-gradcam:guided-gradcam',
    'scorecam:sampled-maps', 'smoothgrad:sampled-maps', 'integrated-gradients:sampled-maps',
  ]);
  expect(defaultMethodNames()).toEqual(['cam', 'gradcam', 'vanilla', 'guided', 'guided-gradcam']);
  const code = (f: () => unknown) => {
    try {
      f();
    } catch (e) {
      return e instanceof WhycamError ? e.code : 'not a WhycamError';
    }
    return 'no error';
  };
  expect(code(() => registerMethod({ ...toyClassMap }))).toBe('BAD_OPTION'); // taken
  expect(code(() => registerMethod({ ...toyClassMap, name: 'Bad Name' }))).toBe('BAD_OPTION');
  expect(code(() => registerMethod({ ...toyClassMap, name: 'toy-x', stage: 'later' as never }))).toBe('BAD_OPTION');
  expect(code(() => registerMethod({ ...toyClassMap, name: 'toy-x', uses: ['nothing'] }))).toBe('BAD_OPTION');
  // A class map cannot wait for a map of a later stage.
  expect(code(() => registerMethod({ ...toyClassMap, name: 'toy-x', uses: ['guided'] }))).toBe('BAD_OPTION');
  expect(code(() => unregisterMethod('gradcam'))).toBe('BAD_OPTION');
  expect(code(() => unregisterMethod('vanilla'))).toBe('BAD_OPTION'); // built in, and used by a toy
  expect(code(() => getMethod('lime'))).toBe('UNKNOWN_METHOD');
});

test('a method that returns the wrong number of values fails with a clear error and frees everything', async () => {
  registerMethod({ ...toyClassMap, name: 'toy-wrong-size', compute: () => new Float32Array(3) });
  const ex = new Explainer(tinyModel());
  const x = tf.zeros([1, H, W, 3]) as tf.Tensor4D;
  await ex.explainAll(x);
  const before = tf.memory().numTensors;
  await expect(ex.explainAll(x, { methods: ['toy-wrong-size'] })).rejects.toThrow(/returned 3 values; a layer-resolution map has 5x4x1/);
  expect(tf.memory().numTensors).toBe(before);
  unregisterMethod('toy-wrong-size');
  x.dispose();
  ex.dispose();
});
