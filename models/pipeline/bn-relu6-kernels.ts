/**
 * Training-mode batch norm + ReLU6 as two kernels of our own, for the wasm backend (in
 * place on the heap) and cpu, each a few JS loops over the activation:
 *
 *   forward  (x, gamma, beta) -> y = clip((x - mu) * s + beta, 0, max), mu, var   (3 passes)
 *   backward (dy, x, y, mu, var, gamma) -> dx, dgamma, dbeta                        (2 passes)
 *   s = gamma / sqrt(var + eps), g = dy * [0 < y < max]
 *   dx = s * (g - mean(g) - (x - mu) * mean(g * (x - mu)) / (var + eps))
 *   dgamma = sum(g * (x - mu)) / sqrt(var + eps), dbeta = sum(g)
 *
 * Composed from tfjs ops this is ~25 passes a layer, and every per-channel Sum/Mean over
 * axes [0, 1, 2] on wasm first transposes the whole activation. The sums are float64, so the
 * statistics are at least as exact as tfjs's float32 reductions.
 */
import * as tf from '@tensorflow/tfjs-core';
import { registerJsKernelOutputs } from '../../src/gradients/kernels/js-kernel';

export const BN_RELU6_FORWARD = 'WhycamBnRelu6TrainForward';
export const BN_RELU6_BACKWARD = 'WhycamBnRelu6TrainBackward';

export interface BnRelu6Attrs {
  epsilon: number;
  maxValue: number;
  [key: string]: number;
}

/*
 * Loop shape: the channel is the innermost axis, so each loop walks the activation with stride
 * c, four channels at a time with their accumulators and parameters in locals (in V8 about
 * twice as fast as one channel at a time, and faster than tf.sum on wasm); channel counts that
 * are not a multiple of 4 finish one channel at a time. The clip goes through Math.abs, which
 * V8 runs an order of magnitude faster than Math.min/Math.max or a ternary.
 */

/** min(max(v, 0), max) without a branch: (v + |v|) / 2 is relu exactly; the cap rounds to within an ulp of a double. */
const clip = (v: number, max: number) => {
  const r = 0.5 * (v + Math.abs(v));
  return 0.5 * (r + max - Math.abs(r - max));
};
/** 1 where the clip passed the gradient (0 < y < max), else 0; branch-free, the mask is close to random. */
const passes = (y: number, max: number) => +(y > 0) & +(y < max);

/** Per-channel mean and biased variance (two passes: the centred sum of squares does not cancel), then y. */
function forward(x: Float32Array, gamma: Float32Array, beta: Float32Array, c: number, a: BnRelu6Attrs,
  y: Float32Array, meanOut: Float32Array, varOut: Float32Array): void {
  const n = x.length, m = n / c, max = a.maxValue, eps = a.epsilon;
  let k = 0;
  for (; k + 4 <= c; k += 4) {
    let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    for (let i = k; i < n; i += c) { s0 += x[i]; s1 += x[i + 1]; s2 += x[i + 2]; s3 += x[i + 3]; }
    const u0 = Math.fround(s0 / m), u1 = Math.fround(s1 / m), u2 = Math.fround(s2 / m), u3 = Math.fround(s3 / m);
    let q0 = 0, q1 = 0, q2 = 0, q3 = 0;
    for (let i = k; i < n; i += c) {
      const d0 = x[i] - u0, d1 = x[i + 1] - u1, d2 = x[i + 2] - u2, d3 = x[i + 3] - u3;
      q0 += d0 * d0; q1 += d1 * d1; q2 += d2 * d2; q3 += d3 * d3;
    }
    const v0 = q0 / m, v1 = q1 / m, v2 = q2 / m, v3 = q3 / m;
    meanOut[k] = u0; meanOut[k + 1] = u1; meanOut[k + 2] = u2; meanOut[k + 3] = u3;
    varOut[k] = v0; varOut[k + 1] = v1; varOut[k + 2] = v2; varOut[k + 3] = v3;
    const c0 = gamma[k] / Math.sqrt(v0 + eps), c1 = gamma[k + 1] / Math.sqrt(v1 + eps);
    const c2 = gamma[k + 2] / Math.sqrt(v2 + eps), c3 = gamma[k + 3] / Math.sqrt(v3 + eps);
    const b0 = beta[k], b1 = beta[k + 1], b2 = beta[k + 2], b3 = beta[k + 3];
    for (let i = k; i < n; i += c) {
      y[i] = clip((x[i] - u0) * c0 + b0, max);
      y[i + 1] = clip((x[i + 1] - u1) * c1 + b1, max);
      y[i + 2] = clip((x[i + 2] - u2) * c2 + b2, max);
      y[i + 3] = clip((x[i + 3] - u3) * c3 + b3, max);
    }
  }
  for (; k < c; k++) {
    let s = 0;
    for (let i = k; i < n; i += c) s += x[i];
    const u = Math.fround(s / m);
    let q = 0;
    for (let i = k; i < n; i += c) { const d = x[i] - u; q += d * d; }
    const v = q / m, sc = gamma[k] / Math.sqrt(v + eps), b = beta[k];
    meanOut[k] = u;
    varOut[k] = v;
    for (let i = k; i < n; i += c) y[i] = clip((x[i] - u) * sc + b, max);
  }
}

/** Per channel: the sums of g and g * (x - mu), then dx = s * (g - mean(g) - (x - mu) * sum(g * (x - mu)) / (m (var + eps))). */
function backward(dy: Float32Array, x: Float32Array, y: Float32Array, mean: Float32Array, variance: Float32Array,
  gamma: Float32Array, c: number, a: BnRelu6Attrs, dx: Float32Array, dGamma: Float32Array, dBeta: Float32Array): void {
  const n = x.length, m = n / c, max = a.maxValue, eps = a.epsilon;
  // Per channel of a group: rstd, scale s, mean(g), and the coefficient of (x - mu).
  const coefficients = (k: number, sg: number, sgd: number) => {
    const rstd = 1 / Math.sqrt(variance[k] + eps);
    dGamma[k] = sgd * rstd;
    dBeta[k] = sg;
    return [gamma[k] * rstd, sg / m, (sgd * rstd * rstd) / m];
  };
  // Pass 1 leaves g in dx, so pass 2 reads two arrays, not three.
  let k = 0;
  for (; k + 4 <= c; k += 4) {
    const u0 = mean[k], u1 = mean[k + 1], u2 = mean[k + 2], u3 = mean[k + 3];
    let g0 = 0, g1 = 0, g2 = 0, g3 = 0, h0 = 0, h1 = 0, h2 = 0, h3 = 0;
    for (let i = k; i < n; i += c) {
      const a0 = dy[i] * passes(y[i], max), a1 = dy[i + 1] * passes(y[i + 1], max);
      const a2 = dy[i + 2] * passes(y[i + 2], max), a3 = dy[i + 3] * passes(y[i + 3], max);
      dx[i] = a0; dx[i + 1] = a1; dx[i + 2] = a2; dx[i + 3] = a3;
      g0 += a0; g1 += a1; g2 += a2; g3 += a3;
      h0 += a0 * (x[i] - u0); h1 += a1 * (x[i + 1] - u1); h2 += a2 * (x[i + 2] - u2); h3 += a3 * (x[i + 3] - u3);
    }
    const [s0, mg0, e0] = coefficients(k, g0, h0), [s1, mg1, e1] = coefficients(k + 1, g1, h1);
    const [s2, mg2, e2] = coefficients(k + 2, g2, h2), [s3, mg3, e3] = coefficients(k + 3, g3, h3);
    for (let i = k; i < n; i += c) {
      dx[i] = s0 * (dx[i] - mg0 - (x[i] - u0) * e0);
      dx[i + 1] = s1 * (dx[i + 1] - mg1 - (x[i + 1] - u1) * e1);
      dx[i + 2] = s2 * (dx[i + 2] - mg2 - (x[i + 2] - u2) * e2);
      dx[i + 3] = s3 * (dx[i + 3] - mg3 - (x[i + 3] - u3) * e3);
    }
  }
  for (; k < c; k++) {
    const u = mean[k];
    let sg = 0, sgd = 0;
    for (let i = k; i < n; i += c) { const g = dy[i] * passes(y[i], max); dx[i] = g; sg += g; sgd += g * (x[i] - u); }
    const [s, mg, e] = coefficients(k, sg, sgd);
    for (let i = k; i < n; i += c) dx[i] = s * (dx[i] - mg - (x[i] - u) * e);
  }
}

const channels = (shapes: Record<string, number[]>) => shapes.x[shapes.x.length - 1];

registerJsKernelOutputs<BnRelu6Attrs>({
  name: BN_RELU6_FORWARD,
  outputShapes: ({ x, gamma }) => [x.shape, gamma.shape, gamma.shape],
  run: ({ x, gamma, beta }, shapes, a, [y, mean, variance]) => forward(x, gamma, beta, channels(shapes), a, y, mean, variance),
});

registerJsKernelOutputs<BnRelu6Attrs>({
  name: BN_RELU6_BACKWARD,
  outputShapes: ({ dy, gamma }) => [dy.shape, gamma.shape, gamma.shape],
  run: ({ dy, x, y, mean, variance, gamma }, shapes, a, [dx, dGamma, dBeta]) =>
    backward(dy, x, y, mean, variance, gamma, channels(shapes), a, dx, dGamma, dBeta),
});

/** Whether the active backend has both kernels. */
export function hasBnRelu6Kernels(): boolean {
  const b = tf.getBackend();
  return tf.getKernel(BN_RELU6_FORWARD, b) != null && tf.getKernel(BN_RELU6_BACKWARD, b) != null;
}
