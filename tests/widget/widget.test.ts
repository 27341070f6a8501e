/**
 * The embeddable widget across real origins, in Debian's Chromium (headless) with the production
 * build: the widget served by `npm start`'s server (pwa/server.ts) on one 127.0.0.1 port with a
 * deployer's allowlist naming the host pages' origins, host pages (tests/widget/pages) on other
 * ports, a third origin that is not allowed on yet another. Service workers are blocked here
 * (so the server log shows exactly what the widget fetched); offline.test.ts has them.
 *
 * - an isolated host granting allow="cross-origin-isolated" gets the threaded binary, and the
 *   prediction, then the coarse map, then the fine map, raw Float32Arrays with their grid sizes;
 * - a plain host, or an isolated one without the grant, gets SIMD on one thread, no error;
 * - a third origin framed beside the widget gets no answer and changes nothing; embedding it, its
 *   frame is refused (frame-ancestors) and ready rejects with ORIGIN_NOT_ALLOWED;
 * - malformed messages get a typed error (or nothing), and the widget keeps working;
 * - the camera works inside the frame when the host grants it, and is refused by name when not.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import type { Page } from 'playwright-core';
import type { StaticServer } from '../helpers/static-server';
import { pngToY4m } from '../pwa/y4m';
import {
  BUILD_TIMEOUT_MS, call, DEPLOYED_MAX_PIXELS, deployWidget, launch, openHost, serveHost, serveWithAppServer, wasmFetched, WASM, widgetFrame, widgetSnapshot,
  type Browser, type Explained, type LoggedServer,
} from './helpers';

let plainHost: StaticServer;
let isolatedHost: StaticServer;
let third: StaticServer;
let widget: LoggedServer;
let deployed: string;
let browser: Browser;

const model = (host: StaticServer) => `${host.origin}/models/image-model/model.json`;
const photo = (host: StaticServer, file: string) => `${host.origin}/models/images/${file}`;

interface Ready { info: { protocol: number; model: { name: string; labels: string[]; input: { width: number } }; backend: { binary: string; threads: number; crossOriginIsolated: boolean }; camera: boolean } | null; error: { code: string; message: string } | null }

beforeAll(async () => {
  const photos = { '/photos/': path.resolve(__dirname, '../../models/imagenet-darknet-tiny/samples') };
  [plainHost, isolatedHost, third] = await Promise.all([serveHost(false, photos), serveHost(true), serveHost(false)]);
  deployed = await deployWidget([plainHost.origin, isolatedHost.origin]);
  widget = await serveWithAppServer(deployed);
  browser = await launch();
}, BUILD_TIMEOUT_MS);

afterAll(async () => {
  await browser?.close();
  await Promise.all([plainHost, isolatedHost, third, widget].map((s) => s?.close()));
  if (deployed) fs.rmSync(deployed, { recursive: true, force: true });
});

function expectFullExplanation(r: Explained, label: string): void {
  expect(r.error).toBeNull();
  expect(r.stages.map((s) => s.stage)).toEqual(['prediction', 'class-maps', 'gradient-maps', 'guided-gradcam']);
  // Arrived in that order, one after the other.
  for (let i = 1; i < r.stages.length; i++) expect(r.stages[i].at).toBeGreaterThanOrEqual(r.stages[i - 1].at);
  expect(r.stages[0].predictions![0].label).toBe(label);
  const [, coarse, gradients, fine] = r.stages;
  // The Teachable Machine head (GAP -> Dense(relu) -> Dense) has no CAM: Grad-CAM is the coarse map.
  expect(coarse.maps).toEqual([expect.objectContaining({ method: 'gradcam', width: 7, height: 7, channels: 1, length: 49, type: '[object Float32Array]', finite: true })]);
  expect(gradients.maps.map((m) => m.method).sort()).toEqual(['guided', 'vanilla']);
  expect(fine.maps).toEqual([expect.objectContaining({ method: 'guided-gradcam', width: 224, height: 224, channels: 3, length: 224 * 224 * 3, type: '[object Float32Array]', finite: true })]);
  for (const s of r.stages.slice(1)) for (const m of s.maps) expect(m.maxAbs).toBeGreaterThan(0);
  expect(r.result!.maps.sort()).toEqual(['gradcam', 'guided', 'guided-gradcam', 'vanilla']);
}

test('an isolated host on one port, the widget on another: threaded binary; prediction, then the coarse map, then the fine map', async () => {
  const page = await openHost(browser, isolatedHost, widget.origin);
  expect(await call(page, 'isolated')).toBe(true);
  const cores = (await page.evaluate('navigator.hardwareConcurrency')) as number;

  const ready = await call<Ready>(page, 'embed', { model: model(isolatedHost) });
  expect(ready.error).toBeNull();
  expect(ready.info).toMatchObject({
    protocol: 1,
    model: { labels: ['Class 1', 'Class 2'], input: { width: 224 } },
    backend: { binary: 'threaded-simd', threads: Math.min(8, cores), crossOriginIsolated: true },
    camera: false,
  });
  expect(wasmFetched(widget.requests)).toEqual([expect.stringMatching(WASM['threaded-simd'])]);
  // The model came from the host's origin (CORS), not the widget's.
  expect(widget.requests.some((r) => r.path.includes('image-model'))).toBe(false);

  // An ImageBitmap, transferred: unusable on the host afterwards.
  const r = await call<Explained & { bitmapWidthAfter: number }>(page, 'explain', photo(isolatedHost, 'class-2/3.png'), {}, 'bitmap');
  expectFullExplanation(r, 'Class 2');
  expect(r.bitmapWidthAfter).toBe(0);

  // The widget drew the overlay in its own frame, and knows who it talks to.
  const frame = widgetFrame(page, widget.origin);
  const shown = await widgetSnapshot(frame);
  expect(shown.data).toMatchObject({ state: 'ready', host: isolatedHost.origin, shown: 'guided-gradcam', stages: 'prediction class-maps gradient-maps guided-gradcam' });
  expect(shown.predictions).toMatch(/^Class 2/);

  // A Blob, one method, a class by name; and a URL the host page fetches itself.
  const one = await call<Explained>(page, 'explain', photo(isolatedHost, 'class-1/2.png'), { class: 'Class 2', methods: ['gradcam'] }, 'blob');
  expect(one.error).toBeNull();
  expect(one.result).toMatchObject({ classIndex: 1, maps: ['gradcam'], predictions: [expect.objectContaining({ label: 'Class 1' }), expect.anything()] });
  const byUrl = await call<Explained>(page, 'explain', photo(isolatedHost, 'class-1/4.png'), { methods: ['cam', 'gradcam'] }, 'url');
  expect(byUrl.error).toBeNull();
  expect(byUrl.stages[0].predictions![0].label).toBe('Class 1');
  // A method beyond the five, by its registry name: Layer-CAM's class map at the default layer, drawn in the frame.
  const layerCam = await call<Explained>(page, 'explain', photo(isolatedHost, 'class-1/4.png'), { methods: ['layercam'] }, 'blob');
  expect(layerCam.error).toBeNull();
  expect(layerCam.stages.map((s) => s.stage)).toEqual(['prediction', 'class-maps']);
  expect(layerCam.stages[1].maps).toEqual([expect.objectContaining({ method: 'layercam', width: 7, height: 7, channels: 1, length: 49, type: '[object Float32Array]', finite: true })]);
  expect(layerCam.stages[1].maps[0].maxAbs).toBeGreaterThan(0);
  expect((await widgetSnapshot(frame)).data).toMatchObject({ shown: 'layercam' });
  await page.close();
});

test('the server sends the widget CORP cross-origin (and COEP), the rest same-origin', async () => {
  for (const p of ['/widget/', '/widget/embed.js']) {
    const res = await fetch(`${widget.origin}${p}`);
    expect(res.status).toBe(200);
    expect(res.headers.get('cross-origin-resource-policy')).toBe('cross-origin');
    expect(res.headers.get('cross-origin-embedder-policy')).toBe('require-corp');
    expect(res.headers.get('cache-control')).toBe('no-cache');
  }
  const worker = await fetch(`${widget.origin}/worker/whycam-worker.js`);
  expect(worker.headers.get('cross-origin-resource-policy')).toBe('same-origin');
  expect(worker.headers.get('cross-origin-embedder-policy')).toBe('require-corp');
});

test('a plain host runs the SIMD binary on one thread, and so does an isolated host without the grant; no error', async () => {
  const from = widget.requests.length;
  const page = await openHost(browser, plainHost, widget.origin);
  expect(await call(page, 'isolated')).toBe(false);
  const ready = await call<Ready>(page, 'embed', { model: model(plainHost) });
  expect(ready.error).toBeNull();
  expect(ready.info!.backend).toEqual({ binary: 'simd', threads: 1, crossOriginIsolated: false });
  expect(wasmFetched(widget.requests, from)).toEqual([expect.stringMatching(WASM.simd)]);
  expectFullExplanation(await call<Explained>(page, 'explain', photo(plainHost, 'class-1/0.png')), 'Class 1');
  await page.close();

  const isolated = await openHost(browser, isolatedHost, widget.origin);
  expect(await call(isolated, 'isolated')).toBe(true);
  const noGrant = await call<Ready>(isolated, 'embed', { model: model(isolatedHost), threads: false });
  expect(noGrant.error).toBeNull();
  expect(noGrant.info!.backend).toEqual({ binary: 'simd', threads: 1, crossOriginIsolated: false });
  expect(wasmFetched(widget.requests, from).some((p) => WASM['threaded-simd'].test(p))).toBe(false);
  expect((await call<Explained>(isolated, 'explain', photo(isolatedHost, 'class-2/0.png'), { methods: ['gradcam'] })).error).toBeNull();
  await isolated.close();
  expect(browser.errors.filter((e) => !/favicon/.test(e))).toEqual([]);
});

test('a third origin that is not allowed gets no answer and changes nothing in the widget', async () => {
  const page = await openHost(browser, plainHost, widget.origin);
  expect((await call<Ready>(page, 'embed', { model: model(plainHost) })).error).toBeNull();
  expect((await call<Explained>(page, 'explain', photo(plainHost, 'class-2/5.png'), { methods: ['gradcam'] })).error).toBeNull();
  const frame = widgetFrame(page, widget.origin);
  const before = await widgetSnapshot(frame);
  const inboxBefore = (await page.evaluate('hostTest.inbox.length')) as number;

  // A frame of the third origin on the host page posts hello, explain, camera, a v2 and a bogus message to the widget.
  await call(page, 'addFrame', `${third.origin}/third.html`);
  const thirdFrame = page.frames().find((f) => f.url().startsWith(third.origin))!;
  const poked = await call<{ sent: number; inbox: unknown[] }>(thirdFrame, 'poke', 3000);
  expect(poked.inbox).toEqual([]);
  // They did arrive (counted for diagnosis), and changed nothing else: no model load, no picture, no new host.
  await frame.waitForFunction(`Number(document.documentElement.dataset.dropped) === ${Number(before.data.dropped ?? 0) + poked.sent}`, undefined, { timeout: 10_000 });
  const after = await widgetSnapshot(frame);
  expect({ ...after, data: { ...after.data, dropped: undefined } }).toEqual({ ...before, data: { ...before.data, dropped: undefined } });
  expect(await page.evaluate('hostTest.inbox.length')).toBe(inboxBefore);
  expect(widget.requests.filter((r) => r.path.includes('evil'))).toEqual([]);

  // The host is still served.
  const again = await call<Explained>(page, 'explain', photo(plainHost, 'class-1/1.png'), { methods: ['gradcam'] });
  expect(again.error).toBeNull();
  expect(again.stages[0].predictions![0].label).toBe('Class 1');
  await page.close();

  // The third origin embedding the widget itself: the browser refuses the frame (frame-ancestors),
  // and ready says why instead of waiting forever (tests/widget/frame.test.ts has the details).
  const own = await openHost(browser, third, widget.origin);
  const result = await call<Ready>(own, 'embed');
  expect(result.error).toMatchObject({ code: 'ORIGIN_NOT_ALLOWED', message: expect.stringContaining(third.origin) });
  expect(own.frames().some((f) => f.url().startsWith(`${widget.origin}/widget/`))).toBe(false);
  expect(await own.evaluate('hostTest.inbox')).toEqual([]);
  await own.close();
});

interface Answer { origin: string; type: string; id: string | null; code?: string }

test('malformed messages get a typed error or nothing, and the widget keeps working', async () => {
  const page = await openHost(browser, plainHost, widget.origin);
  const ready = await call<Ready & { info: { limits: { maxImagePixels: number } } }>(page, 'embed', { model: model(plainHost) });
  expect(ready.info!.limits.maxImagePixels).toBe(DEPLOYED_MAX_PIXELS);
  const png = `(await (await fetch(${JSON.stringify(photo(plainHost, 'class-1/3.png'))})).blob())`;
  const cases: Array<[string, string, Array<Partial<Answer>>]> = [
    ['wrong version', `[{ whycam: 2, type: 'hello', id: 'v2' }]`, [{ type: 'error', id: 'v2', code: 'UNSUPPORTED_VERSION' }]],
    ['version as a string', `[{ whycam: '1', type: 'explain', id: 'v3', image: ${png} }]`, [{ type: 'error', id: 'v3', code: 'UNSUPPORTED_VERSION' }]],
    ['missing image', `[{ whycam: 1, type: 'explain', id: 'm1' }]`, [{ type: 'error', id: 'm1', code: 'BAD_MESSAGE' }]],
    ['image a string', `[{ whycam: 1, type: 'explain', id: 'm2', image: 'https://example.org/cat.png' }]`, [{ type: 'error', id: 'm2', code: 'BAD_MESSAGE' }]],
    ['image an ArrayBuffer', `[{ whycam: 1, type: 'explain', id: 'm3', image: new ArrayBuffer(16) }]`, [{ type: 'error', id: 'm3', code: 'BAD_MESSAGE' }]],
    ['methods not an array', `[{ whycam: 1, type: 'explain', id: 'm4', image: ${png}, options: { methods: 'gradcam' } }]`, [{ type: 'error', id: 'm4', code: 'BAD_MESSAGE' }]],
    ['unknown type', `[{ whycam: 1, type: 'eval', id: 'm5' }]`, [{ type: 'error', id: 'm5', code: 'BAD_MESSAGE' }]],
    ['huge id', `[{ whycam: 1, type: 'hello', id: 'x'.repeat(1e6) }]`, [{ type: 'error', id: null, code: 'BAD_MESSAGE' }]],
    ['17 MB file', `[{ whycam: 1, type: 'explain', id: 'p1', image: new Blob([new Uint8Array(17 * 1024 * 1024)], { type: 'image/png' }) }]`, [{ type: 'error', id: 'p1', code: 'PAYLOAD_TOO_LARGE' }]],
    ['a bitmap over the deployed cap', `(async () => { const b = await createImageBitmap(new ImageData(2100, 2000)); return [{ whycam: 1, type: 'explain', id: 'p2', image: b }, [b]]; })()`, [{ type: 'error', id: 'p2', code: 'PAYLOAD_TOO_LARGE' }]],
    ['not an image', `[{ whycam: 1, type: 'explain', id: 'e1', image: new Blob(['not a png'], { type: 'image/png' }) }]`, [{ type: 'error', id: 'e1', code: 'BAD_IMAGE' }]],
    ['unknown class', `[{ whycam: 1, type: 'explain', id: 'e2', image: ${png}, options: { class: 'Class 9' } }]`, [{ type: 'error', id: 'e2', code: 'UNKNOWN_CLASS' }]],
    ['a model that is not there', `[{ whycam: 1, type: 'explain', id: 'e3', image: ${png}, options: { model: ${JSON.stringify(`${plainHost.origin}/models/nothing/model.json`)} } }]`, [{ type: 'error', id: 'e3', code: 'MODEL_NOT_FOUND' }]],
    ['a string', `['hello']`, []],
    ['a number', `[42]`, []],
    ['null', `[null]`, []],
    ['another script message', `[{ type: 'explain', id: 'x' }]`, []],
    ['an array', `[[1, 2, 3]]`, []],
  ];
  for (const [what, build, expected] of cases) {
    const answers = await call<Answer[]>(page, 'raw', build, expected.length ? 60_000 : 1500);
    expect({ what, answers }).toEqual({ what, answers: expected.map((e) => expect.objectContaining({ ...e, origin: widget.origin })) });
  }
  const frame = widgetFrame(page, widget.origin);
  expect((await widgetSnapshot(frame)).data.state).toBe('ready');
  // Still working, with its model: a valid request explains.
  expectFullExplanation(await call<Explained>(page, 'explain', photo(plainHost, 'class-2/7.png')), 'Class 2');
  await page.close();
});

// Last on the plain host: it loads the default model and the SIMD binary, which the tests above expect to fetch themselves.
test('the default model (ImageNet) on a non-square photo: the region it saw is reported and framed, the rest dimmed', async () => {
  const page = await openHost(browser, plainHost, widget.origin);
  const ready = await call<Ready>(page, 'embed');
  expect(ready.error).toBeNull();
  expect(ready.info!.model.labels).toHaveLength(1000);
  const r = await call<Explained>(page, 'explain', `${plainHost.origin}/photos/chelsea.png`, { methods: ['gradcam'] }, 'blob');
  expect(r.error).toBeNull();
  // 451x300: the centre 300x300 square (cover), as the CLI and the app see it.
  expect(r.stages[0].region).toEqual({ x: 75, y: 0, width: 300, height: 300 });
  expect(r.stages[0].predictions!.slice(0, 5).map((p) => p.label).some((l) => ['tabby', 'tiger cat', 'Egyptian cat'].includes(l))).toBe(true);
  const shade = await widgetFrame(page, widget.origin).evaluate(`(() => {
    const c = document.getElementById('view');
    const ctx = c.getContext('2d');
    const mean = (x) => { const d = ctx.getImageData(x, 0, 2, c.height).data; let s = 0; for (let i = 0; i < d.length; i += 4) s += d[i] + d[i + 1] + d[i + 2]; return s / (d.length / 4); };
    return { width: c.width, height: c.height, edge: mean(4), centre: mean(Math.round(c.width / 2)) };
  })()`) as { width: number; height: number; edge: number; centre: number };
  expect(shade.width / shade.height).toBeCloseTo(451 / 300, 2);
  expect(shade.edge).toBeLessThan(shade.centre);
  await page.close();
});

describe('camera', () => {
  let cam: Browser;
  let video: string;

  beforeAll(async () => {
    video = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'whycam-widget-video-')), 'class-2.y4m');
    pngToY4m(path.join(path.resolve(__dirname, '../../../shared/fixtures/teachable-machine'), 'images/class-2/1.png'), video);
    cam = await launch({ video });
  });

  afterAll(async () => {
    await cam?.close();
    fs.rmSync(path.dirname(video), { recursive: true, force: true });
  });

  test('inside the frame when the host grants allow="camera"; refused as CAMERA_BLOCKED when it does not', async () => {
    const page: Page = await openHost(cam, plainHost, widget.origin);
    const ready = await call<Ready>(page, 'embed', { model: model(plainHost), camera: true });
    expect(ready.info!.camera).toBe(true);
    expect(await call(page, 'camera', 'capture')).toMatchObject({ error: { code: 'CAMERA_UNAVAILABLE' } });
    expect(await call(page, 'camera', 'start')).toMatchObject({ value: 'on', error: null });
    const shot = await call<{ value: { predictions: Array<{ label: string }> }; stages: Array<{ stage: string }>; error: unknown }>(page, 'camera', 'capture');
    expect(shot.error).toBeNull();
    expect(shot.stages.map((s) => s.stage)).toEqual(['prediction', 'class-maps', 'gradient-maps', 'guided-gradcam']);
    expect(shot.value.predictions[0].label).toBe('Class 2');
    expect(await call(page, 'camera', 'stop')).toMatchObject({ value: 'off', error: null });
    await page.close();

    const denied = await openHost(cam, plainHost, widget.origin);
    const r2 = await call<Ready>(denied, 'embed', { model: model(plainHost) });
    expect(r2.info!.camera).toBe(false);
    expect(await call(denied, 'camera', 'start')).toMatchObject({ value: null, error: { code: 'CAMERA_BLOCKED', message: expect.stringContaining('allow="camera"') } });
    // And it keeps working.
    expect((await call<Explained>(denied, 'explain', photo(plainHost, 'class-2/2.png'), { methods: ['gradcam'] })).error).toBeNull();
    await denied.close();
  });
});
