/**
 * Every error the worker can produce reaches the client as a WhycamError with its stable code
 * and a message a person can act on, and the worker keeps serving after each one (a bad
 * model, a bad image, a bad option). INPUT_SHAPE is only for tensor inputs, which do not
 * cross the boundary; it and the rest are covered by tests/worker/protocol.test.ts.
 */
import * as fs from 'fs';
import * as http from 'http';
import type * as net from 'net';
import * as path from 'path';
import { WhycamError, type WhycamErrorCode } from '../../src/errors';
import type { ModelFile } from '../../src/model/load';
import type { WhycamClient, WorkerImage } from '../../worker/client';
import type { ModelInput } from '../../worker/protocol';
import { WhycamService } from '../../worker/service';
import { buildFamily } from '../helpers/families';
import { TM_MODEL } from '../helpers/fixtures';
import { zeroBombZip } from '../helpers/zip-bombs';
import { graphA } from '../helpers/graph-fixtures';
import { modelFiles, randomPixels, readFile, settle, startNodeWorker, tmFiles, type NodeWorker } from './helpers';

const enc = (o: unknown) => new TextEncoder().encode(typeof o === 'string' ? o : JSON.stringify(o));
const tmJson = () => JSON.parse(fs.readFileSync(path.join(TM_MODEL, 'model.json'), 'utf8'));
const weights = readFile(TM_MODEL, 'weights.bin');
const withJson = (json: unknown, w: Uint8Array = weights): ModelFile[] => [{ name: 'model.json', data: enc(json) }, { name: 'weights.bin', data: w }];

let w: NodeWorker;
let client: WhycamClient;
let good: ModelFile[];

beforeAll(async () => {
  w = startNodeWorker();
  client = w.client;
  good = await modelFiles(() => buildFamily('vgg', 'softmax', 32), ['a', 'b', 'c', 'd', 'e']);
});
afterAll(async () => { await w?.close(); });

async function expectCode(p: Promise<unknown>, code: WhycamErrorCode): Promise<void> {
  const r = await settle(p);
  expect(r.ok).toBe(false);
  const e = (r as unknown as { error: WhycamError }).error;
  expect(e).toBeInstanceOf(WhycamError);
  expect(e.name).toBe('WhycamError');
  expect(e.code).toBe(code);
  // A sentence, not an object dump or an empty string.
  expect(e.message.length).toBeGreaterThan(20);
  expect(e.message).not.toMatch(/\[object /);
}

async function stillServes(): Promise<void> {
  const s = await client.explain(randomPixels(32, 32), { methods: ['gradcam'] });
  expect(s.stages.map((x) => x.stage)).toEqual(['prediction', 'class-maps']);
}

test('MODEL_NOT_FOUND: explain before any model, an unreachable URL, files without model.json', async () => {
  await expectCode(client.explain(randomPixels(8, 8)), 'MODEL_NOT_FOUND');
  await expectCode(client.classes(), 'MODEL_NOT_FOUND');
  await client.load({ files: good });
  await expectCode(client.load({ url: 'http://127.0.0.1:9/model.json' }), 'MODEL_NOT_FOUND');
  await stillServes();
  await expectCode(client.load({ files: [{ name: 'weights.bin', data: weights }] }), 'MODEL_NOT_FOUND');
  await stillServes();
});

const loadCases: Array<[WhycamErrorCode, string, () => ModelInput]> = [
  ['MODEL_CORRUPT', 'model.json that is not JSON', () => ({ files: [{ name: 'model.json', data: enc('{"modelTopology": ') }, { name: 'weights.bin', data: weights }] })],
  ['MODEL_CORRUPT', 'truncated weights', () => ({ files: withJson(tmJson(), weights.slice(0, weights.length - 1000)) })],
  ['MODEL_CORRUPT', 'a zip that is not one', () => new Blob([new Uint8Array([80, 75, 3, 4, 1, 2, 3])])],
  ['WEIGHTS_MISMATCH', 'weights of another model', () => ({ files: withJson(tmJson(), new Uint8Array(weights.length + 4096)) })],
  ['UNSUPPORTED_LAYER', 'an unknown layer class', () => {
    const j = tmJson();
    j.modelTopology.config[1].config[0].class_name = 'FancyAttention';
    return { files: withJson(j) };
  }],
  ['MODEL_CORRUPT', 'a graph model without nodes', () => ({ files: withJson({ format: 'graph-model', modelTopology: {}, weightsManifest: [] }) })],
  ['UNSUPPORTED_MODEL', 'an ONNX model', () => ({ files: [{ name: 'model.onnx', data: weights }] })],
  ['BAD_OPTION', 'not a model source', () => 42 as unknown as ModelInput],
];

test.each(loadCases)('%s for %s, and the worker keeps serving the model it had', async (code, _what, source) => {
  await expectCode(client.load(source()), code);
  await stillServes();
});

test('a graph model loads and explains in the worker; one with an op whycam cannot run is refused and the worker keeps serving', async () => {
  const other = w.newClient();
  const info = await other.load({ files: graphA().files() });
  expect(info).toMatchObject({ targetLayer: 'c3/Relu', cam: { applies: true } });
  const names: string[] = [];
  await other.explain(randomPixels(12, 12), { methods: ['cam', 'gradcam', 'vanilla', 'guided', 'guided-gradcam'] }, (stage) => {
    if (stage.stage !== 'prediction') names.push(...Object.keys(stage.maps));
  });
  expect(names.sort()).toEqual(['cam', 'gradcam', 'guided', 'guided-gradcam', 'vanilla']);
  const bad = graphA();
  bad.nodes.find((n) => n.name === 'act/Tanh')!.op = 'Atan';
  await expectCode(client.load({ files: bad.files() }), 'UNSUPPORTED_LAYER');
  await stillServes();
  await other.dispose();
});

test('safe loading: a zip bomb, layers in a cycle, a model over the weight cap; the worker keeps serving after each', async () => {
  const bomb = await zeroBombZip([{ name: 'model.json', data: enc(tmJson()) }], 'weights.bin', 1.5e9);
  const t0 = performance.now();
  await expectCode(client.load({ zip: bomb }), 'MODEL_TOO_LARGE');
  expect(performance.now() - t0).toBeLessThan(2000);
  await stillServes();
  const cyclic = tmJson();
  cyclic.modelTopology.config[0].config[0].config.layers[1].inbound_nodes = [[['bn_Conv1', 0, 0, {}]]];
  await expectCode(client.load({ files: withJson(cyclic) }), 'MODEL_CORRUPT');
  await stillServes();
  await expectCode(client.load({ files: withJson(tmJson()) }, { maxWeightBytes: 1e6 }), 'MODEL_TOO_LARGE');
  await stillServes();
}, 60_000);

test('BAD_OPTION: an unknown value range, labels that do not match the classes', async () => {
  await expectCode(client.load({ files: tmFiles() }, { range: '0..42' as never }), 'BAD_OPTION');
  await expectCode(client.load({ files: good }, { labels: ['only', 'two'] }), 'BAD_OPTION');
  await stillServes();
});

const imageCases: Array<[WhycamErrorCode, string, () => WorkerImage]> = [
  ['BAD_IMAGE', 'a text file', () => new Blob(['hello, not a picture'])],
  ['BAD_IMAGE', 'an empty file', () => new Blob([])],
  ['BAD_IMAGE', 'a GIF (Node decodes PNG and JPEG only)', () => new Blob([enc('GIF89a....')])],
  ['BAD_IMAGE', 'pixels that do not add up', () => ({ data: new Uint8Array(10), width: 4, height: 4, channels: 4 })],
  ['BAD_IMAGE', 'pixels of 2 values each', () => ({ data: new Uint8Array(32), width: 4, height: 4 })],
  ['BAD_IMAGE', 'a string', () => 'photo.png' as unknown as WorkerImage],
  ['EMPTY_IMAGE', 'zero pixels', () => ({ data: new Uint8Array(0), width: 0, height: 0, channels: 4 })],
  ['IMAGE_TOO_LARGE', 'a 20000-pixel-wide strip', () => ({ data: new Uint8Array(4), width: 20000, height: 1, channels: 4 })],
];

test.each(imageCases)('%s for %s, and the next image is explained', async (code, _what, image) => {
  await expectCode(client.explain(image()), code);
  await stillServes();
});

test('UNKNOWN_CLASS, UNKNOWN_LAYER, UNKNOWN_METHOD, CANCELLED', async () => {
  const img = randomPixels(32, 32);
  await expectCode(client.explain(img, { class: 'zebra' }), 'UNKNOWN_CLASS');
  await expectCode(client.explain(img, { class: 9 }), 'UNKNOWN_CLASS');
  await expectCode(client.explain(img, { layer: 'no_such_layer' }), 'UNKNOWN_LAYER');
  await expectCode(client.explain(img, { methods: ['lime' as never] }), 'UNKNOWN_METHOD');
  const first = client.explain(img);
  const second = client.explain(img);
  await expectCode(first, 'CANCELLED');
  await second;
  await stillServes();
});

test('BACKEND: a worker whose backend cannot start says so on every call, and does not hang', async () => {
  const broken = startNodeWorker('no-such-backend');
  try {
    await expectCode(broken.client.backendInfo(), 'BACKEND');
    await expectCode(broken.client.load({ files: good }), 'BACKEND');
    await expectCode(broken.client.explain(randomPixels(8, 8)), 'BACKEND');
  } finally {
    await broken.close();
  }
});

test('BACKEND: a worker that dies fails the calls in flight instead of leaving them pending', async () => {
  // A server that accepts and never answers keeps a URL load in flight.
  const silent = http.createServer(() => {});
  await new Promise<void>((r) => silent.listen(0, '127.0.0.1', () => r()));
  const doomed = startNodeWorker();
  try {
    await doomed.client.backendInfo();
    const pending = doomed.client.load({ url: `http://127.0.0.1:${(silent.address() as net.AddressInfo).port}/model.json` });
    await new Promise((r) => setTimeout(r, 200));
    await doomed.worker.terminate();
    await expectCode(pending, 'BACKEND');
    await expectCode(doomed.client.backendInfo(), 'BACKEND');
  } finally {
    silent.closeAllConnections();
    silent.close();
  }
});

test('FILE_NOT_FOUND: a picked file that vanished before it was read (service in-process)', async () => {
  const service = new WhycamService({
    startBackend: async () => ({ backend: 'cpu', binary: null, threads: 1, crossOriginIsolated: false, wasmUrl: null, fallbacks: [] }),
    decoders: { decodeFile: async () => { throw new Error('not reached'); } },
  });
  // What a browser's File does when its file is gone: arrayBuffer() rejects with NotFoundError.
  const vanished = {
    [Symbol.toStringTag]: 'File',
    size: 10,
    arrayBuffer: () => Promise.reject(Object.assign(new Error('A requested file or directory could not be found.'), { name: 'NotFoundError' })),
  } as unknown as Blob;
  await expectCode(service.load('s', { files: [{ name: 'model.json', data: vanished }] }), 'FILE_NOT_FOUND');
  await expectCode(service.load('s', { zip: vanished }), 'FILE_NOT_FOUND');
});
