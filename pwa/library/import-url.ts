/// <reference lib="dom" />
/**
 * Importing a model from a URL. With a service worker running the page, it downloads and keeps the
 * model as one unit (pwa/sw-url-models.ts) and the page lists it; importing the same URL again
 * updates it to the version now there, as a whole. Without one, the page downloads it into its own store.
 */
import { state } from '../app/state';
import { clearError, errorMessage, showError } from '../app/messages';
import { $, formatBytes } from '../dom';
import { nameFromFiles } from './import-files';
import { deleteUserModel, loadModel, renderModels } from './models';
import { askPersistentStorage, saveModel, saveUrlModel, StorageError } from './store';
import { serviceWorkerOwnsUrlModels, urlModel } from './url-models';
import { expectedWeightBytes, type ManifestWeight } from '../../src/model-files/weights';

async function importUrl(raw: string): Promise<void> {
  const importStatus = $('import-status');
  clearError();
  let url: URL;
  try {
    url = new URL(raw, document.baseURI);
  } catch {
    showError(`“${raw}” is not a URL. Give the full address of the model's model.json.`);
    return;
  }
  const persistence = askPersistentStorage();
  if (!serviceWorkerOwnsUrlModels()) {
    await importUrlByPage(url, persistence);
    return;
  }
  try {
    importStatus.textContent = `Downloading ${url.href}…`;
    const r = await urlModel('add', url.href, (loaded, total) => {
      importStatus.textContent = `Downloading ${url.href}… ${Math.round((100 * loaded) / Math.max(1, total))} %`;
    });
    if (!r) {
      await importUrlByPage(url, persistence);
      return;
    }
    if (!r.ok) throw new StorageError(r.message);
    if (!r.info) throw new StorageError('The service worker gave no details of the downloaded model.');
    const name = r.info.name ?? (url.pathname.split('/').slice(-2, -1)[0] || url.host);
    const { model, existed } = await saveUrlModel(name, r.info.url, r.info.unit, r.info.bytes);
    const kept = existed
      ? r.changed ? `Updated “${model.name}” to the version now at its URL (${formatBytes(model.bytes)}).` : `“${model.name}” is already the version at its URL.`
      : `Kept “${model.name}” (${formatBytes(model.bytes)}).`;
    importStatus.textContent = `${kept} Loading it…`;
    await loadModel(model.id);
    if (state.activeModel !== model.id) {
      if (!existed) await deleteUserModel(model);
      await renderModels();
      importStatus.textContent = existed ? kept : `“${model.name}” could not be loaded and was not kept.`;
    } else {
      const note = await persistence;
      importStatus.textContent = `${kept} It is on this device and in use.${note ? ` ${note}` : ''}`;
    }
  } catch (e) {
    importStatus.textContent = '';
    showError(errorMessage(e));
  }
}

/** Without a service worker: fetches model.json, its weight files and metadata.json, checking each weight group's size against the manifest. */
async function importUrlByPage(url: URL, persistence: Promise<string>): Promise<void> {
  const importStatus = $('import-status');
  try {
    importStatus.textContent = `Downloading ${url.href}…`;
    const res = await fetch(url, { mode: 'cors', cache: 'no-store' });
    if (!res.ok) throw new StorageError(`The model URL answered ${res.status} ${res.statusText}: check the address (it should end in model.json).`);
    const modelJson = await res.blob();
    const manifest = JSON.parse(await modelJson.text()) as { weightsManifest?: Array<{ paths: string[]; weights: ManifestWeight[] }> };
    if (!Array.isArray(manifest.weightsManifest)) throw new StorageError('That URL is not a tfjs layers model.json (no weightsManifest).');
    const parts: Array<{ name: string; data: Blob }> = [{ name: 'model.json', data: modelJson }];
    for (const group of manifest.weightsManifest) {
      const expected = expectedWeightBytes(group.weights);
      let got = 0;
      for (const p of group.paths) {
        const r = await fetch(new URL(p, url), { mode: 'cors', cache: 'no-store' });
        if (!r.ok) throw new StorageError(`Weight file ${p} answered ${r.status}; the model is incomplete.`);
        const data = await r.blob();
        got += data.size;
        parts.push({ name: p, data });
      }
      if (expected !== null && got !== expected) throw new StorageError(`The weight files hold ${got} bytes where model.json promises ${expected}: the download is incomplete or the files do not belong together.`);
    }
    const meta = await fetch(new URL('metadata.json', url), { mode: 'cors', cache: 'no-store' }).catch(() => null);
    if (meta?.ok) parts.push({ name: 'metadata.json', data: await meta.blob() });
    const model = await saveModel(await nameFromFiles(parts, url.pathname.split('/').slice(-2, -1)[0] || url.host), 'files', parts, url.href);
    const note = await persistence;
    importStatus.textContent = `Stored “${model.name}” (${formatBytes(model.bytes)}).${note ? ` ${note}` : ''}`;
    await loadModel(model.id);
  } catch (e) {
    importStatus.textContent = '';
    showError(e instanceof TypeError ? `The model could not be downloaded (${e.message}). The server must allow cross-origin requests (CORS), and you must be online.` : errorMessage(e));
  }
}

export function wireUrlImport(): void {
  $('import-url-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    const v = $<HTMLInputElement>('import-url').value.trim();
    if (v) void importUrl(v);
  });
}
