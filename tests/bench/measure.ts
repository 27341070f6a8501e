/**
 * The measurements, shared by the Node run and the browser page: for one model, the
 * stock forward pass, our pipeline's first class map and full Guided Grad-CAM, and the
 * baselines (tf.grad on tfjs-backend-cpu; tf.grad on stock tfjs-backend-wasm). Medians
 * after a warm-up. No DOM and no Node APIs here.
 */
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { Explainer } from '../../src/explainer';
import type { ImageInput } from '../../src/image/types';
import { imageToInput } from '../../src/model/preprocess';

export interface ModelResult {
  forward_ms: number;
  first_map_ms: number;
  /** Requests for the coarse map alone (CAM, else Grad-CAM) per second, one after another: what the app's live mode can show. */
  coarse_maps_per_s: number;
  full_ms: number;
  all_methods_ms: number;
  cpu_naive_full_ms: number | null;
  cpu_naive_note?: string;
  wasm_stock_full_ms: number | null;
  wasm_stock_note?: string;
  wasm_heap_mb: number | null;
  runs: number;
  tensors_after: number;
  /** Threads the backend computed with for this model (on the isolated page: as the model's thread advice chose). */
  threads?: number | null;
  /** The methods beyond the five, each computed alone (absent when not measured). */
  beyond?: Record<string, BeyondResult>;
}

/** One method requested alone: image in to its map, its map's own compute, and, for the sampled ones, its passes. */
export interface BeyondResult {
  /** The whole request: preprocessing, the forward pass, the backward pass it needs, the method. */
  ms: number;
  /** ms / forward_ms. */
  x_forward: number;
  /** The method's own part (its map's `ms`), which the passes per second are computed from. */
  own_ms: number;
  /** Inputs the method ran through the model (Score-CAM: one forward pass per channel; IG: one forward and backward pass per node, and the baseline). */
  passes?: number;
  passes_per_s?: number;
}

export const BEYOND_METHODS = ['gradcam++', 'layercam', 'scorecam', 'smoothgrad', 'integrated-gradients'] as const;

export interface MeasureOptions {
  runs: number;
  /** Runs for the slow cpu baseline (0: not measured). */
  cpuRuns: number;
}

export const median = (a: number[]): number => {
  const s = [...a].sort((x, y) => x - y);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

/** A deterministic photo-like test image at the model's input size (no resize in any route). */
export function benchImage(height: number, width: number): ImageInput {
  const data = new Uint8Array(width * height * 4);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 4;
      data[i] = (x * 255) / width;
      data[i + 1] = (y * 255) / height;
      data[i + 2] = 128 + 127 * Math.sin((x + y) / 9);
      data[i + 3] = 255;
    }
  }
  return { data, width, height, channels: 4 };
}

/** Every request in the full Guided Grad-CAM pipeline: the class maps, then the guided map times Grad-CAM. */
export const FULL_METHODS = ['cam', 'gradcam', 'guided-gradcam'] as const;

/** The naive route: tf.grad of the class score w.r.t. the input through the whole model. */
function naiveGradient(model: tfl.LayersModel, x: tf.Tensor4D, classIndex: number): void {
  tf.tidy(() => {
    const g = tf.grad((inp: tf.Tensor) => tf.sum(tf.slice(model.apply(inp) as tf.Tensor2D, [0, classIndex], [1, 1])))(x);
    g.dataSync();
  });
}

export function timeNaive(model: tfl.LayersModel, image: ImageInput, ex: Explainer, runs: number, warmUp = true): number {
  const x = imageToInput(image, ex.input, ex.range);
  try {
    if (warmUp) naiveGradient(model, x, 0); // also surfaces a missing kernel
    const times: number[] = [];
    for (let r = 0; r < runs; r++) {
      const t = performance.now();
      naiveGradient(model, x, 0);
      times.push(performance.now() - t);
    }
    return median(times);
  } finally {
    x.dispose();
  }
}

export async function measureOurs(model: tfl.LayersModel, ex: Explainer, image: ImageInput, runs: number):
  Promise<Pick<ModelResult, 'forward_ms' | 'first_map_ms' | 'coarse_maps_per_s' | 'full_ms' | 'all_methods_ms' | 'tensors_after'>> {
  const forward = (): void => tf.tidy(() => {
    const x = imageToInput(image, ex.input, ex.range);
    (model.predict(x) as tf.Tensor).dataSync();
  });
  const pipeline = async (): Promise<[number, number]> => {
    const t = performance.now();
    let first = NaN;
    for await (const s of ex.explain(image, { methods: [...FULL_METHODS] })) {
      if (s.stage === 'class-maps') first = performance.now() - t;
    }
    return [first, performance.now() - t];
  };
  // The live camera's request: the coarse map alone, prediction included.
  const coarseMethod = ex.describe().cam.applies ? 'cam' : 'gradcam';
  const coarseOnly = async (): Promise<number> => {
    const t = performance.now();
    for await (const _ of ex.explain(image, { methods: [coarseMethod] })) { /* every stage */ }
    return performance.now() - t;
  };
  forward();
  await pipeline();
  await coarseOnly();
  await ex.explainAll(image);
  const fwd: number[] = [], first: number[] = [], coarse: number[] = [], full: number[] = [], all: number[] = [];
  for (let r = 0; r < runs; r++) {
    // Interleaved, so drift on a shared machine hits every column alike.
    let t = performance.now();
    forward();
    fwd.push(performance.now() - t);
    const [f, g] = await pipeline();
    first.push(f);
    full.push(g);
    coarse.push(await coarseOnly());
    t = performance.now();
    await ex.explainAll(image);
    all.push(performance.now() - t);
  }
  return { forward_ms: median(fwd), first_map_ms: median(first), coarse_maps_per_s: 1000 / median(coarse), full_ms: median(full), all_methods_ms: median(all), tensors_after: tf.memory().numTensors };
}

/**
 * Each method beyond the five, alone, with its default options: the median of its map's own time
 * over `runs` (the sampled ones take seconds to minutes, so few runs suffice).
 */
export async function measureBeyond(ex: Explainer, image: ImageInput, runs: number, forwardMs: number): Promise<Record<string, BeyondResult>> {
  const out: Record<string, BeyondResult> = {};
  const target = ex.targetLayer();
  for (const m of BEYOND_METHODS) {
    const once = async () => {
      const t = performance.now();
      const r = await ex.explainAll(image, { methods: [m] });
      const map = r.maps[m];
      if (!map) throw new Error(`${m} gave no map: ${r.skipped[m] ?? '?'}`);
      return { map, ms: performance.now() - t };
    };
    // The sampled methods run tens to thousands of passes: their first batch is warm-up enough.
    if (m === 'gradcam++' || m === 'layercam') await once();
    const times: number[] = [], own: number[] = [];
    let steps = 50;
    for (let i = 0; i < runs; i++) {
      const { map, ms } = await once();
      times.push(ms);
      own.push(map.ms);
      steps = map.stats?.steps ?? steps;
    }
    const ms = median(times), ownMs = median(own);
    const passes = m === 'scorecam' ? target?.channels : m === 'integrated-gradients' ? steps + 1 : m === 'smoothgrad' ? 25 : undefined;
    out[m] = { ms, x_forward: ms / forwardMs, own_ms: ownMs, ...(passes ? { passes, passes_per_s: passes / (ownMs / 1000) } : {}) };
  }
  return out;
}

/** Bytes of the wasm heap (it only grows, so this is the peak so far), in MB. */
export function wasmHeapMb(): number | null {
  const b = tf.findBackend('wasm') as unknown as { wasm?: { HEAPU8: Uint8Array } } | null;
  return b?.wasm ? b.wasm.HEAPU8.buffer.byteLength / (1 << 20) : null;
}

export function round(r: ModelResult): ModelResult {
  const out = { ...r } as Record<string, unknown>;
  const r1 = (v: number) => Math.round(v * 10) / 10;
  for (const [k, v] of Object.entries(out)) if (typeof v === 'number') out[k] = r1(v);
  if (r.beyond) {
    out.beyond = Object.fromEntries(Object.entries(r.beyond).map(([m, b]) => [m, {
      ms: r1(b.ms), x_forward: Math.round(b.x_forward * 100) / 100, own_ms: r1(b.own_ms),
      ...(b.passes ? { passes: b.passes, passes_per_s: r1(b.passes_per_s ?? 0) } : {}),
    }]));
  }
  return out as unknown as ModelResult;
}
