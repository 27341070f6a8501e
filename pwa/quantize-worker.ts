/**
 * The PWA's own small worker for quantise-on-import: float16 weights (half the size) and the
 * quantiser's fidelity numbers against the model as imported (top-1 agreement, Grad-CAM
 * correlation, largest probability change) on the sample scenes. Separate from the whycam worker
 * (whose API belongs to the worker issue) and loaded only when someone imports with the option on.
 * Runs on tfjs-backend-cpu: a one-off job on a few images, no wasm files to locate.
 *
 * Proposed for the whycam worker instead: `quantize(session, source: WireModelSource,
 * level: QuantizationLevel, images: WorkerImage[]) -> { files: WireModelFile[], report: LevelReport }`,
 * running on its wasm backend.
 */
import * as Comlink from 'comlink';
import JSZip from 'jszip';
import { useBackend } from '../src/backend';
import { WhycamError } from '../src/errors';
import type { ImageInput } from '../src/image/types';
import type { ModelFile } from '../src/model/load';
import { compareLevels, type LevelReport } from '../src/quantize/fidelity';
import { quantizeFilesWithReport } from '../src/quantize/artifacts';

export interface QuantizeResult {
  files: Array<{ name: string; data: ArrayBuffer }>;
  report: LevelReport;
}

async function unzip(data: ArrayBuffer): Promise<ModelFile[]> {
  const zip = await JSZip.loadAsync(data);
  const out: ModelFile[] = [];
  for (const entry of Object.values(zip.files)) {
    if (entry.dir) continue;
    out.push({ name: entry.name.split('/').pop() as string, data: await entry.async('uint8array') });
  }
  return out;
}

const toArrayBuffer = (d: ArrayBuffer | Uint8Array): ArrayBuffer =>
  d instanceof Uint8Array ? (d.buffer.slice(d.byteOffset, d.byteOffset + d.byteLength) as ArrayBuffer) : d;

const backend = useBackend('cpu');

const api = {
  async quantize(input: { zip: ArrayBuffer } | { files: Array<{ name: string; data: ArrayBuffer }> }, images: ImageInput[]): Promise<QuantizeResult> {
    await backend;
    const files: ModelFile[] = 'zip' in input ? await unzip(input.zip) : input.files;
    if (!images.length) throw new WhycamError('BAD_OPTION', 'The fidelity check needs at least one image.');
    const [report] = await compareLevels(files, images, { levels: ['float16'] });
    const q = quantizeFilesWithReport(files, 'float16');
    const out = q.files.map((f) => ({ name: f.name, data: toArrayBuffer(f.data) }));
    return Comlink.transfer({ files: out, report }, out.map((f) => f.data));
  },
};

export type QuantizeApi = typeof api;

Comlink.expose(api);
