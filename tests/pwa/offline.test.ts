/**
 * Offline: the service worker precaches the shell, the worker, its wasm binaries and the default
 * model, and adds COOP/COEP to what it serves. The app is served here by a static server that
 * sends no isolation headers at all (a plain static host): once the service worker controls the
 * page, a reload is cross-origin isolated. Then the network is cut: a reload still starts, loads
 * the default model and explains a sample, and not one request reaches the server.
 * A Teachable Machine zip imported from files, and a model imported from a URL, are kept on the
 * device and work offline too.
 */
import * as path from 'path';
import type { Page } from 'playwright-core';
import type { StaticServer } from '../helpers/static-server';
import { startStaticServer } from '../helpers/static-server';
import { BUILD_TIMEOUT_MS, DIST, ensureBuild, FIXTURES, launchPhone, screenshot, waitForModel, waitForStage, type Launched } from './helpers';

let server: StaticServer;

beforeAll(async () => {
  await ensureBuild();
  // A static host: no COOP/COEP/CORP from the server.
  server = await startStaticServer({ mounts: { '/': DIST, '/remote/': FIXTURES } });
}, BUILD_TIMEOUT_MS);

afterAll(async () => {
  await server?.close();
});

async function waitForServiceWorker(page: Page): Promise<void> {
  // ready = activated, i.e. every precached file is in the cache; clientsClaim makes it control this page.
  await page.evaluate(async () => {
    await navigator.serviceWorker.ready;
    if (!navigator.serviceWorker.controller) await new Promise((r) => navigator.serviceWorker.addEventListener('controllerchange', r, { once: true }));
  });
}

/**
 * Requests the server saw after `before`, except the browser's own service-worker update check
 * (sw.js): Chromium makes it from the browser process, which context.setOffline does not cover;
 * it is not a request of the page, and on a real offline phone it simply fails.
 */
function pageRequests(before: number): string[] {
  return server.requests.slice(before).filter((r) => r.path !== '/sw.js').map((r) => `${r.method} ${r.path} ${r.status}`);
}

async function goOffline(app: Launched): Promise<{ before: number; failed: string[] }> {
  const failed: string[] = [];
  // blob: URLs are in-memory (the wasm pthreads' scripts), not the network.
  app.page.on('requestfailed', (r) => { if (/^https?:/.test(r.url())) failed.push(r.url()); });
  await app.context.setOffline(true);
  return { before: server.requests.length, failed };
}

test('after one visit the app, the worker and the default model work offline; the service worker isolates the page', async () => {
  const app = await launchPhone();
  try {
    const { page } = app;
    await page.goto(`${server.origin}/`);
    await waitForModel(page);
    await expect(page.evaluate(() => crossOriginIsolated)).resolves.toBe(false);
    await waitForServiceWorker(page);

    // Online reload under the service worker: COOP/COEP come from it.
    await page.reload();
    await waitForModel(page);
    await expect(page.evaluate(() => crossOriginIsolated)).resolves.toBe(true);

    const { before, failed } = await goOffline(app);
    await page.reload();
    await waitForModel(page);
    await page.locator('#samples button').first().click();
    const stages = await waitForStage(page, 'guided-gradcam');
    expect(stages).toEqual(['prediction', 'class-maps', 'gradient-maps', 'guided-gradcam']);
    await expect(page.evaluate(() => crossOriginIsolated)).resolves.toBe(true);
    // Nothing left the page: the server saw no request and the browser had none fail.
    expect(pageRequests(before)).toEqual([]);
    expect(failed).toEqual([]);
    await screenshot(page, '04-offline');
  } finally {
    await app.close();
  }
});

test('a Teachable Machine zip is imported, explains a photo, and is still there offline after a reload', async () => {
  const app = await launchPhone();
  try {
    const { page } = app;
    await page.goto(`${server.origin}/`);
    await waitForModel(page);
    await page.locator('details summary').click();
    await page.locator('#import-files').setInputFiles(path.join(FIXTURES, 'image-model.zip'));
    await expect(page.locator('#import-status')).toBeDefined();
    await page.waitForFunction(() => /in use/.test(document.getElementById('import-status')!.textContent ?? '') || !document.getElementById('alert')!.hidden, undefined, { timeout: 120_000 });
    await expect(page.locator('#alert').isVisible()).resolves.toBe(false);
    const stored = page.locator('#models li[aria-current=true]');
    await expect(stored.locator('.name').textContent()).resolves.toBe('image-model');
    await expect(stored.locator('.size').textContent()).resolves.toMatch(/^\d+(\.\d)? MB$/);
    const id = await stored.getAttribute('data-model-id');
    expect(id).not.toBe('default');

    await page.locator('#pick').setInputFiles(path.join(FIXTURES, 'images/class-1/3.png'));
    await waitForStage(page, 'guided-gradcam');
    await expect(page.locator('#predictions button .label').first().textContent()).resolves.toBe('Class 1');
    await screenshot(page, '05-own-model');

    await waitForServiceWorker(page);
    const { before, failed } = await goOffline(app);
    await page.reload();
    await waitForModel(page);
    // Still stored, still the model in use, and it explains offline.
    await expect(page.locator(`#models li[data-model-id="${id}"][aria-current=true]`).count()).resolves.toBe(1);
    await page.locator('#pick').setInputFiles(path.join(FIXTURES, 'images/class-2/3.png'));
    await waitForStage(page, 'guided-gradcam');
    await expect(page.locator('#predictions button .label').first().textContent()).resolves.toBe('Class 2');
    expect(pageRequests(before)).toEqual([]);
    expect(failed).toEqual([]);

    // Deleting it falls back to the built-in model.
    await page.locator(`#models li[data-model-id="${id}"] button[data-action=delete]`).click();
    await page.waitForFunction((i) => !document.querySelector(`#models li[data-model-id="${i}"]`), id);
    await waitForModel(page);
    await expect(page.locator('#models li[aria-current=true]').getAttribute('data-model-id')).resolves.toBe('default');
  } finally {
    await app.close();
  }
});

test('a model imported from a URL is downloaded whole, kept, and works offline', async () => {
  const app = await launchPhone();
  try {
    const { page } = app;
    await page.goto(`${server.origin}/`);
    await waitForModel(page);
    await page.locator('details summary').click();
    await page.locator('#import-url').fill(`${server.origin}/remote/image-model/model.json`);
    await page.locator('#import-url-form button[type=submit]').click();
    await page.waitForFunction(() => document.querySelector('#models li[aria-current=true]')?.getAttribute('data-model-id') !== 'default' ||
      !document.getElementById('alert')!.hidden, undefined, { timeout: 120_000 });
    await expect(page.locator('#alert').isVisible()).resolves.toBe(false);
    const stored = page.locator('#models li[aria-current=true]');
    await expect(stored.locator('.name').textContent()).resolves.toBe('image-model');
    await expect(stored.locator('.size').textContent()).resolves.toBe('2.1 MB');

    await waitForServiceWorker(page);
    const { before, failed } = await goOffline(app);
    await page.reload();
    await waitForModel(page);
    await expect(page.locator('#models li[aria-current=true] .name').textContent()).resolves.toBe('image-model');
    await page.locator('#pick').setInputFiles(path.join(FIXTURES, 'images/class-2/5.png'));
    await waitForStage(page, 'guided-gradcam');
    await expect(page.locator('#predictions button .label').first().textContent()).resolves.toBe('Class 2');
    expect(pageRequests(before)).toEqual([]);
    expect(failed).toEqual([]);
  } finally {
    await app.close();
  }
});
