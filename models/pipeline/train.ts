/**
 * `npm run train`: rebuilds the shipped default model from scratch — Fashion-MNIST
 * (Debian's dataset-fashion-mnist) composed into scenes on the fly, a MobileNet-style
 * CNN trained on the wasm backend, seeded end to end — then ships it into
 * models/fashion-scenes/ (ship.ts: every quantisation level measured, the default level
 * and the passing ones written, card.json) with training.json and the sample scenes.
 * Options: --steps N --batch N --seed N --out DIR --no-samples.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs-core';
import { useBackend } from '../../src/backend';
import { suppressTfjsNodeBanner } from '../../src/cli/quiet-tfjs';
import { buildModel, DEFAULT_ARCH, gridSize, TARGET_LAYER } from './model';
import { patchForFastTraining, registerFastPointwiseInputGrad } from './fast-train';
import { testSingleScene, toBatch, trainScene, TRAIN_COUNT, valScene } from './datasets';
import { INPUT_RANGE, LABELS, MODEL_DIR, MODEL_ID, SCENE_SIZE, TEST_SEED, TRAIN_COMMAND, TRAIN_SEED, TRAINING } from './config';
import { saveLayersModel, saveMetadata } from './save';
import { exportSamples } from './samples';
import { accuracy, formatDuration, loadSplitsOrExit, parseArgs } from './util';
import { ship, trainingSummary } from './ship';

function learningRate(step: number, steps: number): number {
  const { peakLearningRate: peak, warmupSteps: warm, finalLearningRate: low } = TRAINING;
  if (step < warm) return (peak * (step + 1)) / warm;
  const t = (step - warm) / Math.max(1, steps - warm);
  return low + 0.5 * (peak - low) * (1 + Math.cos(Math.PI * t));
}

/** Curriculum: easy scenes first, the full distribution from `curriculumFraction` of the run on. */
function difficulty(step: number, steps: number): number {
  return Math.min(1, step / Math.max(1, TRAINING.curriculumFraction * steps));
}

function targets(labels: number[], smoothing: number): tf.Tensor2D {
  const off = smoothing / LABELS.length;
  const y = new Float32Array(labels.length * LABELS.length).fill(off);
  labels.forEach((l, i) => { y[i * LABELS.length + l] = 1 - smoothing + off; });
  return tf.tensor2d(y, [labels.length, LABELS.length]);
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const steps = args.int('steps', TRAINING.steps);
  const batch = args.int('batch', TRAINING.batch);
  const seed = args.int('seed', TRAIN_SEED);
  const outDir = path.resolve(args.str('out', MODEL_DIR));

  const { train, test } = loadSplitsOrExit('train', 'test');

  suppressTfjsNodeBanner();
  await useBackend('wasm');
  registerFastPointwiseInputGrad();
  const arch = DEFAULT_ARCH;
  const model = buildModel(arch, seed);
  const restore = patchForFastTraining(model);
  const optimizer = tf.train.adam(TRAINING.peakLearningRate);
  model.compile({ optimizer, loss: 'categoricalCrossentropy', metrics: ['accuracy'] });
  console.log(`whycam: training '${MODEL_ID}' — ${model.countParams()} parameters, input ${arch.inputSize}x${arch.inputSize}x3 (${INPUT_RANGE}), target grid ${gridSize(arch)}x${gridSize(arch)}`);
  console.log(`  ${steps} steps x ${batch} scenes = ${steps * batch} scenes (${((steps * batch) / TRAIN_COUNT).toFixed(2)} epochs of ${TRAIN_COUNT} garments), seed ${seed}, wasm backend`);

  const tty = process.stdout.isTTY;
  // The machine is shared: the load beside the run explains its wall time.
  const loadAverages: number[] = [os.loadavg()[0]];
  const t0 = performance.now();
  let emaLoss = NaN, emaAcc = NaN;
  const log: Array<{ step: number; loss: number; acc: number; valAccuracy?: number; seconds: number }> = [];
  for (let step = 0; step < steps; step++) {
    const scenes = [];
    for (let b = 0; b < batch; b++) scenes.push(trainScene(train, seed, step * batch + b, SCENE_SIZE, difficulty(step, steps)));
    const x = tf.tensor4d(toBatch(scenes), [batch, SCENE_SIZE, SCENE_SIZE, 3]);
    const y = targets(scenes.map((s) => s.objects[0].label), TRAINING.labelSmoothing);
    // Adam reads its learning rate at every update; the schedule sets it before each step.
    (optimizer as unknown as { learningRate: number }).learningRate = learningRate(step, steps);
    const [loss, acc] = (await model.trainOnBatch(x, y)) as number[];
    x.dispose();
    y.dispose();
    emaLoss = Number.isNaN(emaLoss) ? loss : 0.98 * emaLoss + 0.02 * loss;
    emaAcc = Number.isNaN(emaAcc) ? acc : 0.98 * emaAcc + 0.02 * acc;
    const elapsed = (performance.now() - t0) / 1000;
    const eta = (elapsed / (step + 1)) * (steps - step - 1);
    const line = `step ${step + 1}/${steps} (${(((step + 1) / steps) * 100).toFixed(0)}%)  loss ${emaLoss.toFixed(3)}  acc ${(emaAcc * 100).toFixed(1)}%  lr ${learningRate(step, steps).toExponential(1)}  difficulty ${difficulty(step, steps).toFixed(2)}  ${((batch * (step + 1)) / elapsed).toFixed(1)} scenes/s  elapsed ${formatDuration(elapsed)}  ETA ${formatDuration(eta)}`;
    if (tty) process.stdout.write(`\r${line}   `);
    else if ((step + 1) % 25 === 0 || step === 0) console.log(line);
    const entry: (typeof log)[number] = { step: step + 1, loss: emaLoss, acc: emaAcc, seconds: elapsed };
    if ((step + 1) % TRAINING.validateEvery === 0 || step === steps - 1) {
      const v = await accuracy(model, (j) => valScene(train, seed, j, SCENE_SIZE), TRAINING.validationScenes);
      entry.valAccuracy = v;
      if (tty) process.stdout.write('\n');
      console.log(`  validation (${TRAINING.validationScenes} scenes of held-out train garments): ${(v * 100).toFixed(1)}%`);
    }
    if ((step + 1) % 25 === 0 || entry.valAccuracy !== undefined) log.push(entry);
    if ((step + 1) % 100 === 0) loadAverages.push(os.loadavg()[0]);
  }
  const trainSeconds = (performance.now() - t0) / 1000;
  restore();
  if (tty) process.stdout.write('\n');

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
    optimizer: { name: 'adam', ...TRAINING },
    architecture: arch,
    backend: 'wasm (1 thread)',
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

