/**
 * `npm run bench:train-step [-- --steps N] [--json FILE]`
 *
 * Where one training replica's step goes (models/pipeline/train-replica.ts, one wasm thread,
 * 16 scenes at full difficulty): scene composition, forward + backward (tf.variableGrads on
 * the patched model), reading the gradients back, and the Adam update, once with
 * tf.train.adam (the baseline) and once with flat-adam.ts. Two models from the same seed, one
 * per optimizer, take steps in turn, so both see the same machine; medians and ratios.
 */
import * as fs from 'fs';
import { parseArgs } from 'util';
import * as tf from '@tensorflow/tfjs-core';
import { useBackend } from '../../src/backend';
import { suppressTfjsNodeBanner } from '../../src/cli/quiet-tfjs';
import { LABELS, SCENE_SIZE, TRAINING } from '../../models/pipeline/config';
import { toBatch, trainScene } from '../../models/pipeline/datasets';
import { patchForFastTraining, registerFastPointwiseInputGrad } from '../../models/pipeline/fast-train';
import { FlatAdam } from '../../models/pipeline/flat-adam';
import { loadFashionMnist } from '../../models/pipeline/idx';
import { buildModel, DEFAULT_ARCH } from '../../models/pipeline/model';
import { applyFlatGradient } from '../helpers/flat-gradient';
import { median } from './measure';

const { values: args } = parseArgs({ options: { steps: { type: 'string', default: '100' }, json: { type: 'string' } } });
const PHASES = ['scenes', 'forwardBackward', 'readGradients', 'adam', 'step'] as const;
type Phase = (typeof PHASES)[number];

async function main(): Promise<void> {
  const steps = Number(args.steps);
  const train = loadFashionMnist('train');
  suppressTfjsNodeBanner();
  await useBackend('wasm');
  registerFastPointwiseInputGrad();
  const shard = TRAINING.batch / TRAINING.replicas;

  const replica = (name: string, useFlat: boolean) => {
    const model = buildModel(DEFAULT_ARCH, 1);
    patchForFastTraining(model);
    const variables = model.trainableWeights.map((w) => w.read() as tf.Variable);
    const flatAdam = useFlat ? new FlatAdam(variables) : null;
    const tfAdam = useFlat ? null : tf.train.adam(1e-3);
    const times: Record<Phase, number[]> = { scenes: [], forwardBackward: [], readGradients: [], adam: [], step: [] };
    const step = (k: number) => {
      const t0 = performance.now();
      const scenes = Array.from({ length: shard }, (_, b) => trainScene(train, 1, 64000 + k * shard + b, SCENE_SIZE));
      const x = tf.tensor4d(toBatch(scenes), [shard, SCENE_SIZE, SCENE_SIZE, 3]);
      const y = tf.tidy(() => tf.oneHot(tf.tensor1d(scenes.map((s) => s.objects[0].label), 'int32'), LABELS.length));
      const t1 = performance.now();
      const { value, grads } = tf.variableGrads(() => {
        const p = model.apply(x, { training: true }) as tf.Tensor2D;
        return tf.mean(tf.neg(tf.sum(tf.mul(y, tf.log(tf.clipByValue(p, 1e-7, 1))), -1))) as tf.Scalar;
      }, variables);
      value.dataSync();
      const t2 = performance.now();
      const flat = new Float32Array(variables.reduce((n, v) => n + v.size, 0));
      let at = 0;
      for (const v of variables) { flat.set(grads[v.name].dataSync() as Float32Array, at); at += v.size; }
      tf.dispose([x, y, value, ...Object.values(grads)]);
      const t3 = performance.now();
      if (flatAdam) flatAdam.apply(flat, 1e-3);
      else applyFlatGradient(tfAdam!, variables, flat, 1e-3);
      const t4 = performance.now();
      const all: Record<Phase, number> = { scenes: t1 - t0, forwardBackward: t2 - t1, readGradients: t3 - t2, adam: t4 - t3, step: t4 - t0 };
      for (const p of PHASES) times[p].push(all[p]);
    };
    return { name, step, times };
  };

  const baseline = replica('tf.train.adam', false);
  const flat = replica('FlatAdam', true);
  const warmup = 10;
  for (let k = 0; k < warmup + steps; k++) {
    for (const r of k % 2 ? [flat, baseline] : [baseline, flat]) r.step(k);
    if (k === warmup - 1) for (const r of [baseline, flat]) for (const p of PHASES) r.times[p].length = 0;
  }

  const rows = PHASES.map((p) => ({ phase: p, baselineMs: median(baseline.times[p]), flatAdamMs: median(flat.times[p]) }));
  console.log(`one training replica's step, ${shard} scenes, wasm, medians of ${steps} steps each (alternating)`);
  console.log(`${'phase'.padEnd(16)} ${'tf.train.adam'.padStart(14)} ${'FlatAdam'.padStart(10)} ${'ratio'.padStart(7)}`);
  for (const r of rows) console.log(`${r.phase.padEnd(16)} ${r.baselineMs.toFixed(2).padStart(11)} ms ${r.flatAdamMs.toFixed(2).padStart(7)} ms ${(r.baselineMs / r.flatAdamMs).toFixed(2).padStart(6)}x`);
  if (args.json) fs.writeFileSync(args.json, `${JSON.stringify({ steps, shard, backend: 'wasm', rows }, null, 1)}\n`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
