/**
 * The data pipeline: the IDX reader against the header and first labels of the files
 * Debian's dataset-fashion-mnist installs, and the scene composer (same seed, same
 * bytes; every box holds its garment's pixels and nothing of the other garment).
 */
import { existsSync } from 'fs';
import * as path from 'path';
import { gzipSync } from 'zlib';
import { FASHION_MNIST_DIR, FASHION_MNIST_LABELS, loadFashionMnist, parseIdx, readIdx, type FashionSplit } from '../../models/pipeline/idx';
import { composeScene, renderSprite, type Scene } from '../../models/pipeline/scene';
import { testPairScene, testSingleScene, trainScene, TRAIN_COUNT, valScene } from '../../models/pipeline/datasets';
import { Rng, rngFor } from '../../models/pipeline/prng';

if (!existsSync(path.join(FASHION_MNIST_DIR, 'train-images-idx3-ubyte.gz'))) {
  throw new Error(`Fashion-MNIST is missing from ${FASHION_MNIST_DIR}: apt-get install -y dataset-fashion-mnist`);
}

const idxBytes = (type: number, dims: number[], data: number[]) => {
  const head = [0, 0, type, dims.length];
  for (const d of dims) head.push((d >>> 24) & 255, (d >>> 16) & 255, (d >>> 8) & 255, d & 255);
  return new Uint8Array([...head, ...data]);
};

describe('IDX reader', () => {
  test('reads the package files: magic, dimensions and the first labels', () => {
    const expected: Array<[string, number[]]> = [
      ['train-images-idx3-ubyte.gz', [60000, 28, 28]],
      ['train-labels-idx1-ubyte.gz', [60000]],
      ['t10k-images-idx3-ubyte.gz', [10000, 28, 28]],
      ['t10k-labels-idx1-ubyte.gz', [10000]],
    ];
    for (const [file, dims] of expected) expect(readIdx(path.join(FASHION_MNIST_DIR, file)).dims).toEqual(dims);
    // The first labels, read with xxd from the package's files.
    expect([...readIdx(path.join(FASHION_MNIST_DIR, 'train-labels-idx1-ubyte.gz')).data.subarray(0, 8)]).toEqual([9, 0, 0, 3, 0, 2, 7, 2]);
    expect([...readIdx(path.join(FASHION_MNIST_DIR, 't10k-labels-idx1-ubyte.gz')).data.subarray(0, 8)]).toEqual([9, 2, 1, 1, 6, 1, 4, 6]);
  });

  test('loads both splits with images in 0..255 and labels in 0..9, all classes balanced', () => {
    const train = loadFashionMnist('train');
    const test = loadFashionMnist('test');
    expect([train.count, test.count]).toEqual([60000, 10000]);
    expect(train.images.length).toBe(60000 * 784);
    const counts = new Array(10).fill(0);
    for (const l of test.labels) counts[l]++;
    expect(counts).toEqual(new Array(10).fill(1000));
    expect(FASHION_MNIST_LABELS).toHaveLength(10);
    // An image has a black surround and a bright garment.
    const first = train.images.subarray(0, 784);
    expect(first[0]).toBe(0);
    expect(Math.max(...first)).toBeGreaterThan(200);
  });

  test('parses plain and gzipped bytes and rejects malformed files', () => {
    const raw = idxBytes(0x08, [2, 3], [1, 2, 3, 4, 5, 6]);
    for (const bytes of [raw, new Uint8Array(gzipSync(raw))]) {
      const a = parseIdx(bytes);
      expect(a.dims).toEqual([2, 3]);
      expect([...a.data]).toEqual([1, 2, 3, 4, 5, 6]);
    }
    expect(() => parseIdx(new Uint8Array([1, 0, 8, 1, 0, 0, 0, 0]))).toThrow(/magic/);
    expect(() => parseIdx(idxBytes(0x0d, [1], [0, 0, 0, 0]))).toThrow(/not supported/);
    expect(() => parseIdx(idxBytes(0x08, [2, 3], [1, 2, 3]))).toThrow(/header/);
  });
});

describe('scene composer', () => {
  let trainSet: FashionSplit, testSet: FashionSplit;
  beforeAll(() => {
    trainSet = loadFashionMnist('train');
    testSet = loadFashionMnist('test');
  });

  const sameScene = (a: Scene, b: Scene) => Buffer.from(a.rgb).equals(Buffer.from(b.rgb)) && JSON.stringify(a.objects) === JSON.stringify(b.objects);

  test('the PRNG is a function of its seed', () => {
    const draw = (r: Rng) => Array.from({ length: 5 }, () => r.u32());
    expect(draw(new Rng(42))).toEqual(draw(new Rng(42)));
    expect(draw(new Rng(42))).not.toEqual(draw(new Rng(43)));
    expect(draw(rngFor(1, 2, 3))).toEqual(draw(rngFor(1, 2, 3)));
    expect(draw(rngFor(1, 2, 3))).not.toEqual(draw(rngFor(1, 2, 4)));
    // Independently: sfc32 (seeded by splitmix32, 12 outputs discarded) in BigInt arithmetic mod 2^32.
    const M = (1n << 32n) - 1n;
    const reference = (seed: number, n: number) => {
      let sm = BigInt(seed >>> 0);
      const split = () => {
        sm = (sm + 0x9e3779b9n) & M;
        let z = sm;
        z = ((z ^ (z >> 16n)) * 0x85ebca6bn) & M;
        z = ((z ^ (z >> 13n)) * 0xc2b2ae35n) & M;
        return z ^ (z >> 16n);
      };
      let [a, b, c, d] = [split(), split(), split(), split()];
      const out: number[] = [];
      for (let i = 0; i < n + 12; i++) {
        const t = (a + b + d) & M;
        d = (d + 1n) & M;
        a = b ^ (b >> 9n);
        b = (c + (c << 3n)) & M;
        c = ((((c << 21n) | (c >> 11n)) & M) + t) & M;
        if (i >= 12) out.push(Number(t));
      }
      return out;
    };
    for (const seed of [0, 1, 7, 0xdeadbeef]) {
      const rng = new Rng(seed);
      expect(Array.from({ length: 2000 }, () => rng.u32())).toEqual(reference(seed, 2000));
    }
    const r = new Rng(7);
    let mean = 0;
    for (let i = 0; i < 10000; i++) mean += r.next() / 10000;
    expect(Math.abs(mean - 0.5)).toBeLessThan(0.02);
  });

  test('same seed, same bytes; another seed, another scene', () => {
    for (const make of [
      (seed: number) => trainScene(trainSet, seed, 123, 96),
      (seed: number) => trainScene(trainSet, seed, 77, 96, 0.3),
      (seed: number) => valScene(trainSet, seed, 5, 96),
      (seed: number) => testSingleScene(testSet, seed, 9, 96),
      (seed: number) => testPairScene(testSet, seed, 4, 96),
    ]) {
      const first = make(3);
      // The composer reuses its working image: a scene of another size in between must not show.
      trainScene(trainSet, 9, 5, 64);
      expect(sameScene(first, make(3))).toBe(true);
      expect(sameScene(make(3), make(4))).toBe(false);
    }
    const garments = [{ image: trainSet.images.subarray(0, 784), label: trainSet.labels[0] }];
    expect(sameScene(composeScene(new Rng(5), garments), composeScene(new Rng(5), garments))).toBe(true);
  });

  test('scenes draw on the right splits and classes', () => {
    for (let k = 0; k < 50; k++) {
      const s = trainScene(trainSet, 1, k, 96);
      expect(s.objects).toHaveLength(1);
      expect(s.objects[0].source).toMatchObject({ split: 'train' });
      expect(s.objects[0].source!.index).toBeLessThan(TRAIN_COUNT);
      expect(s.objects[0].label).toBe(trainSet.labels[s.objects[0].source!.index]);
      expect(valScene(trainSet, 1, k, 96).objects[0].source!.index).toBeGreaterThanOrEqual(TRAIN_COUNT);
      const p = testPairScene(testSet, 1, k, 96);
      expect(p.objects).toHaveLength(2);
      expect(p.objects.every((o) => o.source!.split === 'test')).toBe(true);
      expect(p.objects[0].label).not.toBe(p.objects[1].label);
    }
    // One epoch visits every training garment once.
    const seen = new Set<number>();
    for (let k = 0; k < 300; k++) seen.add(trainScene(trainSet, 1, k, 96).objects[0].source!.index);
    expect(seen.size).toBe(300);
  });

  test('each box is the tight box of its garment pixels, inside the scene, apart from the other box', () => {
    for (let j = 0; j < 40; j++) {
      for (const scene of [testSingleScene(testSet, 11, j, 96, true), testPairScene(testSet, 11, j, 96, true)]) {
        const mask = scene.mask!;
        scene.objects.forEach((o, k) => {
          const { x, y, width, height } = o.box;
          expect(x).toBeGreaterThanOrEqual(0);
          expect(y).toBeGreaterThanOrEqual(0);
          expect(x + width).toBeLessThanOrEqual(scene.size);
          expect(y + height).toBeLessThanOrEqual(scene.size);
          let minX = Infinity, minY = Infinity, maxX = -1, maxY = -1;
          for (let p = 0; p < mask.length; p++) {
            if (mask[p] !== k + 1) continue;
            const px = p % scene.size, py = Math.floor(p / scene.size);
            minX = Math.min(minX, px); maxX = Math.max(maxX, px); minY = Math.min(minY, py); maxY = Math.max(maxY, py);
          }
          expect({ x: minX, y: minY, width: maxX - minX + 1, height: maxY - minY + 1 }).toEqual(o.box);
        });
        if (scene.objects.length === 2) {
          const [a, b] = scene.objects.map((o) => o.box);
          const apart = a.x + a.width <= b.x || b.x + b.width <= a.x || a.y + a.height <= b.y || b.y + b.height <= a.y;
          expect(apart).toBe(true);
        }
      }
    }
  });

  test('a garment changes pixels only inside its box, and the pixels it covers', () => {
    for (let i = 0; i < 20; i++) {
      const image = testSet.images.subarray(i * 784, (i + 1) * 784);
      const g = { image, label: testSet.labels[i] };
      const withG = composeScene(new Rng(100 + i), [g], { withMask: true });
      const without = composeScene(new Rng(100 + i), []);
      const { x, y, width, height } = withG.objects[0].box;
      let covered = 0, coveredChanged = 0;
      for (let p = 0; p < withG.size * withG.size; p++) {
        const px = p % withG.size, py = Math.floor(p / withG.size);
        const changed = [0, 1, 2].some((c) => withG.rgb[3 * p + c] !== without.rgb[3 * p + c]);
        const inBox = px >= x && px < x + width && py >= y && py < y + height;
        if (changed) expect(inBox).toBe(true);
        if (withG.mask![p]) { covered++; if (changed) coveredChanged++; }
      }
      expect(covered).toBeGreaterThan(150);
      // Nearly every covered pixel changes (a few may round to the same byte).
      expect(coveredChanged / covered).toBeGreaterThan(0.9);
    }
    // The sprite is transparent where the 28x28 image is 0 (its black surround).
    const sprite = renderSprite(testSet.images.subarray(0, 784), 2, 0, false);
    for (const [sx, sy] of [[0, 0], [sprite.n - 1, 0], [0, sprite.n - 1], [sprite.n - 1, sprite.n - 1]]) {
      expect(sprite.alpha[sy * sprite.n + sx]).toBe(0);
    }
  });
});
