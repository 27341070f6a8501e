/**
 * `npm run train`: rebuilds the shipped default model from scratch — Fashion-MNIST
 * (Debian's dataset-fashion-mnist) composed into scenes on the fly, a MobileNet-style
 * CNN trained on the wasm backend, seeded end to end — then ships it into
 * models/fashion-scenes/ (ship.ts: every quantisation level measured, the default level
 * and the passing ones written, card.json) with training.json and the sample scenes.
 * Training is data-parallel over --replicas worker threads (config: 2, one per core here),
 * each a wasm backend with one thread; the result depends on the replica count.
 * Options: --steps N --batch N --replicas N --seed N --out DIR --no-samples.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs-core';
import { useBackend } from '../../src/backend';
import { suppressTfjsNodeBanner } from '../../src/cli/quiet-tfjs';
import { buildModel, DEFAULT_ARCH, gridSize, TARGET_LAYER } from './model';
import { testSingleScene, TRAIN_COUNT } from './datasets';
import { difficulty, learningRate } from './schedule';
import { ParallelTrainer } from './train-parallel';
import { INPUT_RANGE, LABELS, MODEL_DIR, MODEL_ID, SCENE_SIZE, TEST_SEED, TRAIN_COMMAND, TRAIN_SEED, TRAINING } from './config';
import { saveLayersModel, saveMetadata } from './save';
import { exportSamples } from './samples';
import { accuracy, formatDuration, loadSplitsOrExit, parseArgs } from './util';
import { ship, trainingSummary } from './ship';
import { PRECISE_BN, preciseBatchNormOnTrainingScenes } from './precise-bn';

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const steps = args.int('steps', TRAINING.steps);
  const batch = args.int('batch', TRAINING.batch);
  const seed = args.int('seed', TRAIN_SEED);
  const replicas = args.int('replicas', TRAINING.replicas);
  const outDir = path.resolve(args.str('out', MODEL_DIR));

  // The replicas read the train split themselves; it is loaded here too for the install hint before they start, and for precise BN.
  const { train, test } = loadSplitsOrExit('train', 'test');

  suppressTfjsNodeBanner();
  await useBackend('wasm');
  const arch = DEFAULT_ARCH;
  const model = buildModel(arch, seed);
  console.log(`whycam: training '${MODEL_ID}' — ${model.countParams()} parameters, input ${arch.inputSize}x${arch.inputSize}x3 (${INPUT_RANGE}), target grid ${gridSize(arch)}x${gridSize(arch)}`);
  console.log(`  ${steps} steps x ${batch} scenes = ${steps * batch} scenes (${((steps * batch) / TRAIN_COUNT).toFixed(2)} epochs of ${TRAIN_COUNT} garments), seed ${seed}, wasm backend, ${replicas} replica(s) of ${batch / replicas} scenes a step`);
  const trainer = await ParallelTrainer.start({ seed, steps, batch, replicas });

  const tty = process.stdout.isTTY;
  // The machine is shared: the load beside the run explains its wall time.
  const loadAverages: number[] = [os.loadavg()[0]];
  const t0 = performance.now();
  let emaLoss = NaN, emaAcc = NaN;
  const log: Array<{ step: number; loss: number; acc: number; valAccuracy?: number; seconds: number }> = [];
  for (let step = 0; step < steps; step++) {
    const { loss, accuracy: acc } = await trainer.step(step);
    emaLoss = Number.isNaN(emaLoss) ? loss : 0.98 * emaLoss + 0.02 * loss;
    emaAcc = Number.isNaN(emaAcc) ? acc : 0.98 * emaAcc + 0.02 * acc;
    const elapsed = (performance.now() - t0) / 1000;
    const eta = (elapsed / (step + 1)) * (steps - step - 1);
    const line = `step ${step + 1}/${steps} (${(((step + 1) / steps) * 100).toFixed(0)}%)  loss ${emaLoss.toFixed(3)}  acc ${(emaAcc * 100).toFixed(1)}%  lr ${learningRate(step, steps).toExponential(1)}  difficulty ${difficulty(step, steps).toFixed(2)}  ${((batch * (step + 1)) / elapsed).toFixed(1)} scenes/s  elapsed ${formatDuration(elapsed)}  ETA ${formatDuration(eta)}`;
    if (tty) process.stdout.write(`\r${line}   `);
    else if ((step + 1) % 25 === 0 || step === 0) console.log(line);
    const entry: (typeof log)[number] = { step: step + 1, loss: emaLoss, acc: emaAcc, seconds: elapsed };
    if ((step + 1) % TRAINING.validateEvery === 0 || step === steps - 1) {
      const v = await trainer.validate(TRAINING.validationScenes);
      entry.valAccuracy = v;
      if (tty) process.stdout.write('\n');
      console.log(`  validation (${TRAINING.validationScenes} scenes of held-out train garments): ${(v * 100).toFixed(1)}%`);
    }
    if ((step + 1) % 25 === 0 || entry.valAccuracy !== undefined) log.push(entry);
    if ((step + 1) % 100 === 0) loadAverages.push(os.loadavg()[0]);
  }
  const trainSeconds = (performance.now() - t0) / 1000;
  const trained = await trainer.weights();
  await trainer.close();
  const values = trained.map((w, i) => {
    const mine = model.weights[i];
    if (mine.originalName !== w.name) throw new Error(`weight ${i}: '${w.name}' from the replicas, '${mine.originalName}' here`);
    return tf.tensor(w.data, w.shape);
  });
  model.setWeights(values);
  tf.dispose(values);
  if (tty) process.stdout.write('\n');
  const preciseFrom = steps * batch;
  preciseBatchNormOnTrainingScenes(model, train, seed, preciseFrom);
  console.log(`batch-norm statistics averaged over ${PRECISE_BN.batches} x ${PRECISE_BN.batch} training scenes (precise BN)`);

  const testN = 2000;
  const testAcc = await accuracy(model, (j) => testSingleScene(test, TEST_SEED, j, SCENE_SIZE), testN);
  console.log(`training took ${formatDuration(trainSeconds)}; accuracy on ${testN} single-garment test scenes: ${(testAcc * 100).toFixed(2)}%`);

  // float32 goes to a scratch directory; ship() measures every level and writes what ships.
  const float32Dir = mkdtempSync(path.join(os.tmpdir(), 'whycam-float32-'));
  const sizes = await saveLayersModel(model, float32Dir);
  saveMetadata(float32Dir, {
    modelName: MODEL_ID,
    labels: LABELS,
    inputRange: INPUT_RANGE,
    inputSize: [arch.inputSize, arch.inputSize, 3],
    targetLayer: TARGET_LAYER,
    description: 'Fashion-MNIST garments composed into 64x64 RGB scenes; MobileNet-style CNN (depthwise-separable blocks, batch norm, ReLU6) -> global average pooling -> Dense(10, softmax).',
  });
  const training = {
    command: TRAIN_COMMAND,
    data: 'Debian dataset-fashion-mnist: /usr/share/datasets/fashion-mnist (train images 0..54999 train, 55000..59999 validation; test split for the test scenes)',
    seed, steps, batch, scenes: steps * batch, epochs: (steps * batch) / TRAIN_COUNT,
    optimizer: { name: TRAINING.weightDecay > 0 ? 'adamw' : 'adam', ...TRAINING, steps, batch, replicas },
    preciseBatchNorm: { ...PRECISE_BN, firstScene: preciseFrom },
    architecture: arch,
    backend: `wasm, ${replicas} worker thread(s) of 1 wasm thread (data-parallel, averaged gradients)`,
    trainSeconds: Math.round(trainSeconds),
    machine: { cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model, meanLoadAverage: Number((loadAverages.reduce((a, b) => a + b, 0) / loadAverages.length).toFixed(2)) },
    testSingleSceneAccuracy: { scenes: testN, seed: TEST_SEED, accuracy: testAcc },
    log,
  };
  mkdirSync(outDir, { recursive: true });
  writeFileSync(path.join(outDir, 'training.json'), `${JSON.stringify(training, null, 1)}\n`);
  console.log(`float32: model.json ${sizes.modelJson} B, weights.bin ${sizes.weights} B; measuring every quantisation level...`);
  try {
    const card = await ship(test, { from: float32Dir, out: outDir, training: trainingSummary(training), log: (l) => console.log(l) });
    console.log(`shipped ${outDir}: default level ${card.defaultLevel}, accuracy ${(card.accuracy * 100).toFixed(2)}%, every gate ${card.passes ? 'passes' : 'does NOT pass'} (card.json)`);
  } finally {
    rmSync(float32Dir, { recursive: true, force: true });
  }
  if (!args.flag('no-samples')) {
    const n = await exportSamples(model, test, path.join(outDir, 'samples'));
    console.log(`wrote ${n} sample scenes to ${path.join(outDir, 'samples')}`);
  }
  model.dispose();
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});

