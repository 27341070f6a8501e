/**
 * A model zip (Teachable Machine's export, or one a person made) read into its files, safely:
 * the sizes its central directory declares are checked before anything is inflated, and an
 * entry that inflates to more than it declared is stopped there (a zip bomb costs milliseconds,
 * not gigabytes).
 */
import JSZip from 'jszip';
import { WhycamError } from '../errors';

export interface ZipEntry {
  /** Path inside the archive. */
  name: string;
  data: Uint8Array;
}

/** One file of an opened archive, not inflated yet. */
export interface ZipListing {
  /** Path inside the archive. */
  name: string;
  /** Uncompressed size from the archive's central directory. */
  size: number;
  /** Inflates the entry, refusing it (MODEL_CORRUPT) as soon as it exceeds its declared size. */
  read(): Promise<Uint8Array>;
}

export interface ZipLimits {
  /** The most bytes the listed files may inflate to together. Default: no limit. */
  maxBytes?: number;
}

/** The total a model zip may inflate to by default: the default weight cap and room for model.json. */
export const DEFAULT_MAX_ZIP_BYTES = 200 * 1024 * 1024 + 64 * 1024 * 1024;

const baseName = (p: string) => p.split(/[\\/]/).pop() as string;
const mb = (n: number) => `${(n / 1024 / 1024).toFixed(1)} MB`;

/** JSZip keeps each entry's central-directory sizes on a private field; it is the only place they are. */
interface EntryInternals {
  _data?: { uncompressedSize?: number };
}

/** JSZip's stream helper (typed by JSZip only for its Node stream form). */
interface EntryStream {
  on(event: 'data', f: (chunk: Uint8Array) => void): EntryStream;
  on(event: 'error', f: (e: Error) => void): EntryStream;
  on(event: 'end', f: () => void): EntryStream;
  resume(): EntryStream;
  pause(): EntryStream;
}

function declaredSize(entry: JSZip.JSZipObject): number {
  const size = (entry as unknown as EntryInternals)._data?.uncompressedSize;
  // An entry added in memory (not read from an archive) has no compressed form; its content is already there.
  return typeof size === 'number' && Number.isFinite(size) && size >= 0 ? size : 0;
}

function inflate(entry: JSZip.JSZipObject, declared: number): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    const chunks: Uint8Array[] = [];
    let total = 0;
    let done = false;
    const fail = (e: WhycamError) => {
      if (done) return;
      done = true;
      stream.pause();
      chunks.length = 0;
      reject(e);
    };
    const stream = (entry as unknown as { internalStream(type: 'uint8array'): EntryStream }).internalStream('uint8array');
    stream
      .on('data', (chunk: Uint8Array) => {
        if (done) return;
        total += chunk.byteLength;
        if (total > declared) {
          fail(new WhycamError('MODEL_CORRUPT', `'${entry.name}' inflates to more than the ${declared} bytes its zip directory declares: the archive is corrupt or built to exhaust memory.`));
          return;
        }
        chunks.push(chunk);
      })
      .on('error', (e: Error) => fail(new WhycamError('MODEL_CORRUPT', `'${entry.name}' in the zip cannot be read (${e.message}).`, { cause: e })))
      .on('end', () => {
        if (done) return;
        done = true;
        const out = new Uint8Array(total);
        let offset = 0;
        for (const c of chunks) { out.set(c, offset); offset += c.byteLength; }
        resolve(out);
      })
      .resume();
  });
}

/** Opens an archive and lists its files (leaving out folders and the resource forks macOS adds) without inflating any. */
export async function listZip(data: ArrayBuffer | Uint8Array): Promise<ZipListing[]> {
  let zip: JSZip;
  try {
    zip = await JSZip.loadAsync(data instanceof Uint8Array ? data : new Uint8Array(data));
  } catch (e) {
    throw new WhycamError('MODEL_CORRUPT', `The file is not a readable zip archive (${(e as Error).message}).`);
  }
  const listing: ZipListing[] = [];
  for (const entry of Object.values(zip.files)) {
    if (entry.dir || baseName(entry.name).startsWith('._') || entry.name.includes('__MACOSX')) continue;
    const size = declaredSize(entry);
    listing.push({ name: entry.name, size, read: () => inflate(entry, size) });
  }
  return listing;
}

/** Refuses files that together declare more than `maxBytes`, before any is inflated. */
export function checkZipSize(files: Array<{ name: string; size: number }>, maxBytes: number): void {
  const total = files.reduce((a, f) => a + f.size, 0);
  if (total > maxBytes) {
    const biggest = files.reduce((a, f) => (f.size > a.size ? f : a));
    throw new WhycamError('MODEL_TOO_LARGE', `The zip's files inflate to ${mb(total)} ('${biggest.name}' alone ${mb(biggest.size)}); the limit is ${mb(maxBytes)}. Nothing was inflated.`);
  }
}

/** The archive's files, inflated after their declared sizes passed `limits`. */
export async function readZip(data: ArrayBuffer | Uint8Array, limits: ZipLimits = {}): Promise<ZipEntry[]> {
  const listing = await listZip(data);
  if (limits.maxBytes !== undefined && listing.length) checkZipSize(listing, limits.maxBytes);
  const files: ZipEntry[] = [];
  for (const f of listing) files.push({ name: f.name, data: await f.read() });
  return files;
}
