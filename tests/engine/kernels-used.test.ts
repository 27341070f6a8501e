/**
 * What runs when a request is explained on wasm, per family and on the Teachable Machine
 * export: no kernel falls back to tfjs-backend-cpu (no tensor data lands there), the
 * class is selected without gather (no GatherV2 / UnsortedSegmentSum), and no filter
 * gradient is ever computed; conv -> batch norm -> ReLU chains run fused.
 */
import * as tf from '@tensorflow/tfjs-core';
import { Explainer } from '../../src';
import { modelSourceFromPath } from '../../src/node/model-path';
import { switchTo } from '../helpers/backends';
import { buildFamily, FAMILIES, randomInput } from '../helpers/families';
import { readImage, tmPhotos, TM_MODEL } from '../helpers/fixtures';

const FORBIDDEN = ['GatherV2', 'UnsortedSegmentSum', 'Conv2DBackpropFilter', 'DepthwiseConv2dNativeBackpropFilter'];

async function kernelsOf(run: () => Promise<unknown>): Promise<Set<string>> {
  const cpu = tf.findBackend('cpu') as unknown as { numDataIds(): number };
  const cpuBefore = cpu.numDataIds();
  const info = await tf.profile(run as () => Promise<tf.Tensor>);
  expect(cpu.numDataIds()).toBe(cpuBefore);
  return new Set(info.kernels.map((k) => k.name));
}

describe('kernels used on wasm', () => {
  beforeAll(async () => {
    await switchTo('cpu'); // make sure the cpu backend exists, so a fallback would be seen
    await switchTo('wasm');
  });

  test.each(FAMILIES)('%s', async (family) => {
    const ex = new Explainer(buildFamily(family), { range: '-1..1' });
    const x = randomInput(32);
    const kernels = await kernelsOf(() => ex.explainAll(x, { class: 1 }));
    expect(kernels.size).toBeGreaterThan(5);
    for (const k of FORBIDDEN) expect(kernels).not.toContain(k);
    expect(tf.getBackend()).toBe('wasm');
    x.dispose(); ex.dispose();
  });

  test('the Teachable Machine export', async () => {
    const ex = await Explainer.load(await modelSourceFromPath(TM_MODEL));
    const img = await readImage(tmPhotos()[0][0]);
    const kernels = await kernelsOf(() => ex.explainAll(img));
    for (const k of FORBIDDEN) expect(kernels).not.toContain(k);
    // Depthwise input gradients run as forward depthwise convolutions (the backend has no backprop kernel).
    expect(kernels).toContain('DepthwiseConv2dNative');
    expect(kernels).not.toContain('DepthwiseConv2dNativeBackpropInput');
    // Every batch norm follows a conv and is folded into it (record/fusion.ts), in both directions.
    expect(kernels).not.toContain('FusedBatchNorm');
    expect(kernels).toContain('FusedConv2D');
    ex.dispose();
  });
});
