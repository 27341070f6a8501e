/**
 * The browser runtime of the benchmark: the same suite as Node, run in a page on
 * tfjs-backend-wasm (the threaded SIMD binary when the page is cross-origin isolated).
 * Driven by tests/bench/run.ts through playwright: it calls window.whycamBench(config).
 */
import '@tensorflow/tfjs-backend-cpu';
import { setThreadsCount, setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { Explainer } from '../../src/explainer';
import { loadModel } from '../../src/model/load';
import { buildZooModel, ZOO, type ZooName } from './zoo';
import { runSuite, type BenchModel, type SuiteOptions, type SuiteResult } from './suite';

interface PageConfig extends SuiteOptions {
  model: string;
  /** URL of model.json for models that are files (Teachable Machine, default). */
  url?: string;
}

declare const self: {
  whycamBench?: (c: PageConfig) => Promise<SuiteResult & { isolated: boolean }>;
  crossOriginIsolated?: boolean;
  location: { href: string };
  navigator: { hardwareConcurrency: number };
};

setWasmPaths(new URL('wasm/', self.location.href).toString());
// tfjs-backend-wasm caps its pthread pool at hardwareConcurrency / 2, read once at start-up
// (one thread on a 2-core phone or VM): report twice the cores so setThreadsCount can use all
// of them, as the worker does (worker/entry.browser.ts).
if (self.crossOriginIsolated) {
  const cores = self.navigator.hardwareConcurrency;
  Object.defineProperty(self.navigator, 'hardwareConcurrency', { configurable: true, get: () => 2 * cores });
  setThreadsCount(cores);
}

self.whycamBench = async (config: PageConfig) => {
  const model: BenchModel = ZOO.includes(config.model as ZooName)
    ? { name: config.model, load: async () => {
      const m = buildZooModel(config.model as ZooName);
      return { model: m, explainer: new Explainer(m, { range: '-1..1' }) };
    } }
    : { name: config.model, load: async () => {
      const loaded = await loadModel({ url: new URL(config.url as string, self.location.href).toString() });
      return { model: loaded.model, explainer: new Explainer(loaded) };
    } };
  const result = await runSuite([model], { ...config, log: (l) => console.log(l) });
  return { ...result, isolated: Boolean(self.crossOriginIsolated) };
};
