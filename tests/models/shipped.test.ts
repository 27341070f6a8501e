/**
 * The shipped default model, read from the files in models/fashion-scenes/ exactly as
 * the app and the CLI read them: it loads through the engine, says what it expects,
 * its samples decode and carry boxes inside the image, and it recognises the
 * single-garment samples.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'fs';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs-core';
import { Explainer, useBackend } from '../../src';
import { modelSourceFromPath } from '../../src/node/model-path';
import { decodeImage } from '../../src/image';
import { suppressTfjsNodeBanner } from '../../src/cli/quiet-tfjs';
import { FASHION_MNIST_LABELS } from '../../models/pipeline/idx';
import type { SamplesJson } from '../../models/pipeline/samples';

const MODELS = path.resolve(__dirname, '../../models');
const DIR = path.join(MODELS, 'fashion-scenes');
const SAMPLES = path.join(DIR, 'samples');

const samplesJson = (): SamplesJson => JSON.parse(readFileSync(path.join(SAMPLES, 'samples.json'), 'utf8'));
const sampleImage = (file: string) => decodeImage(new Uint8Array(readFileSync(path.join(SAMPLES, file))));

function dirBytes(dir: string): number {
  let total = 0;
  for (const name of readdirSync(dir)) {
    const p = path.join(dir, name);
    const st = statSync(p);
    total += st.isDirectory() ? dirBytes(p) : st.size;
  }
  return total;
}

describe('the shipped default model (models/fashion-scenes)', () => {
  let explainer: Explainer;

  beforeAll(async () => {
    suppressTfjsNodeBanner();
    await useBackend('wasm');
    explainer = await Explainer.load(await modelSourceFromPath(DIR));
  });
  afterAll(() => explainer?.dispose());

  test('metadata.json names the ten Fashion-MNIST classes and the 0..1 input range', () => {
    const meta = JSON.parse(readFileSync(path.join(DIR, 'metadata.json'), 'utf8'));
    expect(meta.labels).toEqual([...FASHION_MNIST_LABELS]);
    expect(meta.inputRange).toBe('0..1');
    expect(meta.modelName).toBe('fashion-scenes');
  });

  test('loads through the engine: RGB input, labels, range, a CAM head on a grid of at least 8x8', () => {
    const d = explainer.describe();
    expect(d.input).toMatchObject({ channels: 3 });
    expect(d.input.height).toBe(d.input.width);
    expect(d.range).toBe('0..1');
    expect(d.labels).toEqual([...FASHION_MNIST_LABELS]);
    expect(d.targetLayer).toBe('features');
    expect(d.cam).toEqual({ applies: true });
    const target = explainer.targetLayer();
    expect(target!.height).toBeGreaterThanOrEqual(8);
    expect(target!.width).toBeGreaterThanOrEqual(8);
  });

  test('samples.json lists a dozen test-split scenes, single and two-garment, with boxes inside the image', () => {
    const json = samplesJson();
    expect(json.labels).toEqual([...FASHION_MNIST_LABELS]);
    expect(json.samples).toHaveLength(12);
    expect(json.samples.some((s) => s.kind === 'single')).toBe(true);
    expect(json.samples.some((s) => s.kind === 'pair')).toBe(true);
    for (const s of json.samples) {
      expect(existsSync(path.join(SAMPLES, s.file))).toBe(true);
      expect(s.objects).toHaveLength(s.kind === 'single' ? 1 : 2);
      if (s.kind === 'pair') expect(s.objects[0].label).not.toBe(s.objects[1].label);
      for (const o of s.objects) {
        expect(o.className).toBe(FASHION_MNIST_LABELS[o.label]);
        expect(o.source?.split).toBe('test');
        const { x, y, width, height } = o.box;
        expect(Number.isInteger(x) && Number.isInteger(y) && width > 0 && height > 0).toBe(true);
        expect(x).toBeGreaterThanOrEqual(0);
        expect(y).toBeGreaterThanOrEqual(0);
        expect(x + width).toBeLessThanOrEqual(s.width);
        expect(y + height).toBeLessThanOrEqual(s.height);
      }
    }
  });

  test('the sample PNGs decode to the size samples.json gives, at the model input size', async () => {
    const { height, width } = explainer.input;
    for (const s of samplesJson().samples) {
      const img = await sampleImage(s.file);
      expect([img.width, img.height]).toEqual([s.width, s.height]);
      expect([img.width, img.height]).toEqual([width, height]);
    }
  });

  test('predicts the label of every single-garment sample', async () => {
    for (const s of samplesJson().samples.filter((q) => q.kind === 'single')) {
      const [top] = await explainer.predict(await sampleImage(s.file), 1);
      expect([s.file, top.label]).toEqual([s.file, s.objects[0].className]);
    }
  });

  test('explains a two-garment sample with class maps on the target grid, leaving no tensors behind', async () => {
    const s = samplesJson().samples.find((q) => q.kind === 'pair')!;
    const image = await sampleImage(s.file);
    // A first request builds the model's weight cache (what backward passes derive from the weights once).
    await explainer.explainAll(image, { class: s.objects[0].label, methods: ['cam', 'gradcam'] });
    const base = tf.memory().numTensors;
    const ex = await explainer.explainAll(image, { class: s.objects[0].label, methods: ['cam', 'gradcam'] });
    const target = explainer.targetLayer()!;
    expect(ex.classIndex).toBe(s.objects[0].label);
    for (const m of [ex.maps.cam!, ex.maps.gradcam!]) expect([m.width, m.height]).toEqual([target.width, target.height]);
    expect(tf.memory().numTensors).toBe(base);
  });

  test('models/ stays under 6 MB (two models, their samples, the pipeline)', () => {
    expect(dirBytes(MODELS)).toBeLessThan(6 * 1024 * 1024);
  });
});
