/**
 * "Can I trust this map?" in the app, in Chromium at a phone viewport: on a sample scene the panel
 * measures the shown map and draws the deletion and insertion curves (the map's order and a random
 * one) with the engine's sentence and the sanity check's line; its cancel stops a check and leaves
 * the panel ready again. The methods beyond the five come on demand: Layer-CAM at a chosen layer,
 * Score-CAM with a progress bar and a cancel.
 */
import { appOnPhone, screenshot, waitForModel, waitForStage } from './helpers';

const phone = appOnPhone();

const dataset = (key: string) => phone.app.page.evaluate((k) => document.documentElement.dataset[k], key);

test('the trust panel draws two curves per plot and says what they mean; cancel stops it', async () => {
  const { page } = phone.app;
  await page.goto(`${phone.server.origin}/`);
  await waitForModel(page);
  await page.locator('#samples button').first().click();
  await waitForStage(page, 'guided-gradcam');
  await page.locator('[data-method=gradcam]').click();
  const run = page.getByRole('button', { name: 'Can I trust this map?' });
  await expect(run.isEnabled()).resolves.toBe(true);
  await expect(page.locator('#trust-for').textContent()).resolves.toMatch(/^for the Grad-CAM map of “.+”$/);

  await run.click();
  await page.waitForFunction(() => document.documentElement.dataset.trust === 'done' || document.documentElement.dataset.trust === 'idle', undefined, { timeout: 300_000 });
  await expect(dataset('trust')).resolves.toBe('done');
  for (const kind of ['deletion', 'insertion']) {
    const plot = page.locator(`#trust-plots svg[data-kind=${kind}]`);
    await expect(plot.getAttribute('aria-label')).resolves.toMatch(/area \d\.\d\d\) and in a random order \(area \d\.\d\d\)/);
    // Two curves, 21 points each (0 to 100 % in 5 % steps).
    const points = await plot.locator('polyline').evaluateAll((ls) => ls.map((l) => (l.getAttribute('points') ?? '').trim().split(/\s+/).length));
    expect(points).toEqual([21, 21]);
  }
  await expect(page.locator('#trust-result').textContent()).resolves.toMatch(/^Grad-CAM: removing its top pixels first lowers the class .* \(deletion area \d\.\d\d vs \d\.\d\d\).*\.$/);
  await expect(page.locator('#trust-result').getAttribute('aria-live')).resolves.toBe('polite');
  await expect(page.locator('#trust-sanity').textContent()).resolves.toMatch(/^Sanity check (passed|failed): .*rank correlation -?\d\.\d\d with \d+ layers? randomised/);
  await page.locator('#trust').scrollIntoViewIfNeeded();
  await screenshot(page, 'trust-01-result');

  // Another map shown: the result belongs to Grad-CAM and goes.
  await page.locator('[data-method=guided]').click();
  await expect(page.locator('#trust-plots svg').count()).resolves.toBe(0);
  await expect(page.locator('#trust-for').textContent()).resolves.toMatch(/^for the guided backprop map/i);

  // Cancel in the middle.
  await run.click();
  await page.waitForFunction(() => (document.getElementById('trust-progress') as HTMLProgressElement).value > 0, undefined, { timeout: 120_000 });
  await page.locator('#trust-cancel').click();
  await expect(dataset('trust')).resolves.toBe('idle');
  await expect(page.locator('#trust-result').textContent()).resolves.toMatch(/^Cancelled/);
  await expect(page.locator('#trust-progress').isHidden()).resolves.toBe(true);
  await expect(page.locator('#trust-plots svg').count()).resolves.toBe(0);
  await expect(run.isEnabled()).resolves.toBe(true);
  // The worker serves on: a class map of another method comes.
  await page.locator('[data-method=gradcam]').click();
  await expect(dataset('shown')).resolves.toBe('gradcam');
}, 600_000);

test('methods beyond the five on demand: Layer-CAM at a chosen layer, Score-CAM with progress and cancel', async () => {
  const { page } = phone.app;
  await page.locator('[data-method=layercam]').click();
  await page.waitForFunction(() => document.documentElement.dataset.shown === 'layercam', undefined, { timeout: 120_000 });
  await expect(page.locator('#layer-row').isVisible()).resolves.toBe(true);
  const options = await page.locator('#layer option').allTextContents();
  expect(options.length).toBeGreaterThan(3);
  expect(options[0]).toMatch(/— default$/);
  // A finer layer: the map is dropped and computed again there.
  const finer = await page.locator('#layer option').nth(3).getAttribute('value');
  await page.locator('#layer').selectOption(finer!);
  await page.waitForFunction(() => document.documentElement.dataset.shown === 'layercam' && /Layer-CAM ready/.test(document.getElementById('status')!.textContent ?? ''), undefined, { timeout: 120_000 });

  // Score-CAM streams in with the status saying so.
  await page.locator('[data-method=scorecam]').click();
  await page.waitForFunction(() => document.documentElement.dataset.shown === 'scorecam', undefined, { timeout: 300_000 });
  await expect(page.locator('#status').textContent()).resolves.toBe('Score-CAM ready.');
  await expect(page.locator('#method-run').isHidden()).resolves.toBe(true);

  // Integrated Gradients cancelled at its first progress report (the click comes in the same task,
  // before any later message of the worker): the bar goes, no map is drawn.
  await page.evaluate(() => {
    const bar = document.getElementById('method-progress') as HTMLProgressElement;
    const seen = new MutationObserver(() => {
      if (bar.value > 0 && document.getElementById('method-progress-label')!.textContent!.startsWith('Integrated Gradients:')) {
        seen.disconnect();
        document.documentElement.dataset.progressSeen = document.getElementById('method-progress-label')!.textContent!;
        document.getElementById('method-cancel')!.click();
      }
    });
    seen.observe(bar, { attributes: true });
    seen.observe(document.getElementById('method-progress-label')!, { childList: true, characterData: true, subtree: true });
  });
  await page.locator('[data-method=integrated-gradients]').click();
  await page.waitForFunction(() => /cancelled/.test(document.getElementById('status')!.textContent ?? ''), undefined, { timeout: 300_000 });
  await expect(dataset('progressSeen')).resolves.toMatch(/^Integrated Gradients: \d+ of \d+ passes$/);
  await expect(page.locator('#method-run').isHidden()).resolves.toBe(true);
  await expect(dataset('shown')).resolves.toBe('');

  // Picked again, it completes, and its completeness gap is said in words.
  await page.locator('[data-method=integrated-gradients]').click();
  await page.waitForFunction(() => document.documentElement.dataset.shown === 'integrated-gradients', undefined, { timeout: 300_000 });
  await expect(page.locator('#method-note').textContent()).resolves.toMatch(
    /^(Completeness: the map's total matches the score change to within \d+(\.\d)? %\.|The map's total differs from the score change by \d+(\.\d)? %; more steps would fix it\.)$/);
  await screenshot(page, 'trust-02-integrated-gradients');
}, 600_000);
