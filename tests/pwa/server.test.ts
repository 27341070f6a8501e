/**
 * `npm start`'s server (pwa/server.ts, here with --no-build on the shared build): prints its URL
 * and serves the app with COOP/COEP/CORP (cross-origin on the widget, same-origin elsewhere), the manifest's MIME type, wasm as application/wasm,
 * hashed files immutable and the shell revalidated.
 */
import { spawn, type ChildProcess } from 'child_process';
import * as path from 'path';
import * as fs from 'fs';
import { BUILD_TIMEOUT_MS, DIST, ensureBuild, ROOT } from './helpers';

let child: ChildProcess | null = null;

afterAll(() => {
  child?.kill();
});

test('npm start serves the app cross-origin isolated and prints the URL', async () => {
  await ensureBuild();
  child = spawn(process.execPath, [require.resolve('tsx/cli'), path.join(ROOT, 'pwa/server.ts'), '--no-build'], { env: { ...process.env, PORT: '0' }, cwd: ROOT });
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    child!.stdout!.on('data', (d) => {
      out += d;
      const m = /served at (http:\/\/localhost:\d+\/)/.exec(out);
      if (m) resolve(m[1]);
    });
    child!.on('exit', (code) => reject(new Error(`server exited (${code}): ${out}`)));
    setTimeout(() => reject(new Error(`no URL printed: ${out}`)), 60_000).unref();
  });
  const page = await fetch(url);
  expect(page.status).toBe(200);
  expect(page.headers.get('cross-origin-opener-policy')).toBe('same-origin');
  expect(page.headers.get('cross-origin-embedder-policy')).toBe('require-corp');
  expect(page.headers.get('cache-control')).toBe('no-cache');
  expect(await page.text()).toMatch(/<link rel="?manifest"? href="?manifest.webmanifest/);

  const manifest = await fetch(new URL('manifest.webmanifest', url));
  expect(manifest.headers.get('content-type')).toBe('application/manifest+json');
  const m = (await manifest.json()) as { display: string; theme_color: string; icons: Array<{ src: string; purpose?: string }> };
  expect(m.display).toBe('standalone');
  expect(m.theme_color).toMatch(/^#[0-9a-f]{6}$/);
  expect(m.icons.map((i) => i.src)).toEqual(expect.arrayContaining(['icons/icon-192.png', 'icons/icon-512.png']));
  expect(m.icons.some((i) => i.purpose === 'maskable')).toBe(true);

  const wasm = fs.readdirSync(path.join(DIST, 'worker')).find((f) => /simd\.[0-9a-f]{8}\.wasm$/.test(f))!;
  const w = await fetch(new URL(`worker/${wasm}`, url));
  expect(w.headers.get('content-type')).toBe('application/wasm');
  expect(w.headers.get('cross-origin-resource-policy')).toBe('same-origin');
  expect(w.headers.get('cache-control')).toContain('immutable');

  // The embeddable widget is loaded by other sites' (possibly isolated) pages: CORP cross-origin, COEP still on.
  for (const p of ['widget/', 'widget/embed.js']) {
    const r = await fetch(new URL(p, url));
    expect(r.status).toBe(200);
    expect(r.headers.get('cross-origin-resource-policy')).toBe('cross-origin');
    expect(r.headers.get('cross-origin-embedder-policy')).toBe('require-corp');
  }
  expect((await fetch(url)).headers.get('cross-origin-resource-policy')).toBe('same-origin');
}, BUILD_TIMEOUT_MS);
