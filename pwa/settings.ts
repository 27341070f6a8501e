/// <reference lib="dom" />
/** The Look settings: the heat map's opacity and colour map, applied to what is shown at once. */
import { COLORMAP_NAMES, type ColormapName } from '../src/render';
import { state } from './app/state';
import { $, h } from './dom';
import { drawLegend } from './explain/draw';
import { render } from './explain/render';

export function wireSettings(): void {
  const opacity = $<HTMLInputElement>('opacity');
  opacity.addEventListener('input', () => {
    state.opacity = Number(opacity.value) / 100;
    $('opacity-out').textContent = `${opacity.value} %`;
    render();
  });
  const cm = $<HTMLSelectElement>('colormap');
  cm.replaceChildren(...COLORMAP_NAMES.map((n) => h('option', { value: n }, n)));
  cm.value = state.colormap;
  cm.addEventListener('change', () => {
    state.colormap = cm.value as ColormapName;
    render();
  });
  drawLegend($<HTMLCanvasElement>('legend'), state.colormap);
}
