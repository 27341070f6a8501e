/**
 * Models imported from a URL, the service worker's side (imported by sw.ts). Each model is
 * downloaded as one unit, every file's SHA-256 recorded and the pointer written last, then served
 * cache-first with every entry checked on each use: a model is never half old and half new,
 * never silently truncated, and needs no network once kept. The design: docs/app.md, "Models
 * from a URL, offline".
 */
import { CacheableResponse } from 'workbox-cacheable-response';
import { Strategy, type StrategyHandler } from 'workbox-strategies';
import { expectedWeightBytes, weightSizeMismatch, type ManifestWeight } from '../src/model-files/weights';
import { UNIT_PARAM_RE, type UnitFile, type UnitInfo, type UrlModelReply, type UrlModelRequest } from './library/url-models';

declare const self: ServiceWorkerGlobalScope;

export const URL_MODEL_CACHE = 'whycam-url-models-v1';
const PREFIX = '__whycam/url-models/';

/** Only complete, successful answers are kept (never a 206 part or an opaque response). */
const cacheable = new CacheableResponse({ statuses: [200] });

class UrlModelError extends Error {
  constructor(message: string, readonly extra: { missing?: boolean; offline?: boolean } = {}) {
    super(message);
  }
}

async function sha256(data: ArrayBuffer | string): Promise<string> {
  const bytes = typeof data === 'string' ? new TextEncoder().encode(data) : data;
  const d = await crypto.subtle.digest('SHA-256', bytes);
  return Array.from(new Uint8Array(d), (b) => b.toString(16).padStart(2, '0')).join('');
}

function scoped(path: string): string {
  return new URL(PREFIX + path, self.registration.scope).href;
}

async function pointerKey(modelUrl: string): Promise<string> {
  return scoped(`models/${(await sha256(modelUrl)).slice(0, 32)}.json`);
}

function fileKey(unit: string, fileUrl: string): string {
  return scoped(`units/${unit}/${encodeURIComponent(fileUrl)}`);
}

// ---------------------------------------------------------------- the index of kept units

let index: Promise<Map<string, UnitInfo>> | null = null;

/** Every kept model by URL (read from the pointers once per service-worker start, then kept up to date). */
function units(): Promise<Map<string, UnitInfo>> {
  index ??= (async () => {
    const map = new Map<string, UnitInfo>();
    const cache = await caches.open(URL_MODEL_CACHE);
    const base = scoped('models/');
    for (const req of await cache.keys()) {
      if (!req.url.startsWith(base)) continue;
      try {
        const info = (await (await cache.match(req))?.json()) as UnitInfo | undefined;
        if (info?.url && info.unit) map.set(info.url, info);
      } catch {
        // An unreadable pointer: that model is simply not kept.
      }
    }
    return map;
  })();
  index.catch(() => { index = null; });
  return index;
}

/** One operation at a time (downloads, repairs and deletions touch the same pointers). */
let queue: Promise<unknown> = Promise.resolve();
function serial<T>(fn: () => Promise<T>): Promise<T> {
  const run = queue.then(fn, fn);
  queue = run.catch(() => {});
  return run;
}

// ---------------------------------------------------------------- network

function describeFetchError(e: unknown): string {
  return `${(e as Error)?.message ?? e}`.replace(/\.$/, '');
}

/** Fetches one file of a model from its server (never from the HTTP cache). */
async function download(url: string, what: string): Promise<ArrayBuffer> {
  let res: Response;
  try {
    res = await fetch(url, { mode: 'cors', cache: 'no-store' });
  } catch (e) {
    throw new UrlModelError(`${what} could not be downloaded from ${url} (${describeFetchError(e)}). The server must allow cross-origin requests (CORS), and the device must be online.`, { offline: true });
  }
  if (!cacheable.isResponseCacheable(res)) {
    throw new UrlModelError(`${what} could not be downloaded: ${url} answered ${res.status}${res.statusText ? ` ${res.statusText}` : ''}.`);
  }
  return res.arrayBuffer();
}

/** The URLs tfjs asks for: model.json's directory + path + model.json's query. */
function weightUrl(modelUrl: string, path: string): string {
  const slash = modelUrl.lastIndexOf('/');
  const q = modelUrl.lastIndexOf('?');
  const suffix = q > slash ? modelUrl.slice(q) : '';
  return new URL(modelUrl.slice(0, slash + 1) + path + suffix).href;
}

function fileName(url: string): string {
  const p = new URL(url).pathname;
  return decodeURIComponent(p.slice(p.lastIndexOf('/') + 1)) || url;
}

/** Downloads a model as one unit and keeps it; the pointer is written last, the old unit removed after. */
async function add(modelUrl: string, progress: (loaded: number, total: number) => void): Promise<{ info: UnitInfo; changed: boolean }> {
  const url = new URL(modelUrl).href;
  const modelJson = await download(url, 'model.json');
  let manifest: { weightsManifest?: Array<{ paths: string[]; weights: ManifestWeight[] }> };
  try {
    manifest = JSON.parse(new TextDecoder().decode(modelJson)) as typeof manifest;
  } catch {
    throw new UrlModelError(`${url} is not JSON: the URL should point at a tfjs model.json.`);
  }
  if (!Array.isArray(manifest.weightsManifest)) throw new UrlModelError('That URL is not a tfjs layers model.json (no weightsManifest).');
  const groups = manifest.weightsManifest.map((g) => ({
    urls: g.paths.map((p) => weightUrl(url, p)),
    expected: expectedWeightBytes(g.weights),
  }));
  const total = modelJson.byteLength + groups.reduce((s, g) => s + (g.expected ?? 0), 0);
  let loaded = modelJson.byteLength;
  progress(loaded, total);

  const files: Array<UnitFile & { data: ArrayBuffer }> = [
    { url, name: 'model.json', bytes: modelJson.byteLength, sha256: await sha256(modelJson), data: modelJson },
  ];
  for (const g of groups) {
    let got = 0;
    for (const u of g.urls) {
      const data = await download(u, `Weight file ${fileName(u)}`);
      got += data.byteLength;
      loaded += data.byteLength;
      progress(Math.min(loaded, total), total);
      files.push({ url: u, name: fileName(u), bytes: data.byteLength, sha256: await sha256(data), data });
    }
    const mismatch = weightSizeMismatch(got, g.expected);
    if (mismatch) throw new UrlModelError(mismatch);
  }
  let name: string | undefined;
  const metaUrl = new URL('metadata.json', url).href;
  try {
    const res = await fetch(metaUrl, { mode: 'cors', cache: 'no-store' });
    if (cacheable.isResponseCacheable(res)) {
      const data = await res.arrayBuffer();
      files.push({ url: metaUrl, name: 'metadata.json', bytes: data.byteLength, sha256: await sha256(data), data });
      try {
        const m = JSON.parse(new TextDecoder().decode(data)) as { modelName?: string };
        if (m.modelName && m.modelName !== 'untitled') name = m.modelName;
      } catch {
        // The engine will say what is wrong with it when it loads.
      }
    }
  } catch {
    // metadata.json is optional.
  }

  // The version key hashes every file, not model.json alone: a retrained model can keep the same model.json.
  const unit = await sha256(files.map((f, i) => (i === 0 ? f.sha256 : `${f.url}\n${f.sha256}`)).join('\n'));
  const info: UnitInfo = {
    url, unit, bytes: files.reduce((s, f) => s + f.bytes, 0), storedAt: new Date().toISOString(),
    files: files.map(({ data: _d, ...f }) => f), ...(name ? { name } : {}),
  };
  const map = await units();
  const previous = map.get(url);
  if (previous?.unit === unit && (await verifyAll(previous, false)).ok) return { info: previous, changed: false };

  const cache = await caches.open(URL_MODEL_CACHE);
  try {
    for (const f of files) {
      await cache.put(fileKey(unit, f.url), new Response(f.data, { headers: { 'Content-Length': String(f.bytes) } }));
    }
    // The pointer last: until here the previous unit (if any) is the model.
    await cache.put(await pointerKey(url), new Response(JSON.stringify(info), { headers: { 'Content-Type': 'application/json' } }));
  } catch (e) {
    for (const f of files) await cache.delete(fileKey(unit, f.url)).catch(() => false);
    const quota = (e as { name?: string })?.name === 'QuotaExceededError';
    throw new UrlModelError(quota
      ? `The device's storage for this site is full: the model (${info.bytes} bytes) was not kept. Delete a model you no longer need, or free space on the device, and import it again.`
      : `The model could not be stored: ${(e as Error)?.message ?? e}`);
  }
  map.set(url, info);
  if (previous && previous.unit !== unit) await dropUnit(cache, previous);
  return { info, changed: previous !== undefined && previous.unit !== unit };
}

async function dropUnit(cache: Cache, info: UnitInfo): Promise<void> {
  for (const f of info.files) await cache.delete(fileKey(info.unit, f.url)).catch(() => false);
}

async function remove(modelUrl: string): Promise<void> {
  const url = new URL(modelUrl).href;
  const cache = await caches.open(URL_MODEL_CACHE);
  const map = await units();
  const info = map.get(url);
  // Pointer first: a model half-deleted is simply gone.
  await cache.delete(await pointerKey(url));
  map.delete(url);
  if (info) await dropUnit(cache, info);
}

// ---------------------------------------------------------------- integrity

type Checked = { ok: true; data: ArrayBuffer } | { ok: false; message: string; offline?: boolean };

function sound(data: ArrayBuffer, file: UnitFile): Promise<boolean> {
  return data.byteLength !== file.bytes ? Promise.resolve(false) : sha256(data).then((h) => h === file.sha256);
}

/**
 * One file of a kept unit, checked against its recorded size and SHA-256. A missing or damaged
 * entry is downloaded again and accepted only if it hashes to the recorded value (then kept);
 * otherwise the answer says why and nothing is served.
 */
async function checkedFile(info: UnitInfo, file: UnitFile, repair: boolean): Promise<Checked> {
  const cache = await caches.open(URL_MODEL_CACHE);
  const key = fileKey(info.unit, file.url);
  const hit = await cache.match(key);
  if (hit) {
    const data = await hit.arrayBuffer();
    if (await sound(data, file)) return { ok: true, data };
  }
  const problem = hit
    ? `The kept copy of ${file.name} (model from ${info.url}) is damaged: it does not match the SHA-256 recorded when it was downloaded, so it was not used.`
    : `The kept copy of ${file.name} (model from ${info.url}) is missing: the browser may have evicted it.`;
  if (!repair) return { ok: false, message: problem };
  let fresh: ArrayBuffer;
  try {
    fresh = await download(file.url, file.name);
  } catch (e) {
    const offline = e instanceof UrlModelError && e.extra.offline === true;
    return {
      ok: false,
      offline,
      message: `${problem} Downloading it again failed${offline ? ' (offline, or the server cannot be reached)' : `: ${(e as Error).message}`}. Connect to the internet and use the model again, or delete it and import it again.`,
    };
  }
  if (!(await sound(fresh, file))) {
    return {
      ok: false,
      message: `${problem} The server now has a different ${file.name}, which does not belong to the kept model.json, so it was not used either (old and new files of one model are never mixed). Import the model from its URL again to get the new version.`,
    };
  }
  await cache.put(key, new Response(fresh, { headers: { 'Content-Length': String(file.bytes) } }));
  return { ok: true, data: fresh };
}

async function verifyAll(info: UnitInfo, repair: boolean): Promise<{ ok: true } | { ok: false; message: string; offline?: boolean }> {
  for (const f of info.files) {
    const r = await checkedFile(info, f, repair);
    if (!r.ok) return r;
  }
  return { ok: true };
}

// ---------------------------------------------------------------- the runtime route

/** A user-model request: it names its unit in the query (pwa/library/url-models.ts withUnit), or it is a metadata.json. */
export function isUrlModelRequest({ request, url }: { request: Request; url: URL }): boolean {
  return request.method === 'GET' && request.mode !== 'navigate' && (UNIT_PARAM_RE.test(url.href) || url.pathname.endsWith('/metadata.json'));
}

/** Cache-first from the named unit, every entry checked before use (docs/app.md). */
export class UrlModelCacheFirst extends Strategy {
  constructor() {
    super({ cacheName: URL_MODEL_CACHE });
  }

  protected override async _handle(request: Request, handler: StrategyHandler): Promise<Response | undefined> {
    const m = UNIT_PARAM_RE.exec(request.url);
    const url = m ? request.url.slice(0, m.index) : request.url;
    const map = await units();
    let info: UnitInfo | undefined;
    let file: UnitFile | undefined;
    for (const candidate of map.values()) {
      file = candidate.files.find((f) => f.url === url);
      if (file) {
        info = candidate;
        break;
      }
    }
    if (!info || !file) {
      // Not a kept model's file (another site's metadata.json, a model removed since): the network, untouched.
      return m ? Response.error() : handler.fetch(request);
    }
    if (m && m[1] !== info.unit) {
      // A load of a unit that has been replaced since: never pair its model.json with the new files.
      return Response.error();
    }
    const target = info;
    const wanted = file;
    const checked = await serial(() => checkedFile(target, wanted, true));
    if (!checked.ok) {
      console.warn(`whycam: ${checked.message}`);
      return Response.error();
    }
    const type = wanted.name.endsWith('.json') ? 'application/json' : 'application/octet-stream';
    return new Response(checked.data, { status: 200, headers: { 'Content-Type': type, 'Content-Length': String(wanted.bytes), 'X-Whycam-Unit': target.unit } });
  }
}

// ---------------------------------------------------------------- the page's requests

export function isUrlModelMessage(data: unknown): data is UrlModelRequest {
  return (data as { type?: string } | null)?.type === 'whycam:url-model';
}

/** Answers one request of the page (add / check / remove) on the port it sent. */
export function handleUrlModelMessage(event: ExtendableMessageEvent): void {
  const request = event.data as UrlModelRequest;
  const port = event.ports[0];
  if (!port) return;
  const reply = (r: UrlModelReply) => port.postMessage(r);
  const work = serial(async () => {
    try {
      if (request.op === 'add') {
        const { info, changed } = await add(request.url, (loaded, total) => reply({ type: 'progress', loaded, total }));
        reply({ type: 'done', ok: true, info, changed });
      } else if (request.op === 'check') {
        const info = (await units()).get(new URL(request.url).href);
        if (!info) {
          reply({ type: 'done', ok: false, missing: true, message: `The model from ${request.url} is not kept on this device (the browser may have cleared the site's storage).` });
          return;
        }
        const r = await verifyAll(info, true);
        reply(r.ok ? { type: 'done', ok: true, info } : { type: 'done', ok: false, message: r.message, ...(r.offline ? { offline: true } : {}) });
      } else if (request.op === 'remove') {
        await remove(request.url);
        reply({ type: 'done', ok: true, info: null });
      }
    } catch (e) {
      const extra = e instanceof UrlModelError ? e.extra : {};
      reply({ type: 'done', ok: false, message: (e as Error)?.message ?? String(e), ...extra });
    }
  });
  event.waitUntil(work);
}
