/// <reference lib="dom" />
/** Pictures from elsewhere than the camera: a picked photo, or one of the sample scenes. */
import type { AppConfig } from '../app/state';
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

export function renderSamples(samples: AppConfig['samples']): void {
  $('samples').replaceChildren(...samples.map((s) => {
    const b = h('button', { type: 'button', 'aria-label': `Sample scene: ${s.label}`, title: s.label }, h('img', { src: s.url, alt: '' }));
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
