/// <reference lib="dom" />
/** Pictures from elsewhere than the camera: a picked photo, or one of the sample scenes. */
import { state, type AppConfig } from '../app/state';
import { errorMessage, showError } from '../app/messages';
import { stopCamera } from '../camera/controls';
import { $, h } from '../dom';
import { pictureFromBlob } from './picture';
import { explain } from './run';

export function wirePhotoPicker(): void {
  $('pick').addEventListener('change', async (ev) => {
    const input = ev.target as HTMLInputElement;
    const file = input.files?.[0];
    input.value = '';
    if (!file) return;
    try {
      stopCamera();
      await explain(await pictureFromBlob(file));
    } catch (e) {
      showError(errorMessage(e));
    }
  });
}

/**
 * The samples chosen for the built-in model in use (photos of everyday things for the default,
 * garment scenes for the garment model); with a model of the person's own, every sample, each
 * titled with the model it was chosen for.
 */
export function renderSamples(): void {
  const config = state.config;
  if (!config) return;
  const builtIn = config.models.some((m) => m.id === state.activeModel);
  const samples: AppConfig['samples'] = builtIn ? config.samples.filter((s) => s.model === state.activeModel) : config.samples;
  const modelName = (id: string) => config.models.find((m) => m.id === id)?.name ?? id;
  $('samples').replaceChildren(...samples.map((s) => {
    const title = builtIn ? s.label : `${s.label} (a sample for ${modelName(s.model)})`;
    const b = h('button', { type: 'button', 'aria-label': `Sample: ${s.label}`, title }, h('img', { src: s.url, alt: '' }));
    b.addEventListener('click', async () => {
      try {
        stopCamera();
        const res = await fetch(s.url);
        await explain(await pictureFromBlob(await res.blob()));
      } catch (e) {
        showError(errorMessage(e));
      }
    });
    return b;
  }));
}
