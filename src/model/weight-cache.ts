/** Per-layer tensors derived from weights (flipped filters, folded batch norms), built once per model. */
import * as tf from '@tensorflow/tfjs-core';
import type { GraphOp } from './graph';

/** The cache key of something derived from `op`'s weights (the layer id keeps two models' layers of one name apart). */
export function weightKey(op: GraphOp, what: string): string {
  return `${op.path}#${(op.layer as unknown as { id: number }).id}:${what}`;
}

export class WeightCache {
  private entries = new Map<string, tf.Tensor>();

  get(key: string, make: () => tf.Tensor): tf.Tensor {
    let t = this.entries.get(key);
    if (!t) {
      // keep(): entries are made inside a request's tidy but must outlive it.
      t = tf.keep(tf.tidy(make));
      this.entries.set(key, t);
    }
    return t;
  }

  get size(): number {
    return this.entries.size;
  }

  dispose(): void {
    for (const t of this.entries.values()) t.dispose();
    this.entries.clear();
  }
}
