/**
 * A model without metadata.json imported with a labels file: model.json + weights + labels.txt
 * (one name per line) or a .json array gives the model's outputs those names, in order (without
 * metadata the Teachable Machine model's input range is not known, so which class wins is not
 * asserted here); a labels
 * file whose count does not match the model's outputs is refused with a message saying both
 * counts, and nothing is stored.
 */
import * as fs from 'fs';
import * as path from 'path';
import type { Page } from 'playwright-core';
import { appOnPhone, builtModels, FIXTURES, waitForModel, waitForStage } from './helpers';

const phone = appOnPhone();

const dir = path.join(FIXTURES, 'image-model');
const modelFiles = () => ['model.json', 'weights.bin'].map((f) => ({ name: f, mimeType: 'application/octet-stream', buffer: fs.readFileSync(path.join(dir, f)) }));

async function importWith(page: Page, labels: { name: string; text: string }): Promise<void> {
  await page.evaluate(() => { document.getElementById('import-status')!.textContent = ''; });
  await page.locator('#import-files').setInputFiles([...modelFiles(), { name: labels.name, mimeType: 'text/plain', buffer: Buffer.from(labels.text) }]);
  await page.waitForFunction(() => /in use|not kept/.test(document.getElementById('import-status')!.textContent ?? '') || !document.getElementById('alert')!.hidden, undefined, { timeout: 120_000 });
}

/** Explains a photo and waits for its own top classes (not those of the picture before). */
async function predict(page: Page, file: string): Promise<void> {
  const before = Number(await page.evaluate(() => document.documentElement.dataset.picture ?? 0));
  await page.locator('#pick').setInputFiles(file);
  await page.waitForFunction((n) => Number(document.documentElement.dataset.picture ?? 0) > n, before);
  await waitForStage(page, 'prediction');
}

/** Output index -> the name the app shows for it. */
function namedOutputs(page: Page): Promise<Record<number, string>> {
  return page.locator('#predictions button').evaluateAll((bs) => Object.fromEntries(bs.map((b) => [Number((b as HTMLElement).dataset.class), b.querySelector('.label')!.textContent])));
}

test('labels from a text file or a JSON array name the classes of a model without metadata', async () => {
  const { page } = phone.app;
  await page.goto(`${phone.server.origin}/`);
  await waitForModel(page);
  await page.locator('details summary').click();
  await importWith(page, { name: 'labels.txt', text: 'Left hand\r\nRight hand\n\n' });
  await expect(page.locator('#alert').isVisible()).resolves.toBe(false);
  await expect(page.locator('#model-name').textContent()).resolves.toContain('2 classes');
  await predict(page, path.join(FIXTURES, 'images/class-2/3.png'));
  // The names follow the outputs' order.
  await expect(namedOutputs(page)).resolves.toEqual({ 0: 'Left hand', 1: 'Right hand' });

  await importWith(page, { name: 'classes.json', text: '["First", "Second"]' });
  await expect(page.locator('#alert').isVisible()).resolves.toBe(false);
  await predict(page, path.join(FIXTURES, 'images/class-1/3.png'));
  await expect(namedOutputs(page)).resolves.toEqual({ 0: 'First', 1: 'Second' });
});

test('a labels file with the wrong count is refused with both counts, and nothing is stored', async () => {
  const { page } = phone.app;
  await page.goto(`${phone.server.origin}/`);
  await waitForModel(page);
  const listed = await page.locator('#models li').count();
  const active = await page.locator('#models li[aria-current=true]').getAttribute('data-model-id');
  await page.locator('details summary').click();
  await importWith(page, { name: 'labels.txt', text: 'cat\ndog\nbird\n' });
  await expect(page.locator('#alert').textContent()).resolves
    .toBe('The labels file “labels.txt” names 3 classes, but the model has 2 outputs. Give one name per output (a JSON array, or one name per line), in the order of the outputs. Nothing was stored.');
  await expect(page.locator('#models li').count()).resolves.toBe(listed);
  expect(listed).toBeGreaterThanOrEqual(builtModels().length);
  // The model in use is still in use.
  await expect(page.locator('#models li[aria-current=true]').getAttribute('data-model-id')).resolves.toBe(active);
  await expect(page.evaluate(() => document.documentElement.dataset.model)).resolves.toBe('ready');
});
