/**
 * The service worker (compiled by Workbox's InjectManifest into sw.js).
 * - Precaches everything the build emitted: the shell, the worker and its .wasm binaries, the
 *   default model (in a content-hashed directory, so an update brings a whole new model and never
 *   mixes its files with the old one's), samples, icons. Weight files over Workbox's 2 MB default
 *   are included (maximumFileSizeToCacheInBytes in webpack.config.ts).
 * - Adds COOP/COEP/CORP to every response it serves, so the app is cross-origin isolated (and the
 *   worker may use the threaded wasm binary) even on a static host that cannot send headers.
 * - Serves navigations from the precached index.html when offline.
 * A new version installs in the background and takes over when every tab of the old one is closed
 * (no skipWaiting): a running page never sees files of two versions.
 */
import { cleanupOutdatedCaches, createHandlerBoundToURL, precacheAndRoute, addPlugins } from 'workbox-precaching';
import { NavigationRoute, registerRoute, setCatchHandler } from 'workbox-routing';
import { CacheFirst } from 'workbox-strategies';
import { clientsClaim } from 'workbox-core';
import type { WorkboxPlugin } from 'workbox-core/types';

declare const self: ServiceWorkerGlobalScope & { __WB_MANIFEST: Array<{ url: string; revision: string | null }> };

const ISOLATION: Record<string, string> = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
  'Cross-Origin-Resource-Policy': 'same-origin',
};

function isolate(response: Response): Response {
  // Opaque responses cannot be read or changed (and COEP would block them anyway).
  if (response.type === 'opaque' || response.type === 'opaqueredirect' || response.status === 0) return response;
  const headers = new Headers(response.headers);
  for (const [k, v] of Object.entries(ISOLATION)) if (!headers.has(k)) headers.set(k, v);
  return new Response(response.body, { status: response.status, statusText: response.statusText, headers });
}

const isolationPlugin: WorkboxPlugin = {
  handlerWillRespond: async ({ response }) => isolate(response),
};

clientsClaim();
cleanupOutdatedCaches();
addPlugins([isolationPlugin]);
precacheAndRoute(self.__WB_MANIFEST);

// Any other navigation inside the app's scope gets the shell (a deep link, a ?query).
registerRoute(new NavigationRoute(createHandlerBoundToURL('index.html')));

/**
 * Models fetched from a URL with ?whycam-cache (e.g. a model the app imports from the web):
 * cache-first, and only complete answers are kept — a response whose body is shorter than its
 * Content-Length, or that is not a 200, is never cached.
 */
registerRoute(
  ({ url }) => url.searchParams.has('whycam-cache'),
  new CacheFirst({
    cacheName: 'whycam-model-urls',
    plugins: [
      {
        cacheWillUpdate: async ({ response }) => {
          if (response.status !== 200) return null;
          const declared = Number(response.headers.get('Content-Length'));
          if (declared) {
            const body = await response.clone().arrayBuffer();
            if (body.byteLength !== declared) return null;
          }
          return response;
        },
      },
      isolationPlugin,
    ],
  }),
);

// Offline and not cached: a plain answer rather than the browser's error page.
setCatchHandler(async ({ request }) => {
  if (request.destination === 'document') {
    const shell = await caches.match('index.html', { ignoreSearch: true });
    if (shell) return isolate(shell);
  }
  return Response.error();
});
