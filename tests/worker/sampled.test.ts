/**
 * The methods beyond the five and the trust measures through the worker (worker_threads, as a
 * page uses it): the sampled-maps stage last with progress per batch, method options and map
 * stats across the boundary, Score-CAM cancelled mid-way leaving the worker serving with no
 * tensor left behind, evaluate() with its curves, sentences, progress and cancel, and the
 * spatial layers describe() lists for a layer choice.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Explainer } from '../../src/explainer';
import type { MethodProgress, Stage } from '../../src/explainer';
import { useBackend } from '../../src/backend';
import type { WhycamClient } from '../../worker/client';
import { buildFamily } from '../helpers/families';
import { tmPhotos } from '../helpers/fixtures';
import { startStaticServer } from '../helpers/static-server';
import { modelFiles, randomPixels, settle, startNodeWorker, tmFiles, type NodeWorker } from './helpers';

const photo = (i = 0) => new Blob([fs.readFileSync(tmPhotos()[i][0])]);

let w: NodeWorker;
let tm: WhycamClient;
let small: WhycamClient;
let smallFiles: Awaited<ReturnType<typeof modelFiles>>;

beforeAll(async () => {
  smallFiles = await modelFiles(() => buildFamily('vgg', 'softmax', 32), ['a', 'b', 'c', 'd', 'e']);
  w = startNodeWorker();
  tm = w.client;
  small = w.newClient();
  await Promise.all([tm.load({ files: tmFiles() }), small.load({ files: smallFiles })]);
}, 120_000);
afterAll(async () => { await w?.close(); });

test('the sampled methods stream in last, after the class maps, with progress per batch and their options applied', async () => {
  const stages: Stage[] = [];
  const progress: MethodProgress[] = [];
  const image = randomPixels(32, 32, 3);
  const summary = await small.explain(image, {
    methods: ['layercam', 'integrated-gradients', 'smoothgrad', 'scorecam'],
    methodOptions: { 'integrated-gradients': { steps: 12, batchSize: 5 }, smoothgrad: { samples: 6, batchSize: 4, seed: 3 }, scorecam: { batchSize: 8 } },
    onProgress: (p) => progress.push(p),
  }, (s) => stages.push(s));
  expect(stages.map((s) => s.stage)).toEqual(['prediction', 'class-maps', 'sampled-maps']);
  expect(summary.stages.map((s) => s.stage)).toEqual(['prediction', 'class-maps', 'sampled-maps']);
  const sampled = stages[2].stage === 'sampled-maps' ? stages[2].maps : {};
  expect(Object.keys(sampled).sort()).toEqual(['integrated-gradients', 'scorecam', 'smoothgrad']);

  // Progress per batch, in order, ending at the total each method's options imply.
  const of = (m: string) => progress.filter((p) => p.method === m);
  // Integrated Gradients' 12 nodes plus the baseline itself.
  expect(of('integrated-gradients').map((p) => p.done)).toEqual([5, 10, 13]);
  expect(of('smoothgrad').map((p) => p.done)).toEqual([4, 6]);
  const channels = sampled.scorecam!.layer ? (await small.describe()).spatialLayers.at(-1)!.channels : 0;
  expect(of('scorecam').at(-1)).toEqual({ method: 'scorecam', done: channels, total: channels });
  expect(of('scorecam').map((p) => p.done)).toEqual(Array.from({ length: Math.ceil(channels / 8) }, (_, i) => Math.min(channels, 8 * (i + 1))));
  // Every progress call arrived before the stage it belongs to (one port, in order).
  expect(progress.length).toBe(3 + 2 + Math.ceil(channels / 8));

  // The maps' stats cross too, equal to the engine's own run here.
  const gap = sampled['integrated-gradients']!.stats?.completenessGap;
  expect(typeof gap).toBe('number');
  await useBackend('wasm');
  const local = await Explainer.load({ files: smallFiles });
  const expected = await local.explainAll({ ...image, channels: 4 }, { methods: ['integrated-gradients'], methodOptions: { 'integrated-gradients': { steps: 12 } } });
  local.dispose();
  expect(gap).toBeCloseTo(expected.maps['integrated-gradients']!.stats!.completenessGap, 5);
});

test('describe() lists the layers with spatial outputs, the default target layer last', async () => {
  const info = await tm.describe();
  expect(info.spatialLayers.length).toBeGreaterThan(10);
  expect(info.spatialLayers.at(-1)!.name).toBe(info.targetLayer);
  expect(info.spatialLayers.at(-1)).toMatchObject({ width: 7, height: 7, channels: 1280 });
  for (const l of info.spatialLayers) expect(l.width > 1 || l.height > 1).toBe(true);
  // A layer from the list is one explain() takes, for Layer-CAM at a finer grid.
  const fine = info.spatialLayers.find((l) => l.width === 28)!;
  const stages: Stage[] = [];
  await tm.explain(photo(0), { methods: ['layercam'], layer: fine.name }, (s) => stages.push(s));
  const map = stages[1].stage === 'class-maps' ? stages[1].maps.layercam! : null;
  expect(map).toMatchObject({ width: 28, height: 28, channels: 1, layer: fine.name });
});

test('cancel() in the middle of Score-CAM stops it at the next batch; the worker keeps serving with no tensor left behind', async () => {
  const started = performance.now();
  const cancelled = async () => {
    const progress: MethodProgress[] = [];
    const stages: string[] = [];
    const r = await settle(tm.explain(photo(1), {
      methods: ['gradcam', 'scorecam'], methodOptions: { scorecam: { batchSize: 16 } },
      onProgress: (p) => {
        progress.push(p);
        if (progress.length === 2) void tm.cancel();
      },
    }, (s) => stages.push(s.stage)));
    return { r, progress, stages };
  };
  // The client rejects a cancelled request at once; the worker stops it at its next batch and
  // frees its tensors, then counts it: read the worker's figures only once it has.
  const stopped = async (before: number) => {
    for (let i = 0; i < 600 && (await tm.stats()).cancelled === before; i++) await new Promise((resolve) => setTimeout(resolve, 50));
  };
  // The first one warms the weight cache of the forward-only passes (kept for the model's life).
  const initial = (await tm.stats()).cancelled;
  await cancelled();
  await stopped(initial);
  const base = await tm.stats();
  const { r, progress, stages } = await cancelled();
  await stopped(base.cancelled);
  expect(!r.ok && r.error.code).toBe('CANCELLED');
  expect(stages).toEqual(['prediction', 'class-maps']);
  // 1280 channels in batches of 16: it stopped long before the end.
  expect(progress[0]).toEqual({ method: 'scorecam', done: 16, total: 1280 });
  expect(progress.length).toBeLessThanOrEqual(3);
  const after = await tm.stats();
  expect(after.numTensors).toBe(base.numTensors);
  expect(after.numBytes).toBe(base.numBytes);
  expect(after.cancelled - base.cancelled).toBe(1);
  // And it serves the next request in full.
  const next = await tm.explain(photo(1));
  expect(next.stages.map((s) => s.stage)).toEqual(['prediction', 'class-maps', 'gradient-maps', 'guided-gradcam']);
  expect(performance.now() - started).toBeLessThan(60_000);
}, 120_000);

test('evaluate() returns the deletion and insertion curves against a random order, the sanity check and a sentence per map', async () => {
  const image = randomPixels(32, 32, 5);
  const progress: MethodProgress[] = [];
  const report = await small.evaluate(image, { methods: ['gradcam', 'guided'], sanity: { steps: 3 }, onProgress: (p) => progress.push(p) });
  for (const m of ['gradcam', 'guided'] as const) {
    const t = report.maps[m]!;
    for (const c of [t.deletion!, t.insertion!]) {
      expect(c.fractions).toHaveLength(21);
      expect(c.probabilities).toHaveLength(21);
      expect(c.auc).toBeGreaterThanOrEqual(0);
      expect(c.auc).toBeLessThanOrEqual(1);
    }
    // Deletion starts at the photo itself, insertion ends at it.
    expect(t.deletion!.probabilities[0]).toBeCloseTo(report.probability, 4);
    expect(t.insertion!.probabilities[20]).toBeCloseTo(report.probability, 4);
    expect(t.summary).toMatch(/deletion area.*insertion area.*rank correlation/);
  }
  expect(report.random!.deletion!.probabilities).toHaveLength(21);
  expect(report.sanity!.map((s) => s.randomized)[0]).toBe(0);
  expect(report.sanity).toHaveLength(4);
  expect(report.sanity![0].correlation.gradcam).toBeCloseTo(1, 6);
  const kinds = new Set(progress.map((p) => p.method));
  for (const k of ['deletion:random', 'insertion:random', 'deletion:gradcam', 'insertion:guided', 'sanity']) expect(kinds).toContain(k);
  expect(progress.filter((p) => p.method === 'sanity').at(-1)).toEqual({ method: 'sanity', done: 4, total: 4 });
});

test('evaluate() takes maps already computed, and is cancelled by cancel() and by a newer explain, the trained weights back each time', async () => {
  const image = randomPixels(32, 32, 9);
  const maps: Record<string, unknown> = {};
  await small.explain(image, { methods: ['gradcam'] }, (s) => { if (s.stage !== 'prediction') Object.assign(maps, s.maps); });
  const gradcam = maps.gradcam as { data: Float32Array };
  const reference = Float32Array.from(gradcam.data);
  const base = await small.stats();

  const given = await small.evaluate(image, { methods: ['gradcam'], metrics: ['deletion'], maps: { gradcam: maps.gradcam as never } });
  expect(given.maps.gradcam!.deletion!.probabilities).toHaveLength(21);
  expect(given.maps.gradcam!.insertion).toBeUndefined();

  // cancel() during the sanity check.
  let calls = 0;
  const cancelled = await settle(small.evaluate(image, { methods: ['gradcam'], metrics: ['sanity'], sanity: { steps: 8 }, onProgress: () => {
    if (++calls === 2) void small.cancel();
  } }));
  expect(!cancelled.ok && cancelled.error.code).toBe('CANCELLED');
  expect(calls).toBeLessThanOrEqual(3);

  // A newer explain supersedes an evaluate in flight.
  let again: Promise<unknown> | null = null;
  const superseded = settle(small.evaluate(image, { methods: ['gradcam'], sanity: { steps: 8 }, onProgress: () => {
    if (!again) again = small.explain(image, { methods: ['gradcam'] }, (s) => { if (s.stage !== 'prediction') Object.assign(maps, s.maps); });
  } }));
  const s = await superseded;
  expect(!s.ok && s.error.code).toBe('CANCELLED');
  await again;

  // The explain after both sees the trained weights: the same map as before.
  const now = (maps.gradcam as { data: Float32Array }).data;
  expect(Array.from(now)).toEqual(Array.from(reference));
  const after = await small.stats();
  expect(after.numTensors).toBe(base.numTensors);
  expect(after.numBytes).toBe(base.numBytes);
}, 120_000);

test('a session sharing a URL model waits while another one\'s sanity check has its weights swapped', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'whycam-small-'));
  for (const f of smallFiles) fs.writeFileSync(path.join(dir, f.name), f.data as Uint8Array);
  const server = await startStaticServer({ mounts: { '/small/': dir } });
  const a = w.newClient();
  const b = w.newClient();
  try {
    const url = `${server.origin}/small/model.json`;
    await a.load({ url });
    await b.load({ url });
    const image = randomPixels(32, 32, 11);
    const mapOf = async (c: WhycamClient) => {
      const maps: Record<string, { data: Float32Array }> = {};
      await c.explain(image, { methods: ['gradcam'] }, (s) => { if (s.stage !== 'prediction') Object.assign(maps, s.maps); });
      return Array.from(maps.gradcam.data);
    };
    const reference = await mapOf(b);
    const order: string[] = [];
    let racing: Promise<number[]> | null = null;
    // SmoothGrad yields between batches, so without the lock B's explain would run on the random weights.
    const evaluation = a.evaluate(image, { methods: ['smoothgrad'], metrics: ['sanity'], sanity: { steps: 5 }, onProgress: (p) => {
      if (p.method === 'sanity' && !racing) racing = mapOf(b).then((m) => { order.push('explain'); return m; });
    } }).then((r) => { order.push('evaluate'); return r; });
    const report = await evaluation;
    // The trained step and one per weighted layer (the small net has five).
    expect(report.sanity).toHaveLength(6);
    expect(racing).not.toBeNull();
    expect(await racing!).toEqual(reference);
    expect(order).toEqual(['evaluate', 'explain']);
  } finally {
    await a.dispose();
    await b.dispose();
    await server.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}, 120_000);
