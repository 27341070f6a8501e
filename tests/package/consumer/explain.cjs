// Node, CommonJS: the same with require().
const fs = require('node:fs');
const path = require('node:path');
const { Explainer, useBackend } = require('whycam');
const { modelSourceFromPath, decodeImage } = require('whycam/node');
const { normalizeMap } = require('whycam/render');

const [photo, model] = process.argv.slice(2);
(async () => {
  const dir = path.dirname(require.resolve(`whycam/models/${model}/model.json`));
  await useBackend('wasm');
  const explainer = await Explainer.load(await modelSourceFromPath(dir));
  const result = await explainer.explainAll(await decodeImage(fs.readFileSync(photo)));
  const stages = result.stages.map((s) => s.stage);
  const maps = Object.values(result.maps).map((m) => ({ method: m.method, width: m.width, height: m.height, max: normalizeMap(m, { mode: 'abs' }).reduce((a, b) => Math.max(a, b), 0) }));
  explainer.dispose();
  console.log(JSON.stringify({ stages, top: result.predictions[0].label, maps }));
})().catch((e) => {
  console.error(e);
  process.exitCode = 1;
});
