/**
 * The PyTorch side of one bench model, in a fresh process: writes the model as model.json
 * where it has none on disk, feeds tests/pytorch/same_work.py the same preprocessed bench
 * image and the same target layer, and prints `RESULT <json>`.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs-core';
import { imageToInput } from '../../src/model/preprocess';
import { runSameWork, saveLayersModel } from '../pytorch/torch-side';
import { benchImage } from './measure';
import { nodeModels, TM_DIR } from './node';
import { SHIPPED_DIRS, type Shipped } from './shipped';
import { ZOO, type ZooName } from './zoo';

const REPO = path.resolve(__dirname, '../..');

(async () => {
  const { model: name, runs } = JSON.parse(process.argv[2]) as { model: string; runs: number };
  await tf.setBackend('cpu');
  const [bench] = nodeModels([name]);
  if (!bench) throw new Error(`no bench model ${name}`);
  const { model, explainer } = await bench.load();
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'whycam-torch-'));
  try {
    const modelJson = ZOO.includes(name as ZooName) ? await saveLayersModel(model, tmp)
      : name === 'teachable_machine' ? path.join(TM_DIR, 'model.json') : path.join(REPO, SHIPPED_DIRS[name as Shipped], 'model.json');
    const x = imageToInput(benchImage(explainer.input.height, explainer.input.width), explainer.input, explainer.range);
    const input = x.dataSync() as Float32Array;
    x.dispose();
    const target = explainer.targetLayer();
    if (!target) throw new Error(`${name} has no target layer`);
    const result = runSameWork({ modelJson, target: target.name, input, runs, threads: 1 });
    process.stdout.write(`RESULT ${JSON.stringify(result)}\n`);
  } finally {
    explainer.dispose();
    fs.rmSync(tmp, { recursive: true, force: true });
  }
})().catch((e) => {
  process.stderr.write(`${(e as Error).stack ?? e}\n`);
  process.exit(1);
});
