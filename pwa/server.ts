/**
 * `npm start`: builds the worker and the PWA (unless --no-build), then serves dist/pwa on
 * localhost with the headers that make the page cross-origin isolated (COOP same-origin, COEP
 * require-corp, CORP same-origin on every asset but the widget's), so the worker can run the
 * threaded wasm binary; the widget's page only lets the origins of its allowlist frame it.
 * Hashed files are cached for good; everything else is revalidated. PORT picks the port (8080).
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as http from 'http';
import * as path from 'path';
import sirv from 'sirv';
import { frameAncestors } from './widget/protocol';

const ROOT = path.resolve(__dirname, '..');
const DIST = path.join(ROOT, 'dist/pwa');

const HEADERS: Record<string, string> = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
  'Cross-Origin-Resource-Policy': 'same-origin',
};
const HASHED = /(\.[0-9a-f]{8,}\.[a-z0-9]+$)|(\/models\/[a-z0-9-]+-[0-9a-f]{8}\/)/i;
/**
 * The widget (its page, embed.js, the demo) is loaded by other sites, isolated ones among them,
 * whose COEP admits it only with CORP cross-origin; everything else is only ever loaded by our own
 * pages and stays same-origin. The widget's allowlist, not CORP, decides who may talk to it
 * (docs/widget.md).
 */
const EMBEDDABLE = /^\/widget\//;
/** The widget's page: framed only by the allowlist's origins (Content-Security-Policy frame-ancestors). */
const WIDGET_PAGE = /^\/widget(\/(index(\.html)?)?)?$/;

/**
 * frame-ancestors from the deployed widget/widget-config.json, read again when the file changes (a
 * deployer may edit it); no readable configuration: the widget's own origin only.
 */
function widgetFramePolicy(dir: string): () => string {
  const file = path.join(dir, 'widget/widget-config.json');
  let seen = '';
  let policy = "frame-ancestors 'self'";
  return () => {
    let stamp = '';
    try {
      stamp = String(fs.statSync(file).mtimeMs);
      if (stamp !== seen) {
        const rules = (JSON.parse(fs.readFileSync(file, 'utf8')) as { allowedOrigins?: unknown }).allowedOrigins;
        policy = frameAncestors(Array.isArray(rules) ? rules.filter((r): r is string => typeof r === 'string') : []);
      }
    } catch {
      policy = "frame-ancestors 'self'";
    }
    seen = stamp;
    return policy;
  };
}

export function createServer(dir = DIST): http.Server {
  const serve = sirv(dir, { etag: true, dev: false, dotfiles: false });
  const framePolicy = widgetFramePolicy(dir);
  return http.createServer((req, res) => {
    const pathname = new URL(req.url ?? '/', 'http://x').pathname;
    for (const [k, v] of Object.entries(HEADERS)) res.setHeader(k, v);
    if (EMBEDDABLE.test(pathname)) res.setHeader('Cross-Origin-Resource-Policy', 'cross-origin');
    if (WIDGET_PAGE.test(pathname)) res.setHeader('Content-Security-Policy', framePolicy());
    // The service worker script and the shell must never be stale; hashed files never change.
    res.setHeader('Cache-Control', HASHED.test(pathname) ? 'public, max-age=31536000, immutable' : 'no-cache');
    if (pathname.endsWith('.webmanifest')) res.setHeader('Content-Type', 'application/manifest+json');
    serve(req, res, () => {
      res.statusCode = 404;
      res.end('not found');
    });
  });
}

function main(): void {
  if (!process.argv.includes('--no-build')) {
    console.log('Building the worker and the app (webpack)…');
    const r = spawnSync('npx', ['webpack', '--config', 'webpack.config.ts', '--config-name', 'worker', '--config-name', 'pwa'], { cwd: ROOT, stdio: 'inherit' });
    if (r.status !== 0) process.exit(r.status ?? 1);
  }
  const port = Number(process.env.PORT ?? 8080);
  const server = createServer();
  server.listen(port, 'localhost', () => {
    const actual = (server.address() as import('net').AddressInfo).port;
    console.log(`whycam is served at http://localhost:${actual}/ (cross-origin isolated; Ctrl+C stops)`);
  });
}

if (require.main === module) main();
