/**
 * Quantise on import: the Teachable Machine export picked as files (model.json + weights.bin +
 * metadata.json) with "Store quantised to float16" on is stored at about half the size, the
 * quantiser's fidelity numbers are shown, and the stored model explains a photo.
 */
import * as fs from 'fs';
import * as path from 'path';
import { appOnPhone, DIST, FIXTURES, screenshot, waitForModel, waitForStage } from './helpers';

const phone = appOnPhone();

test('a model imported as files is stored as float16 with its fidelity numbers, and explains', async () => {
  const { page } = phone.app;
  await page.goto(`${phone.server.origin}/`);
  await waitForModel(page);
  await page.locator('details summary').click();
  await page.locator('#quantize').check();
  const dir = path.join(FIXTURES, 'image-model');
  await page.locator('#import-files').setInputFiles(['model.json', 'weights.bin', 'metadata.json'].map((f) => path.join(dir, f)));
  await page.waitForFunction(() => /in use/.test(document.getElementById('import-status')!.textContent ?? '') || !document.getElementById('alert')!.hidden, undefined, { timeout: 240_000 });
  await expect(page.locator('#alert').isVisible()).resolves.toBe(false);
  const message = (await page.locator('#import-status').textContent())!;
  // The original is 2.1 MB of float32; float16 halves the weights. Every sample scene gets the same top class.
  const samples = (JSON.parse(fs.readFileSync(path.join(DIST, 'app-config.json'), 'utf8')) as { samples: unknown[] }).samples.length;
  expect(message).toMatch(new RegExp(`float16: 2\\.1 MB → 1\\.\\d MB\\. Against the original on ${samples} images: same top class on 100\\.0 %, Grad-CAM correlation (0\\.9\\d\\d|1\\.000)`));
  const stored = page.locator('#models li[aria-current=true]');
  await expect(stored.locator('.size').textContent()).resolves.toMatch(/^1\.\d MB · float16 \(top-1 100\.0 %, Grad-CAM r (0\.9\d\d|1\.000)\)$/);
  await screenshot(page, '08-quantised-import');

  await page.locator('#pick').setInputFiles(path.join(FIXTURES, 'images/class-1/3.png'));
  await waitForStage(page, 'guided-gradcam');
  await expect(page.locator('#predictions button .label').first().textContent()).resolves.toBe('Class 1');
});
