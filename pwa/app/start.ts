/// <reference lib="dom" />
/**
 * The whycam app: camera / photo / sample -> top classes -> coarse class map -> sharp maps, all
 * computed in the whycam worker (tfjs never loads on the page). Plain TypeScript over the DOM, in
 * rooms: explain/ (the picture and its maps), camera/, library/ (models), settings.ts (the look),
 * app/ (start-up, shared state, messages, updates).
 *
 * Start-up: wire the controls, check the browser, register the service worker, read
 * app-config.json, start the worker, then load the model used last.
 */
import { wireCamera } from '../camera/controls';
import { $ } from '../dom';
import { wireClassSearch } from '../explain/class-search';
import { renderSamples, wirePhotoPicker } from '../explain/inputs';
import { render, renderMethods } from '../explain/render';
import { wireExtraMethods } from '../explain/extra';
import { wireTrust } from '../trust/panel';
import { wireShare } from '../explain/share';
import { wireFileImport } from '../library/import-files';
import { wireUrlImport } from '../library/import-url';
import { loadModel, renderModels } from '../library/models';
import { wireSettings } from '../settings';
import { errorMessage, showError, status } from './messages';
import { ROOT, state, type AppConfig } from './state';
import { registerServiceWorker } from './updates';
import { startWorker } from './worker';

/** The app's version, set by the pwa build (WHYCAM_VERSION, else package.json's version). */
declare const __WHYCAM_VERSION__: string;
const VERSION = __WHYCAM_VERSION__;

/** The browser features the app cannot work without, and what to do. */
function unsupported(): string | null {
  const missing: string[] = [];
  if (typeof Worker === 'undefined') missing.push('Web Workers');
  if (typeof WebAssembly === 'undefined') missing.push('WebAssembly');
  if (typeof createImageBitmap === 'undefined') missing.push('createImageBitmap');
  if (typeof OffscreenCanvas === 'undefined') missing.push('OffscreenCanvas');
  if (!missing.length) return null;
  return `This browser cannot run whycam: it lacks ${missing.join(', ')}. Use a recent Chrome, Edge, Firefox (105+) or Safari (16.4+).`;
}

function wire(): void {
  wireCamera();
  wirePhotoPicker();
  wireClassSearch();
  wireSettings();
  wireShare();
  wireFileImport();
  wireUrlImport();
  wireExtraMethods(render);
  wireTrust();
  renderMethods();
}

async function main(): Promise<void> {
  ROOT.dataset.version = VERSION;
  $('version').textContent = `whycam ${VERSION}`;
  wire();
  const missing = unsupported();
  if (missing) {
    showError(missing);
    status('whycam cannot run in this browser.');
    return;
  }
  void registerServiceWorker();
  try {
    const res = await fetch('app-config.json');
    state.config = (await res.json()) as AppConfig;
  } catch {
    showError('The app is not fully installed (app-config.json is missing). Reload while online.');
    return;
  }
  renderSamples();
  try {
    await startWorker(state.config.worker);
  } catch (e) {
    showError(errorMessage(e));
    status('The compute worker could not start.');
    return;
  }
  await renderModels();
  const saved = localStorage.getItem('whycam.model');
  await loadModel(saved ?? 'default');
}

void main();
