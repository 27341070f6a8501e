/**
 * Quantise-on-import through the worker (worker_threads, as a page would call it): the
 * Teachable Machine export given as files or as its zip comes back as float16 files whose
 * weights are the originals rounded to float16 (decoded here independently), with the
 * fidelity report; the result loads and explains; bad input gives WhycamErrors and the worker
 * keeps serving; no tensor is left behind.
 */
import * as fs from 'fs';
import { WhycamError } from '../../src/errors';
import { readImage, tmPhotos, TM_ZIP } from '../helpers/fixtures';
import { randomPixels, settle, startNodeWorker, tmFiles, type NodeWorker } from './helpers';

interface Manifest { weightsManifest: Array<{ paths: string[]; weights: Array<{ name: string; shape: number[]; dtype: string; quantization?: { dtype: string } }> }> }

let w: NodeWorker;
const images = () => Promise.all([0, 7, 12].map((i) => readImage(tmPhotos()[i][0])));
const json = (data: ArrayBuffer | Uint8Array) => JSON.parse(new TextDecoder().decode(data)) as Manifest;

beforeAll(async () => {
  w = startNodeWorker();
  await w.client.backendInfo();
});
afterAll(async () => { await w?.close(); });

/** IEEE 754 half precision, written out: sign, 5-bit exponent (bias 15), 10-bit fraction. */
function half(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exp = (bits >> 10) & 0x1f;
  const frac = bits & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24;
  if (exp === 31) return frac ? NaN : sign * Infinity;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

test('files in, float16 files out: each weight the original rounded to float16, with the fidelity report', async () => {
  const original = tmFiles();
  const before = await w.client.stats();
  const { files, report } = await w.client.quantize({ files: original }, await images());
  expect(files.map((f) => f.name).sort()).toEqual(['metadata.json', 'model.json', 'weights.bin']);
  expect(report.level).toBe('float16');
  expect(report.fidelity.n).toBe(3);
  expect(report.fidelity.top1Agreement).toBe(1);
  expect(report.fidelity.gradcamPearson).toBeGreaterThan(0.9);

  const byName = new Map(files.map((f) => [f.name, new Uint8Array(f.data)]));
  const src = new Map(original.map((f) => [f.name, f.data as Uint8Array]));
  expect(byName.get('metadata.json')).toEqual(src.get('metadata.json'));
  const oldSpecs = json(src.get('model.json')!).weightsManifest.flatMap((g) => g.weights);
  const newSpecs = json(byName.get('model.json')!).weightsManifest.flatMap((g) => g.weights);
  expect(newSpecs.map((s) => s.name)).toEqual(oldSpecs.map((s) => s.name));
  const oldBytes = src.get('weights.bin')!;
  const oldView = new DataView(oldBytes.buffer, oldBytes.byteOffset, oldBytes.byteLength);
  const newBytes = byName.get('weights.bin')!;
  const newView = new DataView(newBytes.buffer, newBytes.byteOffset, newBytes.byteLength);
  let at = 0;
  let atNew = 0;
  let halves = 0;
  for (const spec of newSpecs) {
    const n = spec.shape.reduce((a, b) => a * b, 1);
    const f16 = spec.quantization?.dtype === 'float16';
    if (f16) halves++;
    for (let i = 0; i < n; i++) {
      const x = oldView.getFloat32(at + 4 * i, true);
      const q = f16 ? half(newView.getUint16(atNew + 2 * i, true)) : newView.getFloat32(atNew + 4 * i, true);
      // Round to nearest: within half a unit in the last place (10 fraction bits), or of the smallest subnormal.
      expect(Math.abs(q - x)).toBeLessThanOrEqual(Math.max(Math.abs(x) * 2 ** -11, 2 ** -25));
    }
    at += 4 * n;
    atNew += (f16 ? 2 : 4) * n;
  }
  expect(at).toBe(oldBytes.byteLength);
  expect(atNew).toBe(newBytes.byteLength);
  expect(halves).toBe(newSpecs.length - report.keptFloat32.length);
  expect(halves).toBeGreaterThan(0);
  expect(report.totalBytes).toBe(files.reduce((a, f) => a + f.data.byteLength, 0));
  expect((await w.client.stats()).numTensors).toBe(before.numTensors);

  // The quantised model loads and explains like the original.
  const info = await w.client.load({ files: files.map((f) => ({ name: f.name, data: f.data })) });
  expect(info.labels).toEqual(['Class 1', 'Class 2']);
  const s = await w.client.explain(await readImage(tmPhotos()[0][0]), { methods: ['gradcam'] });
  expect(s.predictions[0].label).toBe(tmPhotos()[0][1]);
});

test('the zip (as a Blob) gives the same files, named without its folders', async () => {
  const fromFiles = await w.client.quantize({ files: tmFiles() }, await images());
  const fromZip = await w.client.quantize(new Blob([fs.readFileSync(TM_ZIP)]), await images());
  const sorted = (r: typeof fromFiles) => r.files.map((f) => [f.name, new Uint8Array(f.data)] as const).sort(([a], [b]) => a.localeCompare(b));
  expect(sorted(fromZip)).toEqual(sorted(fromFiles));
  expect(fromZip.report.fidelity.top1Agreement).toBe(fromFiles.report.fidelity.top1Agreement);
});

test('bad input is a WhycamError with its code, and the worker keeps serving', async () => {
  const code = async (p: Promise<unknown>) => {
    const r = await settle(p);
    expect(r.ok).toBe(false);
    const e = (r as { error: unknown }).error;
    expect(e).toBeInstanceOf(WhycamError);
    return (e as WhycamError).code;
  };
  await expect(code(w.client.quantize({ files: tmFiles() }, []))).resolves.toBe('BAD_OPTION');
  await expect(code(w.client.quantize({ url: 'http://127.0.0.1:9/model.json' } as never, await images()))).resolves.toBe('BAD_OPTION');
  await expect(code(w.client.quantize({ files: tmFiles().filter((f) => f.name !== 'model.json') }, await images()))).resolves.toBe('MODEL_NOT_FOUND');
  await expect(code(w.client.quantize({ zip: new Uint8Array([1, 2, 3, 4]) }, await images()))).resolves.toBe('MODEL_CORRUPT');
  await expect(code(w.client.quantize({ files: tmFiles() }, [randomPixels(0, 0)]))).resolves.toBe('EMPTY_IMAGE');
  await expect(code(w.client.quantize({ files: tmFiles() }, await images(), { level: 'int4' as never }))).resolves.toBe('BAD_OPTION');
  const { report } = await w.client.quantize({ files: tmFiles() }, (await images()).slice(0, 1), { level: 'uint8' });
  expect(report.level).toBe('uint8');
});
