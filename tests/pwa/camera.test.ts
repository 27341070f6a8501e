/**
 * The camera path with Chromium's fake camera playing a sample scene (a PNG turned into a .y4m
 * video): the live coarse map follows the preview with its rate shown; a capture freezes the
 * frame and gives the top classes and the coarse map first, then the sharp maps. Live mode keeps
 * explaining frame after frame (predictions and overlay redrawn, rate shown) and a tap on the
 * preview freezes the frame and completes the sharp maps. Switch camera asks getUserMedia for the
 * other facingMode (recorded by a spy around the real call); with Chromium's one fake camera that
 * gives the same camera back, which the app says, and the preview and the live map go on.
 * Screenshots of the camera screens go to tests/artifacts/pwa/.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import type { Page } from 'playwright-core';
import type { StaticServer } from '../helpers/static-server';
import { BUILD_TIMEOUT_MS, builtDefaultModel, ensureBuild, FIXTURES, launchPhone, screenshot, serveApp, waitForModel, waitForStage, type Launched } from './helpers';
import { pngToY4m } from './y4m';

let server: StaticServer;
let app: Launched;
let tmp: string;

beforeAll(async () => {
  await ensureBuild();
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'whycam-cam-'));
  const video = path.join(tmp, 'scene.y4m');
  pngToY4m(path.join(FIXTURES, 'images/class-2/0.png'), video);
  server = await serveApp();
  app = await launchPhone({ video });
  // Records each getUserMedia call's constraints and stream (the real call still happens).
  await app.context.addInitScript(() => {
    const md = navigator.mediaDevices;
    if (!md?.getUserMedia) return;
    const real = md.getUserMedia.bind(md);
    const w = window as unknown as { gum: Array<{ constraints: string; stream?: MediaStream }> };
    w.gum = [];
    md.getUserMedia = async (c?: MediaStreamConstraints) => {
      const call: { constraints: string; stream?: MediaStream } = { constraints: JSON.stringify(c) };
      w.gum.push(call);
      call.stream = await real(c);
      return call.stream;
    };
  });
}, BUILD_TIMEOUT_MS);

afterAll(async () => {
  await app?.close();
  await server?.close();
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

test('fake camera: live coarse map with its rate, then a capture gives predictions, coarse map, sharp map', async () => {
  const { page } = app;
  await page.goto(`${server.origin}/`);
  await waitForModel(page);
  await page.locator('#camera').click();
  await page.locator('#capture').waitFor({ state: 'visible', timeout: 30_000 });
  await page.waitForFunction(() => (document.getElementById('video') as HTMLVideoElement).videoWidth > 0);

  // Live: the coarse map follows the preview; the rate is shown.
  await page.locator('#live').check();
  await page.waitForFunction(() => Number(document.documentElement.dataset.liveFrames ?? 0) >= 3, undefined, { timeout: 120_000 });
  await expect(page.locator('#fps').textContent()).resolves.toMatch(/^\d+\.\d maps\/s$/);
  const model = builtDefaultModel();
  await expect(page.locator('#predictions button').count()).resolves.toBe(Math.min(5, model.labels.length));
  await screenshot(page, '06-live');

  // A tap freezes the frame and completes the sharp maps, coarse first.
  await page.locator('#capture').click();
  const stages = await waitForStage(page, 'guided-gradcam');
  expect(stages).toEqual(['prediction', 'class-maps', 'gradient-maps', 'guided-gradcam']);
  await expect(page.locator('#video').isHidden()).resolves.toBe(true);
  await screenshot(page, '07-captured');
});

/** Whether the preview is really playing: new video frames arrive within a few seconds. */
async function previewRunning(page: Page): Promise<boolean> {
  return page.evaluate(() => new Promise<boolean>((resolve) => {
    const v = document.getElementById('video') as HTMLVideoElement;
    const track = (v.srcObject as MediaStream | null)?.getVideoTracks()[0];
    if (!track || track.readyState !== 'live' || v.hidden) return resolve(false);
    let frames = 0;
    const timer = setTimeout(() => resolve(false), 5000);
    const next = () => v.requestVideoFrameCallback(() => {
      if (++frames >= 3) {
        clearTimeout(timer);
        resolve(true);
      } else next();
    });
    next();
  }));
}

const liveFrames = (page: Page) => page.evaluate(() => Number(document.documentElement.dataset.liveFrames ?? 0));

test('switch camera: a new getUserMedia call for the other facingMode; with one camera the preview and the live map go on', async () => {
  const { page } = app;
  await page.goto(`${server.origin}/`);
  await waitForModel(page);
  await page.locator('#camera').click();
  await page.locator('#switch').waitFor({ state: 'visible', timeout: 30_000 });
  await expect(previewRunning(page)).resolves.toBe(true);
  await page.locator('#live').check();
  await page.waitForFunction(() => Number(document.documentElement.dataset.liveFrames ?? 0) >= 2, undefined, { timeout: 120_000 });

  const calls = () => page.evaluate(() => (window as unknown as { gum: Array<{ constraints: string }> }).gum.map((c) => JSON.parse(c.constraints)));
  const first = await calls();
  expect(first).toHaveLength(1);
  expect(first[0].video.facingMode).toEqual({ ideal: 'environment' });
  const cameras = await page.evaluate(async () => (await navigator.mediaDevices.enumerateDevices()).filter((d) => d.kind === 'videoinput').length);
  expect(cameras).toBe(1);

  await page.locator('#switch').click();
  await page.waitForFunction(() => document.documentElement.dataset.cameraSwitch !== undefined, undefined, { timeout: 30_000 });
  const second = await calls();
  expect(second).toHaveLength(2);
  expect(second[1].video.facingMode).toEqual({ ideal: 'user' });
  await expect(page.evaluate(() => document.documentElement.dataset.facing)).resolves.toBe('user');
  // Chromium's fake device is the only camera: the same one comes back, and the app says so.
  await expect(page.evaluate(() => document.documentElement.dataset.cameraSwitch)).resolves.toBe('same-camera');
  await expect(page.locator('#status').textContent()).resolves.toBe('This device has one camera; it stays on.');
  await expect(page.locator('#alert').isHidden()).resolves.toBe(true);
  // The old stream was stopped; the preview plays the new one, and the live map goes on with it.
  await expect(page.evaluate(() => {
    const gum = (window as unknown as { gum: Array<{ stream?: MediaStream }> }).gum;
    const v = document.getElementById('video') as HTMLVideoElement;
    return { oldEnded: gum[0].stream!.getTracks().every((t) => t.readyState === 'ended'), current: v.srcObject === gum[1].stream };
  })).resolves.toEqual({ oldEnded: true, current: true });
  await expect(previewRunning(page)).resolves.toBe(true);
  const after = await liveFrames(page);
  await page.waitForFunction((n) => Number(document.documentElement.dataset.liveFrames ?? 0) >= n + 2, after, { timeout: 120_000 });

  // And back.
  await page.locator('#switch').click();
  await page.waitForFunction(() => (window as unknown as { gum: unknown[] }).gum.length === 3 && document.documentElement.dataset.facing === 'environment', undefined, { timeout: 30_000 });
  expect((await calls())[2].video.facingMode).toEqual({ ideal: 'environment' });
  await expect(previewRunning(page)).resolves.toBe(true);
  await page.locator('#camera').click();
});

test('live mode explains the top class frame after frame with its rate shown; a tap on the preview freezes it and completes the sharp maps', async () => {
  const { page } = app;
  await page.goto(`${server.origin}/`);
  await waitForModel(page);
  const model = builtDefaultModel();
  await page.locator('#camera').click();
  await page.locator('#live-label').waitFor({ state: 'visible', timeout: 30_000 });
  await page.locator('#live').check();
  await page.waitForFunction(() => Number(document.documentElement.dataset.liveFrames ?? 0) >= 2, undefined, { timeout: 120_000 });

  // Continuously: more maps keep arriving, each with the top classes (the model's own labels) and an overlay drawn.
  const n = await liveFrames(page);
  await page.waitForFunction((k) => Number(document.documentElement.dataset.liveFrames ?? 0) >= k + 3, n, { timeout: 120_000 });
  await expect(page.locator('#fps').isVisible()).resolves.toBe(true);
  const fps = await page.locator('#fps').textContent();
  expect(fps).toMatch(/^\d+\.\d maps\/s$/);
  expect(parseFloat(fps!)).toBeGreaterThan(0);
  const top = await page.locator('#predictions button[aria-pressed=true] .label').textContent();
  expect(model.labels).toContain(top);
  const overlay = await page.evaluate(() => {
    const c = document.getElementById('live-overlay') as HTMLCanvasElement;
    const d = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
    let opaque = 0;
    for (let i = 3; i < d.length; i += 4) if (d[i] > 0) opaque++;
    return { visible: !c.hidden, opaque: opaque / (d.length / 4) };
  });
  expect(overlay.visible).toBe(true);
  // The coarse map is drawn over the whole preview (at the chosen opacity).
  expect(overlay.opaque).toBeGreaterThan(0.99);
  await expect(page.evaluate(() => document.documentElement.dataset.stages ?? '')).resolves.toBe('');

  // A tap on the preview: the frame freezes (camera off, the still shown) and every map is computed for it.
  await page.locator('#video').tap();
  const stages = await waitForStage(page, 'guided-gradcam');
  expect(stages).toEqual(['prediction', 'class-maps', 'gradient-maps', 'guided-gradcam']);
  await expect(page.locator('#video').isHidden()).resolves.toBe(true);
  await expect(page.locator('#live-overlay').isHidden()).resolves.toBe(true);
  await expect(page.locator('#view').isVisible()).resolves.toBe(true);
  await expect(page.evaluate(() => document.documentElement.dataset.shown)).resolves.toBe('guided-gradcam');
  // Frozen: no more live maps arrive.
  const frozen = await liveFrames(page);
  await page.waitForTimeout(1500);
  await expect(liveFrames(page)).resolves.toBe(frozen);
});
