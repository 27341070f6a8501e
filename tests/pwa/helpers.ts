/**
 * Shared by the PWA browser tests: one build of dist/pwa reused by every test file (rebuilt only
 * when a source is newer than it; a lock keeps parallel jest workers from building twice), the
 * app served with COOP/COEP/CORP, and Debian's Chromium with a fake camera.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import type { BrowserContext, Page } from 'playwright-core';
import { launchChromium } from '../helpers/browser';
import { startStaticServer, type StaticServer } from '../helpers/static-server';

export const ROOT = path.resolve(__dirname, '../..');
export const DIST = path.join(ROOT, 'dist/pwa');
export const FIXTURES = path.resolve(ROOT, '../shared/fixtures/teachable-machine');
export const ARTIFACTS = path.join(ROOT, 'tests/artifacts/pwa');

function newestMtime(dir: string): number {
  let t = 0;
  if (!fs.existsSync(dir)) return t;
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) t = Math.max(t, newestMtime(p));
    else if (/\.(ts|html|css|json)$/.test(e.name)) t = Math.max(t, fs.statSync(p).mtimeMs);
  }
  return t;
}

function upToDate(): boolean {
  const stamp = path.join(DIST, 'app-config.json');
  if (!fs.existsSync(stamp) || !fs.existsSync(path.join(DIST, 'sw.js'))) return false;
  const built = fs.statSync(stamp).mtimeMs;
  // Only the app's own sources: worker/ and src/ are edited by others all the time, and a fresh
  // checkout (CI) has no dist/ at all. After changing them, run `npm run build:pwa`.
  const sources = Math.max(...['pwa', 'models/fashion-scenes', 'models/imagenet-darknet-tiny'].map((d) => newestMtime(path.join(ROOT, d))),
    fs.statSync(path.join(ROOT, 'webpack.config.ts')).mtimeMs);
  return sources < built;
}

/** For hooks that may build: on two busy shared cores webpack can take minutes, and other files wait for the lock meanwhile. */
export const BUILD_TIMEOUT_MS = 900_000;

/** Builds the worker and the PWA once (npm run build:pwa), unless dist/pwa is newer than every source. */
export async function ensureBuild(): Promise<void> {
  const lock = path.join(ROOT, 'dist/.pwa-build.lock');
  fs.mkdirSync(path.dirname(lock), { recursive: true });
  for (;;) {
    try {
      fs.mkdirSync(lock);
      break;
    } catch {
      // Another jest worker is building: wait for it (a lock older than 10 min is stale).
      try {
        if (Date.now() - fs.statSync(lock).mtimeMs > 600_000) fs.rmSync(lock, { recursive: true, force: true });
      } catch { /* gone already */ }
      await new Promise((r) => setTimeout(r, 1000));
    }
  }
  try {
    if (upToDate()) return;
    const r = spawnSync('npx', ['webpack', '--config', 'webpack.config.ts', '--config-name', 'worker', '--config-name', 'pwa'],
      { cwd: ROOT, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
    if (r.status !== 0) throw new Error(`npm run build:pwa failed:\n${r.stdout}\n${r.stderr}`);
  } finally {
    fs.rmSync(lock, { recursive: true, force: true });
  }
}

export function serveApp(): Promise<StaticServer> {
  return startStaticServer({
    mounts: { '/': DIST },
    isolated: true,
    headers: (p): Record<string, string> => (p.endsWith('.webmanifest') ? { 'Content-Type': 'application/manifest+json' } : {}),
  });
}

export interface Launched {
  context: BrowserContext;
  page: Page;
  /** Console errors and page errors seen so far. */
  errors: string[];
  close(): Promise<void>;
}

/** Chromium at a phone viewport; `video` makes a fake camera that plays that .y4m file (allowed), `denyCamera` one that is refused. */
export async function launchPhone(options: { video?: string; denyCamera?: boolean } = {}): Promise<Launched> {
  const { context, close } = await launchChromium({
    ...options,
    context: { viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true },
  });
  const page = context.pages()[0] ?? (await context.newPage());
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
  page.on('console', (m) => { if (m.type() === 'error') errors.push(`console: ${m.text()}`); });
  return {
    context,
    page,
    errors,
    close,
  };
}

/** The built app served and a phone-sized Chromium, for one test file: built and opened in its beforeAll, closed in its afterAll. */
export function appOnPhone(): { readonly server: StaticServer; readonly app: Launched } {
  const opened = {} as { server: StaticServer; app: Launched };
  beforeAll(async () => {
    await ensureBuild();
    opened.server = await serveApp();
    opened.app = await launchPhone();
  }, BUILD_TIMEOUT_MS);
  afterAll(async () => {
    await opened.app?.close();
    await opened.server?.close();
  });
  return opened;
}

/** Waits until the app says the model is loaded. */
export async function waitForModel(page: Page, timeout = 120_000): Promise<void> {
  await page.waitForFunction(() => document.documentElement.dataset.model === 'ready' || document.documentElement.dataset.model === 'failed', undefined, { timeout });
  const state = await page.evaluate(() => document.documentElement.dataset.model);
  if (state !== 'ready') throw new Error(`The model did not load: ${await page.locator('#alert').textContent()}`);
}

/** Waits for an explanation to reach `stage`; returns the stages seen, in order. */
export async function waitForStage(page: Page, stage: string, timeout = 180_000): Promise<string[]> {
  await page.waitForFunction((s) => (document.documentElement.dataset.stages ?? '').split(' ').includes(s) ||
    !document.getElementById('alert')!.hidden, stage, { timeout });
  const alert = page.locator('#alert');
  if (await alert.isVisible()) throw new Error(`The app reported: ${await alert.textContent()}`);
  return ((await page.evaluate(() => document.documentElement.dataset.stages)) ?? '').split(' ');
}

/** The built-in models the build shipped (the default first), as app-config.json lists them. */
export function builtModels(): Array<{ id: string; name: string; url: string }> {
  return (JSON.parse(fs.readFileSync(path.join(DIST, 'app-config.json'), 'utf8')) as { models: Array<{ id: string; name: string; url: string }> }).models;
}

/** The default model the build shipped: its labels. */
export function builtDefaultModel(): { labels: string[] } {
  const dir = path.join(DIST, path.dirname(builtModels()[0].url));
  return { labels: (JSON.parse(fs.readFileSync(path.join(dir, 'metadata.json'), 'utf8')) as { labels: string[] }).labels };
}

export async function screenshot(page: Page, name: string): Promise<string> {
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  const file = path.join(ARTIFACTS, `${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}
