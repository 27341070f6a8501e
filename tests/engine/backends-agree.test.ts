/**
 * wasm and cpu give the same maps. Tolerance: max |wasm - cpu| <= 1e-3 * max |cpu| per map
 * (XNNPACK and the cpu kernels sum in different orders; float32).
 */
import { Explainer, type Explanation } from '../../src';
import { modelSourceFromPath } from '../../src/node/model-path';
import { relMaxDiff, switchTo } from '../helpers/backends';
import { buildFamily, FAMILIES, randomInput } from '../helpers/families';
import { readImage, tmPhotos, TM_MODEL } from '../helpers/fixtures';

const TOL = 1e-3;

async function onBoth(run: () => Promise<Explanation>): Promise<[Explanation, Explanation]> {
  await switchTo('cpu');
  const cpu = await run();
  await switchTo('wasm');
  const wasm = await run();
  return [cpu, wasm];
}

function expectSame(cpu: Explanation, wasm: Explanation): void {
  expect(wasm.classIndex).toBe(cpu.classIndex);
  expect(Object.keys(wasm.maps).sort()).toEqual(Object.keys(cpu.maps).sort());
  wasm.predictions.forEach((p, i) => expect(p.probability).toBeCloseTo(cpu.predictions[i].probability, 4));
  for (const [name, map] of Object.entries(cpu.maps)) {
    const other = wasm.maps[name as keyof Explanation['maps']]!;
    expect(relMaxDiff(other.data, map!.data)).toBeLessThan(TOL);
  }
}

describe('wasm agrees with cpu', () => {
  test.each(FAMILIES)('%s', async (family) => {
    const [cpu, wasm] = await onBoth(async () => {
      const ex = new Explainer(buildFamily(family), { range: '-1..1' });
      const x = randomInput(32, 3, 9);
      try {
        return await ex.explainAll(x, { class: 3 });
      } finally {
        x.dispose(); ex.dispose();
      }
    });
    expectSame(cpu, wasm);
  });

  test('the Teachable Machine export on a photo', async () => {
    const img = await readImage(tmPhotos()[3][0]);
    const [cpu, wasm] = await onBoth(async () => {
      const ex = await Explainer.load(await modelSourceFromPath(TM_MODEL));
      try {
        return await ex.explainAll(img);
      } finally {
        ex.dispose();
      }
    });
    expectSame(cpu, wasm);
  });
});
