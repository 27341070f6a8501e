/**
 * One replica of data-parallel training, run in a worker thread (train-parallel.ts starts
 * it). Every replica builds the same model from the seed, computes the gradient of its
 * shard of each batch, and applies the averaged gradient it is sent back with its own AdamW
 * (flat-adam.ts: tf.train.adam's float32 arithmetic in one loop, plus decoupled weight decay):
 * the same float operations on the same numbers, so the replicas stay bit-identical
 * (the coordinator checks). Batch-norm statistics are per shard (ghost batches).
 */
import { parentPort, workerData } from 'worker_threads';
import * as tf from '@tensorflow/tfjs-core';
import { useBackend } from '../../src/backend';
import { suppressTfjsNodeBanner } from '../../src/cli/quiet-tfjs';
import { LABELS, SCENE_SIZE, TRAINING } from './config';
import { toBatch, trainScene, valScene } from './datasets';
import { patchForFastTraining, registerFastPointwiseInputGrad } from './fast-train';
import { loadFashionMnist } from './idx';
import { buildModel, DEFAULT_ARCH } from './model';
import { difficulty, learningRate } from './schedule';
import { accuracy } from './util';
import { FlatAdam } from './flat-adam';
import type { ReplicaReply, ReplicaRequest, ReplicaSetup } from './train-parallel';

const setup = workerData as ReplicaSetup;
const port = parentPort!;

function targets(labels: number[], smoothing: number): tf.Tensor2D {
  const off = smoothing / LABELS.length;
  const y = new Float32Array(labels.length * LABELS.length).fill(off);
  labels.forEach((l, i) => { y[i * LABELS.length + l] = 1 - smoothing + off; });
  return tf.tensor2d(y, [labels.length, LABELS.length]);
}

async function main(): Promise<void> {
  const train = loadFashionMnist('train');
  suppressTfjsNodeBanner();
  await useBackend('wasm');
  registerFastPointwiseInputGrad();
  const model = buildModel(DEFAULT_ARCH, setup.seed);
  patchForFastTraining(model);
  const variables = model.trainableWeights.map((w) => w.read() as tf.Variable);
  // Kernels decay; batch-norm scales and shifts and biases do not.
  const weightDecay = model.trainableWeights.map((w) => (/kernel$/.test(w.originalName) ? TRAINING.weightDecay : 0));
  const optimizer = new FlatAdam(variables, { weightDecay });
  const shard = setup.batch / setup.replicas;

  /** Loss and gradient of this replica's shard of batch `step`, the gradient flattened in `variables` order. */
  const gradient = (step: number): ReplicaReply => {
    const scenes = [];
    const first = step * setup.batch + setup.rank * shard;
    for (let b = 0; b < shard; b++) scenes.push(trainScene(train, setup.seed, first + b, SCENE_SIZE, difficulty(step, setup.steps)));
    const labels = scenes.map((s) => s.objects[0].label);
    const x = tf.tensor4d(toBatch(scenes), [shard, SCENE_SIZE, SCENE_SIZE, 3]);
    const y = targets(labels, TRAINING.labelSmoothing);
    let top: tf.Tensor | null = null;
    // Categorical cross-entropy as tfjs-layers computes it for a softmax output.
    const { value, grads } = tf.variableGrads(() => {
      const p = model.apply(x, { training: true }) as tf.Tensor2D;
      top = tf.keep(tf.argMax(p, -1));
      const pc = tf.clipByValue(tf.div(p, tf.sum(p, -1, true)), 1e-7, 1 - 1e-7);
      return tf.mean(tf.neg(tf.sum(tf.mul(y, tf.log(pc)), -1))) as tf.Scalar;
    }, variables);
    const flat = new Float32Array(variables.reduce((n, v) => n + v.size, 0));
    let at = 0;
    for (const v of variables) {
      const g = grads[v.name];
      flat.set(g.dataSync() as Float32Array, at);
      at += v.size;
    }
    const predicted = top!.dataSync();
    const correct = labels.reduce((n, l, i) => n + (predicted[i] === l ? 1 : 0), 0);
    const loss = value.dataSync()[0];
    tf.dispose([x, y, value, top!, ...Object.values(grads)]);
    return { type: 'gradient', step, loss, correct, flat };
  };

  const apply = (step: number, flat: Float32Array): void => optimizer.apply(flat, learningRate(step, setup.steps));

  const handle = async (m: ReplicaRequest): Promise<ReplicaReply | null> => {
    switch (m.type) {
      case 'gradient': return gradient(m.step);
      case 'apply': apply(m.step, m.flat); return null;
      case 'validate': return { type: 'validate', accuracy: await accuracy(model, (j) => valScene(train, setup.seed, j, SCENE_SIZE), m.scenes) };
      case 'weights': return { type: 'weights', weights: model.weights.map((w) => ({ name: w.originalName, shape: w.shape as number[], data: w.read().dataSync() as Float32Array })) };
    }
  };

  // Requests are handled strictly one after another, in the order they were sent.
  let queue = Promise.resolve();
  port.on('message', (m: ReplicaRequest) => {
    queue = queue.then(async () => {
      const reply = await handle(m);
      if (reply?.type === 'gradient') port.postMessage(reply, [reply.flat.buffer as ArrayBuffer]);
      else if (reply) port.postMessage(reply);
    }).catch((e) => port.postMessage({ type: 'error', message: e instanceof Error ? e.stack ?? e.message : String(e) }));
  });
  port.postMessage({ type: 'ready', parameters: variables.reduce((n, v) => n + v.size, 0) });
}

main().catch((e) => port.postMessage({ type: 'error', message: e instanceof Error ? e.stack ?? e.message : String(e) }));
