/**
 * A static file server for browser tests and benchmarks: sirv (MIME types incl.
 * application/wasm, ETag/304) on 127.0.0.1 with an ephemeral port, optionally sending the
 * headers that make a page cross-origin isolated, and logging every request so a test can
 * tell which files the browser fetched.
 *
 * Caching as the app wants it served: content-hashed names (`name.0123abcd.ext`) are
 * immutable for a year; everything else is revalidated (ETag) on every use.
 */
import * as http from 'http';
import type { AddressInfo } from 'net';
import sirv from 'sirv';

export interface ServedRequest {
  method: string;
  path: string;
  /** The query string, '?...' or ''. */
  search: string;
  status: number;
}

export interface StaticServerOptions {
  /** URL prefix -> directory, e.g. { '/': dist, '/models/': fixtures }. Longest prefix wins. */
  mounts: Record<string, string>;
  /**
   * Send COOP same-origin + COEP require-corp + CORP same-origin on every response (what a page
   * needs for SharedArrayBuffer and the threaded wasm binary). Default false.
   */
  isolated?: boolean;
  /** Per-request header overrides; a null value removes the header (e.g. COEP on one script). */
  headers?: (path: string) => Record<string, string | null>;
}

export interface StaticServer {
  /** Origin, e.g. http://127.0.0.1:41234 (no trailing slash). */
  origin: string;
  requests: ServedRequest[];
  close(): Promise<void>;
}

export const ISOLATION_HEADERS: Readonly<Record<string, string>> = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
  'Cross-Origin-Resource-Policy': 'same-origin',
};

const HASHED = /\.[0-9a-f]{8,}\.[a-z0-9]+$/i;

export async function startStaticServer(options: StaticServerOptions): Promise<StaticServer> {
  const mounts = Object.entries(options.mounts)
    .map(([prefix, dir]) => ({ prefix: prefix.endsWith('/') ? prefix : `${prefix}/`, handler: sirv(dir, { etag: true, dev: true, dotfiles: false }) }))
    .sort((a, b) => b.prefix.length - a.prefix.length);
  const requests: ServedRequest[] = [];
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const entry: ServedRequest = { method: req.method ?? 'GET', path: url.pathname, search: url.search, status: 0 };
    requests.push(entry);
    res.on('finish', () => { entry.status = res.statusCode; });
    // Set before sirv answers, so 304s carry them too.
    res.setHeader('Cache-Control', HASHED.test(url.pathname) ? 'public, max-age=31536000, immutable' : 'no-cache');
    if (options.isolated) for (const [k, v] of Object.entries(ISOLATION_HEADERS)) res.setHeader(k, v);
    for (const [k, v] of Object.entries(options.headers?.(url.pathname) ?? {})) {
      if (v === null) res.removeHeader(k);
      else res.setHeader(k, v);
    }
    const mount = mounts.find((m) => url.pathname.startsWith(m.prefix));
    if (!mount) {
      res.statusCode = 404;
      res.end('not found');
      return;
    }
    // sirv sees the path relative to its mount.
    req.url = `/${url.pathname.slice(mount.prefix.length)}${url.search}`;
    mount.handler(req, res, () => {
      res.statusCode = 404;
      res.end('not found');
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${port}`,
    requests,
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}
