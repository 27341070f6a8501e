/** A model zip (Teachable Machine's export, or one a person made) read into its files. */
import JSZip from 'jszip';
import { WhycamError } from '../errors';

export interface ZipEntry {
  /** Path inside the archive. */
  name: string;
  data: Uint8Array;
}

const baseName = (p: string) => p.split(/[\\/]/).pop() as string;

/** The archive's files, leaving out folders and the resource forks macOS adds (`__MACOSX/`, `._name`). */
export async function readZip(data: ArrayBuffer | Uint8Array): Promise<ZipEntry[]> {
  let zip: JSZip;
  try {
    zip = await JSZip.loadAsync(data instanceof Uint8Array ? data : new Uint8Array(data));
  } catch (e) {
    throw new WhycamError('MODEL_CORRUPT', `The file is not a readable zip archive (${(e as Error).message}).`);
  }
  const files: ZipEntry[] = [];
  for (const entry of Object.values(zip.files)) {
    if (entry.dir || baseName(entry.name).startsWith('._') || entry.name.includes('__MACOSX')) continue;
    files.push({ name: entry.name, data: await entry.async('uint8array') });
  }
  return files;
}
