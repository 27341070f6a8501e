/**
 * A reverse walk over a forward record, from the class logit down to the input, that
 * can stop part-way: run it down to the target layer, read the gradient there (the
 * class maps need nothing more), then carry on to the input for the pixel-level maps.
 * Nothing is computed twice and no forward pass is repeated.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { ForwardRecord } from '../record/forward';
import type { GradMode } from './activation-grad';
import { opInputGrads } from './layer-grads';
import { chainInputGrad } from './chain-grad';
import type { WeightCache } from '../model/weight-cache';

export class BackwardPass {
  private readonly grads = new Map<number, tf.Tensor>();
  private readonly keep: Set<number>;
  /** Index of the next op to process (ops are processed in descending order). */
  private next: number;
  private disposed = false;

  /**
   * @param keepRefs refs whose gradients must survive until read (the target layer, the input).
   */
  constructor(
    private readonly record: ForwardRecord,
    classIndex: number,
    private readonly mode: GradMode,
    private readonly cache: WeightCache,
    keepRefs: number[],
  ) {
    this.keep = new Set(keepRefs);
    const { graph, logits, logitsSource } = record;
    // Seed with a one-hot row per batch item on the logits: selecting the class this way needs no
    // gather, and each item's input gradient is that of its own score.
    const oneHot = tf.tidy(() =>
      tf.cast(tf.oneHot(tf.fill([logits.shape[0]], classIndex, 'int32') as tf.Tensor1D, logits.shape[1]), 'float32') as tf.Tensor2D);
    const finalIndex = graph.producer[graph.outputRef];
    if (logitsSource.kind === 'pre-activation') {
      // The final layer's softmax is skipped: push the seed through its linear part here.
      this.next = finalIndex - 1;
      try {
        this.processOp(finalIndex, oneHot, true);
      } catch (e) {
        this.dispose();
        throw e;
      } finally {
        oneHot.dispose();
      }
    } else if (logitsSource.kind === 'activation-input') {
      this.grads.set(graph.ops[finalIndex].inputs[0], oneHot);
      this.next = finalIndex - 1;
    } else {
      this.grads.set(graph.outputRef, oneHot);
      this.next = finalIndex;
    }
  }

  private processOp(index: number, dy: tf.Tensor, skipActivation: boolean): void {
    const op = this.record.graph.ops[index];
    const { values, preActivations } = this.record;
    const dxs = opInputGrads(
      {
        op,
        inputs: op.inputs.map((r) => values[r]),
        outputs: op.outputs.map((r) => values[r]),
        z: preActivations.get(index),
        skipActivation,
        mode: this.mode,
        cache: this.cache,
      },
      dy,
    );
    op.inputs.forEach((ref, i) => this.accumulate(ref, dxs[i]));
  }

  private accumulate(ref: number, dx: tf.Tensor | null): void {
    if (!dx) return;
    const prev = this.grads.get(ref);
    if (prev) {
      this.grads.set(ref, tf.add(prev, dx));
      prev.dispose();
      dx.dispose();
    } else {
      this.grads.set(ref, dx);
    }
  }

  /** Processes every op that comes after the producer of `ref`; returns the gradient at `ref` (owned by this pass). */
  runTo(ref: number): tf.Tensor {
    if (this.disposed) throw new Error('BackwardPass used after dispose');
    const stop = this.record.graph.producer[ref];
    while (this.next > stop) {
      const index = this.next--;
      const chain = this.record.plan.byTail.get(index);
      if (chain) {
        // A fused chain: its inner ops never see a gradient and are skipped below.
        const dy = this.grads.get(chain.output);
        if (!dy) continue;
        const { values } = this.record;
        this.accumulate(chain.input, chainInputGrad(chain, values[chain.input], values[chain.output], dy, this.mode, this.cache));
        this.release(chain.output);
        continue;
      }
      const op = this.record.graph.ops[index];
      if (op.outputs.length !== 1) {
        // Multi-output leaf layers are rare in classifiers; only the first output's gradient is used.
        op.outputs.slice(1).forEach((r) => this.release(r));
      }
      const dy = this.grads.get(op.outputs[0]);
      if (!dy) continue;
      this.processOp(index, dy, false);
      this.release(op.outputs[0]);
    }
    const g = this.grads.get(ref);
    if (g) return g;
    // The class score does not depend on this value at all.
    const zeros = tf.zerosLike(this.record.values[ref]);
    this.grads.set(ref, zeros);
    return zeros;
  }

  private release(ref: number): void {
    if (this.keep.has(ref)) return;
    const g = this.grads.get(ref);
    if (g) {
      g.dispose();
      this.grads.delete(ref);
    }
  }

  dispose(): void {
    for (const g of this.grads.values()) g.dispose();
    this.grads.clear();
    this.disposed = true;
  }
}
