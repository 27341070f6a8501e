/// <reference lib="dom" />
/**
 * A labels file beside a model's files, for a model without metadata.json: a JSON array of
 * names, or plain text with one name per line (as the CLI's --labels). Its count is checked
 * against the model's outputs before anything is stored.
 */
import { createClient, type WorkerTarget } from '../../worker/client';
import { parseLabels as parseLabelsFile } from '../../src/model-files/labels';
import { StorageError } from './store';

/** The picked file that holds labels: a .txt, or a .json other than metadata.json that holds an array. */
export async function findLabelsFile(files: File[]): Promise<File | null> {
  for (const f of files) {
    if (/\.txt$/i.test(f.name)) return f;
    if (/\.json$/i.test(f.name) && f.name !== 'metadata.json' && (await f.slice(0, 64).text()).replace(/^\uFEFF/, '').trimStart().startsWith('[')) return f;
  }
  return null;
}

/** The names in a labels file (src/model-files/labels.ts), its problems as a storage message. */
export function parseLabels(text: string, name: string): string[] {
  try {
    return parseLabelsFile(text, `The labels file “${name}”`);
  } catch (e) {
    throw new StorageError((e as Error).message);
  }
}

/**
 * Checks `labels` against the model's outputs (the model loaded in a session of its own, so the
 * model in use stays loaded) and returns the files with the labels in metadata.json (merged into
 * the one picked, if any), which is how the model is stored and loaded from then on.
 */
export async function withLabels(worker: WorkerTarget, files: File[], labels: string[], labelsName: string): Promise<File[]> {
  const meta = files.find((f) => f.name === 'metadata.json');
  const rest = files.filter((f) => f !== meta);
  const checker = createClient(worker);
  let outputs: number;
  try {
    outputs = (await checker.load({ files: rest })).labels.length;
  } finally {
    await checker.dispose();
  }
  if (outputs !== labels.length) {
    throw new StorageError(`The labels file “${labelsName}” names ${labels.length} classes, but the model has ${outputs} outputs. ` +
      'Give one name per output (a JSON array, or one name per line), in the order of the outputs. Nothing was stored.');
  }
  let metadata: Record<string, unknown> = {};
  if (meta) {
    try {
      metadata = JSON.parse(await meta.text()) as Record<string, unknown>;
    } catch {
      // An unreadable metadata.json is replaced by one with the labels.
    }
  }
  return [...rest, new File([JSON.stringify({ ...metadata, labels })], 'metadata.json', { type: 'application/json' })];
}
