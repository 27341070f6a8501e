// Node, ES modules: explain a photo with the package's default model. Prints the stages as JSON.
import { readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Explainer, useBackend, isWhycamError } from 'whycam';
import { modelSourceFromPath, decodeImage } from 'whycam/node';
import { normalizeMap } from 'whycam/render';

const [photo, model] = process.argv.slice(2);
const dir = dirname(fileURLToPath(import.meta.resolve(`whycam/models/${model}/model.json`)));
await useBackend('wasm');
const explainer = await Explainer.load(await modelSourceFromPath(dir));
const stages = [];
for await (const stage of explainer.explain(await decodeImage(readFileSync(photo)))) {
  if (stage.stage === 'prediction') stages.push({ stage: stage.stage, top: stage.predictions[0].label });
  else stages.push({ stage: stage.stage, maps: Object.values(stage.maps).map((m) => ({ method: m.method, width: m.width, height: m.height, max: normalizeMap(m, { mode: 'abs' }).reduce((a, b) => Math.max(a, b), 0) })) });
}
explainer.dispose();
console.log(JSON.stringify({ stages, isWhycamError: typeof isWhycamError }));
