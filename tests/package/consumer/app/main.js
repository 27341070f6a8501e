// A page of a consumer's app (built by webpack 5 or Vite): the worker from whycam/worker explains
// a photo with a model the app serves itself. The result lands in window.whycamResult.
import { createWhycamWorker } from 'whycam/worker';
import { normalizeMap } from 'whycam/render';

async function main() {
  const stages = [];
  const { client, backend, terminate } = await createWhycamWorker();
  await client.load({ url: 'model/model.json' });
  const image = await (await fetch('photo.png')).blob();
  await client.explain(image, {}, (s) => {
    if (s.stage === 'prediction') stages.push({ stage: s.stage, top: s.predictions[0].label });
    else stages.push({ stage: s.stage, methods: Object.keys(s.maps), normalizedMax: Math.max(...Object.values(s.maps).map((m) => normalizeMap(m, { mode: 'abs' }).reduce((a, b) => Math.max(a, b), 0))) });
  });
  terminate();
  return { stages, binary: backend.binary, wasmUrl: backend.wasmUrl };
}

globalThis.whycamResult = main().catch((e) => ({ error: `${e.code}: ${e.message}` }));
