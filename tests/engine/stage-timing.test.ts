/**
 * A stage's `ms` is what the engine spent computing it. A consumer that holds a stage (the
 * worker waits for the page to take each one) must not make the next stage look slower:
 * elapsedMs counts that wait, ms does not.
 */
import { Explainer } from '../../src';
import { modelSourceFromPath } from '../../src/node/model-path';
import { switchTo } from '../helpers/backends';
import { readImage, tmPhotos, TM_MODEL } from '../helpers/fixtures';

const HOLD_MS = 300;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('ms excludes the time the consumer held the previous stage; elapsedMs includes it', async () => {
  await switchTo('wasm');
  const ex = await Explainer.load(await modelSourceFromPath(TM_MODEL));
  const img = await readImage(tmPhotos()[0][0]);
  await ex.explainAll(img); // warm-up: weight caches built
  const seen: Array<{ stage: string; elapsedMs: number; ms: number }> = [];
  for await (const s of ex.explain(img)) {
    seen.push({ stage: s.stage, elapsedMs: s.elapsedMs, ms: s.ms });
    await sleep(HOLD_MS);
  }
  ex.dispose();
  expect(seen.map((s) => s.stage)).toEqual(['prediction', 'class-maps', 'gradient-maps', 'guided-gradcam']);
  expect(seen[0].ms).toBeCloseTo(seen[0].elapsedMs, 6);
  for (let i = 1; i < seen.length; i++) {
    const gap = seen[i].elapsedMs - seen[i - 1].elapsedMs;
    expect(seen[i].ms).toBeGreaterThan(0);
    expect(gap).toBeGreaterThanOrEqual(HOLD_MS - 5); // timers may fire a hair early
    expect(seen[i].ms).toBeLessThanOrEqual(gap - (HOLD_MS - 5));
  }
});
