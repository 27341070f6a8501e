/**
 * Debian's Chromium, headless, driven by playwright-core (which downloads no browser of
 * its own). Missing Chromium is a test failure, never a skip: the browser tests are how
 * the worker, the wasm binaries and cross-origin isolation are shown to work.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { chromium, type Browser, type BrowserContext } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';

export const CHROMIUM_FLAGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
];

export interface LaunchedBrowser {
  context: BrowserContext;
  browser: Browser | null;
  close(): Promise<void>;
}

export function assertChromium(): void {
  if (!fs.existsSync(CHROMIUM)) {
    throw new Error(`Chromium is not installed at ${CHROMIUM}; the browser tests need Debian's package: apt-get install -y chromium`);
  }
}

/** A fresh profile (its own HTTP cache) per launch, removed on close. */
export async function launchChromium(): Promise<LaunchedBrowser> {
  assertChromium();
  const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'whycam-chromium-'));
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_FLAGS,
  });
  return {
    context,
    browser: context.browser(),
    async close() {
      await context.close().catch(() => {});
      fs.rmSync(userDataDir, { recursive: true, force: true });
    },
  };
}
