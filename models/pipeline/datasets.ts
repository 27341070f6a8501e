/**
 * Which garments go into which scene: every scene is a pure function of (seed, kind,
 * index), so training batches, validation and the test scenes can be rebuilt in any
 * order and on any machine.
 *
 * - training: train-split images 0..54999, one garment a scene, a fresh permutation each epoch;
 * - validation: train-split images 55000..59999 (held out from training), one garment;
 * - test: test-split images only: single-garment scenes for accuracy, and two-garment
 *   scenes of different classes for localisation.
 */
import { composeScene, DEFAULT_SCENE_OPTIONS, type GarmentInput, type Scene, type SceneOptions } from './scene';
import { garmentImage, type FashionSplit } from './idx';
import { Rng, rngFor } from './prng';

export const TRAIN_COUNT = 55000;
export const VAL_COUNT = 5000;

/** Streams of rngFor, one per scene kind. */
const STREAM = { train: 1, trainOrder: 2, val: 3, testSingle: 4, testPair: 5, testOrder: 6 } as const;

/** Single garments: the full scale range; pairs: smaller, so that two fit side by side. */
export const SINGLE_SCENE: Partial<SceneOptions> = { scale: [1.1, 1.9] };
export const TRAIN_SCENE: Partial<SceneOptions> = { scale: DEFAULT_SCENE_OPTIONS.scale };
export const PAIR_SCENE: Partial<SceneOptions> = { scale: [0.95, 1.3] };

function garment(set: FashionSplit, index: number): GarmentInput {
  return { image: garmentImage(set, index), label: set.labels[index], source: { split: set.split, index } };
}

const orderCache = new Map<string, Uint32Array>();
function permutation(seed: number, stream: number, epoch: number, n: number): Uint32Array {
  const key = `${seed}/${stream}/${epoch}/${n}`;
  let p = orderCache.get(key);
  if (!p) {
    p = new Uint32Array(n);
    for (let i = 0; i < n; i++) p[i] = i;
    const rng = rngFor(seed, stream, epoch);
    for (let i = n - 1; i > 0; i--) {
      const j = Math.floor(rng.next() * (i + 1));
      const t = p[i]; p[i] = p[j]; p[j] = t;
    }
    if (orderCache.size > 4) orderCache.clear();
    orderCache.set(key, p);
  }
  return p;
}

/**
 * Training scene k (k counts scenes over the whole run: epoch = floor(k / TRAIN_COUNT)),
 * at curriculum difficulty 0..1.
 */
export function trainScene(train: FashionSplit, seed: number, k: number, size: number, difficulty = 1): Scene {
  const order = permutation(seed, STREAM.trainOrder, Math.floor(k / TRAIN_COUNT), TRAIN_COUNT);
  return composeScene(rngFor(seed, STREAM.train, k), [garment(train, order[k % TRAIN_COUNT])], { ...TRAIN_SCENE, size, difficulty });
}

export function valScene(train: FashionSplit, seed: number, j: number, size: number): Scene {
  return composeScene(rngFor(seed, STREAM.val, j), [garment(train, TRAIN_COUNT + (j % VAL_COUNT))], { ...SINGLE_SCENE, size });
}

/** Single-garment test scene j: test image order[j], each image once for j < 10000. */
export function testSingleScene(test: FashionSplit, seed: number, j: number, size: number, withMask = false): Scene {
  const order = permutation(seed, STREAM.testOrder, 0, test.count);
  return composeScene(rngFor(seed, STREAM.testSingle, j), [garment(test, order[j % test.count])], { ...SINGLE_SCENE, size, withMask });
}

/** Two-garment test scene j: two test images of different classes. */
export function testPairScene(test: FashionSplit, seed: number, j: number, size: number, withMask = false): Scene {
  const rng: Rng = rngFor(seed, STREAM.testPair, j);
  const a = rng.int(0, test.count - 1);
  let b = rng.int(0, test.count - 1);
  while (test.labels[b] === test.labels[a]) b = rng.int(0, test.count - 1);
  return composeScene(rng, [garment(test, a), garment(test, b)], { ...PAIR_SCENE, size, withMask });
}

/** Writes scenes into a [n, size, size, 3] batch scaled to 0..1 (the model's input range). */
export function toBatch(scenes: Scene[]): Float32Array {
  const s = scenes[0].size;
  const out = new Float32Array(scenes.length * s * s * 3);
  scenes.forEach((sc, i) => {
    const off = i * s * s * 3;
    for (let p = 0; p < sc.rgb.length; p++) out[off + p] = sc.rgb[p] / 255;
  });
  return out;
}
