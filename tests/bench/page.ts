/**
 * The browser runtime of the benchmark: the same suite as Node, run in a page on
 * tfjs-backend-wasm (the threaded SIMD binary when the page is cross-origin isolated).
 * Driven by tests/bench/run.ts through playwright: it calls window.whycamBench(config).
 */
import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import { setThreadsCount, setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { useBackend } from '../../src/backend';
import { Explainer } from '../../src/explainer';
import { loadModel } from '../../src/model/load';
import { buildZooModel, ZOO, type ZooName } from './zoo';
import { runSuite, type BenchModel, type SuiteOptions, type SuiteResult } from './suite';
import { benchImage, median } from './measure';
import type { KernelProfile } from './profile-types';

interface PageConfig extends SuiteOptions {
  model: string;
  /** URL of model.json for models that are files (Teachable Machine, default). */
  url?: string;
  /** Threads for every model on the isolated page, whatever its advice (to measure the advice). */
  ignoreThreadAdvice?: boolean;
}

declare const self: {
  whycamBench?: (c: PageConfig) => Promise<SuiteResult & { isolated: boolean }>;
  whycamProfile?: (c: { model: string; url?: string; runs: number }) => Promise<KernelProfile>;
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

function benchModel(config: { model: string; url?: string }): BenchModel {
  return ZOO.includes(config.model as ZooName)
    ? { name: config.model, load: async () => {
      const m = buildZooModel(config.model as ZooName);
      return { model: m, explainer: new Explainer(m, { range: '-1..1' }) };
    } }
    : { name: config.model, load: async () => {
      const loaded = await loadModel({ url: new URL(config.url as string, self.location.href).toString() });
      return { model: loaded.model, explainer: new Explainer(loaded) };
    } };
}

/**
 * On the isolated page, as the app does: a model whose ops are too small for threads (its
 * `threads` advice) runs on the one-thread SIMD binary. Decided before the wasm backend starts
 * (tfjs fixes the binary and the pool then), from the model built on the cpu backend.
 */
async function applyThreadAdvice(model: BenchModel): Promise<'all' | 'one' | null> {
  if (!self.crossOriginIsolated) return null;
  await tf.setBackend('cpu');
  const { explainer } = await model.load();
  const advice = explainer.describe().threads.preferred;
  explainer.dispose();
  if (advice === 'one') tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
  return advice;
}

self.whycamBench = async (config: PageConfig) => {
  const model = benchModel(config);
  if (!config.ignoreThreadAdvice) await applyThreadAdvice(model);
  const result = await runSuite([model], { ...config, log: (l) => console.log(l) });
  return { ...result, isolated: Boolean(self.crossOriginIsolated) };
};

/**
 * Per-kernel time, by tf.profile, of: the stock forward pass (model.predict); our forward alone
 * (an explain request stopped after its prediction); a request for the vanilla gradient (forward
 * + one backward pass); and all five methods (forward + the vanilla and the guided pass). Medians
 * over `runs` profiled runs after a warm-up, summed by kernel name.
 */
self.whycamProfile = async (config) => {
  await useBackend('wasm');
  const { model, explainer } = await benchModel(config).load();
  const image = benchImage(explainer.input.height, explainer.input.width);
  const x = tf.randomUniform([1, explainer.input.height, explainer.input.width, explainer.input.channels], -1, 1, 'float32', 7);
  const stockForward = async () => { const y = model.predict(x) as tf.Tensor; await y.data(); y.dispose(); };
  const forward = async () => {
    const it = explainer.explain(image, { methods: ['vanilla'] });
    await it.next(); // the prediction stage: the forward pass and the probabilities
    await it.return(undefined);
  };
  const request = (methods?: Array<'vanilla'>) => async () => { await explainer.explainAll(image, methods ? { methods } : {}); };
  const profileOf = async (f: () => Promise<void>) => {
    for (let i = 0; i < 3; i++) await f();
    const perRun: Array<Map<string, { ms: number; calls: number }>> = [];
    const walls: number[] = [];
    for (let r = 0; r < config.runs; r++) {
      const t0 = performance.now();
      const info = await tf.profile(f);
      walls.push(performance.now() - t0);
      const m = new Map<string, { ms: number; calls: number }>();
      // Op scopes (e.g. fusedConv2d__op) wrap the kernels they run: count kernels only.
      for (const k of info.kernels.filter((q) => !q.name.endsWith('__op'))) {
        const e = m.get(k.name) ?? { ms: 0, calls: 0 };
        e.ms += Number(k.kernelTimeMs) || 0;
        e.calls++;
        m.set(k.name, e);
      }
      perRun.push(m);
    }
    const names = [...new Set(perRun.flatMap((m) => [...m.keys()]))];
    const kernels = names.map((name) => ({
      name,
      calls: perRun[0].get(name)?.calls ?? 0,
      ms: median(perRun.map((m) => m.get(name)?.ms ?? 0)),
    })).sort((a, b) => b.ms - a.ms);
    return { wall_ms: median(walls), kernel_ms: kernels.reduce((a, k) => a + k.ms, 0), kernels };
  };
  const result: KernelProfile = {
    model: config.model,
    isolated: Boolean(self.crossOriginIsolated),
    threads: self.crossOriginIsolated ? self.navigator.hardwareConcurrency / 2 : 1,
    stock_forward: await profileOf(stockForward),
    forward: await profileOf(forward),
    vanilla_request: await profileOf(request(['vanilla'])),
    all_five: await profileOf(request()),
  };
  x.dispose();
  explainer.dispose(); // disposes the model too
  return result;
};
