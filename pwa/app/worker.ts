/// <reference lib="dom" />
/**
 * The compute worker: starting it, saying on the page what it computes with, and giving each
 * model the thread count it runs fastest with. tfjs-backend-wasm fixes its thread pool when it
 * starts, so on a cross-origin-isolated page a model whose ops are too small for threads to pay
 * (the model's `threads` advice, src/model/compute-cost.ts) gets a one-thread worker, and a large
 * one the threaded worker back: the old worker ends, the model is loaded again in the new one.
 */
import { startWhycamWorker, type ModelInfo } from '../../worker/client';
import { $ } from '../dom';
import { ROOT, state } from './state';

/** Starts a worker from `url` (app-config's worker, with #binary=... to choose) and makes it the app's. */
export async function startWorker(url: string): Promise<void> {
  const previous = state.worker, previousClient = state.client;
  // The app's worker changes only once the new one has started (a failed start leaves the old one serving).
  let worker: Worker | null = null;
  const { client, backend: b } = await startWhycamWorker(url, { create: (u) => (worker = new Worker(u)) });
  $('backend').textContent = `Computing on this device: ${b.backend}${b.binary ? ` (${b.binary})` : ''}, ${b.threads} thread${b.threads > 1 ? 's' : ''}${b.crossOriginIsolated ? ', cross-origin isolated' : ''}. Nothing is uploaded.`;
  ROOT.dataset.backend = `${b.binary ?? b.backend}:${b.threads}`;
  state.worker = worker;
  state.client = client;
  state.backend = b;
  state.workerUrl = url;
  if (previous) {
    // Whatever the old worker was doing rejects with CANCELLED now rather than waiting forever.
    await previousClient?.cancel().catch(() => undefined);
    previous.terminate();
  }
}

/**
 * The worker URL `model` runs fastest on, or null when the running worker is already right: one
 * thread for a model that prefers it while the threaded binary runs; the threaded binary again
 * for a model that prefers threads while a one-thread worker stands in for it.
 */
export function workerFor(model: ModelInfo): string | null {
  const b = state.backend, base = state.config?.worker;
  if (!b || !base || !b.crossOriginIsolated || b.backend !== 'wasm') return null;
  const oneThread = `${base}#binary=simd`;
  if (model.threads.preferred === 'one' && b.threads > 1) return oneThread;
  if (model.threads.preferred === 'all' && state.workerUrl === oneThread) return base;
  return null;
}
