/** The Node runtime of the benchmark: the engine alone, in-process, on tfjs-backend-wasm (SIMD, one thread). */
import * as fs from 'fs';
import * as path from 'path';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import { Explainer } from '../../src/explainer';
import { modelSourceFromPath } from '../../src/node/model-path';
import { loadModel } from '../../src/model/load';
import { buildZooModel, ZOO } from './zoo';
import { SHIPPED, SHIPPED_DIRS } from './shipped';
import { runSuite, type BenchModel, type SuiteOptions, type SuiteResult } from './suite';

export const TM_DIR = path.resolve(__dirname, '../../../shared/fixtures/teachable-machine/image-model');
const REPO = path.resolve(__dirname, '../..');

export function nodeModels(only?: string[]): BenchModel[] {
  const list: BenchModel[] = ZOO.map((name) => ({
    name,
    load: async () => {
      const model = buildZooModel(name);
      return { model, explainer: new Explainer(model, { range: '-1..1' }) };
    },
  }));
  const fromDir = (name: string, dir: string): BenchModel => ({
    name,
    load: async () => {
      const loaded = await loadModel(await modelSourceFromPath(dir));
      return { model: loaded.model, explainer: new Explainer(loaded) };
    },
  });
  list.push(fromDir('teachable_machine', TM_DIR));
  for (const m of SHIPPED) {
    const dir = path.join(REPO, SHIPPED_DIRS[m]);
    if (fs.existsSync(path.join(dir, 'model.json'))) list.push(fromDir(m, dir));
  }
  return only ? list.filter((m) => only.includes(m.name)) : list;
}

export async function runNode(opts: SuiteOptions, only?: string[]): Promise<SuiteResult> {
  return runSuite(nodeModels(only), opts);
}
