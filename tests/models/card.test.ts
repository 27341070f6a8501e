/**
 * The model card tells the truth and the shipped default level keeps the gates: every number
 * that matters is recomputed here from the shipped files (models/fashion-scenes/ and its
 * levels/float32 reference) on the fixed test scenes, and compared with card.json and with
 * the gates of issue 4. The scenes come from Debian's dataset-fashion-mnist test split.
 * Quantisation fidelity and the pointing game are asserted against the gates; accuracy is
 * asserted to be reported truthfully (the model does not reach the 88% gate yet).
 */
import { existsSync, readFileSync, statSync } from 'fs';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs-core';
import { Explainer, useBackend } from '../../src';
import { compareQuantized } from '../../src/quantize';
import { modelSourceFromPath } from '../../src/node/model-path';
import { suppressTfjsNodeBanner } from '../../src/cli/quiet-tfjs';
import { FASHION_MNIST_DIR, FASHION_MNIST_LABELS, loadFashionMnist, type FashionSplit } from '../../models/pipeline/idx';
import { testSingleScene } from '../../models/pipeline/datasets';
import { TEST_SEED } from '../../models/pipeline/config';
import { evaluateAccuracy, pointingGame, POINTING_METHODS } from '../../models/pipeline/evaluate';
import { GATES, type ModelCard } from '../../models/pipeline/ship';

if (!existsSync(path.join(FASHION_MNIST_DIR, 't10k-images-idx3-ubyte.gz'))) {
  throw new Error(`Fashion-MNIST is missing from ${FASHION_MNIST_DIR}: apt-get install -y dataset-fashion-mnist`);
}

const DIR = path.resolve(__dirname, '../../models/fashion-scenes');
const card = JSON.parse(readFileSync(path.join(DIR, 'card.json'), 'utf8')) as ModelCard;
const levelDir = (rel: string) => path.join(DIR, rel);
const fileSize = (f: string) => statSync(f).size;

describe('models/fashion-scenes/card.json', () => {
  let split: FashionSplit;
  let shipped: Explainer;
  let float32: Explainer;

  beforeAll(async () => {
    suppressTfjsNodeBanner();
    await useBackend('wasm');
    split = loadFashionMnist('test');
    shipped = await Explainer.load(await modelSourceFromPath(DIR));
    float32 = await Explainer.load(await modelSourceFromPath(levelDir(card.levels.float32!.path)));
  });
  afterAll(() => {
    shipped?.dispose();
    float32?.dispose();
  });

  test('describes the model as it loads: classes, input, range, target layer and grid, the training command', () => {
    expect(card.classes).toEqual([...FASHION_MNIST_LABELS]);
    expect(shipped.labels).toEqual(card.classes);
    expect(card.input).toEqual({ ...shipped.input, range: shipped.range });
    const target = shipped.targetLayer()!;
    expect(card.targetLayer).toBe(target.name);
    expect(card.grid).toEqual({ width: target.width, height: target.height });
    expect(Math.min(card.grid.width, card.grid.height)).toBeGreaterThanOrEqual(8);
    expect(card.training.command).toBe('npm run train');
    expect(card.gates).toEqual(GATES);
    expect(card.evaluation.testSeed).toBe(TEST_SEED);
  });

  test('every shipped level is on disk with the sizes and the quantisation the card gives', () => {
    expect(card.levels[card.defaultLevel]!.path).toBe('.');
    expect(['uint8', 'float16']).toContain(card.defaultLevel);
    for (const [level, l] of Object.entries(card.levels)) {
      if (!l!.shipped) { expect(existsSync(levelDir(path.join('levels', level)))).toBe(false); continue; }
      const dir = levelDir(l!.path);
      const json = JSON.parse(readFileSync(path.join(dir, 'model.json'), 'utf8')) as tf.io.ModelJSON;
      expect(l!.bytes).toEqual({ modelJson: fileSize(path.join(dir, 'model.json')), weights: fileSize(path.join(dir, 'weights.bin')) });
      const dtypes = new Set(json.weightsManifest.flatMap((g) => g.weights.map((w) => w.quantization?.dtype ?? w.dtype)));
      if (level === 'float32') expect([...dtypes]).toEqual(['float32']);
      else expect(dtypes.has(level as tf.DataType)).toBe(true);
      expect(existsSync(path.join(dir, 'metadata.json'))).toBe(true);
    }
  });

  test(`the default level agrees with float32 on >= ${GATES.agreement * 100}% of test scenes and its Grad-CAM maps correlate >= ${GATES.gradcamPearson}`, async () => {
    const images = Array.from({ length: card.evaluation.fidelityScenes }, (_, j) => {
      const s = testSingleScene(split, TEST_SEED, j, card.input.height);
      return { data: s.rgb, width: s.size, height: s.size, channels: 3 as const };
    });
    // The first explanation builds each model's per-model caches (fused weights), kept until dispose.
    await compareQuantized(float32, shipped, images.slice(0, 1));
    const base = tf.memory().numTensors;
    const f = await compareQuantized(float32, shipped, images);
    expect(tf.memory().numTensors).toBe(base);
    const l = card.levels[card.defaultLevel]!;
    expect(f.top1Agreement).toBeCloseTo(l.agreement, 2);
    expect(f.gradcamPearson!).toBeCloseTo(l.gradcamPearson, 3);
    expect(f.top1Agreement).toBeGreaterThanOrEqual(GATES.agreement);
    expect(f.gradcamPearson!).toBeGreaterThanOrEqual(GATES.gradcamPearson);
  });

  // The accuracy gate (88%) is not reached yet (issue 4 stays open): the card must say so, and
  // its figure must be the one the shipped files give.
  test('accuracy on single-garment test scenes is what the card says, with the gate verdict that follows from it', async () => {
    const acc = await evaluateAccuracy(shipped, split, card.evaluation.accuracyScenes, card.input.height);
    expect(Math.abs(acc.accuracy - card.accuracy)).toBeLessThanOrEqual(0.003);
    expect(card.levels[card.defaultLevel]!.passes.accuracy).toBe(acc.accuracy >= GATES.accuracy);
    // Ten classes: far above chance, and above the first model's 77.6%.
    expect(acc.accuracy).toBeGreaterThan(0.8);
  });

  test(`pointing game on two-garment scenes: the numbers of the card, Grad-CAM >= ${GATES.pointing * 100}% and far above the centre baseline`, async () => {
    const pg = await pointingGame(shipped, split, card.evaluation.pointingPairs, card.input.height, POINTING_METHODS);
    const l = card.levels[card.defaultLevel]!;
    expect(pg.garments).toBe(card.evaluation.pointingGarments);
    for (const m of POINTING_METHODS) expect(Math.abs(pg.methods[m].score - l.pointingGame[m])).toBeLessThanOrEqual(0.01);
    expect(pg.centreBaseline.score).toBeCloseTo(card.evaluation.centreBaseline, 6);
    expect(pg.methods.gradcam.score).toBeGreaterThanOrEqual(GATES.pointing);
    expect(pg.methods.gradcam.score).toBeGreaterThan(pg.centreBaseline.score + 0.3);
  });

  test('the card says passes only when every gate holds for the default level', () => {
    const l = card.levels[card.defaultLevel]!;
    expect(l.passes).toEqual({
      accuracy: l.accuracy >= GATES.accuracy,
      agreement: l.agreement >= GATES.agreement,
      gradcamPearson: l.gradcamPearson >= GATES.gradcamPearson,
      pointing: l.pointingGame.gradcam >= GATES.pointing,
    });
    expect(card.passes).toBe(Object.values(l.passes).every(Boolean));
    // The gates the default level is chosen by hold for it.
    expect([l.passes.agreement, l.passes.gradcamPearson, l.passes.pointing]).toEqual([true, true, true]);
  });
});
