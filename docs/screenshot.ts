/// <reference lib="dom" />
/**
 * Takes docs/app.png, the README's picture of the app: the built app (npm run build:pwa) served
 * as `npm start` serves it, Chromium at a phone viewport (390x844), one sample explained (by default
 * the cat, chelsea.png, on the default model with Grad-CAM), the page from its top to the method buttons.
 *
 *   npx tsx docs/screenshot.ts [--sample "<sample title>"] [--method gradcam] [--out docs/app.png]
 *
 * The PNG keeps 6 bits a channel (no visible change) so that it stays under 200 KB.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { chromium } from 'playwright-core';
import { PNG } from 'pngjs';
import { createServer } from '../pwa/server';

function option(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1] : fallback;
}

/** Drops the low `bits` of each colour channel and the alpha channel entirely: deflate then finds far more repeats. */
function posterize(file: string, bits: number): number {
  const png = PNG.sync.read(fs.readFileSync(file));
  const mask = (0xff << bits) & 0xff;
  for (let i = 0; i < png.data.length; i += 4) {
    for (let c = 0; c < 3; c++) {
      const v = png.data[i + c] & mask;
      png.data[i + c] = v | (v >> (8 - bits));
    }
  }
  const bytes = PNG.sync.write(png, { colorType: 2, inputHasAlpha: true, deflateLevel: 9 });
  fs.writeFileSync(file, bytes);
  return bytes.length;
}

async function main(): Promise<void> {
  const sample = option('sample', 'Cat');
  const method = option('method', 'gradcam');
  const out = path.resolve(option('out', path.join(__dirname, 'app.png')));
  const stagesDone = (): boolean => (document.documentElement.dataset.stages ?? '').split(' ').includes('guided-gradcam');

  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as import('net').AddressInfo).port;
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'whycam-screenshot-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run'],
    viewport: { width: 390, height: 844 },
    deviceScaleFactor: 1,
    isMobile: true,
    hasTouch: true,
  });
  try {
    const page = context.pages()[0] ?? (await context.newPage());
    await page.goto(`http://127.0.0.1:${port}/`);
    await page.waitForFunction(() => document.documentElement.dataset.model === 'ready', undefined, { timeout: 180_000 });
    const button = sample ? page.locator(`#samples button[title="${sample}"]`) : page.locator('#samples button').first();
    await button.click();
    await page.waitForFunction(stagesDone, undefined, { timeout: 180_000 });
    await page.locator(`[data-method="${method}"]`).click();
    await page.evaluate(() => window.scrollTo(0, 0));
    await page.waitForTimeout(500);
    // Down to the end of the method section, which follows the top classes.
    const bottom = await page.locator('#methods').evaluate((e) => e.parentElement!.getBoundingClientRect().bottom + window.scrollY);
    await page.screenshot({ path: out, fullPage: true, clip: { x: 0, y: 0, width: 390, height: Math.ceil(bottom) + 12 } });
    console.log(`${path.relative(process.cwd(), out)}: ${posterize(out, 2)} bytes`);
  } finally {
    await context.close();
    server.close();
    fs.rmSync(profile, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
