/**
 * The vanilla gradient against independent computations, per family and backend:
 * central finite differences of the logit (read through tfjs-layers' own forward pass
 * of a twin network without the softmax), and tfjs's stock autodiff on the cpu backend.
 */
import * as tf from '@tensorflow/tfjs-core';
import { Explainer } from '../../src';
import { BACKENDS, switchTo } from '../helpers/backends';
import { buildFamily, FAMILIES, prng, randomInput } from '../helpers/families';

const SIZE = 32;
const CLASS = 2; // deliberately not necessarily the top class
const SAMPLES = 60;
// Finite differences in float32: per sampled entry, central differences at EPS and EPS/2.
// Where they disagree (a ReLU kink lies within +-EPS) the entry is set aside; at least 75%
// of the sampled entries must be smooth, so the check cannot pass vacuously. On smooth
// entries: |fd - g| <= 2e-2 * max|g| + 2e-4 (float32 rounding of the logit, ~1e-7, divided
// by EPS is ~1e-4; random-direction checks in float32 are dominated by that rounding or by
// kinks, so they are not used). Stock autodiff (cpu), an exact reference, agrees to float32
// rounding: max |diff| <= 1e-4 * max |g|.
const EPS = 3e-3;
const FD_ABS = 2e-4;
const FD_REL = 2e-2;
const MIN_SMOOTH = 0.75;
const AUTODIFF_REL = 1e-4;

function logit(model: { predict(x: tf.Tensor): unknown }, data: Float32Array, shape: number[]): number {
  return tf.tidy(() => (model.predict(tf.tensor4d(data, shape as [number, number, number, number])) as tf.Tensor).dataSync()[CLASS]);
}

function centralDifference(model: { predict(x: tf.Tensor): unknown }, xs: Float32Array, shape: number[], i: number, eps: number): number {
  const plus = Float32Array.from(xs); plus[i] += eps;
  const minus = Float32Array.from(xs); minus[i] -= eps;
  return (logit(model, plus, shape) - logit(model, minus, shape)) / (2 * eps);
}

describe.each(BACKENDS)('vanilla gradient on %s', (backend) => {
  beforeAll(async () => { await switchTo(backend); });

  test.each(FAMILIES)('%s matches central finite differences', async (family) => {
    const model = buildFamily(family, 'softmax', SIZE);
    const twin = buildFamily(family, 'linear', SIZE);
    const ex = new Explainer(model, { range: '-1..1' });
    const x = randomInput(SIZE);
    const result = await ex.explainAll(x, { class: CLASS, methods: ['vanilla'] });
    const grad = result.maps.vanilla!.data;
    expect(result.maps.vanilla!.channels).toBe(3);
    expect(grad.length).toBe(SIZE * SIZE * 3);

    const rand = prng(11);
    const xs = x.dataSync() as Float32Array;
    const gmax = grad.reduce((a, v) => Math.max(a, Math.abs(v)), 0);
    let smooth = 0;
    for (let s = 0; s < SAMPLES; s++) {
      const i = Math.floor(rand() * xs.length);
      const fd = centralDifference(twin, xs, x.shape, i, EPS);
      const fdHalf = centralDifference(twin, xs, x.shape, i, EPS / 2);
      if (Math.abs(fd - fdHalf) > 0.02 * gmax + FD_ABS) continue; // a kink within +-EPS
      smooth++;
      expect(Math.abs(fdHalf - grad[i])).toBeLessThanOrEqual(FD_REL * gmax + FD_ABS);
    }
    expect(smooth).toBeGreaterThanOrEqual(MIN_SMOOTH * SAMPLES);

    x.dispose(); ex.dispose(); twin.dispose();
  });

  // 'mixed' has a dilated conv, which stock tfjs cannot differentiate; the finite differences cover it.
  test.each(FAMILIES.filter((f) => f !== 'mixed'))('%s equals stock tfjs autodiff on cpu', async (family) => {
    const model = buildFamily(family, 'softmax', SIZE);
    const ex = new Explainer(model, { range: '-1..1' });
    const x = randomInput(SIZE, 3, 21);
    const ours = (await ex.explainAll(x, { class: CLASS, methods: ['vanilla'] })).maps.vanilla!.data;
    ex.dispose();

    await switchTo('cpu');
    const twin = buildFamily(family, 'linear', SIZE);
    const ref = tf.tidy(() => tf.grad((inp: tf.Tensor) =>
      tf.sum(tf.slice(twin.apply(inp) as tf.Tensor2D, [0, CLASS], [1, 1])))(x).dataSync());
    twin.dispose();
    await switchTo(backend);
    let d = 0, m = 0;
    for (let i = 0; i < ref.length; i++) { d = Math.max(d, Math.abs(ref[i] - ours[i])); m = Math.max(m, Math.abs(ref[i])); }
    expect(m).toBeGreaterThan(0);
    expect(d / m).toBeLessThan(AUTODIFF_REL);
    x.dispose();
  });
});
