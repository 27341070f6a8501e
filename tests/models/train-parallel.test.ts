/**
 * Data-parallel training (models/pipeline/train-parallel.ts): two replicas in worker threads.
 * The averaged gradient must equal what stock tfjs autodiff gives for the same shards of the
 * stock model in this process (no fused training paths, no worker); Adam moves each weight
 * by at most the learning rate a step; the replicas stay identical; two runs give the same weights.
 */
import * as tf from '@tensorflow/tfjs-core';
import { relMaxDiff, switchTo } from '../helpers/backends';
import { suppressTfjsNodeBanner } from '../../src/cli/quiet-tfjs';
import { LABELS, SCENE_SIZE, TRAINING } from '../../models/pipeline/config';
import { toBatch, trainScene } from '../../models/pipeline/datasets';
import { loadFashionMnist } from '../../models/pipeline/idx';
import { buildModel, DEFAULT_ARCH } from '../../models/pipeline/model';
import { difficulty, learningRate } from '../../models/pipeline/schedule';
import { ParallelTrainer, type NamedWeight } from '../../models/pipeline/train-parallel';

jest.setTimeout(180_000);

const SEED = 7, STEPS = 50, BATCH = 4, REPLICAS = 2;

/** Stock autodiff of the smoothed cross-entropy of one shard, flattened in trainableWeights order. */
function shardGradient(model: ReturnType<typeof buildModel>, step: number, rank: number): Float32Array {
  const train = loadFashionMnist('train');
  const shard = BATCH / REPLICAS;
  const scenes = Array.from({ length: shard }, (_, b) => trainScene(train, SEED, step * BATCH + rank * shard + b, SCENE_SIZE, difficulty(step, STEPS)));
  const vars = model.trainableWeights.map((w) => w.read() as tf.Variable);
  return tf.tidy(() => {
    const x = tf.tensor4d(toBatch(scenes), [shard, SCENE_SIZE, SCENE_SIZE, 3]);
    const s = TRAINING.labelSmoothing;
    const y = tf.tensor2d(scenes.flatMap((sc) => LABELS.map((_, c) => (c === sc.objects[0].label ? 1 - s : 0) + s / LABELS.length)), [shard, LABELS.length]);
    const { grads } = tf.variableGrads(() => {
      const p = model.apply(x, { training: true }) as tf.Tensor;
      return tf.mean(tf.neg(tf.sum(tf.mul(y, tf.log(p)), -1))) as tf.Scalar;
    }, vars);
    const out: number[] = [];
    for (const v of vars) out.push(...grads[v.name].dataSync());
    return new Float32Array(out);
  });
}

async function train(steps: number): Promise<NamedWeight[]> {
  const t = await ParallelTrainer.start({ seed: SEED, steps: STEPS, batch: BATCH, replicas: REPLICAS });
  try {
    for (let s = 0; s < steps; s++) await t.step(s);
    return await t.weights(); // throws if the replicas' trainable weights differ
  } finally {
    await t.close();
  }
}

test('the averaged gradient of two replicas equals stock autodiff of their shards', async () => {
  const trainer = await ParallelTrainer.start({ seed: SEED, steps: STEPS, batch: BATCH, replicas: REPLICAS });
  let got: Float32Array;
  try {
    got = (await trainer.gradient(0)).flat;
  } finally {
    await trainer.close();
  }
  suppressTfjsNodeBanner();
  await switchTo('wasm');
  const model = buildModel(DEFAULT_ARCH, SEED);
  const a = shardGradient(model, 0, 0), b = shardGradient(model, 0, 1);
  model.dispose();
  const expected = a.map((v, i) => (v + b[i]) / 2);
  expect(got.length).toBe(expected.length);
  expect(relMaxDiff(got, expected)).toBeLessThan(1e-3);
  // The two shards' gradients differ: the average is not one shard repeated.
  expect(relMaxDiff(a, b)).toBeGreaterThan(0.05);
});

test('replicas stay identical and a rerun gives the same weights', async () => {
  const init = buildModel(DEFAULT_ARCH, SEED);
  const before = init.weights.map((w) => w.read().dataSync().slice());
  init.dispose();
  const first = await train(3);
  const second = await train(3);
  first.forEach((w, i) => {
    expect(second[i].name).toBe(w.name);
    expect(Array.from(second[i].data)).toEqual(Array.from(w.data));
  });
  // Adam's first steps move a weight by about the learning rate each (m/sqrt(v) = sign(g)), never
  // more; the kernels' decoupled weight decay adds at most learningRate * decay * |w| a step.
  const budget = [0, 1, 2].reduce((a, s) => a + learningRate(s, STEPS), 0);
  const kernel = first.findIndex((w) => w.name === 'block7_pw/kernel');
  const largest = Math.max(...Array.from(before[kernel], Math.abs));
  let moved = 0;
  first[kernel].data.forEach((v, j) => { moved = Math.max(moved, Math.abs(v - before[kernel][j])); });
  expect(moved).toBeGreaterThan(0.3 * budget);
  expect(moved).toBeLessThanOrEqual(1.01 * budget * (1 + TRAINING.weightDecay * (largest + budget)));
});

test('a batch that does not split evenly over the replicas is refused before any worker starts', async () => {
  await expect(ParallelTrainer.start({ seed: SEED, steps: STEPS, batch: 5, replicas: 2 })).rejects.toThrow('must split evenly over 2 replica(s)');
  await expect(ParallelTrainer.start({ seed: SEED, steps: STEPS, batch: 4, replicas: 0 })).rejects.toThrow('replica');
});
