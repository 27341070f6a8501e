/** The shared Teachable Machine fixtures (../shared beside the repository, as in CI). */
import * as fs from 'fs';
import * as path from 'path';
import { decodeImage } from '../../src/image';
import type { ImageInput } from '../../src/image/types';

/** The shared fixtures beside the repository (each folder has a SOURCE.md). */
export const FIXTURES = path.resolve(__dirname, '../../../shared/fixtures');
export const TM_DIR = path.join(FIXTURES, 'teachable-machine');
export const TM_MODEL = path.join(TM_DIR, 'image-model');
export const TM_ZIP = path.join(TM_DIR, 'image-model.zip');
export const TM_TINY = path.join(TM_DIR, 'tiny-image-model');

if (!fs.existsSync(TM_MODEL)) {
  throw new Error(`The shared fixtures are missing at ${TM_DIR}: the tests expect ../shared/fixtures beside the repository.`);
}

/** The 22 training photos: [path, label]. */
export function tmPhotos(): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (const [dir, label] of [['class-1', 'Class 1'], ['class-2', 'Class 2']]) {
    const d = path.join(TM_DIR, 'images', dir);
    for (const f of fs.readdirSync(d).filter((n) => n.endsWith('.png')).sort()) out.push([path.join(d, f), label]);
  }
  return out;
}

export async function readImage(file: string): Promise<ImageInput> {
  return decodeImage(new Uint8Array(fs.readFileSync(file)));
}
