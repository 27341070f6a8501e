/**
 * Node only: turns a path (a model directory, a model.json, or a Teachable Machine
 * zip) or an http(s) URL into a ModelSource. Kept out of src/index.ts so that the
 * browser bundles never pull in 'fs'.
 */
import { promises as fs } from 'fs';
import * as path from 'path';
import { WhycamError } from '../errors';
import type { ModelFile, ModelSource } from '../model/load';
import { unsupportedFormat } from '../model/formats';

async function readDirFiles(dir: string): Promise<ModelFile[]> {
  const names = await fs.readdir(dir);
  const files: ModelFile[] = [];
  for (const name of names) {
    const p = path.join(dir, name);
    if ((await fs.stat(p)).isFile() && (name.endsWith('.json') || name.endsWith('.bin') || !name.includes('.'))) {
      files.push({ name, data: new Uint8Array(await fs.readFile(p)) });
    }
  }
  return files;
}

export async function modelSourceFromPath(location: string): Promise<ModelSource> {
  if (/^https?:\/\//.test(location)) return { url: location };
  let stat;
  try {
    stat = await fs.stat(location);
  } catch {
    throw new WhycamError('MODEL_NOT_FOUND', `No model at '${location}': give a directory with model.json, a model.json file or a Teachable Machine .zip.`);
  }
  if (stat.isDirectory()) {
    const names = await fs.readdir(location);
    if (!names.includes('model.json')) {
      const other = unsupportedFormat(names);
      if (other) throw other;
    }
    return { files: await readDirFiles(location) };
  }
  const other = unsupportedFormat([location]);
  if (other && !location.toLowerCase().endsWith('.json')) throw other;
  if (location.toLowerCase().endsWith('.zip')) return { zip: new Uint8Array(await fs.readFile(location)) };
  if (location.toLowerCase().endsWith('.json')) {
    // model.json plus its weight files and metadata.json from the same directory.
    const files = await readDirFiles(path.dirname(location));
    const chosen = files.filter((f) => !f.name.endsWith('.json') || f.name === 'metadata.json');
    chosen.push({ name: 'model.json', data: new Uint8Array(await fs.readFile(location)) });
    return { files: chosen };
  }
  throw new WhycamError('MODEL_NOT_FOUND', `'${location}' is not a model directory, a model.json or a .zip.`);
}
