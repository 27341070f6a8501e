/**
 * The shared Teachable Machine export (MobileNetV2-0.35, 263 float32 tensors) at every
 * level, on wasm: stock tf.loadLayersModel reads it with each weight within the level's
 * bound of the float32 one, Explainer.load({files}) reads it, the sizes are what the
 * encodings say, and the fidelity on its 22 photos is reported (float16 asserted close).
 */
import * as fs from 'fs';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { Explainer, type ImageInput, type ModelFile } from '../../src';
import { imageToInput } from '../../src/model/preprocess';
import { compareLevels, compareQuantized, quantizeFiles, type LevelReport, type QuantizationLevel } from '../../src/quantize';
import { switchTo } from '../helpers/backends';
import { readImage, tmPhotos, TM_MODEL } from '../helpers/fixtures';

const LEVELS: QuantizationLevel[] = ['float32', 'float16', 'uint16', 'uint8'];
const files: ModelFile[] = ['model.json', 'weights.bin', 'metadata.json'].map((name) => ({ name, data: new Uint8Array(fs.readFileSync(path.join(TM_MODEL, name))) }));
const byName = (fs_: ModelFile[], n: string) => fs_.find((f) => f.name === n)!.data as Uint8Array;

/**
 * tfjs-layers' dispose() of this export leaves the 3 variables of its nested Sequential
 * head registered; free the model's own leftovers so the leak checks see only our code.
 */
function disposeModel(m: tfl.LayersModel): void {
  const names = m.weights.map((w) => w.name);
  m.dispose();
  for (const n of names) tf.engine().registeredVariables[n]?.dispose();
}
const disposeExplainer = (e: Explainer) => { const m = e.model; const names = m.weights.map((w) => w.name); e.dispose(); for (const n of names) tf.engine().registeredVariables[n]?.dispose(); };

function loadStock(fs_: ModelFile[]): Promise<tfl.LayersModel> {
  const json = JSON.parse(new TextDecoder().decode(byName(fs_, 'model.json'))) as tf.io.ModelJSON;
  const w = byName(fs_, json.weightsManifest[0].paths[0]);
  return tfl.loadLayersModel(tf.io.fromMemory({
    modelTopology: json.modelTopology,
    weightSpecs: json.weightsManifest.flatMap((g) => g.weights),
    weightData: w.buffer.slice(w.byteOffset, w.byteOffset + w.byteLength) as ArrayBuffer,
  }));
}

let photos: ImageInput[];
let reference: tfl.LayersModel;
let refWeights: Float32Array[];
beforeAll(async () => {
  await switchTo('wasm');
  photos = await Promise.all(tmPhotos().map(([f]) => readImage(f)));
  reference = await loadStock(files);
  refWeights = reference.getWeights().map((w) => w.dataSync() as Float32Array);
});
afterAll(() => disposeModel(reference));

describe('each level loads in stock tfjs and in whycam', () => {
  test.each(LEVELS)('%s', async (level) => {
    const before = tf.memory().numTensors;
    const q = quantizeFiles(files, level);
    expect(q.map((f) => f.name)).toEqual(['model.json', 'weights.bin', 'metadata.json']);
    expect(byName(q, 'metadata.json')).toBe(byName(files, 'metadata.json'));
    const w = byName(q, 'weights.bin').byteLength;
    const w32 = byName(files, 'weights.bin').byteLength;
    expect(w).toBe({ float32: w32, float16: w32 / 2, uint16: w32 / 2, uint8: w32 / 4 }[level]);

    const stock = await loadStock(q);
    const got = stock.getWeights().map((t) => t.dataSync() as Float32Array);
    expect(got).toHaveLength(refWeights.length);
    let worst = 0; // largest error relative to the level's bound, over all 540k weights
    got.forEach((g, i) => {
      const x = refWeights[i];
      let lo = Infinity, hi = -Infinity;
      for (const v of x) { lo = Math.min(lo, v); hi = Math.max(hi, v); }
      for (let j = 0; j < x.length; j++) {
        const b = level === 'float32' ? 0
          : level === 'float16' ? Math.max(2 ** -11 * Math.abs(x[j]), 2 ** -25)
            : ((hi - lo) / (level === 'uint8' ? 255 : 65535) / 2) * (1 + 1e-6) + 2 ** -23 * Math.abs(x[j]);
        const e = Math.abs(g[j] - x[j]);
        if (e > b) throw new Error(`${level}: weight ${i}[${j}] ${x[j]} loaded as ${g[j]} (bound ${b})`);
        if (b > 0) worst = Math.max(worst, e / b);
      }
    });
    if (level !== 'float32') expect(worst).toBeGreaterThan(0.5); // the bound is tight, not vacuous

    const img = imageToInput(photos[0], { height: 224, width: 224, channels: 3 }, '-1..1');
    const [p0, p1] = [reference.predict(img) as tf.Tensor, stock.predict(img) as tf.Tensor];
    const [a0, a1] = [p0.dataSync(), p1.dataSync()];
    expect(a1[0] > a1[1]).toBe(a0[0] > a0[1]);
    if (level === 'float32') expect(Array.from(a1)).toEqual(Array.from(a0));
    tf.dispose([img, p0, p1]);
    disposeModel(stock);

    const ex = await Explainer.load({ files: q });
    expect(ex.describe()).toMatchObject({ labels: ['Class 1', 'Class 2'], range: '-1..1', targetLayer: 'out_relu' });
    expect((await ex.predict(photos[0], 1))[0].label).toBe('Class 1');
    disposeExplainer(ex);
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('fidelity on the 22 photos', () => {
  let reports: LevelReport[];
  let mixed: LevelReport;
  beforeAll(async () => {
    const before = tf.memory().numTensors;
    reports = await compareLevels(files, photos, { levels: ['float16', 'uint16', 'uint8'] });
    // A per-weight recipe (levelFor): uint8, but depthwise kernels and BatchNorm parameters in float16.
    [mixed] = await compareLevels(files, photos, {
      levels: ['uint8'],
      quantize: { levelFor: (s, l) => (/depthwise_kernel|moving_mean|moving_variance|gamma|beta/.test(s.name) ? 'float16' : l) },
    });
    expect(tf.memory().numTensors).toBe(before); // compareLevels frees every model it loads
    const f32 = byName(files, 'weights.bin').byteLength;
    const f32Total = files.reduce((a, f) => a + f.data.byteLength, 0);
    const row = (name: string, r: { weightBytes: number; totalBytes: number; fidelity?: LevelReport['fidelity'] }) => [
      name.padEnd(26), String(r.weightBytes).padStart(8), (r.weightBytes / f32).toFixed(3).padStart(6), String(r.totalBytes).padStart(8),
      (r.totalBytes / f32Total).toFixed(3).padStart(6),
      r.fidelity ? `${(r.fidelity.top1Agreement * r.fidelity.n).toFixed(0)}/${r.fidelity.n}`.padStart(6) : '     -',
      r.fidelity ? r.fidelity.gradcamPearson!.toFixed(4).padStart(8) : '       -',
      r.fidelity ? r.fidelity.minGradcamPearson!.toFixed(4).padStart(8) : '       -',
      r.fidelity ? r.fidelity.maxProbabilityChange.toFixed(4).padStart(8) : '       -',
    ].join(' ');
    console.log([
      'Teachable Machine export, wasm, 22 photos (Grad-CAM of the float32 top class at out_relu, 7x7)',
      'level                      weights  ratio    files  ratio  top-1  r mean    r min   max|dp|',
      row('float32', { weightBytes: f32, totalBytes: f32Total }),
      ...reports.map((r) => row(r.level, r)),
      row('uint8 + float16 dw/BN', mixed),
    ].join('\n'));
  });

  test('float16 agrees on every top-1 and its Grad-CAM correlates > 0.99', () => {
    const r = reports.find((x) => x.level === 'float16')!;
    expect(r.fidelity.n).toBe(22);
    expect(r.fidelity.top1Agreement).toBe(1);
    expect(r.fidelity.gradcamPearson!).toBeGreaterThan(0.99);
    expect(r.fidelity.minGradcamPearson!).toBeGreaterThan(0.99);
    expect(r.keptFloat32).toEqual([]);
  });

  test('uint16 is as close as float16', () => {
    const r = reports.find((x) => x.level === 'uint16')!;
    expect(r.fidelity.top1Agreement).toBe(1);
    expect(r.fidelity.minGradcamPearson!).toBeGreaterThan(0.99);
  });

  test('uint8 (per tensor) keeps every top-1 but visibly changes the maps and probabilities', () => {
    // Measured: r mean 0.871, min 0.779; top-class probability moves by up to 0.44.
    const r = reports.find((x) => x.level === 'uint8')!;
    expect(r.fidelity.top1Agreement).toBe(1);
    expect(r.fidelity.gradcamPearson!).toBeGreaterThan(0.8);
    expect(r.fidelity.gradcamPearson!).toBeLessThan(0.95);
    expect(r.fidelity.maxProbabilityChange).toBeGreaterThan(0.1);
  });

  test('keeping depthwise kernels and BatchNorm in float16 recovers most of it for ~10% more bytes', () => {
    expect(mixed.fidelity.top1Agreement).toBe(1);
    expect(mixed.fidelity.gradcamPearson!).toBeGreaterThan(0.98);
    expect(mixed.weightBytes).toBeLessThan(byName(files, 'weights.bin').byteLength * 0.3);
  });

  test('compareQuantized with explainers the caller loaded: float32 files give identical results', async () => {
    const before = tf.memory().numTensors;
    const ref = await Explainer.load({ files });
    const same = await Explainer.load({ files: quantizeFiles(files, 'float32') });
    try {
      const r = await compareQuantized(ref, same, photos.slice(0, 3));
      expect(r).toMatchObject({ n: 3, top1Agreement: 1, maxProbabilityChange: 0 });
      expect(r.gradcamPearson).toBeCloseTo(1, 10);
    } finally {
      disposeExplainer(ref);
      disposeExplainer(same);
    }
    expect(tf.memory().numTensors).toBe(before);
  });
});
