/**
 * Models imported from a URL are the service worker's: the Teachable Machine export is served by a
 * "remote" host on another port (another origin, CORS open) and imported by URL. The service
 * worker downloads it once, as one unit, and its runtime route serves it cache-first (the host
 * sees no request when the model is used again, online or offline); the device holds one copy of
 * the weights, not two. A damaged kept file is refused with a message saying so, never used;
 * online it is fetched again and accepted only if it is the very file recorded. When the host has
 * meanwhile changed that file, the damaged copy is refused all the same (old model.json + new
 * weights is never served), and importing the URL again takes the new version as a whole.
 */
import * as nodeCrypto from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import type { Page } from 'playwright-core';
import type { StaticServer } from '../helpers/static-server';
import { BUILD_TIMEOUT_MS, ensureBuild, FIXTURES, launchPhone, serveApp, waitForModel, waitForStage, type Launched } from './helpers';
import { startRemoteServer, waitForServiceWorker, type RemoteServer } from './sw-helpers';

let server: StaticServer;
let remote: RemoteServer;
let app: Launched;
let tmp: string;
let modelUrl: string;
let weightsPath: string;

const sha256 = (b: Buffer) => nodeCrypto.createHash('sha256').update(b).digest('hex');

beforeAll(async () => {
  await ensureBuild();
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'whycam-remote-'));
  const dir = path.join(tmp, 'models/image-model');
  fs.mkdirSync(dir, { recursive: true });
  for (const f of ['model.json', 'weights.bin', 'metadata.json']) fs.copyFileSync(path.join(FIXTURES, 'image-model', f), path.join(dir, f));
  weightsPath = path.join(dir, 'weights.bin');
  server = await serveApp();
  remote = await startRemoteServer(tmp);
  modelUrl = `${remote.origin}/models/image-model/model.json`;
  app = await launchPhone();
}, BUILD_TIMEOUT_MS);

afterAll(async () => {
  await app?.close();
  await remote?.close();
  await server?.close();
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

/** The URL model's entry in the page's list, and what every cache holds. */
async function storage(page: Page): Promise<{ index: Array<{ id: string; kind: string; source: string; unit?: string; files: unknown[] }>; entries: Array<{ cache: string; url: string; bytes: number }> }> {
  return page.evaluate(async () => {
    const entries: Array<{ cache: string; url: string; bytes: number }> = [];
    let index: Array<{ id: string; kind: string; source: string; unit?: string; files: unknown[] }> = [];
    for (const name of await caches.keys()) {
      const cache = await caches.open(name);
      for (const req of await cache.keys()) {
        const res = await cache.match(req);
        const blob = await res!.blob();
        entries.push({ cache: name, url: req.url, bytes: blob.size });
        if (req.url.endsWith('__whycam/user-models/index.json')) index = JSON.parse(await blob.text());
      }
    }
    return { index, entries };
  });
}

/** The kept weights entry: its key, and the SHA-256 of what it holds. */
async function keptWeights(page: Page): Promise<{ url: string; sha256: string; bytes: number }[]> {
  return page.evaluate(async () => {
    const cache = await caches.open('whycam-url-models-v1');
    const out: { url: string; sha256: string; bytes: number }[] = [];
    for (const req of await cache.keys()) {
      if (!req.url.endsWith(encodeURIComponent('/weights.bin'))) continue;
      const data = await (await cache.match(req))!.arrayBuffer();
      const d = await crypto.subtle.digest('SHA-256', data);
      out.push({ url: req.url, bytes: data.byteLength, sha256: Array.from(new Uint8Array(d), (b) => b.toString(16).padStart(2, '0')).join('') });
    }
    return out;
  });
}

/** Replaces the kept weights with their first half (a truncated copy, as a full disk or a crash could leave). */
async function truncateKeptWeights(page: Page): Promise<void> {
  const n = await page.evaluate(async () => {
    const cache = await caches.open('whycam-url-models-v1');
    let n = 0;
    for (const req of await cache.keys()) {
      if (!req.url.endsWith(encodeURIComponent('/weights.bin'))) continue;
      const data = await (await cache.match(req))!.arrayBuffer();
      await cache.put(req, new Response(data.slice(0, data.byteLength >> 1)));
      n++;
    }
    return n;
  });
  expect(n).toBe(1);
}

async function activeModel(page: Page): Promise<string | null> {
  return page.locator('#models li[aria-current=true]').getAttribute('data-model-id');
}

/** Clicks "Use" on a listed model and waits until it is in use or the app reports an error. */
async function use(page: Page, id: string): Promise<void> {
  await page.locator(`#models li[data-model-id="${id}"] button:not([data-action])`).click();
  await page.waitForFunction((i) => (document.documentElement.dataset.model === 'ready' &&
    document.querySelector('#models li[aria-current=true]')?.getAttribute('data-model-id') === i) || !document.getElementById('alert')!.hidden, id, { timeout: 120_000 })
    .catch(async (e) => {
      const state = await page.evaluate(() => `model=${document.documentElement.dataset.model} current=${document.querySelector('#models li[aria-current=true]')?.getAttribute('data-model-id')} status=${document.getElementById('status')!.textContent}`);
      throw new Error(`${(e as Error).message}\n${state}\n${app.errors.join('\n')}`);
    });
}

async function topLabel(page: Page, photo: string): Promise<string | null> {
  // The app may still be re-explaining the previous picture with a model it just loaded: wait for
  // the stages of this picture (data-picture counts new pictures), not that run's.
  const before = await page.evaluate(() => Number(document.documentElement.dataset.picture ?? 0));
  await page.locator('#pick').setInputFiles(path.join(FIXTURES, 'images', photo));
  await page.waitForFunction((n) => Number(document.documentElement.dataset.picture ?? 0) > n, before);
  await waitForStage(page, 'guided-gradcam');
  return page.locator('#predictions button .label').first().textContent();
}

let id: string;

test('imported by URL: the service worker downloads it once as one unit, one copy is kept, and it is served cache-first, online and offline', async () => {
  const { page } = app;
  await page.goto(`${server.origin}/`);
  await waitForModel(page);
  await waitForServiceWorker(page);
  // A later visit: the page and its whycam worker are run by the service worker from the start.
  await page.reload();
  await waitForModel(page);
  await expect(page.evaluate(() => navigator.serviceWorker.controller !== null)).resolves.toBe(true);

  await page.locator('details summary').click();
  await page.locator('#import-url').fill(modelUrl);
  await page.locator('#import-url-form button[type=submit]').click();
  await page.waitForFunction(() => /in use/.test(document.getElementById('import-status')!.textContent ?? '') || !document.getElementById('alert')!.hidden, undefined, { timeout: 120_000 });
  await expect(page.locator('#alert').isVisible()).resolves.toBe(false);
  const item = page.locator('#models li[aria-current=true]');
  await expect(item.locator('.name').textContent()).resolves.toBe('image-model');
  await expect(item.locator('.size').textContent()).resolves.toBe('2.1 MB');
  id = (await item.getAttribute('data-model-id'))!;
  expect(id).not.toBe('default');

  // Each file crossed the network once: the service worker's download. The whycam worker's load was
  // served from the kept unit (a second fetch would show here).
  expect(remote.log.sort()).toEqual(['GET /models/image-model/metadata.json 200', 'GET /models/image-model/model.json 200', 'GET /models/image-model/weights.bin 200']);

  // One copy: the page's list has an entry with no bytes of its own; the weights are in the service worker's cache once.
  const weightsBytes = fs.statSync(weightsPath).size;
  const { index, entries } = await storage(page);
  expect(index).toEqual([expect.objectContaining({ id, kind: 'url', source: modelUrl, files: [], unit: expect.stringMatching(/^[0-9a-f]{64}$/) })]);
  expect(entries.filter((e) => e.bytes === weightsBytes).map((e) => e.cache)).toEqual(['whycam-url-models-v1']);
  await expect(keptWeights(page)).resolves.toEqual([expect.objectContaining({ sha256: sha256(fs.readFileSync(weightsPath)) })]);
  expect(await topLabel(page, 'class-2/5.png')).toBe('Class 2');

  // Used again online: cache-first, so the host hears nothing.
  remote.log.length = 0;
  await page.reload();
  await waitForModel(page);
  await expect(activeModel(page)).resolves.toBe(id);
  expect(remote.log).toEqual([]);

  // Offline, host down: it loads and explains all the same.
  await app.context.setOffline(true);
  remote.down = true;
  await page.reload();
  await waitForModel(page);
  await expect(activeModel(page)).resolves.toBe(id);
  expect(await topLabel(page, 'class-1/3.png')).toBe('Class 1');
  expect(remote.log).toEqual([]);
});

test('a damaged kept weight file is refused with a message, not used; online it is fetched again, checked and kept', async () => {
  const { page } = app;
  // Still offline with the host down (previous test).
  await truncateKeptWeights(page);
  const unit = (await storage(page)).index[0].unit!;

  // The route itself does not serve the damaged bytes: a request for them fails.
  const direct = await page.evaluate(async (u) => {
    try {
      const r = await fetch(u);
      return `served ${r.status} ${(await r.arrayBuffer()).byteLength}`;
    } catch (e) {
      return `refused: ${(e as Error).name}`;
    }
  }, `${remote.origin}/models/image-model/weights.bin?whycam-unit=${unit}`);
  expect(direct).toBe('refused: TypeError');

  await use(page, 'default');
  await expect(activeModel(page)).resolves.toBe('default');
  await use(page, id);
  await expect(page.locator('#alert').textContent()).resolves.toMatch(/The kept copy of weights\.bin \(model from .*\) is damaged: it does not match the SHA-256 recorded when it was downloaded, so it was not used\. Downloading it again failed \(offline/);
  // The app went back to the model that worked.
  await waitForModel(page);
  await expect(activeModel(page)).resolves.toBe('default');
  expect(remote.log).toEqual([]);

  // Online: the one damaged file is fetched again, matches its record, is kept and used.
  await app.context.setOffline(false);
  remote.down = false;
  await use(page, id);
  await expect(page.locator('#alert').isVisible()).resolves.toBe(false);
  await page.waitForFunction((i) => document.documentElement.dataset.model === 'ready' &&
    document.querySelector('#models li[aria-current=true]')?.getAttribute('data-model-id') === i, id, { timeout: 120_000 });
  expect(remote.log).toEqual(['GET /models/image-model/weights.bin 200']);
  await expect(keptWeights(page)).resolves.toEqual([expect.objectContaining({ sha256: sha256(fs.readFileSync(weightsPath)), bytes: fs.statSync(weightsPath).size })]);
  expect(await topLabel(page, 'class-2/3.png')).toBe('Class 2');
});

test('the host changed the weights: a damaged copy is not replaced by them (no mixing); importing again takes the new version as a whole', async () => {
  const { page } = app;
  const before = (await storage(page)).index[0].unit!;
  // The host retrains: same model.json, other weights (two batch-norm variances scaled).
  const w = fs.readFileSync(weightsPath);
  for (const off of [w.length - 8, w.length - 4]) w.writeFloatLE(w.readFloatLE(off) * 1.5, off);
  fs.writeFileSync(weightsPath, w);
  await truncateKeptWeights(page);
  remote.log.length = 0;

  await use(page, 'default');
  await use(page, id);
  await expect(page.locator('#alert').textContent()).resolves.toMatch(/The kept copy of weights\.bin .* is damaged.* The server now has a different weights\.bin, which does not belong to the kept model\.json, so it was not used either/);
  await waitForModel(page);
  await expect(activeModel(page)).resolves.toBe('default');
  expect(remote.log).toEqual(['GET /models/image-model/weights.bin 200']);

  // Import the URL again: the new version, downloaded whole, replaces the old one under a new unit key.
  remote.log.length = 0;
  await page.locator('details').evaluate((d) => { (d as HTMLDetailsElement).open = true; });
  await page.locator('#import-url').fill(modelUrl);
  await page.locator('#import-url-form button[type=submit]').click();
  await page.waitForFunction(() => /in use/.test(document.getElementById('import-status')!.textContent ?? ''), undefined, { timeout: 120_000 });
  await expect(page.locator('#import-status').textContent()).resolves.toMatch(/^Updated “image-model” to the version now at its URL/);
  expect(remote.log.sort()).toEqual(['GET /models/image-model/metadata.json 200', 'GET /models/image-model/model.json 200', 'GET /models/image-model/weights.bin 200']);
  const { index, entries } = await storage(page);
  // Still one entry for that URL, now naming the new unit; the old unit's files are gone.
  expect(index).toEqual([expect.objectContaining({ id, kind: 'url', source: modelUrl })]);
  expect(index[0].unit).not.toBe(before);
  expect(entries.filter((e) => e.url.includes(`/units/${before}/`))).toEqual([]);
  expect(entries.filter((e) => e.url.includes(`/units/${index[0].unit}/`))).toHaveLength(3);
  await expect(keptWeights(page)).resolves.toEqual([expect.objectContaining({ sha256: sha256(w) })]);
  await expect(activeModel(page)).resolves.toBe(id);
  // A load naming the old unit is refused, not answered with the new files.
  const stale = await page.evaluate((u) => fetch(u).then((r) => `served ${r.status}`, (e: Error) => `refused: ${e.name}`), `${modelUrl}?whycam-unit=${before}`);
  expect(stale).toBe('refused: TypeError');
  expect(await topLabel(page, 'class-1/5.png')).toBe('Class 1');
});
