/// <reference lib="dom" />
/**
 * Importing a model from files: a Teachable Machine zip, or model.json with its weight files (and
 * metadata.json, or a labels file for a model without one); quantised to float16 first when the person asks. Kept only if it loads.
 */
import { state } from '../app/state';
import { clearError, errorMessage, showError } from '../app/messages';
import { $, formatBytes } from '../dom';
import { askPersistentStorage, deleteModel, saveModel, StorageError, type StoredModel } from './store';
import { loadModel, renderModels } from './models';
import { findLabelsFile, parseLabels, withLabels } from './labels';
import { quantizeOnImport } from './quantize';

/** metadata.json's model name, unless it is missing or Teachable Machine's 'untitled'. */
export async function nameFromFiles(files: Array<{ name: string; data: Blob }>, fallback: string): Promise<string> {
  const meta = files.find((f) => f.name === 'metadata.json');
  if (meta) {
    try {
      const m = JSON.parse(await meta.data.text()) as { modelName?: string };
      if (m.modelName && m.modelName !== 'untitled') return m.modelName;
    } catch {
      // Unreadable metadata: the engine will say so when it loads.
    }
  }
  return fallback;
}

async function importFiles(list: FileList): Promise<void> {
  let files = [...list];
  const importStatus = $('import-status');
  clearError();
  const persistence = askPersistentStorage();
  try {
    let model: StoredModel;
    const zip = files.find((f) => /\.zip$/i.test(f.name) || f.type === 'application/zip');
    if (zip && files.length > 1) throw new StorageError('Pick either one Teachable Machine zip, or the model files (model.json, weights, metadata.json) — not both.');
    const labelsFile = zip ? null : await findLabelsFile(files);
    if (labelsFile) files = files.filter((f) => f !== labelsFile);
    if (!zip && !files.some((f) => f.name.endsWith('.json') && f.name !== 'metadata.json')) {
      throw new StorageError('No model.json among the picked files. Pick model.json together with its weight files (and metadata.json or a labels file), or a Teachable Machine zip.');
    }
    if (labelsFile) {
      if (!state.worker) throw new StorageError('The app is not ready yet.');
      importStatus.textContent = `Checking the labels in ${labelsFile.name}…`;
      files = await withLabels(state.worker, files, parseLabels(await labelsFile.text(), labelsFile.name), labelsFile.name);
    }
    if ($<HTMLInputElement>('quantize').checked) {
      const q = await quantizeOnImport(zip ? { zip } : { files });
      const name = await nameFromFiles(q.files, zip ? zip.name.replace(/\.zip$/i, '') : 'Imported model');
      model = await saveModel(name, 'files', q.files, 'files', q.summary);
      importStatus.textContent = q.message;
    } else if (zip) {
      importStatus.textContent = `Storing ${zip.name}…`;
      model = await saveModel(zip.name.replace(/\.zip$/i, ''), 'zip', [{ name: 'model.zip', data: zip }], 'files');
    } else {
      const parts = files.map((f) => ({ name: f.name, data: f as Blob }));
      importStatus.textContent = `Storing ${files.length} files…`;
      model = await saveModel(await nameFromFiles(parts, 'Imported model'), 'files', parts, 'files');
    }
    const quantNote = model.quantized ? ` ${importStatus.textContent}` : '';
    importStatus.textContent = `Stored “${model.name}” (${formatBytes(model.bytes)}). Loading it…${quantNote}`;
    await loadModel(model.id);
    if (state.activeModel !== model.id) {
      // It does not load: do not keep a model that cannot be used.
      await deleteModel(model.id);
      await renderModels();
      importStatus.textContent = `“${model.name}” could not be loaded and was not kept.`;
    } else {
      const note = await persistence;
      importStatus.textContent = `“${model.name}” is stored on this device and in use.${quantNote}${note ? ` ${note}` : ''}`;
    }
  } catch (e) {
    importStatus.textContent = '';
    showError(errorMessage(e));
  }
}

export function wireFileImport(): void {
  $('import-files').addEventListener('change', (ev) => {
    const input = ev.target as HTMLInputElement;
    if (input.files?.length) void importFiles(input.files).finally(() => { input.value = ''; });
  });
}
