/**
 * tfjs's Adam (tf.train.adam) over one flat gradient in one JS loop, where tfjs runs ~16 ops
 * per variable a step (~750 small kernels for this model; npm run bench:train-step compares).
 * It does the same float32 operations in the same order (Math.fround after each), so the
 * weights it writes are the ones tf.train.adam would, to the bit (tests/models/flat-adam.test.ts).
 * It keeps a float32 copy of the weights and writes each variable once a step: it must be their
 * only writer.
 *
 * Optional decoupled weight decay (AdamW, Loshchilov & Hutter; PyTorch's order): each
 * variable's weights shrink by (1 - learningRate * decay) before the Adam step. Without it
 * the step is exactly tf.train.adam's.
 */
import * as tf from '@tensorflow/tfjs-core';

const f = Math.fround;

export class FlatAdam {
  private readonly weights: Float32Array;
  private readonly m: Float32Array;
  private readonly v: Float32Array;
  private accBeta1: number;
  private accBeta2: number;
  private readonly epsilon: number;
  private readonly beta1: number;
  private readonly beta2: number;
  /** Per weight: the decoupled decay rate of its variable (0: w * 1 is w, so no decay is tf.train.adam exactly). */
  private readonly decay: Float32Array;

  constructor(private readonly variables: tf.Variable[], options: { beta1?: number; beta2?: number; epsilon?: number; weightDecay?: number[] } = {}) {
    const { beta1 = 0.9, beta2 = 0.999, epsilon, weightDecay } = options;
    if (weightDecay && weightDecay.length !== variables.length) throw new Error(`Adam: ${weightDecay.length} weight decays for ${variables.length} variables`);
    this.beta1 = beta1;
    this.beta2 = beta2;
    const size = variables.reduce((n, v) => n + v.size, 0);
    this.weights = new Float32Array(size);
    this.decay = new Float32Array(size);
    let at = 0;
    variables.forEach((v, i) => {
      this.weights.set(v.dataSync() as Float32Array, at);
      this.decay.fill(weightDecay?.[i] ?? 0, at, at + v.size);
      at += v.size;
    });
    this.m = new Float32Array(size);
    this.v = new Float32Array(size);
    // tfjs keeps these as float32 scalars (variables), updated by a float32 multiply a step.
    this.accBeta1 = f(beta1);
    this.accBeta2 = f(beta2);
    this.epsilon = f(epsilon ?? tf.backend().epsilon());
  }

  /** One step with gradient `flat` (variable order) at `learningRate`; writes every variable. */
  apply(flat: Float32Array, learningRate: number): void {
    if (flat.length !== this.weights.length) throw new Error(`Adam: gradient of ${flat.length} values for ${this.weights.length} weights`);
    const w = this.weights, m = this.m, v = this.v;
    const b1 = f(this.beta1), b2 = f(this.beta2);
    const c1 = f(1 - this.beta1), c2 = f(1 - this.beta2);
    const d1 = f(1 - this.accBeta1), d2 = f(1 - this.accBeta2);
    const eps = this.epsilon, step = f(-learningRate);
    const decay = this.decay;
    for (let i = 0; i < w.length; i++) {
      const g = flat[i];
      const mi = f(f(m[i] * b1) + f(g * c1));
      const vi = f(f(v[i] * b2) + f(f(g * g) * c2));
      m[i] = mi;
      v[i] = vi;
      const q = f(f(mi / d1) / f(f(Math.sqrt(f(vi / d2))) + eps));
      const shrunk = f(w[i] * f(1 - learningRate * decay[i]));
      w[i] = f(f(q * step) + shrunk);
    }
    this.accBeta1 = f(this.accBeta1 * b1);
    this.accBeta2 = f(this.accBeta2 * b2);
    let at = 0;
    for (const variable of this.variables) {
      // A copy: tfjs-backend-cpu keeps the array it is given.
      const t = tf.tensor(w.slice(at, at + variable.size), variable.shape, 'float32');
      variable.assign(t);
      t.dispose();
      at += variable.size;
    }
  }
}
