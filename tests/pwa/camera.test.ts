/**
 * The camera path with Chromium's fake camera playing a sample scene (a PNG turned into a .y4m
 * video): the live coarse map follows the preview with its rate shown; a capture freezes the
 * frame and gives the top classes and the coarse map first, then the sharp maps.
 * Screenshots of the camera screens go to tests/artifacts/pwa/.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
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
  // The scene is a Teachable Machine class-2 photo: that model must say so; another default model only has to name one of its classes.
  const top = await page.locator('#predictions button .label').first().textContent();
  if (model.fixture) expect(top).toBe('Class 2');
  else expect(model.labels).toContain(top);
  await expect(page.locator('#video').isHidden()).resolves.toBe(true);
  await screenshot(page, '07-captured');
});
