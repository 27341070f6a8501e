/**
 * One runtime's benchmark (Node, or a browser page): stock wasm gradients first (before
 * our kernels are registered), then our pipeline on wasm, then the naive cpu route, then a
 * soak of consecutive explanations for memory. Runtime-agnostic: the caller supplies how
 * to get each model.
 */
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { Explainer } from '../../src/explainer';
import { registerWasmGradientKernels } from '../../src/gradients/wasm-kernels';
import { benchImage, measureBeyond, measureOurs, round, timeNaive, wasmHeapMb, type ModelResult } from './measure';

export interface BenchModel {
  name: string;
  /** Builds or loads the model (called once per phase; must give the same weights every time). */
  load(): Promise<{ model: tfl.LayersModel; explainer: Explainer }>;
}

export interface SuiteOptions {
  runs: number;
  cpuRuns: number;
  /** Models whose naive cpu route is measured (it takes tens of seconds a run). */
  cpuModels: string[];
  soak: number;
  /** Runs of each method beyond the five, alone (0: not measured). */
  beyondRuns?: number;
  log?: (line: string) => void;
}

export interface SoakResult {
  model: string;
  explanations: number;
  tensors: number[];
  wasm_heap_mb: Array<number | null>;
}

export interface SuiteResult {
  backend_info: { threads: number | null; simd: boolean | null };
  models: Record<string, ModelResult>;
  soak: SoakResult | null;
}

function errorText(e: unknown): string {
  return ((e as Error)?.message ?? String(e)).split('\n')[0].slice(0, 200);
}

export async function runSuite(models: BenchModel[], opts: SuiteOptions): Promise<SuiteResult> {
  const log = opts.log ?? (() => undefined);
  const partial: Record<string, Partial<ModelResult>> = {};
  for (const m of models) partial[m.name] = { runs: opts.runs };

  // 1. Stock tfjs-backend-wasm, as shipped: our kernels are not registered yet.
  await tf.setBackend('wasm');
  for (const m of models) {
    const { model, explainer } = await m.load();
    try {
      const image = benchImage(explainer.input.height, explainer.input.width);
      partial[m.name].wasm_stock_full_ms = timeNaive(model, image, explainer, Math.max(3, Math.min(opts.runs, 5)));
      log(`${m.name}: stock wasm tf.grad ${partial[m.name].wasm_stock_full_ms?.toFixed(1)} ms`);
    } catch (e) {
      partial[m.name].wasm_stock_full_ms = null;
      partial[m.name].wasm_stock_note = errorText(e);
      log(`${m.name}: stock wasm tf.grad fails: ${errorText(e)}`);
    } finally {
      explainer.dispose();
    }
  }

  // 2. Ours.
  registerWasmGradientKernels();
  const wasmBackend = tf.backend() as unknown as { wasm?: { tfjs?: { getThreadsCount?: () => number } } };
  let threads: number | null = null;
  try {
    threads = wasmBackend.wasm?.tfjs?.getThreadsCount?.() ?? null;
  } catch {
    threads = null;
  }
  const simd = (await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT')) as boolean;
  for (const m of models) {
    const { model, explainer } = await m.load();
    try {
      const image = benchImage(explainer.input.height, explainer.input.width);
      Object.assign(partial[m.name], await measureOurs(model, explainer, image, opts.runs));
      partial[m.name].wasm_heap_mb = wasmHeapMb();
      const r = partial[m.name];
      log(`${m.name}: forward ${r.forward_ms?.toFixed(1)} ms, first map ${r.first_map_ms?.toFixed(1)} ms, full ${r.full_ms?.toFixed(1)} ms`);
      if (opts.beyondRuns) {
        r.beyond = await measureBeyond(explainer, image, opts.beyondRuns, r.forward_ms as number);
        log(`${m.name}: ${Object.entries(r.beyond).map(([k, b]) => `${k} ${b.ms.toFixed(0)} ms`).join(', ')}`);
      }
    } finally {
      explainer.dispose();
    }
  }

  // 3. Soak: memory after many consecutive explanations of one model.
  let soak: SoakResult | null = null;
  if (opts.soak > 0 && models.length) {
    const m = models.find((x) => x.name.startsWith('mobilenet_v2')) ?? models[0];
    const { explainer } = await m.load();
    const image = benchImage(explainer.input.height, explainer.input.width);
    soak = { model: m.name, explanations: opts.soak, tensors: [], wasm_heap_mb: [] };
    const marks = new Set([1, Math.round(opts.soak / 10), Math.round(opts.soak / 2), opts.soak]);
    for (let i = 1; i <= opts.soak; i++) {
      await explainer.explainAll(image, { class: i % explainer.numClasses });
      if (marks.has(i)) {
        soak.tensors.push(tf.memory().numTensors);
        soak.wasm_heap_mb.push(wasmHeapMb());
      }
    }
    explainer.dispose();
    log(`soak ${m.name} x${opts.soak}: tensors ${soak.tensors.join(' ')}, heap MB ${soak.wasm_heap_mb.map((v) => v?.toFixed(0)).join(' ')}`);
  }

  // 4. The naive route on tfjs-backend-cpu.
  await tf.setBackend('cpu');
  for (const m of models) {
    if (!opts.cpuModels.includes(m.name) || opts.cpuRuns === 0) {
      partial[m.name].cpu_naive_full_ms = null;
      partial[m.name].cpu_naive_note = 'not measured in this run (see --cpu-models)';
      continue;
    }
    const { model, explainer } = await m.load();
    try {
      const image = benchImage(explainer.input.height, explainer.input.width);
      // No warm-up: a run takes tens of seconds, kernel start-up is noise next to it.
      partial[m.name].cpu_naive_full_ms = timeNaive(model, image, explainer, opts.cpuRuns, false);
      log(`${m.name}: naive cpu tf.grad ${partial[m.name].cpu_naive_full_ms?.toFixed(0)} ms`);
    } catch (e) {
      partial[m.name].cpu_naive_full_ms = null;
      partial[m.name].cpu_naive_note = errorText(e);
    } finally {
      explainer.dispose();
    }
  }
  await tf.setBackend('wasm');

  const out: Record<string, ModelResult> = {};
  for (const [k, v] of Object.entries(partial)) out[k] = round(v as ModelResult);
  return { backend_info: { threads, simd }, models: out, soak };
}
