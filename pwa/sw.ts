/**
 * The service worker (Workbox InjectManifest builds sw.js from it). It precaches the whole build,
 * so the app starts and explains offline; adds the cross-origin-isolation headers a static host
 * may not send, so the worker can use threads (and the widget page's frame-ancestors); and serves models imported from a URL
 * (sw-url-models.ts). A new version waits for "Update now", so no page mixes two versions' files.
 * docs/app.md describes the whole.
 */
import { cleanupOutdatedCaches, createHandlerBoundToURL, matchPrecache, precacheAndRoute, addPlugins } from 'workbox-precaching';
import { NavigationRoute, registerRoute, setCatchHandler } from 'workbox-routing';
import { clientsClaim } from 'workbox-core';
import type { WorkboxPlugin } from 'workbox-core/types';
import { handleUrlModelMessage, isUrlModelMessage, isUrlModelRequest, UrlModelCacheFirst } from './sw-url-models';
import { frameAncestors } from './widget/protocol';

declare const self: ServiceWorkerGlobalScope & { __WB_MANIFEST: Array<{ url: string; revision: string | null }> };

const ISOLATION: Record<string, string> = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
  'Cross-Origin-Resource-Policy': 'same-origin',
};

/** The widget page's frame-ancestors, from the precached widget-config.json (pwa/server.ts does the same). */
async function widgetFramePolicy(): Promise<string> {
  try {
    const config = await (await matchPrecache('widget/widget-config.json'))?.json() as { allowedOrigins?: unknown } | undefined;
    const rules = config?.allowedOrigins;
    return frameAncestors(Array.isArray(rules) ? rules.filter((r): r is string => typeof r === 'string') : []);
  } catch {
    return "frame-ancestors 'self'";
  }
}

async function isolate(response: Response): Promise<Response> {
  // Opaque responses cannot be read or changed (and COEP would block them anyway).
  if (response.type === 'opaque' || response.type === 'opaqueredirect' || response.status === 0) return response;
  const headers = new Headers(response.headers);
  // The widget's page: only the allowlist's origins may frame it, also on a static host that sends no such header.
  const widgetPage = new URL('widget/', self.registration.scope);
  const path = response.url ? new URL(response.url).pathname : '';
  if (path === widgetPage.pathname || path === `${widgetPage.pathname}index.html`) {
    const csp = headers.get('Content-Security-Policy');
    if (!csp) headers.set('Content-Security-Policy', await widgetFramePolicy());
    else if (!/frame-ancestors/.test(csp)) headers.set('Content-Security-Policy', `${csp}; ${await widgetFramePolicy()}`);
  }
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
    if (shell) return await isolate(shell);
  }
  return Response.error();
});

// The page's "Update now" button: the waiting version takes over, then the page reloads.
self.addEventListener('message', (event) => {
  if ((event.data as { type?: string } | null)?.type === 'SKIP_WAITING') void self.skipWaiting();
  // The page's URL-model requests: download a unit, check one before use, drop one.
  else if (isUrlModelMessage(event.data)) handleUrlModelMessage(event);
});
