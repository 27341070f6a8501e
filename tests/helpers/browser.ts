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

type ContextOptions = NonNullable<Parameters<typeof chromium.launchPersistentContext>[1]>;

export interface ChromiumOptions {
  /** A fake camera that plays this .y4m file, allowed without a prompt. */
  video?: string;
  /** A camera exists but the person says no. */
  denyCamera?: boolean;
  /** Playwright's context options (viewport, service workers, ...). */
  context?: Omit<ContextOptions, 'executablePath' | 'headless' | 'args'>;
}

/** A fresh profile (its own HTTP cache) per launch, removed on close. */
export async function launchChromium(options: ChromiumOptions = {}): Promise<LaunchedBrowser> {
  assertChromium();
  const args = [...CHROMIUM_FLAGS];
  if (options.denyCamera) args.push('--use-fake-device-for-media-stream', '--deny-permission-prompts');
  if (options.video) args.push('--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream', `--use-file-for-fake-video-capture=${options.video}`);
  const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'whycam-chromium-'));
  const context = await chromium.launchPersistentContext(userDataDir, {
    ...options.context,
    executablePath: CHROMIUM,
    headless: true,
    args,
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
