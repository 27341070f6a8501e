/**
 * The worker through worker_threads and Comlink's node adapter, as a page would use it:
 * stages in DESIGN.md's order with their buffers moved, the newest request winning (also
 * in a tight loop of 100), explainLatest keeping one waiting frame, loading by URL (once
 * per worker, with progress), zip and files, and no tensor left behind after 200 requests.
 */
import * as fs from 'fs';
import * as v8 from 'v8';
import * as vm from 'vm';
import { Explainer } from '../../src/explainer';
import type { Stage } from '../../src/explainer';
import { useBackend } from '../../src/backend';
import { WhycamError } from '../../src/errors';
import { createClient, type WhycamClient } from '../../worker/client';
import { buildFamily } from '../helpers/families';
import { readImage, tmPhotos, TM_DIR, TM_ZIP } from '../helpers/fixtures';
import { startStaticServer, type StaticServer } from '../helpers/static-server';
import { modelFiles, randomPixels, settle, startNodeWorker, tmFiles, type NodeWorker } from './helpers';

const ORDER: Stage['stage'][] = ['prediction', 'class-maps', 'gradient-maps', 'guided-gradcam'];
const isF32 = (a: unknown) => Object.prototype.toString.call(a) === '[object Float32Array]';
const photo = (i = 0) => new Blob([fs.readFileSync(tmPhotos()[i][0])]);

let w: NodeWorker;
let client: WhycamClient;

beforeAll(async () => {
  w = startNodeWorker();
  client = w.client;
  await client.load({ files: tmFiles() });
});
afterAll(async () => { await w?.close(); });

test('runs tfjs-backend-wasm as Node does: the SIMD binary, one thread', async () => {
  expect(await client.backendInfo()).toMatchObject({ backend: 'wasm', binary: 'simd', threads: 1, crossOriginIsolated: false });
});

test('streams the stages in order, maps moved across as Float32Arrays equal to the engine in-process', async () => {
  const stages: Stage[] = [];
  const before = await client.stats();
  const summary = await client.explain(photo(), {}, (s) => stages.push(s));
  expect(stages.map((s) => s.stage)).toEqual(ORDER);
  expect(summary.stages.map((s) => s.stage)).toEqual(ORDER);
  expect(summary.predictions[0].label).toBe(tmPhotos()[0][1]);

  const maps = Object.assign({}, ...stages.map((s) => (s.stage === 'prediction' ? {} : s.maps)));
  expect(Object.keys(maps).sort()).toEqual(['gradcam', 'guided', 'guided-gradcam', 'vanilla']);
  for (const m of Object.values(maps) as Array<{ data: Float32Array; width: number; height: number; channels: number }>) {
    expect(isF32(m.data)).toBe(true);
    expect(m.data.length).toBe(m.width * m.height * m.channels);
  }
  // Every map byte moved by transfer, none copied (the engine never reads a yielded map again).
  const after = await client.stats();
  const bytes = (Object.values(maps) as Array<{ data: Float32Array }>).reduce((n, m) => n + m.data.byteLength, 0);
  expect(after.transferredBytes - before.transferredBytes).toBe(bytes);
  expect(after.copiedBytes - before.copiedBytes).toBe(0);

  // Same numbers as the engine run here, directly (so nothing was detached or overwritten on the way).
  await useBackend('wasm');
  const local = await Explainer.load({ files: tmFiles() });
  const expected = await local.explainAll(await readImage(tmPhotos()[0][0]));
  local.dispose();
  for (const [method, map] of Object.entries(expected.maps)) {
    const got = maps[method].data as Float32Array;
    let worst = 0;
    let max = 0;
    for (let i = 0; i < got.length; i++) {
      worst = Math.max(worst, Math.abs(got[i] - map!.data[i]));
      max = Math.max(max, Math.abs(map!.data[i]));
    }
    expect(got.length).toBe(map!.data.length);
    expect(worst).toBeLessThanOrEqual(1e-5 * max);
  }
});

test('the class maps arrive before the gradient maps are computed (streamed, not batched)', async () => {
  const at: Record<string, number> = {};
  const summary = await client.explain(photo(3), { methods: ['gradcam', 'guided'] }, (s) => { at[s.stage] = performance.now(); });
  const gradientMs = summary.stages.find((s) => s.stage === 'gradient-maps')!.ms;
  // The worker waits for each stage to be delivered before it computes the next one.
  expect(at['gradient-maps'] - at['class-maps']).toBeGreaterThanOrEqual(gradientMs * 0.9);
});

test('a newer explain supersedes the one in flight: the old promise is CANCELLED, its engine stops at the next stage', async () => {
  const seen: string[] = [];
  const before = await client.stats();
  let second: Promise<unknown> | null = null;
  const first = settle(client.explain(photo(1), {}, (s) => {
    seen.push(`a:${s.stage}`);
    if (s.stage === 'prediction') second = client.explain(photo(2), {}, (t) => seen.push(`b:${t.stage}`));
  }));
  const a = await first;
  expect(a.ok).toBe(false);
  expect(!a.ok && a.error).toBeInstanceOf(WhycamError);
  expect(!a.ok && a.error.code).toBe('CANCELLED');
  await second;
  expect(seen).toEqual(['a:prediction', ...ORDER.map((s) => `b:${s}`)]);
  const after = await client.stats();
  // The superseded request computed its prediction only; the new one all four stages.
  expect(after.stages - before.stages).toBe(1 + 4);
  expect(after.cancelled - before.cancelled).toBe(1);
});

test('cancel() stops the request in flight and delivers nothing more', async () => {
  const seen: string[] = [];
  const before = await client.stats();
  const p = settle(client.explain(photo(4), {}, (s) => {
    seen.push(s.stage);
    void client.cancel();
  }));
  const r = await p;
  expect(!r.ok && r.error.code).toBe('CANCELLED');
  await client.cancel();
  expect(seen).toEqual(['prediction']);
  const after = await client.stats();
  expect(after.stages - before.stages).toBe(1);
  // And it keeps serving.
  expect((await client.explain(photo(4))).stages).toHaveLength(4);
});

test('explainLatest keeps only the newest waiting frame; the one in flight finishes', async () => {
  const frames = 20;
  const delivered = new Set<number>();
  const results = await Promise.all(Array.from({ length: frames }, (_, i) =>
    settle(client.explainLatest(photo(i % 5), { methods: ['gradcam'] }, () => delivered.add(i)))));
  const completed = results.flatMap((r, i) => (r.ok ? [i] : []));
  expect(completed).toEqual([0, frames - 1]);
  for (const r of results) if (!r.ok) expect(r.error.code).toBe('CANCELLED');
  expect([...delivered].sort((x, y) => x - y)).toEqual([0, frames - 1]);
});

test('clients come and go: one that is garbage-collected does not take the worker away from the next', async () => {
  v8.setFlagsFromString('--expose-gc');
  const gc = vm.runInNewContext('gc') as () => void;
  for (let i = 0; i < 3; i++) {
    const c = createClient(w.worker);
    await c.backendInfo();
    if (i > 0) await c.dispose();
  }
  // Comlink releases collected proxies from a FinalizationRegistry, after a GC and a turn of the loop.
  for (let i = 0; i < 5; i++) {
    gc();
    await new Promise((r) => setTimeout(r, 20));
  }
  const next = createClient(w.worker);
  const answer = await Promise.race([next.backendInfo(), new Promise((r) => setTimeout(() => r('no answer: the worker stopped listening'), 10_000))]);
  expect(answer).toMatchObject({ backend: 'wasm' });
  expect((await client.explain(photo(0), { methods: ['cam'] })).predictions[0].label).toBe('Class 1');
  await next.dispose();
});

describe('loading', () => {
  let server: StaticServer;
  beforeAll(async () => { server = await startStaticServer({ mounts: { '/tm/': TM_DIR } }); });
  afterAll(async () => { await server?.close(); });

  test('from a URL with progress; a second client loading the same URL reuses the model', async () => {
    const url = `${server.origin}/tm/image-model/model.json`;
    const progress: number[] = [];
    const info = await client.load({ url }, { onProgress: (f) => progress.push(f) });
    expect(info.labels).toEqual(['Class 1', 'Class 2']);
    // All progress arrived before load() resolved, rising to 1.
    expect(progress.length).toBeGreaterThan(1);
    expect(progress[progress.length - 1]).toBe(1);
    expect(progress.every((f, i) => i === 0 || f >= progress[i - 1])).toBe(true);

    const other = w.newClient();
    const modelsBefore = (await client.stats()).models;
    expect((await other.load({ url })).labels).toEqual(['Class 1', 'Class 2']);
    expect(server.requests.filter((r) => r.path === '/tm/image-model/model.json')).toHaveLength(1);
    expect(server.requests.filter((r) => r.path === '/tm/image-model/weights.bin')).toHaveLength(1);
    expect((await client.stats()).models).toBe(modelsBefore);
    // Each client has its own request in flight: B's explain does not cancel A's.
    const [a, b] = await Promise.all([client.explain(photo(0), { methods: ['cam', 'gradcam'] }), other.explain(photo(1), { methods: ['cam', 'gradcam'] })]);
    expect(a.predictions[0].label).toBe('Class 1');
    expect(b.predictions[0].label).toBe('Class 1');
    await other.dispose();
  });

  test('from a Teachable Machine zip Blob, and from files given as Blobs', async () => {
    const zip = new Blob([fs.readFileSync(TM_ZIP)]);
    expect((await client.load(zip)).labels).toEqual(['Class 1', 'Class 2']);
    const asBlobs = tmFiles().map((f) => ({ name: f.name, data: new Blob([f.data as Uint8Array<ArrayBuffer>]) }));
    const info = await client.load({ files: asBlobs });
    expect(info).toMatchObject({ labels: ['Class 1', 'Class 2'], range: '-1..1', targetLayer: expect.stringContaining('out_relu') });
    expect(await client.classes()).toEqual(['Class 1', 'Class 2']);
    const s = await client.explain(photo(6), { class: 'Class 2' });
    expect(s.classIndex).toBe(1);
  });
});

describe('a small net, many requests', () => {
  let small: WhycamClient;
  beforeAll(async () => {
    small = w.newClient();
    await small.load({ files: await modelFiles(() => buildFamily('mobilenet-v2', 'softmax', 32), ['a', 'b', 'c', 'd', 'e']) });
  });

  test('100 superseding requests in a tight loop: only the last completes, nothing stale arrives', async () => {
    const before = await small.stats();
    const delivered: number[] = [];
    const n = 100;
    const results = await Promise.all(Array.from({ length: n }, (_, i) =>
      settle(small.explain(randomPixels(40, 30, i), {}, () => delivered.push(i)))));
    expect(results.slice(0, n - 1).every((r) => !r.ok && r.error.code === 'CANCELLED')).toBe(true);
    expect(results[n - 1].ok).toBe(true);
    expect(delivered).toEqual([n - 1, n - 1, n - 1, n - 1]);
    const after = await small.stats();
    expect(after.completed - before.completed).toBe(1);
    expect(after.cancelled - before.cancelled).toBe(n - 1);
    // Superseded requests give way before computing anything: only those whose successor had not
    // yet reached the worker start at all (a handful; more when the machine is busy).
    expect(after.started - before.started).toBeLessThan(n / 4);
  });

  test('no tensor growth after 200 requests: completed, superseded, cancelled and failing', async () => {
    await small.explain(randomPixels(32, 32));
    const base = await small.stats();
    for (let i = 0; i < 200; i++) {
      const image = randomPixels(24 + (i % 16), 32, i);
      switch (i % 4) {
        case 0: await small.explain(image, { class: i % 5 }); break;
        case 1: { const old = settle(small.explain(image)); await small.explain(image, { methods: ['cam'] }); await old; break; }
        case 2: { const p = settle(small.explain(image, {}, () => { void small.cancel(); })); await p; break; }
        case 3: await settle(small.explain(image, { class: 'nope' })); break;
      }
    }
    const after = await small.stats();
    expect(after.numTensors).toBe(base.numTensors);
    expect(after.numBytes).toBe(base.numBytes);
  });
});
