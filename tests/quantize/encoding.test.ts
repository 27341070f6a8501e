/**
 * The weight encodings, checked against tfjs-core's OWN decoder (tf.io.decodeWeights),
 * the IEEE 754 half format, and the converter's algorithm (quantization.py) on fixed inputs.
 */
import * as tf from '@tensorflow/tfjs-core';
import { isWhycamError } from '../../src';
import {
  float16BitsToNumber, float32ToFloat16Bits, quantizeFiles, quantizeModelArtifacts, roundHalfEven,
  type QuantizationLevel, type QuantizedWeightSpec,
} from '../../src/quantize';
import { switchTo } from '../helpers/backends';

type Spec = QuantizedWeightSpec;

/** Seeded uniform [0, 1) (mulberry32), so failures reproduce. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
function gaussian(r: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());
}
const fill = (n: number, f: (i: number) => number) => Float32Array.from({ length: n }, (_, i) => f(i));

/** A manifest and weight data from named arrays, as tfjs writes them (float32/int32/bool raw, strings length-prefixed). */
function artifacts(weights: Array<{ name: string; shape: number[]; dtype: Spec['dtype']; data: Uint8Array }>) {
  const specs: Spec[] = weights.map(({ name, shape, dtype }) => ({ name, shape, dtype }));
  const total = weights.reduce((a, w) => a + w.data.byteLength, 0);
  const buf = new Uint8Array(total);
  let o = 0;
  for (const w of weights) { buf.set(w.data, o); o += w.data.byteLength; }
  return { modelJson: { modelTopology: {}, weightsManifest: [{ paths: ['in.bin'], weights: specs }] }, weightData: buf.buffer };
}
const f32 = (name: string, values: Float32Array, shape = [values.length]) =>
  ({ name, shape, dtype: 'float32' as const, data: new Uint8Array(values.buffer.slice(0)) });

function stringBytes(strings: string[]): Uint8Array {
  const enc = strings.map((s) => new TextEncoder().encode(s));
  const out = new Uint8Array(enc.reduce((a, e) => a + 4 + e.length, 0));
  const view = new DataView(out.buffer);
  let o = 0;
  for (const e of enc) { view.setUint32(o, e.length, true); out.set(e, o + 4); o += 4 + e.length; }
  return out;
}

/** Decodes with tfjs-core's own decoder and returns plain arrays (no tensors left behind). */
function tfjsDecode(weightData: ArrayBuffer, specs: Spec[]): Record<string, ArrayLike<number> | string[]> {
  const map = tf.io.decodeWeights(weightData, specs);
  const out: Record<string, ArrayLike<number> | string[]> = {};
  for (const [k, t] of Object.entries(map)) {
    out[k] = t.dtype === 'string' ? (t.dataSync() as unknown as string[]) : t.dataSync();
    t.dispose();
  }
  return out;
}

const r = rng(20240601);
const TENSORS: Record<string, Float32Array> = {
  normal: fill(2000, () => 0.1 * gaussian(r)),
  constant: fill(50, () => 3.25),
  constantNegative: fill(7, () => -0.0625),
  zeros: fill(20, () => 0),
  negative: fill(300, () => -0.5 - 4.5 * r()),
  positive: fill(300, () => 2 + r()),
  withZeros: fill(400, (i) => (i % 9 === 0 ? 0 : gaussian(r) * (i % 2 ? 0.3 : 2))),
  tiny: fill(200, () => 1e-30 * gaussian(r)),
  subnormalHalf: fill(200, () => 3e-6 * gaussian(r)),
  large: fill(200, () => 1e4 * gaussian(r)),
  mixedMagnitude: fill(500, () => (r() < 0.5 ? -1 : 1) * 10 ** (-6 + 9 * r())),
  single: Float32Array.of(0.7),
  empty: new Float32Array(0),
};
const MAX_HALF = 65504;

function bound(level: QuantizationLevel, x: number, spec: Spec): number {
  if (level === 'float32') return 0;
  if (level === 'float16') return Math.max(2 ** -11 * Math.abs(x), 2 ** -25);
  // scale/2 from the affine grid, plus the decoder's own float32 rounding of q*scale+min.
  return (spec.quantization!.scale! / 2) * (1 + 1e-9) + 2 ** -23 * Math.abs(x);
}

beforeAll(() => switchTo('wasm'));

describe('float16', () => {
  test.each([
    [1, '3c00'], [-2, 'c000'], [65504, '7bff'], [6.1e-5, '03ff'], [0.1, '2e66'], [0, '0000'],
    [-0, '8000'], [2 ** -14, '0400'], [2 ** -24, '0001'], [0.5, '3800'], [-65504, 'fbff'],
    [65519, '7bff'], [65520, '7c00'], [Infinity, '7c00'], [-Infinity, 'fc00'],
    [1 + 2 ** -11, '3c00'], [1 + 3 * 2 ** -11, '3c02'], [2 ** -25, '0000'], [3 * 2 ** -25, '0002'], [1.5 * 2 ** -25, '0001'],
  ])('%p encodes as the IEEE half 0x%s', (x, bits) => {
    expect(float32ToFloat16Bits(x).toString(16).padStart(4, '0')).toBe(bits);
  });

  test('NaN stays NaN', () => {
    const h = float32ToFloat16Bits(NaN);
    expect(h & 0x7c00).toBe(0x7c00);
    expect(h & 0x3ff).not.toBe(0);
  });

  test('tfjs decodes the hand-picked encodings to the half values', () => {
    const a = artifacts([f32('w', Float32Array.of(1, -2, 65504, 6.1e-5, 0.1, 0))]);
    const q = quantizeModelArtifacts(a.modelJson, a.weightData, 'float16');
    const got = tfjsDecode(q.weightData, q.modelJson.weightsManifest[0].weights).w as Float32Array;
    expect(Array.from(got)).toEqual([1, -2, 65504, 1023 * 2 ** -24, 0.0999755859375, 0]);
  });

  test('every finite half round-trips through tfjs, and midpoints go to the even neighbour', () => {
    // tfjs's decoder gives the value of each of the 63488 finite half bit patterns.
    const all = Uint16Array.from({ length: 0x10000 }, (_, i) => i);
    const decode = (bits: Uint16Array) => tfjsDecode(bits.slice().buffer, [{ name: 'h', shape: [bits.length], dtype: 'float32', quantization: { dtype: 'float16' } }]).h as Float32Array;
    const values = decode(all);
    const bad: string[] = [];
    const want = (x: number, h: number) => { if (float32ToFloat16Bits(x) !== h) bad.push(`${x} -> 0x${float32ToFloat16Bits(x).toString(16)}, not 0x${h.toString(16)}`); };
    let checked = 0;
    for (let h = 0; h < 0x10000; h++) {
      if ((h & 0x7c00) === 0x7c00) continue; // Inf/NaN
      want(values[h], h);
      checked++;
      const next = h + 1;
      if ((h & 0x8000) === 0 && next < 0x7c00) {
        const mid = (values[h] + values[next]) / 2; // exact in float32: halves have 11 significant bits
        want(mid, h % 2 === 0 ? h : next);
        want(Math.fround(mid * (1 - 2 ** -23)), h);
        want(Math.fround(mid * (1 + 2 ** -23)), next);
      }
    }
    expect(bad.slice(0, 5)).toEqual([]);
    expect(checked).toBe(63488);
    expect(float16BitsToNumber(0x7bff)).toBe(65504);
  });
});

describe('affine uint8/uint16', () => {
  test('roundHalfEven is numpy.round', () => {
    expect([0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 2.4999, 2.5001, 3].map(roundHalfEven)).toEqual([0, 2, 2, -0, -2, -2, 2, 3, 3]);
  });

  // Expected bytes, min and scale: tfjs-converter's quantization.py algorithm (quantize_weights,
  // _get_affine_quantization_range) run in numpy 2.4 on these float32 inputs. 'docstring' is
  // the example in write_weights.py's _quantize_entry docstring.
  const CONVERTER: Array<[string, 'uint8' | 'uint16', number[], number[], number, number]> = [
    ['docstring', 'uint8', [0, -0.1, 1.2], [20, 0, 255], -0.10196078817049663, 0.0050980394085248315],
    ['docstring', 'uint16', [0, -0.1, 1.2], [5041, 0, 65535], -0.09999695197810769, 1.9836729216049928e-05],
    ['mixed', 'uint8', [-1.5, -0.25, 0, 0.3, 0.7, 2.75, -0.01, 1e-3], [0, 75, 90, 108, 132, 255, 89, 90], -1.5, 0.016666666666666666],
    ['mixed', 'uint16', [-1.5, -0.25, 0, 0.3, 0.7, 2.75, -0.01, 1e-3], [0, 19275, 23130, 27756, 33924, 65535, 22976, 23145], -1.5, 6.485084306095979e-05],
    ['negative', 'uint8', [-3.0, -2.5, -0.125, -1.0, -0.75], [0, 44, 255, 177, 200], -3.0, 0.011274509803921568],
    ['positive', 'uint8', [0.5, 1.0, 1.5, 2.0, 10.0], [0, 13, 27, 40, 255], 0.5, 0.03725490196078431],
    ['positive', 'uint16', [0.5, 1.0, 1.5, 2.0, 10.0], [0, 3449, 6898, 10348, 65535], 0.5, 0.000144960708018616],
    ['ties', 'uint8', [0, 0.5, 1, 2.5, 3.5, 255], [0, 0, 1, 2, 4, 255], -0, 1],
    ['nudged', 'uint8', [0, 1, 2, 3, 4, 5, 255, -0.5], [0, 1, 2, 3, 4, 5, 255, 0], -0, 1.0019607843137255],
    ['nudged', 'uint16', [0, 1, 2, 3, 4, 5, 255, -0.5], [128, 384, 641, 897, 1154, 1410, 65535, 0], -0.4990310521095598, 0.003898680094605936],
  ];
  test.each(CONVERTER)('%s at %s matches the converter', (_name, level, values, bytes, min, scale) => {
    const a = artifacts([f32('w', Float32Array.from(values))]);
    const q = quantizeModelArtifacts(a.modelJson, a.weightData, level);
    const spec = q.modelJson.weightsManifest[0].weights[0] as Spec;
    expect(spec).toEqual({ name: 'w', shape: [values.length], dtype: 'float32', quantization: { dtype: level, min, scale, original_dtype: 'float32' } });
    expect(Array.from(level === 'uint8' ? new Uint8Array(q.weightData) : new Uint16Array(q.weightData))).toEqual(bytes);
  });
});

describe('round trip through tfjs-core decodeWeights', () => {
  const names = Object.keys(TENSORS);
  const input = () => artifacts([
    ...names.map((n) => f32(n, TENSORS[n])),
    { name: 'ints', shape: [3], dtype: 'int32', data: new Uint8Array(Int32Array.of(1, -2, 3000000).buffer) },
    { name: 'flags', shape: [2], dtype: 'bool', data: Uint8Array.of(1, 0) },
    { name: 'words', shape: [2], dtype: 'string', data: stringBytes(['why', 'cam']) },
    f32('last', Float32Array.of(-1, 0.5, 2), [1, 3]),
  ]);

  test.each(['float32', 'float16', 'uint16', 'uint8'] as QuantizationLevel[])('%s: every element within the level bound', (level) => {
    const before = tf.memory().numTensors;
    const a = input();
    const q = quantizeModelArtifacts(JSON.stringify(a.modelJson), a.weightData, level);
    expect(q.modelJson.weightsManifest).toHaveLength(1);
    expect(q.modelJson.weightsManifest[0].paths).toEqual(['weights.bin']);
    const specs = q.modelJson.weightsManifest[0].weights as Spec[];
    const decoded = tfjsDecode(q.weightData, specs);
    const bytesPer = { float32: 4, float16: 2, uint16: 2, uint8: 1 }[level];
    const floats = [...names.map((n) => TENSORS[n].length), 3].reduce((s, n) => s + n, 0);
    expect(q.weightData.byteLength).toBe(floats * bytesPer + 12 + 2 + (4 + 3) * 2);

    for (const n of [...names, 'last']) {
      const x = n === 'last' ? Float32Array.of(-1, 0.5, 2) : TENSORS[n];
      const spec = specs.find((s) => s.name === n)!;
      const d = decoded[n] as Float32Array;
      expect(d).toHaveLength(x.length);
      expect(spec.dtype).toBe('float32');
      if (level === 'float32') expect(spec.quantization).toBeUndefined();
      else expect(spec.quantization?.dtype).toBe(level);
      for (let i = 0; i < x.length; i++) {
        const err = Math.abs(d[i] - x[i]);
        if (!(err <= bound(level, x[i], spec))) throw new Error(`${level} ${n}[${i}]: ${x[i]} decoded as ${d[i]}, error ${err} > ${bound(level, x[i], spec)}`);
        // The nudge keeps 0 exact (zero padding, ReLU zeros); constants decode exactly.
        if (x[i] === 0 && level !== 'float32') expect(d[i]).toBe(0);
      }
      // Constant tensors are exact at the affine levels (min = the constant); these are halves too, except 0.7.
      const exact = level === 'float16' ? ['constant', 'constantNegative', 'zeros'] : ['constant', 'constantNegative', 'zeros', 'single'];
      if (exact.includes(n)) expect(Array.from(d)).toEqual(Array.from(x));
    }
    expect(Array.from(decoded.ints as Int32Array)).toEqual([1, -2, 3000000]);
    expect(Array.from(decoded.flags as Uint8Array)).toEqual([1, 0]);
    expect(decoded.words).toEqual(['why', 'cam']);
    expect(specs.find((s) => s.name === 'ints')).toEqual({ name: 'ints', shape: [3], dtype: 'int32' });
    expect(tf.memory().numTensors).toBe(before);
  });

  test('uint8 error is not trivially zero: it uses the grid', () => {
    const a = artifacts([f32('normal', TENSORS.normal)]);
    const q = quantizeModelArtifacts(a.modelJson, a.weightData, 'uint8');
    const d = tfjsDecode(q.weightData, q.modelJson.weightsManifest[0].weights).normal as Float32Array;
    const spec = q.modelJson.weightsManifest[0].weights[0] as Spec;
    const maxErr = Math.max(...Array.from(d, (v, i) => Math.abs(v - TENSORS.normal[i])));
    expect(maxErr).toBeGreaterThan(spec.quantization!.scale! / 4);
    expect(new Set(Array.from(new Uint8Array(q.weightData))).size).toBeGreaterThan(100);
  });
});

describe('what cannot be quantised stays float32', () => {
  test('NaN/Infinity keep uint levels off; values beyond 65504 keep float16 off', () => {
    const withNaN = Float32Array.of(1, NaN, 2);
    const big = Float32Array.of(1, 70000, -3);
    const a = artifacts([f32('nan', withNaN), f32('big', big)]);
    const u = quantizeModelArtifacts(a.modelJson, a.weightData, 'uint8');
    expect(u.report.keptFloat32).toEqual([{ name: 'nan', reason: 'contains NaN or Infinity' }]);
    const du = tfjsDecode(u.weightData, u.modelJson.weightsManifest[0].weights);
    expect(Array.from(du.nan as Float32Array)).toEqual([1, NaN, 2]);
    const h = quantizeModelArtifacts(a.modelJson, a.weightData, 'float16');
    expect(h.report.keptFloat32).toEqual([{ name: 'big', reason: expect.stringMatching(/float16 range/) }]);
    const dh = tfjsDecode(h.weightData, h.modelJson.weightsManifest[0].weights);
    expect(Array.from(dh.big as Float32Array)).toEqual([1, 70000, -3]);
    expect(Array.from(dh.nan as Float32Array)).toEqual([1, NaN, 2]); // NaN is a half too
    expect(MAX_HALF).toBe(float16BitsToNumber(0x7bff));
  });

  test('levelFor picks a level per weight; the mixed manifest decodes in tfjs', () => {
    const a = artifacts([f32('kernel', TENSORS.normal), f32('moving_variance', TENSORS.positive)]);
    const q = quantizeModelArtifacts(a.modelJson, a.weightData, 'uint8', { levelFor: (s, l) => (/moving_/.test(s.name) ? 'float16' : l) });
    const specs = q.modelJson.weightsManifest[0].weights as Spec[];
    expect(specs.map((s) => s.quantization?.dtype)).toEqual(['uint8', 'float16']);
    const d = tfjsDecode(q.weightData, specs);
    expect((d.moving_variance as Float32Array).every((v, i) => Math.abs(v - TENSORS.positive[i]) <= 2 ** -11 * TENSORS.positive[i])).toBe(true);
  });
});

describe('already-quantised input and files', () => {
  const a = artifacts([f32('w', TENSORS.withZeros), f32('b', TENSORS.negative)]);
  const u8 = quantizeModelArtifacts(a.modelJson, a.weightData, 'uint8');

  test('the same level keeps the bytes; another level re-encodes what tfjs decodes', () => {
    const again = quantizeModelArtifacts(u8.modelJson, u8.weightData, 'uint8');
    expect(new Uint8Array(again.weightData)).toEqual(new Uint8Array(u8.weightData));
    expect(again.modelJson.weightsManifest).toEqual(u8.modelJson.weightsManifest);
    const back = quantizeModelArtifacts(u8.modelJson, u8.weightData, 'float32');
    const want = tfjsDecode(u8.weightData, u8.modelJson.weightsManifest[0].weights);
    const got = tfjsDecode(back.weightData, back.modelJson.weightsManifest[0].weights);
    expect(got).toEqual(want);
  });

  test('quantizeFiles joins the shards of several groups, rewrites the paths and passes other files through', () => {
    const w = new Uint8Array(TENSORS.withZeros.buffer.slice(0));
    const b = new Uint8Array(TENSORS.negative.buffer.slice(0));
    const json = {
      modelTopology: { hello: 'world' }, format: 'layers-model', generatedBy: 'test', convertedBy: null,
      weightsManifest: [
        { paths: ['group1-shard1of2.bin', 'group1-shard2of2.bin'], weights: [{ name: 'w', shape: [400], dtype: 'float32' }] },
        { paths: ['sub/group2-shard1of1.bin'], weights: [{ name: 'b', shape: [300], dtype: 'float32' }] },
      ],
    };
    const meta = { name: 'metadata.json', data: new TextEncoder().encode('{"labels":["a"]}') };
    const out = quantizeFiles([
      { name: 'dir/model.json', data: new TextEncoder().encode(JSON.stringify(json)) },
      { name: 'group1-shard1of2.bin', data: w.slice(0, 1000) },
      { name: 'group1-shard2of2.bin', data: w.slice(1000).buffer },
      { name: 'group2-shard1of1.bin', data: b },
      meta,
    ], 'uint8');
    expect(out.map((f) => f.name)).toEqual(['model.json', 'weights.bin', 'metadata.json']);
    expect(out[2]).toBe(meta);
    const outJson = JSON.parse(new TextDecoder().decode(out[0].data as Uint8Array));
    expect(outJson).toMatchObject({ modelTopology: { hello: 'world' }, format: 'layers-model', generatedBy: 'test', convertedBy: null });
    expect(outJson.weightsManifest).toEqual(u8.modelJson.weightsManifest);
    expect(new Uint8Array(out[1].data as Uint8Array)).toEqual(new Uint8Array(u8.weightData));
  });

  test('errors say what is wrong', () => {
    const code = (f: () => unknown) => { try { f(); } catch (e) { return isWhycamError(e) ? e.code : String(e); } return 'no error'; };
    expect(code(() => quantizeModelArtifacts(a.modelJson, a.weightData.slice(0, 100), 'uint8'))).toBe('MODEL_CORRUPT');
    expect(code(() => quantizeModelArtifacts(a.modelJson, new Uint8Array(a.weightData.byteLength + 4), 'uint8'))).toBe('WEIGHTS_MISMATCH');
    expect(code(() => quantizeModelArtifacts(a.modelJson, a.weightData, 'int4' as QuantizationLevel))).toBe('BAD_OPTION');
    expect(code(() => quantizeModelArtifacts('{not json', a.weightData, 'uint8'))).toBe('MODEL_CORRUPT');
    expect(code(() => quantizeFiles([{ name: 'model.json', data: new TextEncoder().encode(JSON.stringify(a.modelJson)) }], 'uint8'))).toBe('MODEL_CORRUPT');
    expect(code(() => quantizeFiles([], 'uint8'))).toBe('MODEL_NOT_FOUND');
  });
});
