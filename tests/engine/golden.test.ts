/**
 * Hand-computed values on tiny networks (the arithmetic is in the comments), on both
 * backends: CAM, Grad-CAM, vanilla gradient, guided backprop (ReLU, ReLU6, LeakyReLU)
 * and Guided Grad-CAM.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { Explainer } from '../../src';
import { BACKENDS, switchTo } from '../helpers/backends';

const L = tfl.layers;
const close = (got: ArrayLike<number>, want: number[]) => {
  expect(got.length).toBe(want.length);
  want.forEach((w, i) => expect(got[i]).toBeCloseTo(w, 5));
};

/**
 * x [2,2,1] -> Conv2D 1x1, 2 filters, kernel [1, -1], linear, no bias -> GAP -> Dense(2, softmax, no bias)
 * with W = [[1, 3], [2, 0.5]]. For x = [[1,2],[3,4]]: A_0 = x, A_1 = -x.
 * class 0: CAM = 1*A_0 + 2*A_1 = -x; Grad-CAM weights W[:,0]/4 = [0.25, 0.5] -> -0.25 x.
 * class 1: CAM = 3x - 0.5x = 2.5x; Grad-CAM weights [0.75, 0.125] -> 0.625 x.
 * Vanilla (and guided: no ReLU) gradient of logit 1: (3*1 + 0.5*(-1)) / 4 = 0.625 at every pixel.
 */
function camNet(): tfl.LayersModel {
  const input = tfl.input({ shape: [2, 2, 1] });
  const a = L.conv2d({ filters: 2, kernelSize: 1, useBias: false, name: 'features' }).apply(input) as tfl.SymbolicTensor;
  const g = L.globalAveragePooling2d({}).apply(a) as tfl.SymbolicTensor;
  const out = L.dense({ units: 2, useBias: false, activation: 'softmax' }).apply(g) as tfl.SymbolicTensor;
  const m = tfl.model({ inputs: input, outputs: out });
  m.setWeights([tf.tensor4d([1, -1], [1, 1, 1, 2]), tf.tensor2d([[1, 3], [2, 0.5]])]);
  return m;
}

/**
 * x [1,2,1] -> Conv2D 1x1, 2 filters, kernel [1, -1], activation act, no bias -> Flatten -> Dense(2, linear, no bias)
 * with class-0 column [1, 5, 7, -1] (class 1: [0, 0, 0, 1]). Flattened order: p0c0, p0c1, p1c0, p1c1.
 */
function gateNet(activation: 'relu' | 'relu6' | 'leaky'): tfl.LayersModel {
  const input = tfl.input({ shape: [1, 2, 1] });
  let a = L.conv2d({ filters: 2, kernelSize: 1, useBias: false, activation: activation === 'leaky' ? 'linear' : activation })
    .apply(input) as tfl.SymbolicTensor;
  if (activation === 'leaky') a = L.leakyReLU({ alpha: 0.1 }).apply(a) as tfl.SymbolicTensor;
  const f = L.flatten().apply(a) as tfl.SymbolicTensor;
  const out = L.dense({ units: 2, useBias: false }).apply(f) as tfl.SymbolicTensor;
  const m = tfl.model({ inputs: input, outputs: out });
  m.setWeights([tf.tensor4d([1, -1], [1, 1, 1, 2]), tf.tensor2d([[1, 0], [5, 0], [7, 0], [-1, 1]])]);
  return m;
}

describe.each(BACKENDS)('hand-computed values on %s', (backend) => {
  beforeAll(async () => { await switchTo(backend); });

  test('CAM and Grad-CAM on conv -> GAP -> Dense', async () => {
    const ex = new Explainer(camNet());
    expect(ex.describe().cam).toEqual({ applies: true });
    const x = tf.tensor4d([1, 2, 3, 4], [1, 2, 2, 1]);
    const c0 = await ex.explainAll(x, { class: 0 });
    close(c0.maps.cam!.data, [-1, -2, -3, -4]);
    close(c0.maps.gradcam!.data, [-0.25, -0.5, -0.75, -1]);
    expect(c0.maps.gradcam!.layer).toBe('features');
    const c1 = await ex.explainAll(x, { class: 1 });
    close(c1.maps.cam!.data, [2.5, 5, 7.5, 10]);
    close(c1.maps.gradcam!.data, [0.625, 1.25, 1.875, 2.5]);
    close(c1.maps.vanilla!.data, [0.625, 0.625, 0.625, 0.625]);
    close(c1.maps.guided!.data, [0.625, 0.625, 0.625, 0.625]);
    // Guided Grad-CAM: guided x ReLU(Grad-CAM) at the same 2x2 size.
    close(c1.maps['guided-gradcam']!.data, [0.625 * 0.625, 0.625 * 1.25, 0.625 * 1.875, 0.625 * 2.5]);
    // Class 0's Grad-CAM is all negative: its ReLU zeroes Guided Grad-CAM.
    close(c0.maps['guided-gradcam']!.data, [0, 0, 0, 0]);
    x.dispose(); ex.dispose();
  });

  test('guided backprop gates on the signs of both input and gradient (ReLU)', async () => {
    // x = [2, -3]: z p0 = [2, -2], p1 = [-3, 3]; h = [2, 0, 0, 3]; d logit0 / dh = [1, 5, 7, -1].
    // vanilla: dz = dh * (z > 0) = [1, 0, 0, -1] -> dx = [1*1 + 0*(-1), 0*1 + (-1)*(-1)] = [1, 1]
    // guided:  dz = relu(dh) * (z > 0) = [1, 0, 0, 0] -> dx = [1, 0]
    // (gating on the gradient alone would give relu(dh) = [1, 5, 7, 0] -> [-4, 7]: neither.)
    // Grad-CAM: A = h, dA = dh; weights = pixel means [(1+7)/2, (5-1)/2] = [4, 2] -> [4*2 + 2*0, 4*0 + 2*3] = [8, 6].
    const ex = new Explainer(gateNet('relu'));
    const x = tf.tensor4d([2, -3], [1, 1, 2, 1]);
    const r = await ex.explainAll(x, { class: 0 });
    expect(r.predictions[0].index).toBe(1); // logits [-1, 3]: we explain the non-top class
    close(r.maps.vanilla!.data, [1, 1]);
    close(r.maps.guided!.data, [1, 0]);
    close(r.maps.gradcam!.data, [8, 6]);
    close(r.maps['guided-gradcam']!.data, [8, 0]);
    expect(r.skipped.cam).toMatch(/global average pooling/);
    x.dispose(); ex.dispose();
  });

  test('ReLU6 blocks the gradient above 6 in both modes', async () => {
    // x = [8, -3]: z p0 = [8, -8], p1 = [-3, 3]; pass where 0 < z < 6: [0, 0, 0, 1].
    // vanilla dz = [0, 0, 0, -1] -> dx = [0, 1]; guided dz = relu(dh) * pass = 0 -> [0, 0].
    const ex = new Explainer(gateNet('relu6'));
    const x = tf.tensor4d([8, -3], [1, 1, 2, 1]);
    const r = await ex.explainAll(x, { class: 0, methods: ['vanilla', 'guided'] });
    close(r.maps.vanilla!.data, [0, 1]);
    close(r.maps.guided!.data, [0, 0]);
    x.dispose(); ex.dispose();
  });

  test('LeakyReLU keeps its slope and guided mode drops negative gradients', async () => {
    // x = [2, -3]: slopes (alpha 0.1) [1, .1, .1, 1]; dh = [1, 5, 7, -1].
    // vanilla dz = [1, .5, .7, -1] -> dx = [1 - .5, .7 + 1] = [.5, 1.7]
    // guided  dz = relu(dh) * slope = [1, .5, .7, 0] -> dx = [.5, .7]
    const ex = new Explainer(gateNet('leaky'));
    const x = tf.tensor4d([2, -3], [1, 1, 2, 1]);
    const r = await ex.explainAll(x, { class: 0, methods: ['vanilla', 'guided'] });
    close(r.maps.vanilla!.data, [0.5, 1.7]);
    close(r.maps.guided!.data, [0.5, 0.7]);
    x.dispose(); ex.dispose();
  });
});
