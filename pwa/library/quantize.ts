/// <reference lib="dom" />
/**
 * Quantise on import: float16 weights (half the size), computed by the whycam worker, with the
 * quantiser's fidelity numbers against the model as imported (on the sample scenes and the current
 * photo) shown next to the sizes.
 */
import type { PixelImage } from '../../worker/client';
import { state } from '../app/state';
import { $, formatBytes } from '../dom';
import { pictureFromBlob } from '../explain/picture';

export interface QuantizedImport {
  files: Array<{ name: string; data: Blob }>;
  /** Short, for the model list: top-1 agreement and Grad-CAM correlation. */
  summary: string;
  /** Long, for the import status: sizes before and after, and every fidelity number. */
  message: string;
}

/** Decodes an image URL into pixels for the fidelity check (the worker fits them as it fits any photo). */
async function pixelsOf(url: string): Promise<PixelImage> {
  const p = await pictureFromBlob(await (await fetch(url)).blob());
  return { data: p.data, width: p.width, height: p.height, channels: 4 };
}

export async function quantizeOnImport(input: { zip: File } | { files: File[] }): Promise<QuantizedImport> {
  const { config, client } = state;
  if (!config || !client) throw new Error('The app is not ready yet.');
  $('import-status').textContent = 'Quantising to float16 and checking fidelity on the sample scenes…';
  const images: PixelImage[] = await Promise.all(config.samples.map((s) => pixelsOf(s.url)));
  if (state.picture) images.push({ data: state.picture.data, width: state.picture.width, height: state.picture.height, channels: 4 });
  const before = 'zip' in input ? input.zip.size : input.files.reduce((a, f) => a + f.size, 0);
  const { files, report } = await client.quantize(input, images, { level: 'float16' });
  const f = report.fidelity;
  const pct = (x: number) => `${(x * 100).toFixed(1)} %`;
  const r = f.gradcamPearson === null ? 'Grad-CAM does not apply' : `Grad-CAM correlation ${f.gradcamPearson.toFixed(3)} (lowest ${f.minGradcamPearson?.toFixed(3)})`;
  const summary = `top-1 ${pct(f.top1Agreement)}, ${f.gradcamPearson === null ? 'no Grad-CAM' : `Grad-CAM r ${f.gradcamPearson.toFixed(3)}`}`;
  const message = `float16: ${formatBytes(before)} → ${formatBytes(report.totalBytes)}. Against the original on ${f.n} images: same top class on ${pct(f.top1Agreement)}, ${r}, ` +
    `largest probability change ${pct(f.maxProbabilityChange)}${report.keptFloat32.length ? `; ${report.keptFloat32.length} tensors kept as float32` : ''}.`;
  return { files: files.map((x) => ({ name: x.name, data: new Blob([x.data]) })), summary, message };
}
