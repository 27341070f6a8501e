/**
 * The worker in Debian's Chromium (headless, playwright-core) with real WASM: the production
 * build of worker/entry.browser.ts and a test page (tests/worker/browser/page.ts), served
 * by tests/helpers/static-server.ts. Which .wasm file the browser fetched is read from the
 * server's request log.
 *
 * - a cross-origin-isolated page runs the threaded SIMD binary with hardwareConcurrency
 *   threads; a plain page the SIMD binary; `#binary=plain` the plain one;
 * - the first, low-resolution stage arrives before the high-resolution one is computed;
 * - an isolated page cannot start a worker script served without COEP (so we serve it with);
 * - a reload reuses the browser's HTTP cache: no .wasm or weights downloaded twice.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import webpack from 'webpack';
import type { Page } from 'playwright-core';
import configs from '../../webpack.config';
import { assertChromium, launchChromium, type LaunchedBrowser } from '../helpers/browser';
import { startStaticServer, type StaticServer } from '../helpers/static-server';
import { tmPhotos, TM_DIR } from '../helpers/fixtures';

const WASM = {
  'threaded-simd': /^\/worker\/tfjs-backend-wasm-threaded-simd\.[0-9a-f]{8}\.wasm$/,
  simd: /^\/worker\/tfjs-backend-wasm-simd\.[0-9a-f]{8}\.wasm$/,
  plain: /^\/worker\/tfjs-backend-wasm\.[0-9a-f]{8}\.wasm$/,
};
const MODEL = '/fixtures/image-model/model.json';
const PHOTO = `/fixtures/images/${path.relative(path.join(TM_DIR, 'images'), tmPhotos()[12][0])}`;
const PHOTO_LABEL = tmPhotos()[12][1];

let out: string;
let browser: LaunchedBrowser;
const servers: StaticServer[] = [];

async function build(dir: string): Promise<void> {
  const pick = (name: string, sub: string) => {
    const c = configs.find((x) => x.name === name)!;
    return { ...c, output: { ...c.output, path: path.join(dir, sub) } };
  };
  const compiler = webpack([pick('worker', 'worker'), pick('worker-test-page', 'worker-test')]);
  const stats = await new Promise<webpack.MultiStats>((resolve, reject) => compiler.run((err, s) => (err || !s ? reject(err) : resolve(s))));
  // Ends the minimizer's worker threads too, so jest can exit.
  await new Promise<void>((resolve) => compiler.close(() => resolve()));
  const info = stats.toJson({ all: false, errors: true });
  if (info.errors?.length) throw new Error(`webpack: ${info.errors.map((e) => e.message).join('\n')}`);
}

async function serve(options: { isolated: boolean; headers?: (p: string) => Record<string, string | null> }): Promise<StaticServer> {
  const s = await startStaticServer({ mounts: { '/': out, '/fixtures/': TM_DIR }, ...options });
  servers.push(s);
  return s;
}

async function open(server: StaticServer): Promise<Page> {
  const page = await browser.context.newPage();
  await page.goto(`${server.origin}/worker-test/index.html`);
  return page;
}

/** Calls whycamTest.<fn>(...args) on the page (a string expression: nothing of this file's transpiled code runs there). */
function call<T>(page: Page, fn: string, ...args: unknown[]): Promise<T> {
  return page.evaluate(`globalThis.whycamTest.${fn}(${args.map((a) => JSON.stringify(a)).join(', ')})`) as Promise<T>;
}

const wasmFetched = (s: StaticServer, from = 0) => s.requests.slice(from).filter((r) => r.path.endsWith('.wasm'));

interface Started { info: { backend: string; binary: string; threads: number; crossOriginIsolated: boolean; wasmUrl: string } | null; error: { code: string; message: string } | null }
interface Explained {
  sent: number;
  stages: Array<{ stage: string; at: number; ms: number; maps: Array<{ method: string; length: number; type: string; width: number; height: number; channels: number }>; predictions?: Array<{ label: string }> }>;
  summary: { stages: Array<{ stage: string; ms: number }> } | null;
  error: { code: string; message: string } | null;
  bitmapWidthAfter: number | null;
}

beforeAll(async () => {
  assertChromium();
  out = fs.mkdtempSync(path.join(os.tmpdir(), 'whycam-worker-browser-'));
  await build(out);
  browser = await launchChromium();
}, 240_000);

afterAll(async () => {
  await browser?.close();
  await Promise.all(servers.map((s) => s.close()));
  if (out) fs.rmSync(out, { recursive: true, force: true });
});

test('the page bundle holds the client only: tfjs and the .wasm files are the worker\'s', () => {
  expect(fs.statSync(path.join(out, 'worker-test', 'page.js')).size).toBeLessThan(60_000);
  const files = fs.readdirSync(path.join(out, 'worker'));
  for (const re of Object.values(WASM)) expect(files.some((f) => re.test(`/worker/${f}`))).toBe(true);
  expect(files).toContain('whycam-worker.js');
});

test('a cross-origin-isolated page runs the threaded SIMD binary with hardwareConcurrency threads; stages stream', async () => {
  const server = await serve({ isolated: true });
  const page = await open(server);
  expect(await call(page, 'pageIsolated')).toBe(true);
  const cores = (await page.evaluate('navigator.hardwareConcurrency')) as number;

  const started = await call<Started>(page, 'start', 'a');
  expect(started.error).toBeNull();
  expect(started.info).toMatchObject({ backend: 'wasm', binary: 'threaded-simd', threads: Math.min(8, cores), crossOriginIsolated: true });
  const fetched = wasmFetched(server);
  expect(fetched.map((r) => r.path)).toHaveLength(1);
  expect(fetched[0].path).toMatch(WASM['threaded-simd']);
  expect(fetched[0].status).toBe(200);
  expect(new URL(started.info!.wasmUrl).pathname).toBe(fetched[0].path);

  const loaded = await call<{ labels: string[]; progress: number[] }>(page, 'load', 'a', MODEL);
  expect(loaded.labels).toEqual(['Class 1', 'Class 2']);
  expect(loaded.progress[loaded.progress.length - 1]).toBe(1);

  // An ImageBitmap, transferred: unusable on the page afterwards.
  const r = await call<Explained>(page, 'explain', 'a', PHOTO, 'bitmap', {});
  expect(r.error).toBeNull();
  expect(r.bitmapWidthAfter).toBe(0);
  expect(r.stages.map((s) => s.stage)).toEqual(['prediction', 'class-maps', 'gradient-maps', 'guided-gradcam']);
  expect(r.stages[0].predictions![0].label).toBe(PHOTO_LABEL);
  for (const s of r.stages.slice(1)) for (const m of s.maps) {
    expect(m.type).toBe('[object Float32Array]');
    expect(m.length).toBe(m.width * m.height * m.channels);
  }
  // The low-resolution class maps were on the page before the gradient maps were computed.
  const [classMaps, gradientMaps] = [r.stages[1], r.stages[2]];
  expect(classMaps.maps.map((m) => m.width)).toEqual([7]);
  expect(gradientMaps.maps.every((m) => m.width === 224)).toBe(true);
  expect(gradientMaps.at - classMaps.at).toBeGreaterThanOrEqual(gradientMaps.ms * 0.9);

  // A file that is not an image: a typed error from the browser's decoder, and the worker goes on.
  const bad = await call<{ code: string; message: string }>(page, 'explainBytes', 'a', [1, 2, 3, 4, 5], 'image/png');
  expect(bad).toMatchObject({ code: 'BAD_IMAGE' });
  expect((await call<Explained>(page, 'explain', 'a', PHOTO, 'blob', { methods: ['cam'] })).error).toBeNull();

  // Reload: the same worker script, wasm binary and model come from the HTTP cache.
  const before = server.requests.length;
  await page.reload();
  const again = await call<Started>(page, 'start', 'b');
  expect(again.info).toMatchObject({ binary: 'threaded-simd' });
  await call(page, 'load', 'b', MODEL);
  const after = server.requests.slice(before);
  const downloaded = after.filter((q) => q.status === 200).map((q) => q.path);
  expect(downloaded.filter((p) => p.endsWith('.wasm') || p.endsWith('weights.bin') || p.endsWith('whycam-worker.js'))).toEqual([]);
  // The hashed binary is not even asked for (immutable); the stable names are revalidated (304).
  expect(wasmFetched(server, before)).toEqual([]);
  const status = (p: string) => after.find((q) => q.path === p)?.status;
  expect([status('/worker/whycam-worker.js'), status('/fixtures/image-model/weights.bin')]).toEqual([304, 304]);
  await page.close();
});

test('a page that is not isolated runs the SIMD binary on one thread; #binary=plain runs the plain one (ImageData in)', async () => {
  const server = await serve({ isolated: false });
  const page = await open(server);
  expect(await call(page, 'pageIsolated')).toBe(false);
  const started = await call<Started>(page, 'start', 'a');
  expect(started.info).toMatchObject({ backend: 'wasm', binary: 'simd', threads: 1, crossOriginIsolated: false });
  expect(wasmFetched(server).map((r) => r.path)).toEqual([expect.stringMatching(WASM.simd)]);
  await call(page, 'load', 'a', MODEL);
  const r = await call<Explained>(page, 'explain', 'a', PHOTO, 'blob', {});
  expect(r.error).toBeNull();
  expect(r.stages[0].predictions![0].label).toBe(PHOTO_LABEL);

  const from = server.requests.length;
  const plain = await call<Started>(page, 'start', 'p', '#binary=plain');
  expect(plain.info).toMatchObject({ binary: 'plain', threads: 1 });
  expect(wasmFetched(server, from).map((q) => q.path)).toEqual([expect.stringMatching(WASM.plain)]);
  await call(page, 'load', 'p', MODEL);
  const p = await call<Explained>(page, 'explain', 'p', PHOTO, 'imagedata', { methods: ['gradcam'] });
  expect(p.error).toBeNull();
  expect(p.stages[0].predictions![0].label).toBe(PHOTO_LABEL);
  await page.close();
});

test('an isolated page cannot start a worker script served without COEP: the client says so instead of hanging', async () => {
  const withoutCoep = (p: string): Record<string, string | null> => (p.endsWith('/whycam-worker.js') ? { 'Cross-Origin-Embedder-Policy': null } : {});
  const server = await serve({ isolated: true, headers: withoutCoep });
  const page = await open(server);
  const started = await call<Started>(page, 'start', 'a');
  expect(started.info).toBeNull();
  expect(started.error).toMatchObject({ code: 'BACKEND', message: expect.stringContaining('Cross-Origin-Embedder-Policy') });
  expect(wasmFetched(server)).toEqual([]);
  await page.close();
});
