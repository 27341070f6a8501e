/// <reference lib="dom" />
/**
 * User models kept on the device, in Cache Storage (works offline, survives reloads, needs no
 * server). A model is written as one unit: its files first, the index entry last, so a
 * half-written model is never listed; each file's SHA-256 is checked before the model is used,
 * so a truncated or altered copy is refused instead of loaded.
 *
 * The index lists every user model. Models imported from files or a zip keep their bytes here.
 * A model imported from a URL while the service worker runs the page is listed here as kind 'url'
 * with no bytes of its own: the service worker keeps its files (pwa/sw-url-models.ts), so the
 * device holds one copy, not two. Without a service worker (first visit before it activated, a
 * browser without one) a URL model is downloaded by the page and kept here like imported files.
 */
const CACHE = 'whycam-user-models-v1';
const BASE = '__whycam/user-models/';

export interface StoredFile {
  name: string;
  bytes: number;
  sha256: string;
}

export interface StoredModel {
  id: string;
  name: string;
  /**
   * 'zip': one Teachable Machine zip; 'files': model.json + weights (+ metadata.json);
   * 'url': a model from a URL whose files the service worker keeps (`files` is then empty).
   */
  kind: 'zip' | 'files' | 'url';
  files: StoredFile[];
  bytes: number;
  addedAt: string;
  /** Where it came from (a URL, or 'files'). */
  source: string;
  /** Set when stored quantised: the quantiser's report. */
  quantized?: string;
  /** kind 'url': the version key of the unit the service worker keeps. */
  unit?: string;
}

export class StorageError extends Error {
  constructor(message: string, readonly full = false) {
    super(message);
    this.name = 'StorageError';
  }
}

/**
 * Asks the browser to keep this site's storage through storage pressure (navigator.storage.persist),
 * as a model is imported: without it an imported model may be evicted when the device runs low.
 * Resolves to a sentence to show when it was refused or is not available, else ''; records the
 * answer on the page (data-persisted) for diagnosis.
 */
export async function askPersistentStorage(): Promise<string> {
  const storage = (navigator as Partial<Navigator>).storage;
  let granted = false;
  try {
    granted = Boolean(storage?.persist) && ((await storage!.persisted()) || (await storage!.persist()));
  } catch {
    granted = false;
  }
  document.documentElement.dataset.persisted = granted ? 'yes' : 'no';
  if (granted) return '';
  return storage?.persist
    ? 'The browser did not grant persistent storage: it may delete stored models when the device runs low on space.'
    : 'This browser cannot keep stored models for sure: it may delete them when the device runs low on space.';
}

function key(path: string): string {
  return new URL(BASE + path, document.baseURI).href;
}

async function sha256(blob: Blob): Promise<string> {
  const d = await crypto.subtle.digest('SHA-256', await blob.arrayBuffer());
  return Array.from(new Uint8Array(d), (b) => b.toString(16).padStart(2, '0')).join('');
}

function isQuota(e: unknown): boolean {
  const n = (e as { name?: string })?.name;
  return n === 'QuotaExceededError' || n === 'NS_ERROR_DOM_QUOTA_REACHED';
}

async function open(): Promise<Cache> {
  if (typeof caches === 'undefined') throw new StorageError('This browser gives the page no Cache Storage (private mode?): imported models cannot be kept.');
  return caches.open(CACHE);
}

export async function listModels(): Promise<StoredModel[]> {
  const cache = await open();
  const res = await cache.match(key('index.json'));
  if (!res) return [];
  try {
    return (await res.json()) as StoredModel[];
  } catch {
    return [];
  }
}

async function writeIndex(cache: Cache, models: StoredModel[]): Promise<void> {
  await cache.put(key('index.json'), new Response(JSON.stringify(models), { headers: { 'Content-Type': 'application/json' } }));
}

export async function saveModel(name: string, kind: StoredModel['kind'], files: Array<{ name: string; data: Blob }>, source: string, quantized?: string): Promise<StoredModel> {
  const cache = await open();
  const id = `${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
  const stored: StoredFile[] = [];
  try {
    for (const f of files) {
      stored.push({ name: f.name, bytes: f.data.size, sha256: await sha256(f.data) });
      await cache.put(key(`${id}/${encodeURIComponent(f.name)}`), new Response(f.data, { headers: { 'Content-Length': String(f.data.size) } }));
    }
    const model: StoredModel = {
      id, name, kind, files: stored, bytes: stored.reduce((s, f) => s + f.bytes, 0), addedAt: new Date().toISOString(), source,
      ...(quantized ? { quantized } : {}),
    };
    await writeIndex(cache, [...(await listModels()), model]);
    return model;
  } catch (e) {
    for (const f of stored) await cache.delete(key(`${id}/${encodeURIComponent(f.name)}`)).catch(() => false);
    if (isQuota(e)) {
      throw new StorageError(`The device's storage for this site is full: the model (${files.reduce((s, f) => s + f.data.size, 0)} bytes) was not kept. Delete a model you no longer need, or free space on the device, and import it again.`, true);
    }
    throw new StorageError(`The model could not be stored: ${(e as Error)?.message ?? e}`);
  }
}

/** Lists a model whose files the service worker keeps (kind 'url'), or updates its entry if that URL is listed already. */
export async function saveUrlModel(name: string, url: string, unit: string, bytes: number): Promise<{ model: StoredModel; existed: boolean }> {
  const cache = await open();
  const models = await listModels();
  const same = models.find((m) => m.kind === 'url' && m.source === url);
  const model: StoredModel = same
    ? { ...same, name, unit, bytes }
    : { id: `${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`, name, kind: 'url', files: [], bytes, addedAt: new Date().toISOString(), source: url, unit };
  try {
    await writeIndex(cache, same ? models.map((m) => (m.id === same.id ? model : m)) : [...models, model]);
  } catch (e) {
    if (isQuota(e)) throw new StorageError("The device's storage for this site is full: the model could not be listed. Delete a model you no longer need and import it again.", true);
    throw new StorageError(`The model could not be listed: ${(e as Error)?.message ?? e}`);
  }
  return { model, existed: same !== undefined };
}

/** The model's files, each checked against the SHA-256 recorded when it was stored. */
export async function readModel(model: StoredModel): Promise<Array<{ name: string; data: Blob }>> {
  if (model.kind === 'url') throw new StorageError(`"${model.name}" is kept by the service worker and loads from its URL, not from the page's store.`);
  const cache = await open();
  const out: Array<{ name: string; data: Blob }> = [];
  for (const f of model.files) {
    const res = await cache.match(key(`${model.id}/${encodeURIComponent(f.name)}`));
    if (!res) throw new StorageError(`The stored copy of "${model.name}" is missing ${f.name} (the browser may have evicted it). Delete it and import it again.`);
    const data = await res.blob();
    if (data.size !== f.bytes || (await sha256(data)) !== f.sha256) {
      throw new StorageError(`The stored copy of "${model.name}" is damaged (${f.name} does not match its checksum). Delete it and import it again.`);
    }
    out.push({ name: f.name, data });
  }
  return out;
}

export async function deleteModel(id: string): Promise<void> {
  const cache = await open();
  const models = await listModels();
  const model = models.find((m) => m.id === id);
  // Index first: a model half-deleted is simply gone.
  await writeIndex(cache, models.filter((m) => m.id !== id));
  for (const f of model?.files ?? []) await cache.delete(key(`${id}/${encodeURIComponent(f.name)}`));
}
