/// <reference lib="dom" />
/**
 * Versions: a new build installs in the background and waits; the page offers "Update now", which
 * lets it take over and reloads. Any page whose service worker is replaced reloads at once (another
 * tab's "Update now" included), so no page runs with the files of two versions.
 */
import { $ } from '../dom';

export async function registerServiceWorker(): Promise<void> {
  if (!('serviceWorker' in navigator)) return;
  try {
    // Only a page that an older version already controls can be offered an update; on a first
    // visit the service worker installing is this version, not a new one.
    const controlled = navigator.serviceWorker.controller !== null;
    const reg = await navigator.serviceWorker.register('sw.js');
    let updating = false;
    const offer = (waiting: ServiceWorker) => {
      if (!controlled) return;
      $('update').hidden = false;
      $('update-now').onclick = () => {
        updating = true;
        waiting.postMessage({ type: 'SKIP_WAITING' });
      };
    };
    // Only an update (a controller already exists) is offered; the first install just takes over.
    if (reg.waiting && navigator.serviceWorker.controller) offer(reg.waiting);
    reg.addEventListener('updatefound', () => {
      const w = reg.installing;
      w?.addEventListener('statechange', () => {
        if (w.state === 'installed' && navigator.serviceWorker.controller) offer(w);
      });
    });
    // A new version controls the page now (this tab's "Update now", or another tab's): reload, so
    // that every file comes from it. (On a first visit the first version merely claims the page.)
    navigator.serviceWorker.addEventListener('controllerchange', () => {
      if (updating || controlled) {
        updating = true;
        location.reload();
      }
    });
    // Look for a new version when the app comes back to the foreground, and hourly while it stays open.
    document.addEventListener('visibilitychange', () => {
      if (document.visibilityState === 'visible' && !updating) void reg.update().catch(() => {});
    });
    setInterval(() => { if (!updating) void reg.update().catch(() => {}); }, 60 * 60 * 1000);
  } catch (e) {
    // The app still works online; only offline use is lost.
    console.warn('whycam: service worker not registered', e);
  }
}
