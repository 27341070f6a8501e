/// <reference lib="dom" />
/** Save and Share: the explanation as drawn, as a PNG named after the class and the method. */
import { state } from '../app/state';
import { showError, status } from '../app/messages';
import { $, h } from '../dom';
import { view } from './render';

async function explanationPng(): Promise<File> {
  const blob = await new Promise<Blob | null>((resolve) => view.toBlob(resolve, 'image/png'));
  if (!blob) throw new Error('The picture could not be encoded as PNG.');
  const label = state.predictions.find((p) => p.index === state.classIndex)?.label ?? 'class';
  const name = `whycam-${label.replace(/[^a-z0-9]+/gi, '-').toLowerCase()}-${state.method}.png`;
  return new File([blob], name, { type: 'image/png' });
}

function download(file: File): void {
  const url = URL.createObjectURL(file);
  const a = h('a', { href: url, download: file.name });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

async function share(): Promise<void> {
  try {
    const file = await explanationPng();
    const data: ShareData = { files: [file], title: 'whycam explanation', text: `Why the model said “${state.predictions.find((p) => p.index === state.classIndex)?.label}”` };
    if (navigator.canShare?.(data)) {
      await navigator.share(data);
    } else {
      download(file);
      status('This browser cannot share files; the PNG was downloaded instead.');
    }
  } catch (e) {
    if ((e as { name?: string })?.name !== 'AbortError') showError(`Sharing failed: ${(e as Error)?.message ?? e}`);
  }
}

export function wireShare(): void {
  $('save').addEventListener('click', () => void explanationPng().then(download, (e) => showError(String(e))));
  $('share').addEventListener('click', () => void share());
}
