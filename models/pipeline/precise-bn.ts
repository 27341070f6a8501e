/**
 * Precise batch-norm statistics (Wu & Johnson, "Rethinking 'Batch' in BatchNorm", 2021;
 * fvcore's update_bn_stats): after training, each batch-norm layer's moving mean and
 * variance become the equal-weight average of its batch statistics over many training
 * batches, computed with the final weights. What training leaves behind is an exponential
 * average with momentum 0.9, i.e. mostly the last ~10 steps' 16-scene shards: a noisy
 * estimate of the same quantities.
 */
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { SCENE_SIZE } from './config';
import { toBatch, trainScene } from './datasets';
import { patchForFastTraining } from './fast-train';
import type { FashionSplit } from './idx';

interface BnLayer { momentum: number; getClassName(): string }

/**
 * Runs `count` batches from `batch(b)` through the model in training mode (batch statistics,
 * as in training) and leaves in every batch-norm layer the mean over batches of the batch
 * mean and of the (biased) batch variance. Only the moving statistics change.
 */
export function preciseBatchNorm(model: tfl.LayersModel, batch: (b: number) => tf.Tensor4D, count: number): void {
  const layers = (model.layers as unknown as BnLayer[]).filter((l) => l.getClassName() === 'BatchNormalization');
  const momenta = layers.map((l) => l.momentum);
  const restore = patchForFastTraining(model);
  try {
    for (let b = 0; b < count; b++) {
      // moving <- moving - (moving - batch) / (b + 1): the running mean of the batch values.
      for (const l of layers) l.momentum = 1 - 1 / (b + 1);
      const x = batch(b);
      tf.tidy(() => { model.apply(x, { training: true }); });
      x.dispose();
    }
  } finally {
    layers.forEach((l, i) => { l.momentum = momenta[i]; });
    restore();
  }
}

/** How many training scenes the shipped model's statistics are averaged over (256 batches of 16, the shard size). */
export const PRECISE_BN = { batches: 256, batch: 16 };

/**
 * preciseBatchNorm over training scenes `first`, `first + 1`, ... (train.ts passes the index
 * after the last scene the run trained on: the same split, scenes not seen in that order).
 */
export function preciseBatchNormOnTrainingScenes(model: tfl.LayersModel, train: FashionSplit, seed: number, first: number): void {
  const { batches, batch } = PRECISE_BN;
  preciseBatchNorm(model, (b) => {
    const scenes = Array.from({ length: batch }, (_, i) => trainScene(train, seed, first + b * batch + i, SCENE_SIZE));
    return tf.tensor4d(toBatch(scenes), [batch, SCENE_SIZE, SCENE_SIZE, 3]);
  }, batches);
}
