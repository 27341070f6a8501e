/**
 * Scene bytes are frozen: the shipped model, its test scenes and the figures in the
 * README were made from them. These SHA-256 digests were recorded from the scene code
 * as of commit 0d8d654 (before the speed-ups in scene.ts, backgrounds.ts and prng.ts);
 * any change to the pixels, boxes, info or masks of a scene, or to the RNG stream,
 * changes them. Backgrounds, distractors and sprites are covered by every kind.
 */
import { createHash } from 'crypto';
import { existsSync } from 'fs';
import * as path from 'path';
import { FASHION_MNIST_DIR, loadFashionMnist } from '../../models/pipeline/idx';
import { testPairScene, testSingleScene, trainScene, valScene } from '../../models/pipeline/datasets';
import { composeScene, renderSprite, type Scene } from '../../models/pipeline/scene';
import { Rng } from '../../models/pipeline/prng';

if (!existsSync(path.join(FASHION_MNIST_DIR, 'train-images-idx3-ubyte.gz'))) {
  throw new Error(`Fashion-MNIST is missing from ${FASHION_MNIST_DIR}: apt-get install -y dataset-fashion-mnist`);
}

/** Recorded from the original code (commit 0d8d654). */
const DIGESTS_AT_0D8D654: Record<string, string> = {
  'train 64 px, difficulty 1': 'f6e4ab21e14e0fb6ea4c9ceff98cae61964cb411d2815efd6eafe95490facdd1',
  'train 64 px, difficulty 0.3': '7c466990026bf2e73d07672d10a7b2bed91f9f162e1eb22150e3856f6af9b786',
  'train 96 px, difficulty 0.6': '4a883f2e2883317a77bd9dae00f6f89c9bd3af83c5b18f54984e793a2ef60a8b',
  'validation 64 px': '64050e8b27921b4de93d0612092f1cfa5216fc5e0a7f16c7f0a43ea2037c309e',
  'test singles 64 px with masks': '8a87320c66881044257418c4fdcf2934adc7dd6e938ad7e46ae00842c88c317b',
  'test pairs 64 px with masks': '52e16d14a2c912aa16e7604deeb90c2887692662a6e48544bf5d345772acb070',
  'no garment, with mask': 'f1e999fdad00e10849dfcbe9664f180b4cbe587784c6fbf683c19ac292b716b5',
  sprites: 'e0ce7e340873306037e03c19cbd10d6aaf262c606f4f497945bf57faf48122f3',
};

function digest(scenes: Iterable<Scene>): string {
  const h = createHash('sha256');
  for (const sc of scenes) {
    h.update(sc.rgb);
    h.update(JSON.stringify([sc.size, sc.objects, sc.info]));
    h.update(sc.mask ?? 'no mask');
  }
  return h.digest('hex');
}

function* range<T>(n: number, f: (i: number) => T): Iterable<T> {
  for (let i = 0; i < n; i++) yield f(i);
}

describe('scene bytes match the recorded originals', () => {
  const trainSet = loadFashionMnist('train');
  const testSet = loadFashionMnist('test');
  const cases: Record<string, () => string> = {
    'train 64 px, difficulty 1': () => digest(range(400, (i) => trainScene(trainSet, 1, i, 64, 1))),
    'train 64 px, difficulty 0.3': () => digest(range(200, (i) => trainScene(trainSet, 1, i, 64, 0.3))),
    'train 96 px, difficulty 0.6': () => digest(range(60, (i) => trainScene(trainSet, 2, i, 96, 0.6))),
    'validation 64 px': () => digest(range(100, (i) => valScene(trainSet, 1, i, 64))),
    'test singles 64 px with masks': () => digest(range(100, (i) => testSingleScene(testSet, 1, i, 64, true))),
    'test pairs 64 px with masks': () => digest(range(100, (i) => testPairScene(testSet, 1, i, 64, true))),
    'no garment, with mask': () => digest(range(30, (i) => composeScene(new Rng(100 + i), [], { withMask: true }))),
    sprites: () => {
      const h = createHash('sha256');
      for (let i = 0; i < 30; i++) {
        const sp = renderSprite(testSet.images.subarray(784 * i, 784 * i + 784), 0.8 + i * 0.05, (i - 15) * 0.01, i % 2 === 0);
        h.update(new Uint8Array(sp.alpha.buffer)).update(new Uint8Array(sp.shade.buffer)).update(JSON.stringify([sp.n, sp.x0, sp.y0, sp.x1, sp.y1]));
      }
      return h.digest('hex');
    },
  };
  for (const [name, run] of Object.entries(cases)) {
    test(name, () => expect(run()).toBe(DIGESTS_AT_0D8D654[name]));
  }
});
