/**
 * One preprocessing, verified across front ends: the CLI (a subprocess, default model) and the
 * Node worker (worker_threads, the same model's files) give the same top 5 and probabilities
 * for the same non-square photo, and report the same region of it.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import type { Prediction } from '../../src/explainer';
import type { ModelFile } from '../../src/model/load';
import { modelSourceFromPath } from '../../src/node/model-path';
import { whycam } from '../cli/helpers';
import { startNodeWorker, type NodeWorker } from './helpers';

const REPO = path.resolve(__dirname, '../..');
const CASES: Array<[string, number]> = [
  ['models/imagenet-darknet-tiny/samples/chelsea.png', 1e-4], // 451x300 PNG
  ['models/imagenet-darknet-tiny/samples/rocket.jpg', 1e-3], // 640x427 JPEG
];

let w: NodeWorker;
let tmp: string;

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'whycam-front-ends-'));
  w = startNodeWorker();
  const source = await modelSourceFromPath(path.join(REPO, 'models/imagenet-darknet-tiny'));
  await w.client.load({ files: (source as { files: ModelFile[] }).files });
}, 120_000);
afterAll(async () => {
  await w?.close();
  fs.rmSync(tmp, { recursive: true, force: true });
});

test.each(CASES)('%s: the CLI and the Node worker agree on the top 5 (probabilities within %s) and the region', async (file, tolerance) => {
  const json = path.join(tmp, `${path.basename(file)}.json`);
  const r = await whycam(['explain', path.join(REPO, file), '--method', 'gradcam', '--out', tmp, '--json', json]);
  if (r.code !== 0) throw new Error(`whycam exited ${r.code}: ${r.stderr}`);
  const cli = JSON.parse(fs.readFileSync(json, 'utf8')) as { predictions: Prediction[]; fit: string; region: unknown };

  const summary = await w.client.explain(new Blob([fs.readFileSync(path.join(REPO, file))]), { methods: ['gradcam'] });
  expect(summary.predictions.map((p) => p.label)).toEqual(cli.predictions.map((p) => p.label));
  expect(cli.predictions).toHaveLength(5);
  for (let i = 0; i < 5; i++) {
    expect(Math.abs(summary.predictions[i].probability - cli.predictions[i].probability)).toBeLessThanOrEqual(tolerance);
  }
  expect([summary.fit, summary.region]).toEqual([cli.fit, cli.region]);
  expect(cli.fit).toBe('cover');
}, 120_000);
