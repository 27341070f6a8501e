/**
 * tfjs GraphModels run by whycam's own recorder: every op's forward value against stock
 * @tensorflow/tfjs-converter (GraphModel.execute) on graphs the tests write and on the real
 * nsfwjs MobileNetV2 topology with seeded weights; load errors for what it cannot run.
 */
import * as fs from 'fs';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs-core';
import * as tfconv from '@tensorflow/tfjs-converter';
import { Explainer, type ModelFile } from '../../src';
import { planFusion } from '../../src/record/fusion';
import { runForward } from '../../src/record/forward';
import { WeightCache } from '../../src/model/weight-cache';
import { switchTo } from '../helpers/backends';
import { graphA, graphB } from '../helpers/graph-fixtures';
import { seeded } from '../helpers/graph-models';

const NSFW = path.resolve(__dirname, '../../../shared/fixtures/graph-models/nsfw-mobilenet-v2-mid');

async function stock(files: ModelFile[]): Promise<tfconv.GraphModel> {
  const json = JSON.parse(new TextDecoder().decode(files[0].data as Uint8Array));
  const bins = files.slice(1).map((f) => f.data as Uint8Array);
  const total = bins.reduce((a, b) => a + b.byteLength, 0);
  const data = new Uint8Array(total);
  let at = 0;
  for (const b of bins) { data.set(b, at); at += b.byteLength; }
  return tfconv.loadGraphModel(tf.io.fromMemory({ modelTopology: json.modelTopology, weightSpecs: json.weightsManifest.flatMap((g: { weights: unknown[] }) => g.weights), weightData: data.buffer }));
}

function randomImage(shape: number[], seed: number, lo = 0, hi = 1): tf.Tensor4D {
  const r = seeded(seed);
  const n = shape.reduce((a, b) => a * b, 1);
  return tf.tensor4d(Float32Array.from({ length: n }, () => lo + (r() + 1) / 2 * (hi - lo)), shape as [number, number, number, number]);
}

/** max |a - b| / max(max |b|, 1e-6) */
function relErr(a: tf.Tensor, b: tf.Tensor): number {
  const [x, y] = [a.dataSync(), b.dataSync()];
  expect(a.shape).toEqual(b.shape);
  let num = 0, den = 1e-6;
  for (let i = 0; i < y.length; i++) { num = Math.max(num, Math.abs(x[i] - y[i])); den = Math.max(den, Math.abs(y[i])); }
  return num / den;
}

/** Every op's value from whycam's forward pass against stock GraphModel.execute of the same node. */
async function compareEveryNode(files: ModelFile[], x: tf.Tensor4D): Promise<number> {
  const ex = await Explainer.load({ files });
  const gm = await stock(files);
  const cache = new WeightCache();
  const record = runForward(ex.graph, x, planFusion(ex.graph, []), cache);
  let checked = 0;
  const wants = gm.execute(x, ex.graph.ops.map((op) => op.path)) as tf.Tensor[];
  ex.graph.ops.forEach((op, i) => {
    const err = relErr(record.values[op.outputs[0]], wants[i]);
    if (err > 1e-5) throw new Error(`${op.path} (${op.className}): relative error ${err}`);
    checked++;
  });
  tf.dispose(wants);
  record.dispose();
  cache.dispose();
  gm.dispose();
  ex.dispose();
  return checked;
}

describe('graph models: forward', () => {
  beforeAll(async () => { await switchTo('cpu'); });

  test.each([
    ['graph A', () => graphA(), false, [2, 12, 12, 3]],
    ['graph A, uint8-quantised', () => graphA(), true, [1, 12, 12, 3]],
    ['graph B', () => graphB(), false, [2, 10, 10, 3]],
    ['graph B, uint8-quantised', () => graphB(), true, [1, 10, 10, 3]],
  ] as const)('%s: every node agrees with stock GraphModel.execute within 1e-5', async (_what, build, quantize, shape) => {
    const before = tf.memory().numTensors;
    const x = randomImage([...shape], 5);
    const checked = await compareEveryNode(build().files(quantize), x);
    expect(checked).toBeGreaterThan(15);
    x.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  test('the real nsfwjs MobileNetV2 topology with seeded uint8 weights agrees with stock GraphModel.execute (wasm)', async () => {
    await switchTo('wasm');
    const json = JSON.parse(fs.readFileSync(path.join(NSFW, 'model.json'), 'utf8'));
    const r = seeded(11);
    const files: ModelFile[] = [{ name: 'model.json', data: new TextEncoder().encode(JSON.stringify(json)) }];
    // Each weight a little noise around zero in its own quantisation (the net stays well-conditioned).
    const shards: number[][] = [];
    const weights = json.weightsManifest[0].weights as Array<{ shape: number[]; quantization: { min: number; scale: number } }>;
    const bytes: number[] = [];
    for (const w of weights) {
      const n = w.shape.reduce((a, b) => a * b, 1);
      const zero = Math.round(-w.quantization.min / w.quantization.scale);
      for (let i = 0; i < n; i++) bytes.push(Math.max(0, Math.min(255, zero + Math.round(r(4)))));
    }
    // Two shards as the manifest names them (the split point does not matter to the loader).
    const half = Math.floor(bytes.length / 2);
    shards.push(bytes.slice(0, half), bytes.slice(half));
    json.weightsManifest[0].paths.forEach((p: string, i: number) => files.push({ name: p, data: Uint8Array.from(shards[i]) }));
    const x = randomImage([1, 224, 224, 3], 3);
    const checked = await compareEveryNode(files, x);
    expect(checked).toBe(68);
    const ex = await Explainer.load({ files });
    expect(ex.describe()).toMatchObject({ input: { height: 224, width: 224, channels: 3 }, cam: { applies: true } });
    expect(ex.describe().targetLayer).toMatch(/Conv_1\/Relu6$/);
    ex.dispose();
    x.dispose();
    await switchTo('cpu');
  }, 300_000);
});

describe('graph models: what cannot be run is refused', () => {
  beforeAll(async () => { await switchTo('cpu'); });
  const edit = (f: (nodes: Array<{ name: string; op: string; input?: string[] }>) => void): ModelFile[] => {
    const files = graphA().files();
    const json = JSON.parse(new TextDecoder().decode(files[0].data as Uint8Array));
    f(json.modelTopology.node);
    return [{ name: 'model.json', data: new TextEncoder().encode(JSON.stringify(json)) }, files[1]];
  };
  test.each([
    ['UNSUPPORTED_LAYER', 'an op whycam has no rules for', (n: Array<{ name: string; op: string }>) => { n.find((x) => x.name === 'act/Tanh')!.op = 'Atan'; }, /Node 'act\/Tanh' is a Atan/],
    ['UNSUPPORTED_LAYER', 'a StridedSlice on a feature map (its gradient would be lost)', (n: Array<{ name: string; op: string; attr?: Record<string, unknown> }>) => {
      const t = n.find((x) => x.name === 'act/Tanh')!;
      t.op = 'StridedSlice';
      t.attr = { T: { type: 'DT_FLOAT' } };
    }, /'act\/Tanh' is a StridedSlice of DT_FLOAT values/],
    ['MODEL_CORRUPT', 'a node reading a node that does not exist', (n: Array<{ name: string; input?: string[] }>) => { n.find((x) => x.name === 'act/Tanh')!.input = ['ghost']; }, /'act\/Tanh' reads 'ghost'/],
    ['MODEL_CORRUPT', 'a cycle', (n: Array<{ name: string; input?: string[] }>) => { n.find((x) => x.name === 'act/Tanh')!.input = ['sum/AddN']; }, /cycle/],
    ['UNSUPPORTED_MODEL', 'two outputs', (n: Array<{ name: string; op: string; input?: string[] }>) => { n.push({ name: 'extra', op: 'Relu', input: ['act/Tanh'] }); }, /2 outputs/],
  ])('%s for %s', async (code, _what, change, message) => {
    const before = tf.memory().numTensors;
    await expect(Explainer.load({ files: edit(change as never) })).rejects.toMatchObject({ code, message: expect.stringMatching(message) });
    expect(tf.memory().numTensors).toBe(before);
  });
});
