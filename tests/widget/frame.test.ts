/**
 * Who may frame the widget, and what a host hears when it may not, in Chromium with the
 * production build served by pwa/server.ts under a deployer's allowlist:
 * - the widget page carries `Content-Security-Policy: frame-ancestors` built from the allowlist;
 * - an allowed host frames it and gets ready; another origin's frame is blocked by the browser,
 *   and embed.js rejects `ready` and `explain` with ORIGIN_NOT_ALLOWED within about 10 s;
 * - a widget URL nobody answers at rejects them with WIDGET_UNREACHABLE;
 * - the copy-paste snippet of docs/widget.md (and the README), pasted into an empty page on an
 *   allowed origin, embeds, explains a chosen file and raises no page error.
 */
import * as fs from 'fs';
import * as http from 'http';
import type { AddressInfo } from 'net';
import * as os from 'os';
import * as path from 'path';
import { FIXTURES } from '../pwa/helpers';
import { startStaticServer, type StaticServer } from '../helpers/static-server';
import { BUILD_TIMEOUT_MS, call, deployWidget, launch, openHost, serveHost, serveWithAppServer, type Browser, type LoggedServer } from './helpers';

const REPO = path.resolve(__dirname, '../..');
const PHOTO = path.join(FIXTURES, 'images/class-2/1.png');

let allowed: StaticServer;
let other: StaticServer;
let snippetHost: StaticServer;
let snippetDir: string;
let widget: LoggedServer;
let deployed: string;
let browser: Browser;

interface Ready { info: { model: { name: string } } | null; error: { code: string; message: string } | null }

beforeAll(async () => {
  snippetDir = fs.mkdtempSync(path.join(os.tmpdir(), 'whycam-snippet-'));
  [allowed, other, snippetHost] = await Promise.all([serveHost(false), serveHost(false), startStaticServer({ mounts: { '/': snippetDir } })]);
  deployed = await deployWidget([allowed.origin, snippetHost.origin]);
  widget = await serveWithAppServer(deployed);
  browser = await launch();
}, BUILD_TIMEOUT_MS);

afterAll(async () => {
  await browser?.close();
  await Promise.all([allowed, other, snippetHost, widget].map((s) => s?.close()));
  for (const d of [deployed, snippetDir]) if (d) fs.rmSync(d, { recursive: true, force: true });
});

test('the widget page is sent with frame-ancestors from the allowlist; other files are not', async () => {
  const policy = `frame-ancestors 'self' ${allowed.origin} ${snippetHost.origin}`;
  for (const p of ['/widget/', '/widget/index.html']) {
    const res = await fetch(`${widget.origin}${p}`);
    expect({ p, status: res.status, csp: res.headers.get('content-security-policy') }).toEqual({ p, status: 200, csp: policy });
  }
  for (const p of ['/widget/embed.js', '/index.html']) expect((await fetch(`${widget.origin}${p}`)).headers.get('content-security-policy')).toBeNull();
});

test('an allowed host frames the widget and gets ready', async () => {
  const page = await openHost(browser, allowed, widget.origin);
  const ready = await call<Ready>(page, 'embed');
  expect(ready.error).toBeNull();
  expect(ready.info!.model.name).toBeTruthy();
  expect(page.frames().some((f) => f.url().startsWith(`${widget.origin}/widget/`))).toBe(true);
  await page.close();
});

test('another origin cannot frame it; ready and explain reject with ORIGIN_NOT_ALLOWED, saying how to allow it', async () => {
  const page = await openHost(browser, other, widget.origin);
  const refused: string[] = [];
  page.on('console', (m) => { if (/frame-ancestors/.test(m.text())) refused.push(m.text()); });
  const t0 = Date.now();
  const ready = await call<Ready>(page, 'embed');
  const waited = Date.now() - t0;
  expect(ready.info).toBeNull();
  expect(ready.error!.code).toBe('ORIGIN_NOT_ALLOWED');
  expect(ready.error!.message).toContain(other.origin);
  expect(ready.error!.message).toContain('WHYCAM_WIDGET_ORIGINS');
  expect(ready.error!.message).toContain('allowedOrigins');
  expect(waited).toBeGreaterThanOrEqual(9_000);
  expect(waited).toBeLessThan(20_000);
  // The browser refused the frame: no frame holds the widget page, and it said why.
  expect(page.frames().some((f) => f.url().startsWith(`${widget.origin}/widget/`))).toBe(false);
  expect(refused.length).toBeGreaterThanOrEqual(1);
  const explained = await call<{ error: { code: string } | null }>(page, 'explain', `${other.origin}/models/images/class-2/1.png`);
  expect(explained.error!.code).toBe('ORIGIN_NOT_ALLOWED');
  await page.close();
});

test('a widget URL nobody answers at: ready and explain reject with WIDGET_UNREACHABLE', async () => {
  // A port that was just free: nothing listens there.
  const probe = http.createServer();
  await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
  const port = (probe.address() as AddressInfo).port;
  await new Promise<void>((r) => probe.close(() => r()));
  const page = await openHost(browser, allowed, widget.origin);
  const t0 = Date.now();
  const ready = await call<Ready>(page, 'embed', { src: `http://127.0.0.1:${port}/widget/` });
  expect(Date.now() - t0).toBeLessThan(20_000);
  expect(ready.error!.code).toBe('WIDGET_UNREACHABLE');
  expect(ready.error!.message).toContain(`http://127.0.0.1:${port}/widget/`);
  const explained = await call<{ error: { code: string } | null }>(page, 'explain', `${allowed.origin}/models/images/class-2/1.png`);
  expect(explained.error!.code).toBe('WIDGET_UNREACHABLE');
  await page.close();
});

/** The html block under "## Copy-paste" in docs/widget.md. */
function snippetFromDocs(): string {
  const doc = fs.readFileSync(path.join(REPO, 'docs/widget.md'), 'utf8');
  const section = doc.slice(doc.indexOf('## Copy-paste'));
  const m = /```html\n([\s\S]*?)```/.exec(section);
  if (!m) throw new Error('docs/widget.md has no html block under "## Copy-paste"');
  return m[1];
}

test('the copy-paste snippet, pasted into an empty page, embeds and explains a chosen photo with no page error', async () => {
  const snippet = snippetFromDocs();
  expect(fs.readFileSync(path.join(REPO, 'README.md'), 'utf8')).toContain(snippet);
  expect(snippet).toContain('https://whycam.example/');
  fs.writeFileSync(path.join(snippetDir, 'index.html'), snippet.replaceAll('https://whycam.example', widget.origin));
  const page = await browser.context.newPage();
  const pageErrors: string[] = [];
  const logs: string[] = [];
  page.on('pageerror', (e) => pageErrors.push(e.message));
  page.on('console', (m) => logs.push(m.type() === 'error' ? `error: ${m.text()} (${m.location().url})` : `${m.type()}: ${m.text()}`));
  await page.goto(`${snippetHost.origin}/index.html`);
  await page.waitForFunction(() => document.querySelector('iframe') !== null);
  await waitForLog(logs, /^log: whycam ready:/, 120_000);
  await page.setInputFiles('input[type=file]', PHOTO);
  // The snippet's last line: the top label and the fine map's width.
  const done = await waitForLog(logs, /^log: (?!whycam ready:)(.+) (\d+)$/, 120_000);
  expect(Number(/(\d+)$/.exec(done)![1])).toBeGreaterThan(0);
  expect(pageErrors).toEqual([]);
  // The browser's own request for /favicon.ico (the empty page names none) is no error of the snippet.
  expect(logs.filter((l) => l.startsWith('error:') && !/favicon\.ico/.test(l))).toEqual([]);
  await page.close();
});

async function waitForLog(logs: string[], pattern: RegExp, ms: number): Promise<string> {
  const end = Date.now() + ms;
  for (;;) {
    const hit = logs.find((l) => pattern.test(l));
    if (hit) return hit;
    if (Date.now() > end) throw new Error(`no console line matching ${pattern} within ${ms / 1000} s; saw:\n${logs.join('\n')}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}
