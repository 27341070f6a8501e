/**
 * The service worker (compiled by Workbox's InjectManifest into sw.js).
 * - Precaches everything the build emitted: the shell, the worker and its .wasm binaries, the
 *   default model (in a content-hashed directory, so an update brings a whole new model and never
 *   mixes its files with the old one's), samples, icons. Weight files over Workbox's 2 MB default
 *   are included (maximumFileSizeToCacheInBytes in webpack.config.ts).
 * - Adds COOP/COEP/CORP to every response it serves, so the app is cross-origin isolated (and the
 *   worker may use the threaded wasm binary) even on a static host that cannot send headers.
 * - Serves navigations from the precached index.html when offline.
 * - Owns the network side of models imported from a URL (pwa/sw-url-models.ts): it downloads each
 *   one as a unit (version key = SHA-256 of model.json with the SHA-256 of every other file) and
 *   serves it through a cache-first runtime route that checks every entry's SHA-256 on each use,
 *   fetches a damaged one again only if the same bytes come back, and otherwise refuses, so a
 *   model is never half old, half new, or silently truncated. Models imported from files or a zip
 *   are kept by the page (pwa/library/store.ts), with the same per-file check.
 * A new version installs in the background and waits (no automatic skipWaiting): it takes over when
 * every tab of the old one is closed, or when the person taps "Update now", which reloads the page
 * at once, so a running page never sees files of two versions.
 */
import { cleanupOutdatedCaches, createHandlerBoundToURL, precacheAndRoute, addPlugins } from 'workbox-precaching';
import { NavigationRoute, registerRoute, setCatchHandler } from 'workbox-routing';
import { clientsClaim } from 'workbox-core';
import type { WorkboxPlugin } from 'workbox-core/types';
import { handleUrlModelMessage, isUrlModelMessage, isUrlModelRequest, UrlModelCacheFirst } from './sw-url-models';

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
  // The widget (widget/: its page and embed.js) is embedded by other sites, isolated ones among
  // them, whose COEP needs CORP cross-origin; the rest is only ever ours (pwa/server.ts says why).
  if (response.url.startsWith(new URL('widget/', self.registration.scope).href) && !headers.has('Cross-Origin-Resource-Policy')) {
    headers.set('Cross-Origin-Resource-Policy', 'cross-origin');
  }
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

// Models imported from a URL: cache-first from their kept unit, every entry checked (after the precache route, which wins).
registerRoute(isUrlModelRequest, new UrlModelCacheFirst());

// Offline and not cached: a plain answer rather than the browser's error page.
setCatchHandler(async ({ request }) => {
  if (request.destination === 'document') {
    const shell = await caches.match('index.html', { ignoreSearch: true });
    if (shell) return isolate(shell);
  }
  return Response.error();
});

// The page's "Update now" button: the waiting version takes over, then the page reloads.
self.addEventListener('message', (event) => {
  if ((event.data as { type?: string } | null)?.type === 'SKIP_WAITING') void self.skipWaiting();
  // The page's URL-model requests: download a unit, check one before use, drop one.
  else if (isUrlModelMessage(event.data)) handleUrlModelMessage(event);
});
