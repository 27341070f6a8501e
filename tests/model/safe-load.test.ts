/**
 * Safe loading: a model that would exhaust memory or never finish building is refused with a
 * typed error before anything large is inflated, fetched or allocated. Every malicious file is
 * built here.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs-core';
import { Explainer, type ModelFile } from '../../src';
import { switchTo } from '../helpers/backends';
import { TM_DIR, TM_MODEL } from '../helpers/fixtures';
import { startStaticServer, type StaticServer } from '../helpers/static-server';
import { understatedZip, zeroBombZip } from '../helpers/zip-bombs';

const read = (name: string) => new Uint8Array(fs.readFileSync(path.join(TM_MODEL, name)));
const enc = (o: unknown) => new TextEncoder().encode(JSON.stringify(o));
const tmJson = () => JSON.parse(fs.readFileSync(path.join(TM_MODEL, 'model.json'), 'utf8'));
const weights = read('weights.bin');
const files = (json: unknown, w: Uint8Array = weights): ModelFile[] => [{ name: 'model.json', data: enc(json) }, { name: 'weights.bin', data: w }];
/** The nested MobileNet's functional config inside the Teachable Machine export. */
const inner = (j: { modelTopology: { config: Array<{ config: Array<{ config: { layers: Array<Record<string, unknown>> } }> }> } }) =>
  j.modelTopology.config[0].config[0].config;

async function refused(load: () => Promise<unknown>, code: string, message?: RegExp): Promise<number> {
  const before = tf.memory().numTensors;
  const t0 = performance.now();
  const err = await load().then(() => null, (e: unknown) => e as { code: string; message: string });
  const ms = performance.now() - t0;
  expect(err).toMatchObject({ code });
  if (message) expect(err?.message).toMatch(message);
  expect(tf.memory().numTensors).toBe(before);
  return ms;
}

describe('safe loading', () => {
  beforeAll(async () => { await switchTo('cpu'); });

  test('a 1.4 MB zip whose weights.bin inflates to 1.5 GB is refused from its directory, without inflating', async () => {
    const bomb = await zeroBombZip([{ name: 'model.json', data: read('model.json') }, { name: 'metadata.json', data: read('metadata.json') }], 'weights.bin', 1.5e9);
    expect(bomb.byteLength).toBeLessThan(2e6);
    const heapBefore = process.memoryUsage().arrayBuffers;
    const ms = await refused(() => Explainer.load({ zip: bomb }), 'MODEL_TOO_LARGE', /weights\.bin.*1430\.5 MB/);
    expect(ms).toBeLessThan(500);
    expect(process.memoryUsage().arrayBuffers - heapBefore).toBeLessThan(50e6);
  }, 60_000);

  test('an entry that inflates past the size its directory declares is stopped at that size', async () => {
    const zip = await understatedZip([{ name: 'model.json', data: read('model.json') }], 'weights.bin', 64e6, weights.byteLength);
    const ms = await refused(() => Explainer.load({ zip }), 'MODEL_CORRUPT', /inflates to more than the 2154032 bytes/);
    // Inflating 64 MB of zeros takes far longer than stopping after the first 2 MB.
    expect(ms).toBeLessThan(2000);
  }, 60_000);

  test('a zip whose weights do not match the manifest is refused before they are inflated', async () => {
    const zip = await understatedZip([{ name: 'model.json', data: read('model.json') }], 'weights.bin', 4096, 4096);
    await refused(() => Explainer.load({ zip }), 'MODEL_CORRUPT', /hold 4096 bytes but model.json describes 2154032/);
  });

  test('the weight cap: default 200 MB, configurable', async () => {
    await refused(() => Explainer.load({ files: files(tmJson()) }, { maxWeightBytes: 1e6 }), 'MODEL_TOO_LARGE', /2\.1 MB; the limit is 1\.0 MB/);
    const big = tmJson();
    big.weightsManifest[0].weights.push({ name: 'extra', shape: [60e6], dtype: 'float32' });
    await refused(() => Explainer.load({ files: files(big) }), 'MODEL_TOO_LARGE', /limit is 200\.0 MB/);
    await refused(() => Explainer.load({ files: files(tmJson()) }, { maxWeightBytes: -1 }), 'BAD_OPTION');
    const ok = await Explainer.load({ files: files(tmJson()) }, { maxWeightBytes: weights.byteLength });
    ok.dispose();
  });

  test.each([
    ['MODEL_TOO_LARGE', 'a manifest weight of 1e15 elements', (j: ReturnType<typeof tmJson>) => { j.weightsManifest[0].weights[0].shape = [1e5, 1e5, 1e5]; }, /elements/],
    ['MODEL_CORRUPT', 'a manifest weight with a negative dimension', (j: ReturnType<typeof tmJson>) => { j.weightsManifest[0].weights[0].shape = [3, -3]; }, /not a count/],
    ['MODEL_TOO_LARGE', 'an input of 1e12 pixels', (j: ReturnType<typeof tmJson>) => { inner(j).layers[0].config = { ...(inner(j).layers[0].config as object), batch_input_shape: [null, 1e6, 1e6, 3] }; }, /batch_input_shape/],
    ['MODEL_TOO_LARGE', 'a Dense layer of 1e9 units', (j: ReturnType<typeof tmJson>) => { j.modelTopology.config[1].config[1].config.units = 1e9; }, /units = 1000000000/],
    ['MODEL_CORRUPT', 'a layer reading from a layer that does not exist', (j: ReturnType<typeof tmJson>) => { inner(j).layers[2].inbound_nodes = [[['nowhere', 0, 0, {}]]]; }, /'Conv1' reads from 'nowhere'/],
    ['MODEL_CORRUPT', 'a layer reading a node its source does not have', (j: ReturnType<typeof tmJson>) => { inner(j).layers[2].inbound_nodes = [[['Conv1_pad', 3, 0, {}]]]; }, /node 3 of 'Conv1_pad'/],
    ['MODEL_CORRUPT', 'layers in a cycle', (j: ReturnType<typeof tmJson>) => { inner(j).layers[1].inbound_nodes = [[['bn_Conv1', 0, 0, {}]]]; }, /cycle/],
    ['MODEL_CORRUPT', 'an output naming no layer', (j: ReturnType<typeof tmJson>) => { (inner(j) as Record<string, unknown>).output_layers = [['ghost', 0, 0]]; }, /ghost/],
  ])('%s for %s, before tfjs-layers builds anything', async (code, _what, edit, message) => {
    const j = tmJson();
    edit(j);
    const ms = await refused(() => Explainer.load({ files: files(j) }), code, message);
    expect(ms).toBeLessThan(1000);
  });

  describe('from a URL', () => {
    let server: StaticServer;
    let dir: string;
    beforeAll(async () => {
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'whycam-safe-'));
      const big = tmJson();
      big.weightsManifest[0].weights.push({ name: 'extra', shape: [60e6], dtype: 'float32' });
      fs.writeFileSync(path.join(dir, 'big.json'), JSON.stringify(big));
      // A server that sends more weight bytes than the manifest promises.
      fs.writeFileSync(path.join(dir, 'weights.bin'), new Uint8Array(weights.byteLength + 1e6));
      fs.copyFileSync(path.join(TM_MODEL, 'model.json'), path.join(dir, 'model.json'));
      server = await startStaticServer({ mounts: { '/bad/': dir, '/tm/': TM_DIR } });
    });
    afterAll(async () => {
      await server?.close();
      fs.rmSync(dir, { recursive: true, force: true });
    });

    test('weights over the cap are refused before any is fetched', async () => {
      await refused(() => Explainer.load({ url: `${server.origin}/bad/big.json` }), 'MODEL_TOO_LARGE');
      expect(server.requests.filter((r) => r.path.endsWith('weights.bin'))).toHaveLength(0);
    });

    test('a weight file longer than the manifest promises is cut off', async () => {
      await refused(() => Explainer.load({ url: `${server.origin}/bad/model.json` }), 'MODEL_TOO_LARGE');
    });

    test('a good model loads, with progress by bytes', async () => {
      const progress: number[] = [];
      const ex = await Explainer.load({ url: `${server.origin}/tm/image-model/model.json`, onProgress: (f) => progress.push(f) });
      expect(ex.labels).toEqual(['Class 1', 'Class 2']);
      expect(progress[progress.length - 1]).toBe(1);
      expect(progress.every((f, i) => i === 0 || f >= progress[i - 1])).toBe(true);
      ex.dispose();
    });

    test("the weight files are asked for with model.json's query string, as tfjs's http loader does", async () => {
      // The app's service worker serves a kept model's files by that query (?whycam-unit=<hash>).
      const ex = await Explainer.load({ url: `${server.origin}/tm/image-model/model.json?v=3` });
      ex.dispose();
      const weights = server.requests.filter((r) => r.path === '/tm/image-model/weights.bin');
      expect(weights.at(-1)?.search).toBe('?v=3');
    });
  });
});
