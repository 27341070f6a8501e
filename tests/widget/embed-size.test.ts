/**
 * embed.js as built (dist/pwa/widget/embed.js): under 5 KB gzipped, self-contained (no chunk
 * loading, none of the engine, Comlink or tfjs), under a stable name the service worker
 * precaches beside the widget page.
 */
import * as fs from 'fs';
import * as path from 'path';
import * as zlib from 'zlib';
import { BUILD_TIMEOUT_MS, DIST, ensureBuild } from '../pwa/helpers';

beforeAll(async () => {
  await ensureBuild();
}, BUILD_TIMEOUT_MS);

test('embed.js is under 5 KB gzipped and carries no engine code', () => {
  const file = path.join(DIST, 'widget/embed.js');
  const js = fs.readFileSync(file);
  const gz = zlib.gzipSync(js, { level: 9 }).length;
  // Printed for the record (the README quotes it).
  console.log(`embed.js: ${js.length} bytes, ${gz} bytes gzipped`);
  expect(gz).toBeLessThan(5 * 1024);
  const text = js.toString('utf8');
  expect(text).not.toMatch(/tensorflow|tfjs|comlink|Comlink/i);
  // One self-contained script: no webpack chunk loading (importScripts, JSONP), no other file named.
  expect(text).not.toMatch(/importScripts|webpackChunk|\.js["']/);
  expect(text).toContain('whycam');
});

test('the widget page, embed.js and the allowlist are emitted and precached by the app\'s service worker', () => {
  const files = fs.readdirSync(path.join(DIST, 'widget'));
  expect(files).toEqual(expect.arrayContaining(['index.html', 'embed.js', 'widget-config.json', 'demo.html']));
  const script = files.find((f) => /^widget\.[0-9a-f]{8}\.js$/.test(f));
  expect(script).toBeDefined();
  const html = fs.readFileSync(path.join(DIST, 'widget/index.html'), 'utf8');
  expect(html).toMatch(new RegExp(`src="?${script!.replace('.', '\\.')}`));
  const sw = fs.readFileSync(path.join(DIST, 'sw.js'), 'utf8');
  const precached = [...sw.matchAll(/['"]url['"]:\s*['"]([^'"]+)['"]/g)].map((m) => m[1]);
  expect(precached).toEqual(expect.arrayContaining(['widget/index.html', 'widget/embed.js', 'widget/widget-config.json', `widget/${script}`, 'worker/whycam-worker.js']));
  // The page bundle has no tfjs (the worker has it).
  const bundle = fs.readFileSync(path.join(DIST, 'widget', script!), 'utf8');
  expect(bundle.length).toBeLessThan(80_000);
  expect(bundle).not.toMatch(/tfjs-backend-wasm|@tensorflow/);
  // Built without WHYCAM_WIDGET_ORIGINS (as the tests build): localhost only.
  const config = JSON.parse(fs.readFileSync(path.join(DIST, 'widget/widget-config.json'), 'utf8')) as { allowedOrigins: string[] };
  for (const rule of config.allowedOrigins) expect(rule).toMatch(/^https?:\/\/(localhost|127\.0\.0\.1|\[::1\]):\*$/);
});
