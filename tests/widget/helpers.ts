/**
 * Shared by the widget's browser tests: the built app (dist/pwa, built once by the PWA tests'
 * ensureBuild) copied to a temp directory with the deployer's allowlist written into
 * widget/widget-config.json, served by `npm start`'s own server (pwa/server.ts) with a request
 * log; host pages on other 127.0.0.1 ports (tests/helpers/static-server.ts); Chromium with
 * service workers blocked unless a test needs them.
 */
import * as fs from 'fs';
import * as http from 'http';
import type { AddressInfo } from 'net';
import * as os from 'os';
import * as path from 'path';
import type { BrowserContext, Frame, Page } from 'playwright-core';
import { createServer } from '../../pwa/server';
import { launchChromium } from '../helpers/browser';
import { startStaticServer, type ServedRequest, type StaticServer } from '../helpers/static-server';
import { DIST, ensureBuild, FIXTURES } from '../pwa/helpers';

export { BUILD_TIMEOUT_MS } from '../pwa/helpers';
export const HOST_PAGES = path.join(__dirname, 'pages');
export const DEPLOYED_MAX_PIXELS = 4_000_000;

/** A copy of the build with this allowlist (as a deployer would set it), so later rebuilds by other tests cannot pull files from under us. */
export async function deployWidget(allowedOrigins: string[] | null): Promise<string> {
  await ensureBuild();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'whycam-widget-'));
  fs.cpSync(DIST, dir, { recursive: true });
  if (allowedOrigins) {
    const file = path.join(dir, 'widget/widget-config.json');
    const config = JSON.parse(fs.readFileSync(file, 'utf8')) as { allowedOrigins: string[]; limits: { maxImagePixels: number } };
    config.allowedOrigins = allowedOrigins;
    // A deployer's own, smaller cap on bitmaps (4 MP), so a test can exceed it cheaply.
    config.limits.maxImagePixels = DEPLOYED_MAX_PIXELS;
    fs.writeFileSync(file, JSON.stringify(config));
  }
  return dir;
}

export interface LoggedServer {
  origin: string;
  requests: ServedRequest[];
  close(): Promise<void>;
}

/** pwa/server.ts's createServer on an ephemeral 127.0.0.1 port, logging every request. */
export async function serveWithAppServer(dir: string): Promise<LoggedServer> {
  const server: http.Server = createServer(dir);
  const requests: ServedRequest[] = [];
  server.prependListener('request', (req: http.IncomingMessage, res: http.ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const entry: ServedRequest = { method: req.method ?? 'GET', path: url.pathname, search: url.search, status: 0 };
    requests.push(entry);
    res.on('finish', () => { entry.status = res.statusCode; });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

/** A host site: the test pages, and the Teachable Machine model under /models/ readable by other origins (CORS), as a model card site would serve it. */
export function serveHost(isolated: boolean, mounts: Record<string, string> = {}): Promise<StaticServer> {
  return startStaticServer({
    mounts: { '/': HOST_PAGES, '/models/': FIXTURES, ...mounts },
    isolated,
    headers: (p): Record<string, string> => (p.startsWith('/models/') ? { 'Access-Control-Allow-Origin': '*', 'Cross-Origin-Resource-Policy': 'cross-origin' } : {}),
  });
}

export interface Browser {
  context: BrowserContext;
  /** Console errors of every page and frame. */
  errors: string[];
  close(): Promise<void>;
}

export async function launch(options: { serviceWorkers?: boolean; video?: string } = {}): Promise<Browser> {
  const { context, close } = await launchChromium({ video: options.video, context: { serviceWorkers: options.serviceWorkers ? 'allow' : 'block' } });
  const errors: string[] = [];
  context.on('console', (m) => { if (m.type() === 'error') errors.push(`${m.text()} (${m.location().url})`); });
  return {
    context,
    errors,
    close,
  };
}

/** Opens the host page `file` (tests/widget/pages) of `host`, telling it where the widget is. */
export async function openHost(browser: Browser, host: StaticServer | LoggedServer, widget: string, options: { file?: string; embed?: string; page?: Page } = {}): Promise<Page> {
  const page = options.page ?? await browser.context.newPage();
  if (!options.page) page.on('pageerror', (e) => browser.errors.push(`pageerror: ${e.message}`));
  const query = new URLSearchParams({ widget, ...(options.embed ? { embed: options.embed } : {}) });
  await page.goto(`${host.origin}/${options.file ?? 'host.html'}?${query}`);
  await page.waitForFunction('typeof globalThis.hostTest === "object"');
  return page;
}

/** Calls hostTest.<fn>(...args) on the page (a string expression: none of this file's transpiled code runs there). */
export function call<T>(page: Page | Frame, fn: string, ...args: unknown[]): Promise<T> {
  return page.evaluate(`globalThis.hostTest.${fn}(${args.map((a) => JSON.stringify(a)).join(', ')})`) as Promise<T>;
}

export function widgetFrame(page: Page, widgetOrigin: string): Frame {
  const f = page.frames().find((x) => x.url().startsWith(`${widgetOrigin}/widget/`));
  if (!f) throw new Error(`no widget frame from ${widgetOrigin} on ${page.url()}`);
  return f;
}

/** What the widget shows and holds: its data attributes, its predictions and a checksum of its canvas. */
export function widgetSnapshot(frame: Frame): Promise<{ data: Record<string, string>; predictions: string; canvas: string }> {
  return frame.evaluate(`(() => {
    const c = document.getElementById('view');
    const px = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    let h = 0;
    for (let i = 0; i < px.length; i++) h = (h * 31 + px[i]) >>> 0;
    return { data: { ...document.documentElement.dataset }, predictions: document.getElementById('predictions').textContent, canvas: c.width + 'x' + c.height + ':' + h };
  })()`);
}

export interface StageRecord {
  stage: string;
  at: number;
  elapsedMs: number;
  predictions?: Array<{ label: string; probability: number }>;
  /** The prediction stage's: the part of the image the model saw. */
  region?: { x: number; y: number; width: number; height: number };
  maps: Array<{ method: string; width: number; height: number; channels: number; length: number; type: string; finite: boolean; maxAbs: number }>;
}

export interface Explained {
  stages: StageRecord[];
  result: { predictions: Array<{ label: string }>; classIndex: number; maps: string[] } | null;
  error: { code: string; message: string } | null;
}

export const wasmFetched = (requests: ServedRequest[], from = 0) => requests.slice(from).filter((r) => r.path.endsWith('.wasm')).map((r) => r.path);

export const WASM = {
  'threaded-simd': /^\/worker\/tfjs-backend-wasm-threaded-simd\.[0-9a-f]{8}\.wasm$/,
  simd: /^\/worker\/tfjs-backend-wasm-simd\.[0-9a-f]{8}\.wasm$/,
};
