/**
 * Test page for tests/worker/browser.test.ts: starts real whycam workers through the typed
 * client and reports what arrived. Driven from playwright through `globalThis.whycamTest`.
 * Nothing here computes: the page only holds the client (the bundle has no tfjs in it).
 */
import { createClient, type BackendInfo, type ClientExplainOptions, type Stage, type WhycamClient } from '../../../worker/client';

interface StageRecord {
  stage: Stage['stage'];
  /** performance.now() on the page when the stage arrived. */
  at: number;
  /** The worker's time for this stage. */
  ms: number;
  maps: Array<{ method: string; width: number; height: number; channels: number; length: number; type: string }>;
  predictions?: Array<{ label: string; probability: number }>;
}

const clients = new Map<string, { worker: Worker; client: WhycamClient }>();

function get(name: string): WhycamClient {
  const c = clients.get(name);
  if (!c) throw new Error(`no client '${name}'`);
  return c.client;
}

function record(stage: Stage): StageRecord {
  const r: StageRecord = { stage: stage.stage, at: performance.now(), ms: stage.ms, maps: [] };
  if (stage.stage === 'prediction') r.predictions = stage.predictions.map((p) => ({ label: p.label, probability: p.probability }));
  else {
    for (const m of Object.values(stage.maps)) {
      if (m) r.maps.push({ method: m.method, width: m.width, height: m.height, channels: m.channels, length: m.data.length, type: Object.prototype.toString.call(m.data) });
    }
  }
  return r;
}

const errorOf = (e: unknown) => ({ code: (e as { code?: string }).code ?? null, message: (e as Error).message, name: (e as Error).name });

const whycamTest = {
  pageIsolated: () => self.crossOriginIsolated === true,

  /** Starts a worker (the URL fragment can cap the binary) and waits for its backend. */
  async start(name: string, fragment = ''): Promise<{ info: BackendInfo | null; error: ReturnType<typeof errorOf> | null }> {
    const worker = new Worker(`../worker/whycam-worker.js${fragment}`);
    const client = createClient(worker);
    clients.set(name, { worker, client });
    try {
      return { info: await client.backendInfo(), error: null };
    } catch (e) {
      return { info: null, error: errorOf(e) };
    }
  },

  async load(name: string, url: string): Promise<{ labels: string[]; progress: number[] }> {
    const progress: number[] = [];
    const info = await get(name).load({ url }, { onProgress: (f) => progress.push(f) });
    return { labels: info.labels, progress };
  },

  /** Explains an image file fetched from `url`, sent as a Blob, an ImageBitmap or ImageData. */
  async explain(name: string, url: string, as: 'blob' | 'bitmap' | 'imagedata', options: ClientExplainOptions = {}) {
    const blob = await (await fetch(url)).blob();
    let image: Blob | ImageBitmap | ImageData = blob;
    if (as === 'bitmap') image = await createImageBitmap(blob);
    if (as === 'imagedata') {
      const bitmap = await createImageBitmap(blob);
      const ctx = new OffscreenCanvas(bitmap.width, bitmap.height).getContext('2d') as OffscreenCanvasRenderingContext2D;
      ctx.drawImage(bitmap, 0, 0);
      image = ctx.getImageData(0, 0, bitmap.width, bitmap.height);
    }
    const stages: StageRecord[] = [];
    const sent = performance.now();
    try {
      const summary = await get(name).explain(image, options, (s) => stages.push(record(s)));
      const bitmapAfter = as === 'bitmap' ? (image as ImageBitmap).width : null;
      return { sent, stages, summary, error: null, bitmapWidthAfter: bitmapAfter };
    } catch (e) {
      return { sent, stages, summary: null, error: errorOf(e), bitmapWidthAfter: null };
    }
  },

  async explainBytes(name: string, bytes: number[], type: string) {
    try {
      await get(name).explain(new Blob([new Uint8Array(bytes)], { type }));
      return null;
    } catch (e) {
      return errorOf(e);
    }
  },

  stats: (name: string) => get(name).stats(),

  async stop(name: string): Promise<void> {
    const c = clients.get(name);
    if (!c) return;
    await c.client.dispose();
    c.worker.terminate();
    clients.delete(name);
  },
};

(globalThis as unknown as { whycamTest: typeof whycamTest }).whycamTest = whycamTest;
export type WhycamTest = typeof whycamTest;
