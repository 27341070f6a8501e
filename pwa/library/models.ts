/// <reference lib="dom" />
/**
 * The model list: the built-in model and the person's own, which one is in use, loading one into
 * the worker (falling back to the one that worked when it fails), and deleting.
 */
import { ROOT, state, type AppConfig } from '../app/state';
import { startWorker, workerFor } from '../app/worker';
import type { ModelInfo, WhycamClient } from '../../worker/client';
import { clearError, errorMessage, showError, status } from '../app/messages';
import { $, formatBytes, h } from '../dom';
import { render } from '../explain/render';
import { renderSamples } from '../explain/inputs';
import { explain, renderPredictions } from '../explain/run';
import { deleteModel, listModels, readModel, saveUrlModel, StorageError, type StoredModel } from './store';
import { urlModel, withUnit } from './url-models';

function setModelName(): void {
  $('model-name').textContent = state.model ? `Model: ${state.model.name} · ${state.model.labels.length} classes` : 'No model loaded';
}

/** Loads the model `id` ('default' or a stored one) into the app's worker. */
async function loadInto(client: WhycamClient, config: AppConfig, id: string): Promise<ModelInfo> {
  const onProgress = (f: number) => status(`Loading the model… ${Math.round(f * 100)} %`);
  const builtIn = config.models.find((m) => m.id === id);
  if (builtIn) return { ...(await client.load({ url: builtIn.url }, { onProgress })), name: builtIn.name };
  const stored = (await listModels()).find((m) => m.id === id);
  if (!stored) throw new StorageError('That model is no longer stored on this device.');
  let info: ModelInfo;
  if (stored.kind === 'url') {
    info = await client.load({ url: await urlModelToLoad(stored) }, { onProgress });
  } else {
    const files = await readModel(stored);
    info = await client.load(stored.kind === 'zip' ? { zip: files[0].data } : { files });
  }
  return { ...info, name: stored.name };
}

/** Loads the model `id` ('default' or a stored one), on a worker with the threads it runs fastest with, and re-explains the current picture with it. */
export async function loadModel(id: string): Promise<void> {
  const client = state.client;
  const config = state.config;
  if (!client || !config) return;
  const previous = state.activeModel;
  ROOT.dataset.model = 'loading';
  status('Loading the model…', 0);
  try {
    state.model = await loadInto(client, config, id);
    const better = workerFor(state.model);
    if (better) {
      status(state.model.threads.preferred === 'one' ? 'This model runs faster on one thread: switching…' : 'This model runs faster on threads: switching…', 0);
      await startWorker(better);
      state.model = await loadInto(state.client!, config, id);
    }
    state.activeModel = id;
    localStorage.setItem('whycam.model', id);
    ROOT.dataset.model = 'ready';
    setModelName();
    renderSamples();
    status('Ready. Start the camera, pick a photo or try a sample.', 0);
    state.predictions = [];
    renderPredictions();
    render();
    await renderModels();
    if (state.picture) await explain(state.picture);
  } catch (e) {
    ROOT.dataset.model = 'failed';
    const message = errorMessage(e);
    showError(message);
    status('The model could not be loaded.');
    if (!config.models.some((m) => m.id === id)) localStorage.removeItem('whycam.model');
    // Go back to the model that worked; its re-explanation clears messages, so say again why
    // the chosen one was not used (a small model is back within ~100 ms: the message would flash).
    const fallback = previous !== id ? previous : id !== 'default' ? 'default' : null;
    if (fallback) {
      state.activeModel = fallback;
      await loadModel(fallback);
      if (ROOT.dataset.model === 'ready') showError(message);
    }
  }
}

/**
 * The URL the worker loads a URL model from: its own URL naming the unit the service worker keeps,
 * after the service worker has checked every file of it (and repaired what it could). Kept copy gone
 * (storage cleared): downloaded again as a whole. No service worker: straight from the network.
 */
async function urlModelToLoad(stored: StoredModel): Promise<string> {
  let r = await urlModel('check', stored.source);
  if (!r) return stored.source;
  if (!r.ok && r.missing) {
    status('The kept copy of this model is gone; downloading it again…');
    r = await urlModel('add', stored.source);
    if (!r) return stored.source;
  }
  if (!r.ok) throw new StorageError(r.message);
  const info = r.info;
  if (!info) throw new StorageError('The service worker gave no details of the kept model.');
  if (info.unit !== stored.unit) await saveUrlModel(stored.name, info.url, info.unit, info.bytes);
  return withUnit(info.url, info.unit);
}

/** Deletes a user model; a URL model's files are dropped by the service worker that keeps them. */
export async function deleteUserModel(model: StoredModel): Promise<void> {
  await deleteModel(model.id);
  if (model.kind === 'url') await urlModel('remove', model.source).catch(() => null);
}

export async function renderModels(): Promise<void> {
  const list = $('models');
  const config = state.config;
  if (!config) return;
  let stored: StoredModel[] = [];
  try {
    stored = await listModels();
  } catch (e) {
    showError(errorMessage(e));
  }
  const item = (id: string, name: string, bytes: number, extra: string, deletable: boolean) => {
    const active = id === state.activeModel;
    // Visible text first in the accessible name (WCAG 2.5.3); the model's name only for screen readers.
    const use = h('button', { type: 'button' }, active ? 'In use' : 'Use', h('span', { class: 'sr-only' }, ` ${name}`));
    use.toggleAttribute('disabled', active);
    use.addEventListener('click', () => {
      clearError();
      void loadModel(id);
    });
    const li = h('li', { 'aria-current': String(active), 'data-model-id': id },
      h('span', { class: 'name' }, name), h('span', { class: 'size' }, `${formatBytes(bytes)}${extra}`), use);
    if (deletable) {
      const del = h('button', { type: 'button', 'data-action': 'delete' }, 'Delete', h('span', { class: 'sr-only' }, ` ${name}`));
      del.addEventListener('click', async () => {
        const model = stored.find((m) => m.id === id);
        if (model) await deleteUserModel(model);
        if (state.activeModel === id) await loadModel('default');
        else await renderModels();
      });
      li.append(del);
    }
    return li;
  };
  list.replaceChildren(
    ...config.models.map((m) => item(m.id, `${m.name} (built in)`, m.bytes, '', false)),
    ...stored.map((m) => item(m.id, m.name, m.bytes, m.quantized ? ` · float16 (${m.quantized})` : '', true)),
  );
}
