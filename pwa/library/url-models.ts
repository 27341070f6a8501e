/// <reference lib="dom" />
/**
 * Models imported from a URL: the page's side. The service worker owns their network side and
 * their storage (pwa/sw-url-models.ts): the page asks it, over a MessageChannel, to download a
 * model as one unit ('add'), to check a kept unit file by file before use ('check', which also
 * repairs a damaged file when the server still has the very same bytes) and to drop one
 * ('remove'). The page then loads the model in the whycam worker from its own URL with the unit
 * named in a query parameter (`withUnit`): tfjs carries a model.json URL's query over to the
 * weight files, so every file of that load names the unit it must come from, and the service
 * worker's runtime route serves exactly those bytes, cache-first, or refuses.
 *
 * The page's model list (pwa/library/store.ts) keeps only an index entry for such a model (kind 'url':
 * its URL and unit, no bytes), so there is one copy of the files on the device, not two.
 */

/** The query parameter naming the unit (its version key) on a user-model request. */
export const UNIT_PARAM = 'whycam-unit';
/** Matches the parameter as `withUnit` appends it (always last, so stripping it restores the URL byte for byte). */
export const UNIT_PARAM_RE = /[?&]whycam-unit=([0-9a-f]{64})$/;

export interface UnitFile {
  /** Absolute URL the file is fetched from (model.json, each weight file, metadata.json). */
  url: string;
  name: string;
  bytes: number;
  sha256: string;
}

/** One model from one URL, as kept: every file of it, and the version key that names them together. */
export interface UnitInfo {
  url: string;
  /** SHA-256 over model.json and the SHA-256 of each other file (see pwa/sw-url-models.ts). */
  unit: string;
  files: UnitFile[];
  bytes: number;
  storedAt: string;
  /** metadata.json's modelName, when it has one. */
  name?: string;
}

export type UrlModelOp = 'add' | 'check' | 'remove';

export interface UrlModelRequest {
  type: 'whycam:url-model';
  op: UrlModelOp;
  url: string;
}

export type UrlModelReply =
  | { type: 'progress'; loaded: number; total: number }
  | { type: 'done'; ok: true; info: UnitInfo | null; changed?: boolean }
  | { type: 'done'; ok: false; message: string; missing?: boolean; offline?: boolean };

/** `url` with the unit named last in its query. */
export function withUnit(url: string, unit: string): string {
  return `${url}${url.includes('?') ? '&' : '?'}${UNIT_PARAM}=${unit}`;
}

/** The service worker that answers, or null when none runs this page (first visit before it activated, no support). */
function controller(): ServiceWorker | null {
  return ('serviceWorker' in navigator && navigator.serviceWorker.controller) || null;
}

/** Whether URL models go through the service worker on this page. */
export function serviceWorkerOwnsUrlModels(): boolean {
  return controller() !== null;
}

/** Asks the service worker; null when no service worker controls the page. */
export function urlModel(op: UrlModelOp, url: string, onProgress?: (loaded: number, total: number) => void): Promise<Extract<UrlModelReply, { type: 'done' }> | null> {
  const sw = controller();
  if (!sw) return Promise.resolve(null);
  return new Promise((resolve, reject) => {
    const channel = new MessageChannel();
    channel.port1.onmessage = (ev: MessageEvent<UrlModelReply>) => {
      const r = ev.data;
      if (r.type === 'progress') onProgress?.(r.loaded, r.total);
      else {
        channel.port1.close();
        resolve(r);
      }
    };
    channel.port1.onmessageerror = () => reject(new Error('The service worker sent an unreadable answer.'));
    const request: UrlModelRequest = { type: 'whycam:url-model', op, url };
    sw.postMessage(request, [channel.port2]);
  });
}
