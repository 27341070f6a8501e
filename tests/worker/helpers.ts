/** Node-side harness: the real worker entry in worker_threads, models as the files a page would send. */
import * as fs from 'fs';
import * as path from 'path';
import { Worker } from 'worker_threads';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import type * as tfl from '@tensorflow/tfjs-layers';
import { createClient, type WhycamClient } from '../../worker/client';
import type { ModelFile } from '../../src/model/load';
import { TM_MODEL } from '../helpers/fixtures';

const ENTRY = path.resolve(__dirname, '../../worker/entry.node.ts');

export interface NodeWorker {
  worker: Worker;
  client: WhycamClient;
  /** Another client on the same worker. */
  newClient(): WhycamClient;
  close(): Promise<void>;
}

/** Starts worker/entry.node.ts in a worker thread (TypeScript through tsx's require hook). */
export function startNodeWorker(backend: string = 'wasm'): NodeWorker {
  const worker = new Worker(ENTRY, { execArgv: ['--require', require.resolve('tsx/cjs')], workerData: { backend } });
  worker.unref();
  const clients: WhycamClient[] = [];
  const newClient = () => {
    const c = createClient(worker);
    clients.push(c);
    return c;
  };
  const client = newClient();
  return {
    worker,
    client,
    newClient,
    async close() {
      await Promise.all(clients.map((c) => c.dispose().catch(() => {})));
      await worker.terminate();
    },
  };
}

export const readFile = (dir: string, name: string) => new Uint8Array(fs.readFileSync(path.join(dir, name)));

/** The Teachable Machine export as the model files a page would pick. */
export function tmFiles(): ModelFile[] {
  return ['model.json', 'weights.bin', 'metadata.json'].map((name) => ({ name, data: readFile(TM_MODEL, name) }));
}

/** A tfjs-layers model (built here on tfjs-backend-cpu) serialised to model.json + weights.bin, as tfjs would save it. */
export async function modelFiles(build: () => tfl.LayersModel, labels?: string[]): Promise<ModelFile[]> {
  await tf.setBackend('cpu');
  const model = build();
  let files: ModelFile[] = [];
  await model.save(tf.io.withSaveHandler(async (a) => {
    const chunks = Array.isArray(a.weightData) ? a.weightData : [a.weightData as ArrayBuffer];
    const bytes = new Uint8Array(chunks.reduce((n, c) => n + c.byteLength, 0));
    let at = 0;
    for (const c of chunks) { bytes.set(new Uint8Array(c), at); at += c.byteLength; }
    const json = { format: 'layers-model', modelTopology: a.modelTopology, weightsManifest: [{ paths: ['weights.bin'], weights: a.weightSpecs }] };
    files = [{ name: 'model.json', data: new TextEncoder().encode(JSON.stringify(json)) }, { name: 'weights.bin', data: bytes }];
    if (labels) files.push({ name: 'metadata.json', data: new TextEncoder().encode(JSON.stringify({ labels })) });
    return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
  }));
  model.dispose();
  return files;
}

/** Seeded RGBA pixels. */
export function randomPixels(width: number, height: number, seed = 1): { data: Uint8Array; width: number; height: number } {
  const data = new Uint8Array(width * height * 4);
  let s = seed >>> 0;
  for (let i = 0; i < data.length; i++) {
    s = (s * 1664525 + 1013904223) >>> 0;
    data[i] = s >>> 24;
  }
  return { data, width, height };
}

export async function settle<T>(p: Promise<T>): Promise<{ ok: true; value: T } | { ok: false; error: { code?: string; message: string } & Error }> {
  try {
    return { ok: true, value: await p };
  } catch (e) {
    return { ok: false, error: e as { code?: string; message: string } & Error };
  }
}
