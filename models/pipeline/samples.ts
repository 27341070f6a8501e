/**
 * The dozen sample scenes shipped with the model (PNG + samples.json with boxes and
 * labels), all from the Fashion-MNIST test split: six single-garment scenes and six
 * two-garment scenes of different classes. Used by the app's demo, the CLI examples and the
 * tests.
 */
import { mkdirSync, writeFileSync } from 'fs';
import * as path from 'path';
import type * as tfl from '@tensorflow/tfjs-layers';
import { encodePng } from '../../src/image';
import type { FashionSplit } from './idx';
import { testPairScene, testSingleScene } from './datasets';
import { LABELS, SCENE_SIZE, TEST_SEED } from './config';
import { toRgba, type Box, type Scene } from './scene';
import { predictScenes } from './util';

/** One clear example each of tops, trousers, dresses, sandals, bags and boots. */
export const SAMPLE_SINGLE_CLASSES = [0, 1, 3, 5, 8, 9];
export const SAMPLE_PAIRS = 6;

export interface SampleObject {
  label: number;
  className: string;
  box: Box;
  source?: { split: string; index: number };
}

export interface Sample {
  file: string;
  width: number;
  height: number;
  kind: 'single' | 'pair';
  /** How to rebuild it: models/pipeline/datasets.ts testSingleScene / testPairScene(test, seed, index). */
  scene: { generator: 'testSingleScene' | 'testPairScene'; seed: number; index: number };
  objects: SampleObject[];
}

export interface SamplesJson {
  description: string;
  boxFormat: string;
  selection: string;
  labels: string[];
  samples: Sample[];
}

function toSample(scene: Scene, file: string, kind: Sample['kind'], index: number): Sample {
  return {
    file, width: scene.size, height: scene.size, kind,
    scene: { generator: kind === 'single' ? 'testSingleScene' : 'testPairScene', seed: TEST_SEED, index },
    objects: scene.objects.map((o) => ({ label: o.label, className: LABELS[o.label], box: o.box, ...(o.source ? { source: o.source } : {}) })),
  };
}

export async function exportSamples(model: tfl.LayersModel, test: FashionSplit, dir: string): Promise<number> {
  mkdirSync(dir, { recursive: true });
  const samples: Sample[] = [];
  const write = (scene: Scene, sample: Sample) => {
    writeFileSync(path.join(dir, sample.file), encodePng(toRgba(scene), scene.size, scene.size));
    samples.push(sample);
  };

  // Singles: for each chosen class, the first test scene of that class the float32 model classifies correctly.
  const wanted = new Set(SAMPLE_SINGLE_CLASSES);
  const found = new Map<number, { scene: Scene; index: number }>();
  for (let j = 0; wanted.size > found.size && j < 2000; j += 50) {
    const scenes = Array.from({ length: 50 }, (_, k) => testSingleScene(test, TEST_SEED, j + k, SCENE_SIZE));
    const pred = await predictScenes(model, scenes);
    scenes.forEach((sc, k) => {
      const l = sc.objects[0].label;
      if (wanted.has(l) && !found.has(l) && pred[k] === l) found.set(l, { scene: sc, index: j + k });
    });
  }
  SAMPLE_SINGLE_CLASSES.forEach((c, i) => {
    const f = found.get(c);
    if (!f) throw new Error(`No correctly classified test scene of class ${LABELS[c]} among the first 2000.`);
    write(f.scene, toSample(f.scene, `single-${String(i + 1).padStart(2, '0')}.png`, 'single', f.index));
  });
  // Pairs: the first pair scenes as they come (no selection on the model's explanations).
  for (let j = 0; j < SAMPLE_PAIRS; j++) {
    const scene = testPairScene(test, TEST_SEED, j, SCENE_SIZE);
    write(scene, toSample(scene, `pair-${String(j + 1).padStart(2, '0')}.png`, 'pair', j));
  }

  const json: SamplesJson = {
    description: `Scenes of ${SCENE_SIZE}x${SCENE_SIZE} RGB composed by models/pipeline from Fashion-MNIST test-split garments (Debian dataset-fashion-mnist), never seen in training.`,
    boxFormat: 'box = {x, y, width, height} in pixels; (x, y) is the top-left pixel; the box is the tight bounding box of every pixel the garment covers.',
    selection: `single-*: for each of ${SAMPLE_SINGLE_CLASSES.map((c) => LABELS[c]).join(', ')}, the first single-garment test scene of that class that the float32 model classifies correctly; pair-*: two-garment test scenes 0..${SAMPLE_PAIRS - 1}, unselected.`,
    labels: LABELS,
    samples,
  };
  writeFileSync(path.join(dir, 'samples.json'), `${JSON.stringify(json, null, 2)}\n`);
  return samples.length;
}
