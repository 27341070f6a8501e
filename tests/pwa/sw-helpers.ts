/**
 * Helpers for the service-worker tests: waiting until the service worker controls a page, and a
 * "remote" model host on its own port (another origin) that allows CORS, logs every request and
 * can be taken down (its connections are then destroyed, as an unreachable server).
 */
import * as http from 'http';
import type { AddressInfo } from 'net';
import type { Page } from 'playwright-core';
import sirv from 'sirv';

export async function waitForServiceWorker(page: Page): Promise<void> {
  // ready = activated, i.e. every precached file is in the cache; clientsClaim makes it control this page.
  await page.evaluate(async () => {
    await navigator.serviceWorker.ready;
    if (!navigator.serviceWorker.controller) await new Promise((r) => navigator.serviceWorker.addEventListener('controllerchange', r, { once: true }));
  });
}

export interface RemoteServer {
  origin: string;
  /** `GET /path status`, in order. */
  log: string[];
  /** While true, every connection is destroyed without an answer. */
  down: boolean;
  close(): Promise<void>;
}

/** Serves `dir` (re-read on every request) with CORS open to any origin, on 127.0.0.1 and an ephemeral port. */
export async function startRemoteServer(dir: string): Promise<RemoteServer> {
  const serve = sirv(dir, { dev: true, etag: true });
  const remote: RemoteServer = { origin: '', log: [], down: false, close: async () => {} };
  const server = http.createServer((req, res) => {
    if (remote.down) {
      req.socket.destroy();
      return;
    }
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    res.on('finish', () => remote.log.push(`${req.method} ${path} ${res.statusCode}`));
    res.setHeader('Access-Control-Allow-Origin', '*');
    res.setHeader('Cross-Origin-Resource-Policy', 'cross-origin');
    res.setHeader('Cache-Control', 'no-cache');
    serve(req, res, () => {
      res.statusCode = 404;
      res.end('not found');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  remote.origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  remote.close = () => new Promise<void>((resolve) => {
    server.closeAllConnections();
    server.close(() => resolve());
  });
  return remote;
}
