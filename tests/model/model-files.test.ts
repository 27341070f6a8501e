/** src/model-files: weight sizes from a manifest and zip reading, the pieces the engine and the page share. */
import JSZip from 'jszip';
import { WhycamError } from '../../src/errors';
import { expectedWeightBytes, weightBytes, weightSizeMismatch } from '../../src/model-files/weights';
import { readZip } from '../../src/model-files/zip';

describe('weight sizes', () => {
  test('a weight takes its element count times its dtype size, a quantised one its quantisation dtype size', () => {
    expect(weightBytes({ shape: [3, 3, 8, 16], dtype: 'float32' })).toBe(3 * 3 * 8 * 16 * 4);
    expect(weightBytes({ shape: [10], dtype: 'float32', quantization: { dtype: 'float16' } })).toBe(20);
    expect(weightBytes({ shape: [10], dtype: 'float32', quantization: { dtype: 'uint8' } })).toBe(10);
    expect(weightBytes({ shape: [], dtype: 'int32' })).toBe(4);
  });

  test('a manifest group adds up; a string weight makes the total unknowable', () => {
    expect(expectedWeightBytes([{ shape: [2, 2], dtype: 'float32' }, { shape: [5], dtype: 'bool' }])).toBe(21);
    expect(expectedWeightBytes([{ shape: [2], dtype: 'float32' }, { shape: [1], dtype: 'string' }])).toBeNull();
  });

  test('a mismatch says which way it is off; agreement and an unknown size say nothing', () => {
    expect(weightSizeMismatch(100, 100)).toBeNull();
    expect(weightSizeMismatch(100, null)).toBeNull();
    expect(weightSizeMismatch(50, 100)).toMatch(/hold 50 bytes but model.json describes 100: they are truncated, or the weights of another model/);
    expect(weightSizeMismatch(150, 100)).toMatch(/^The weight files hold 150 bytes but model.json describes 100: they are the weights of another model/);
  });
});

describe('readZip', () => {
  test('keeps files with their paths, drops folders and the resource forks macOS adds', async () => {
    const zip = new JSZip();
    zip.file('model/model.json', '{}');
    zip.file('model/weights.bin', new Uint8Array([1, 2, 3]));
    zip.file('__MACOSX/model/._model.json', 'fork');
    zip.file('model/._weights.bin', 'fork');
    zip.folder('empty');
    const files = await readZip(await zip.generateAsync({ type: 'uint8array' }));
    expect(files.map((f) => f.name).sort()).toEqual(['model/model.json', 'model/weights.bin']);
    expect(Array.from(files.find((f) => f.name === 'model/weights.bin')!.data)).toEqual([1, 2, 3]);
  });

  test('an ArrayBuffer reads the same', async () => {
    const zip = new JSZip();
    zip.file('a.txt', 'hello');
    const bytes = await zip.generateAsync({ type: 'uint8array' });
    const files = await readZip(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer);
    expect(new TextDecoder().decode(files[0].data)).toBe('hello');
  });

  test('bytes that are not a zip are MODEL_CORRUPT', async () => {
    const e = await readZip(new Uint8Array([80, 75, 3, 4, 1, 2, 3])).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(WhycamError);
    expect(e).toMatchObject({ code: 'MODEL_CORRUPT' });
  });
});
