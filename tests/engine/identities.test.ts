/**
 * Identities between methods, on every family and both backends:
 * - on conv -> GAP -> Dense heads (and Darknet's class conv -> GAP), Grad-CAM = CAM / (H*W)
 *   before the ReLU, so the two correlate perfectly with a positive scale;
 * - Guided Grad-CAM = guided backprop x ReLU(Grad-CAM) upsampled bilinearly, with the
 *   upsampling done independently here by tf.image.resizeBilinear (half-pixel centres) on cpu;
 * - CAM is skipped, with a reason, where the head has more than one Dense layer.
 */
import * as tf from '@tensorflow/tfjs-core';
import { Explainer } from '../../src';
import { BACKENDS, pearson, relMaxDiff, switchTo } from '../helpers/backends';
import { buildFamily, FAMILIES, NUM_CLASSES, randomInput } from '../helpers/families';

const CAM_FAMILIES = FAMILIES.filter((f) => f !== 'vgg');

describe.each(BACKENDS)('method identities on %s', (backend) => {
  beforeAll(async () => { await switchTo(backend); });

  test.each(CAM_FAMILIES)('%s: CAM and Grad-CAM agree up to a positive scale', async (family) => {
    const ex = new Explainer(buildFamily(family), { range: '-1..1' });
    expect(ex.describe().cam.applies).toBe(true);
    const x = randomInput(32);
    for (let c = 0; c < NUM_CLASSES; c++) {
      const r = await ex.explainAll(x, { class: c, methods: ['cam', 'gradcam'] });
      const cam = r.maps.cam!, gc = r.maps.gradcam!;
      expect([cam.width, cam.height]).toEqual([gc.width, gc.height]);
      expect(pearson(cam.data, gc.data)).toBeGreaterThan(0.999);
      // The scale is exactly 1/(H*W): Grad-CAM's weights are the Dense weights averaged over H*W positions.
      // (CAM leaves out the Dense bias, a constant; for the class conv, the conv's bias is in A itself.)
      const scaled = Array.from(cam.data, (v) => v / (cam.width * cam.height));
      if (family !== 'darknet') expect(relMaxDiff(gc.data, scaled)).toBeLessThan(1e-4);
    }
    x.dispose(); ex.dispose();
  });

  test('vgg (flatten -> two Dense layers): CAM is skipped with the reason', async () => {
    const ex = new Explainer(buildFamily('vgg'), { range: '-1..1' });
    const x = randomInput(32);
    const r = await ex.explainAll(x, { methods: ['cam', 'gradcam'] });
    expect(r.maps.cam).toBeUndefined();
    expect(r.skipped.cam).toMatch(/global average pooling/);
    expect(r.maps.gradcam!.data.length).toBe(8 * 8);
    x.dispose(); ex.dispose();
  });

  test.each(FAMILIES)('%s: Guided Grad-CAM = guided backprop x upsampled ReLU(Grad-CAM)', async (family) => {
    const ex = new Explainer(buildFamily(family), { range: '-1..1' });
    const x = randomInput(32, 3, 5);
    // Some class of a random net has an all-negative Grad-CAM (its Guided Grad-CAM is 0): use the
    // first class with a positive one, so the identity is checked on non-zero maps.
    let r = await ex.explainAll(x, { class: 0, methods: ['gradcam', 'guided', 'guided-gradcam'] });
    for (let c = 1; c < NUM_CLASSES && !r.maps.gradcam!.data.some((v) => v > 0); c++) {
      r = await ex.explainAll(x, { class: c, methods: ['gradcam', 'guided', 'guided-gradcam'] });
    }
    const gc = r.maps.gradcam!, guided = r.maps.guided!, ggc = r.maps['guided-gradcam']!;
    expect([ggc.width, ggc.height, ggc.channels]).toEqual([32, 32, 3]);
    await switchTo('cpu');
    const up = tf.tidy(() => tf.image.resizeBilinear(
      tf.relu(tf.tensor4d(gc.data, [1, gc.height, gc.width, 1])), [32, 32], false, true).dataSync());
    await switchTo(backend);
    const want = guided.data.map((g, i) => g * up[Math.floor(i / 3)]);
    expect(want.some((v) => v !== 0)).toBe(true);
    expect(relMaxDiff(ggc.data, want)).toBeLessThan(1e-5);
    x.dispose(); ex.dispose();
  });
});
