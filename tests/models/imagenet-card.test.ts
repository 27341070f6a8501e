/**
 * The default model, models/imagenet-darknet-tiny, as shipped: its card tells the truth (every
 * figure recomputed here from the shipped files and the float32 model in ../shared, on every
 * photo the project has), the shipped level keeps float32's answers, and it recognises the
 * everyday things in the sample photos.
 */
import { existsSync, readFileSync, statSync } from 'fs';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs-core';
import { Explainer, useBackend } from '../../src';
import { compareQuantized, quantizeFilesWithReport } from '../../src/quantize';
import type { ImageInput } from '../../src/image/types';
import { modelSourceFromPath } from '../../src/node/model-path';
import { suppressTfjsNodeBanner } from '../../src/cli/quiet-tfjs';
import { FIXTURES, TM_DIR } from '../helpers/fixtures';
import {
  GATES, IMAGENET_DIR, MIXED_UINT8, levelFor, projectPhotos, readModelFiles, readPhoto, type ImagenetCard,
} from '../../models/pipeline/ship-imagenet';

/** The float32 model as published, and the Teachable Machine photos: shared fixtures, not in the repository. */
const IMAGENET_FLOAT32 = path.join(FIXTURES, 'imagenet-darknet-tiny');
const TM_IMAGES = path.join(TM_DIR, 'images');

if (!existsSync(path.join(IMAGENET_FLOAT32, 'model.json'))) {
  throw new Error(`The float32 ImageNet model is missing from ${IMAGENET_FLOAT32}: the tests expect ../shared/fixtures beside the repository.`);
}

const card = JSON.parse(readFileSync(path.join(IMAGENET_DIR, 'card.json'), 'utf8')) as ImagenetCard;
const fileSize = (f: string) => statSync(path.join(IMAGENET_DIR, f)).size;
const photos = projectPhotos(TM_IMAGES);

describe('models/imagenet-darknet-tiny', () => {
  let shipped: Explainer;
  let float32: Explainer;
  let images: ImageInput[];
  const float32Files = readModelFiles(IMAGENET_FLOAT32);

  beforeAll(async () => {
    suppressTfjsNodeBanner();
    await useBackend('wasm');
    shipped = await Explainer.load(await modelSourceFromPath(IMAGENET_DIR));
    float32 = await Explainer.load({ files: float32Files });
    images = await Promise.all(photos.map((p) => readPhoto(p.path)));
  });
  afterAll(() => {
    shipped?.dispose();
    float32?.dispose();
  });

  test('loads with its metadata: the 1000 Darknet labels, 224x224 RGB, 0..1, CAM on the class convolution', () => {
    const labels = JSON.parse(readFileSync(path.join(IMAGENET_FLOAT32, 'labels.json'), 'utf8'));
    expect(shipped.labels).toEqual(labels);
    expect(shipped.labels).toHaveLength(1000);
    expect(shipped.input).toEqual({ height: 224, width: 224, channels: 3 });
    expect(shipped.range).toBe('0..1');
    expect(card.input).toEqual({ ...shipped.input, range: shipped.range });
    const target = shipped.targetLayer()!;
    expect([card.targetLayer, card.grid]).toEqual([target.name, { width: target.width, height: target.height }]);
    expect(shipped.describe().cam.applies).toBe(true);
    expect(card.source.licence).toMatch(/MIT/);
    expect(readFileSync(path.join(IMAGENET_DIR, 'README.md'), 'utf8')).toMatch(/ml5js\/ml5-data-and-models[\s\S]*MIT[\s\S]*public\s+domain/);
  });

  test('the card lists every photo the project has', () => {
    expect(card.evaluation.photos).toEqual(photos.map((p) => p.file));
    // 4 samples, 22 Teachable Machine photos, 12 garment scenes.
    expect(photos).toHaveLength(38);
  });

  test('bytes per level are those of the shipped files and of the quantiser', () => {
    const level = card.defaultLevel;
    expect(card.levels[level]!).toMatchObject({ path: '.', shipped: true });
    expect(card.levels[level]!.bytes).toEqual({ modelJson: fileSize('model.json'), weights: fileSize('weights.bin') });
    const json = JSON.parse(readFileSync(path.join(IMAGENET_DIR, 'model.json'), 'utf8')) as tf.io.ModelJSON;
    const dtypes = new Set(json.weightsManifest.flatMap((g) => g.weights.map((w) => w.quantization?.dtype ?? w.dtype)));
    expect(dtypes.has(level as tf.DataType)).toBe(true);
    for (const l of ['uint8', 'float16'] as const) {
      const q = quantizeFilesWithReport(float32Files, l, { levelFor });
      expect(card.levels[l]!.bytes.weights).toBe(q.report.weightBytes);
    }
    expect(card.levels.uint8!.mixed).toBe(MIXED_UINT8);
    const float32Weights = float32Files.filter((f) => /shard/.test(f.name)).reduce((a, f) => a + f.data.byteLength, 0);
    expect(card.levels.float32!.bytes.weights).toBe(float32Weights);
  });

  test(`the shipped level agrees with float32 on top-1 for every photo, Grad-CAM r >= ${GATES.minGradcamPearson} on each`, async () => {
    await compareQuantized(float32, shipped, images.slice(0, 1)); // builds each model's caches
    const base = tf.memory().numTensors;
    const f = await compareQuantized(float32, shipped, images);
    expect(tf.memory().numTensors).toBe(base);
    expect(f.top1Agreement).toBe(1);
    for (const img of f.images) expect(img.gradcamPearson!).toBeGreaterThanOrEqual(GATES.minGradcamPearson);
    const l = card.levels[card.defaultLevel]!;
    expect(f.top1Agreement).toBe(l.agreement);
    expect(f.gradcamPearson!).toBeCloseTo(l.gradcamPearson, 4);
    expect(f.minGradcamPearson!).toBeCloseTo(l.minGradcamPearson, 4);
    expect(f.maxProbabilityChange).toBeCloseTo(l.maxProbabilityChange, 3);
    // The card's float32 answers are float32's.
    expect(f.images.map((i) => i.referenceClass)).toEqual(card.evaluation.float32Top1.map((t) => t.index));
  });

  test('the smaller level the card turns down really loses answers (uint8 with batch norm at float16)', async () => {
    const q = quantizeFilesWithReport(float32Files, 'uint8', { levelFor });
    const uint8 = await Explainer.load({ files: q.files });
    try {
      const f = await compareQuantized(float32, uint8, images);
      const l = card.levels.uint8!;
      expect(l.shipped).toBe(false);
      expect(f.top1Agreement).toBeCloseTo(l.agreement, 6);
      expect(f.minGradcamPearson!).toBeCloseTo(l.minGradcamPearson, 3);
      expect(l.passes).toBe(false);
      expect(f.top1Agreement < GATES.agreement || f.minGradcamPearson! < GATES.minGradcamPearson).toBe(true);
    } finally {
      uint8.dispose();
    }
  });

  describe('recognises the everyday things in the sample photos (top 5, centre crop)', () => {
    const top5 = async (file: string) => {
      const p = photos.find((x) => x.file.endsWith(`models/imagenet-darknet-tiny/samples/${file}`))!;
      return (await shipped.predict(await readPhoto(p.path), 5)).map((x) => x.label);
    };
    test('chelsea.png: a cat class', async () => {
      const labels = await top5('chelsea.png');
      expect(labels.some((l) => ['Egyptian cat', 'tabby', 'tiger cat', 'Persian cat', 'Siamese cat'].includes(l))).toBe(true);
      expect(labels[0]).toBe('Egyptian cat');
    });
    test('coffee.png: espresso or a cup/mug', async () => {
      const labels = await top5('coffee.png');
      expect(labels.some((l) => ['espresso', 'cup', 'coffee mug'].includes(l))).toBe(true);
      expect(labels[0]).toBe('espresso');
    });
    // ImageNet has no person or spacesuit class: the model sees the suit's round fittings and gear.
    test('astronaut.png: no ImageNet class for an astronaut; it says reel first', async () => {
      const labels = await top5('astronaut.png');
      expect(labels[0]).toBe('reel');
    });
    // The centre crop shows the rocket upright on its tower: obelisk first, then missile and space shuttle.
    test('rocket.jpg: obelisk first, a missile and a space shuttle in the top 5', async () => {
      const labels = await top5('rocket.jpg');
      expect(labels[0]).toBe('obelisk');
      expect(labels).toEqual(expect.arrayContaining(['missile', 'space shuttle']));
    });
  });

  test('timings are given for forward, first class map and full request', () => {
    const t = card.timings;
    expect(t.backend).toMatch(/wasm/);
    expect(t.forwardMs).toBeGreaterThan(0);
    expect(t.firstClassMapMs).toBeGreaterThan(0);
    expect(t.fullRequestMs).toBeGreaterThan(t.firstClassMapMs);
  });
});
