/**
 * The messages a person sees when something is wrong: a denied camera, a model that fails to
 * load (and is not kept), storage that is full, a browser that lacks what the app needs.
 */
import type { Page } from 'playwright-core';
import * as path from 'path';
import type { StaticServer } from '../helpers/static-server';
import { BUILD_TIMEOUT_MS, builtModels, ensureBuild, FIXTURES, launchPhone, screenshot, serveApp, waitForModel, type Launched } from './helpers';

let server: StaticServer;
let app: Launched;

beforeAll(async () => {
  await ensureBuild();
  server = await serveApp();
  app = await launchPhone({ denyCamera: true });
}, BUILD_TIMEOUT_MS);

afterAll(async () => {
  await app?.close();
  await server?.close();
});

async function alertText(page: Page): Promise<string> {
  await page.locator('#alert').waitFor({ state: 'visible', timeout: 120_000 });
  return (await page.locator('#alert').textContent()) ?? '';
}

test('denied camera', async () => {
  const { page } = app;
  await page.goto(`${server.origin}/`);
  await waitForModel(page);
  await page.locator('#camera').click();
  expect(await alertText(page)).toMatch(/^Camera access was denied\. Allow the camera for this site .* or pick a photo instead\.$/);
  await expect(page.locator('#capture').isHidden()).resolves.toBe(true);
  await screenshot(page, '09-camera-denied');
});

test('a model that fails to load is reported and not kept', async () => {
  const { page } = app;
  await page.goto(`${server.origin}/`);
  await waitForModel(page);
  await page.locator('details summary').click();
  await page.locator('#import-files').setInputFiles({ name: 'broken.zip', mimeType: 'application/zip', buffer: Buffer.from('this is not a zip') });
  expect(await alertText(page)).toMatch(/^The model failed to load: .*zip/);
  await page.waitForFunction(() => /not kept/.test(document.getElementById('import-status')!.textContent ?? ''));
  // Only the built-in models are listed: the broken one was not kept.
  await expect(page.locator('#models li').count()).resolves.toBe(builtModels().length);
  await waitForModel(page);
});

test('full storage: the import is refused with a clear message and the models stored before stay intact', async () => {
  // First a model kept normally; importing it asks for persistent storage and says if it was refused.
  const before = await app.context.newPage();
  await before.goto(`${server.origin}/`);
  await waitForModel(before);
  await before.locator('details summary').click();
  await before.locator('#import-files').setInputFiles(path.join(FIXTURES, 'image-model.zip'));
  await before.waitForFunction(() => /in use/.test(document.getElementById('import-status')!.textContent ?? ''), undefined, { timeout: 120_000 });
  const persisted = await before.evaluate(() => document.documentElement.dataset.persisted);
  expect(['yes', 'no']).toContain(persisted);
  const note = /did not grant persistent storage/.test((await before.locator('#import-status').textContent()) ?? '');
  expect(note).toBe(persisted === 'no');
  const kept = await before.locator('#models li').allTextContents();
  await before.close();

  const page = await app.context.newPage();
  // Every write to Cache Storage fails as a full disk makes it fail.
  await page.addInitScript(() => {
    Cache.prototype.put = () => Promise.reject(new DOMException('The quota has been exceeded.', 'QuotaExceededError'));
  });
  await page.goto(`${server.origin}/`);
  await waitForModel(page);
  await page.locator('details summary').click();
  await page.locator('#import-files').setInputFiles(path.join(FIXTURES, 'image-model.zip'));
  expect(await alertText(page)).toMatch(/^The device's storage for this site is full: the model \(\d+ bytes\) was not kept\. Delete a model/);
  // The list is what it was: the earlier model is still there, nothing half-written was added.
  await expect(page.locator('#models li').allTextContents()).resolves.toEqual(kept);
  await page.close();
});

test('unsupported browser', async () => {
  const page = await app.context.newPage();
  await page.addInitScript(() => {
    delete (window as { OffscreenCanvas?: unknown }).OffscreenCanvas;
  });
  await page.goto(`${server.origin}/`);
  expect(await alertText(page)).toMatch(/^This browser cannot run whycam: it lacks OffscreenCanvas\. Use a recent/);
  await page.close();
});
