/**
 * Many inputs through the model in batches, for the methods that sample (Score-CAM's masked
 * inputs, SmoothGrad's noisy copies, Integrated Gradients' path): the class score of each, or
 * its input gradient with the score. Between batches the request's signal is checked and progress
 * reported, so a long method can be cancelled and shown.
 */
import * as tf from '@tensorflow/tfjs-core';
import { WhycamError } from '../errors';
import { BackwardPass } from '../gradients/backward';
import type { WeightCache } from '../model/weight-cache';
import type { FlatGraph } from '../model/graph';
import type { InputSpec } from '../model/inspect';
import { runForward } from '../record/forward';
import type { FusionPlan } from '../record/fusion';
import type { FillInputs, MethodName, TakeGradients } from '../methods/types';

export interface MethodProgress {
  /** The method (or the measure, e.g. 'deletion') making progress. */
  method: MethodName;
  done: number;
  total: number;
}

export interface SampledPassesInit {
  graph: FlatGraph;
  plan: FusionPlan;
  cache: WeightCache;
  input: InputSpec;
  classIndex: number;
  signal?: { readonly aborted: boolean };
  onProgress?: (p: MethodProgress) => void;
}

/** Lets a pending cancel message reach the request between batches. */
const nextTask = () => new Promise<void>((resolve) => setTimeout(resolve, 0));

export class SampledPasses {
  constructor(private readonly init: SampledPassesInit) {}

  private get size(): number {
    const { width, height, channels } = this.init.input;
    return width * height * channels;
  }

  private check(count: number, batchSize: number): void {
    if (!Number.isInteger(count) || count < 1) throw new WhycamError('BAD_OPTION', `A sampled method needs at least one input; got ${count}.`);
    if (!Number.isInteger(batchSize) || batchSize < 1) throw new WhycamError('BAD_OPTION', `A batch size is a positive integer; got ${batchSize}.`);
  }

  private async step(method: MethodName, done: number, total: number): Promise<void> {
    this.init.onProgress?.({ method, done, total });
    await nextTask();
    if (this.init.signal?.aborted) throw new WhycamError('CANCELLED', 'The request was superseded or cancelled.');
  }

  private batch(fill: FillInputs, start: number, n: number): tf.Tensor4D {
    const { height, width, channels } = this.init.input;
    const values = new Float32Array(n * this.size);
    fill(start, n, values);
    return tf.tensor4d(values, [n, height, width, channels]);
  }

  /** y^c (or the class probability) of each of `count` inputs that `fill` writes batch by batch. */
  async scores(method: MethodName, count: number, fill: FillInputs, batchSize: number, kind: 'logit' | 'probability' = 'logit'): Promise<Float32Array> {
    this.check(count, batchSize);
    const { graph, plan, cache, classIndex } = this.init;
    const out = new Float32Array(count);
    for (let start = 0; start < count; start += batchSize) {
      const n = Math.min(batchSize, count - start);
      const x = this.batch(fill, start, n);
      try {
        const record = runForward(graph, x, plan, cache, { scoresOnly: true });
        try {
          const values = kind === 'logit' ? record.logits : record.probabilities;
          const [, classes] = values.shape;
          const v = values.dataSync();
          for (let i = 0; i < n; i++) out[start + i] = v[i * classes + classIndex];
        } finally {
          record.dispose();
        }
      } finally {
        x.dispose();
      }
      await this.step(method, start + n, count);
    }
    return out;
  }

  /** d y^c / d x and y^c for each input, batch by batch to `take`; 'guided' gates every ReLU as guided backprop does. */
  async gradients(method: MethodName, count: number, fill: FillInputs, mode: 'vanilla' | 'guided', batchSize: number, take: TakeGradients): Promise<void> {
    this.check(count, batchSize);
    const { graph, plan, cache, classIndex } = this.init;
    for (let start = 0; start < count; start += batchSize) {
      const n = Math.min(batchSize, count - start);
      const x = this.batch(fill, start, n);
      try {
        const record = runForward(graph, x, plan, cache);
        try {
          const [, classes] = record.logits.shape;
          const logits = record.logits.dataSync();
          const scores = new Float32Array(n);
          for (let i = 0; i < n; i++) scores[i] = logits[i * classes + classIndex];
          const pass = new BackwardPass(record, classIndex, mode, cache, [graph.inputRef]);
          let gradients: Float32Array;
          try {
            gradients = pass.runTo(graph.inputRef).dataSync() as Float32Array;
          } finally {
            pass.dispose();
          }
          take(start, n, gradients, scores);
        } finally {
          record.dispose();
        }
      } finally {
        x.dispose();
      }
      await this.step(method, start + n, count);
    }
  }
}
