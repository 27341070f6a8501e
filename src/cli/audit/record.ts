/**
 * One image's result in a batch: a line of the JSONL file, and an entry of the report.
 * A line is written as soon as its image is done, so an interrupted batch keeps its work.
 */
import { promises as fs, closeSync, openSync, writeSync } from 'fs';
import type { Prediction } from '../../explainer';
import type { MethodName } from '../../methods/types';

export interface MapScores {
  /** Area under the deletion curve (lower: the map's pixels matter more). */
  deletion?: number;
  /** Area under the insertion curve (higher is better). */
  insertion?: number;
  /** Rank correlation with the map after the whole model is randomised (low: the map depends on the weights). */
  sanity?: number;
  summary: string;
}

export interface AuditRecord {
  /** The image as found; the key for sorting, sharding, resuming and merging. */
  path: string;
  /** The output name: overlays are `<out>/<name>.<method>.png`. */
  name: string;
  /** The model, as given (or the default's folder). */
  model: string;
  ok: boolean;
  /** The class from --truth, when known. */
  truth?: string;
  /** Top prediction equals the truth. */
  correct?: boolean;
  width?: number;
  height?: number;
  predictions?: Prediction[];
  /** The class explained, its label and probability. */
  class?: number;
  label?: string;
  probability?: number;
  /** How the photo met the model's input, and the part of the photo (in its pixels) the model saw. */
  fit?: string;
  region?: { x: number; y: number; width: number; height: number };
  /** Overlay files written to --out, by method. */
  overlays?: Partial<Record<MethodName, string>>;
  /** Files of the report, relative to its folder: the photo and each method's overlay. */
  images?: { photo: string; maps: Partial<Record<MethodName, string>> };
  skipped?: Partial<Record<MethodName, string>>;
  /** Faithfulness (--metrics), by method; `random` is a random pixel order's curves. */
  metrics?: Partial<Record<MethodName | 'random', MapScores>>;
  error?: { code: string; message: string };
  /** Milliseconds this image took in its worker. */
  ms?: number;
}

export const byPath = (a: { path: string }, b: { path: string }) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0);

/**
 * Reads a JSONL file of records. A last line cut short (the process was killed mid-write) is
 * dropped; a record seen twice keeps its last line.
 */
export async function readRecords(file: string): Promise<AuditRecord[]> {
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw e;
  }
  const lines = text.split('\n');
  const out = new Map<string, AuditRecord>();
  for (const [i, line] of lines.entries()) {
    if (line.trim() === '') continue;
    let r: AuditRecord;
    try {
      r = JSON.parse(line) as AuditRecord;
    } catch (e) {
      if (i === lines.length - 1) continue;
      throw new Error(`${file}: line ${i + 1} is not JSON (${(e as Error).message})`);
    }
    if (typeof r?.path !== 'string') throw new Error(`${file}: line ${i + 1} is not a whycam record (no "path")`);
    out.set(r.path, r);
  }
  return [...out.values()];
}

/** Sorted by path, one line each; written beside and renamed over, so a reader never sees half a file. */
export async function writeRecords(file: string, records: AuditRecord[]): Promise<void> {
  const tmp = `${file}.tmp-${process.pid}`;
  await fs.writeFile(tmp, [...records].sort(byPath).map((r) => `${JSON.stringify(r)}\n`).join(''));
  await fs.rename(tmp, file);
}

/** Appends records one line at a time, each on disk before the next image. */
export class RecordLog {
  private fd: number;

  constructor(readonly file: string, append: boolean) {
    this.fd = openSync(file, append ? 'a' : 'w');
  }

  /** Ends a line cut short by a killed run, so the next record starts on its own line. */
  static async repairTail(file: string): Promise<void> {
    const text = await fs.readFile(file, 'utf8').catch(() => '');
    if (text !== '' && !text.endsWith('\n')) await fs.writeFile(file, text.slice(0, text.lastIndexOf('\n') + 1));
  }

  write(record: AuditRecord): void {
    writeSync(this.fd, `${JSON.stringify(record)}\n`);
  }

  close(): void {
    closeSync(this.fd);
  }
}
