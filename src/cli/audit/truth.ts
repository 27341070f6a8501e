/**
 * Ground truth for an audit: `--truth labels.csv` (two columns, the image and its class; a first
 * row of headers such as `file,label` is recognised) or `--truth folders` (each photo's class is
 * the name of the folder it is in, as in photos/cat/1.jpg).
 */
import { promises as fs } from 'fs';
import * as path from 'path';
import { parse } from 'csv-parse/sync';
import { CliError } from '../args';
import { EXIT } from '../exit-codes';

export type TruthOf = (imagePath: string) => string | undefined;

export const TRUTH_FROM_FOLDERS = 'folders';

const HEADER = /^(file|filename|path|image|img|photo)$/i;

export async function loadTruth(source: string): Promise<TruthOf> {
  if (source === TRUTH_FROM_FOLDERS) return (p) => path.posix.basename(path.posix.dirname(p)) || undefined;
  let text: string;
  try {
    text = await fs.readFile(source, 'utf8');
  } catch (e) {
    throw new CliError(`Cannot read the ground truth '${source}' (${(e as Error).message}).`, EXIT.USAGE);
  }
  let rows: string[][];
  try {
    rows = parse(text, { skip_empty_lines: true, trim: true, relax_column_count: true, bom: true }) as string[][];
  } catch (e) {
    throw new CliError(`${source}: not a CSV file (${(e as Error).message}).`, EXIT.USAGE);
  }
  if (rows.length > 0 && HEADER.test(rows[0][0] ?? '')) rows = rows.slice(1);
  const byPath = new Map<string, string>();
  const byName = new Map<string, string | null>();
  const dir = path.dirname(source);
  for (const [i, row] of rows.entries()) {
    const [file, label] = row;
    if (!file || label === undefined || label === '') {
      throw new CliError(`${source}: row ${i + 1} needs two columns, the image and its class.`, EXIT.USAGE);
    }
    // A path in the CSV is relative to the CSV's own folder or to the working directory; a bare name matches any folder.
    byPath.set(path.resolve(dir, file), label);
    byPath.set(path.resolve(file), label);
    const base = path.basename(file);
    byName.set(base, byName.has(base) && byName.get(base) !== label ? null : label);
  }
  return (p) => byPath.get(path.resolve(p)) ?? byName.get(path.posix.basename(p)) ?? undefined;
}

/** Loose match of a true class to a predicted label: case, spaces, dashes and underscores aside; or the class index. */
export function sameClass(truth: string, label: string, index: number): boolean {
  const norm = (s: string) => s.toLowerCase().replace(/[\s_-]+/g, ' ').trim();
  return norm(truth) === norm(label) || (/^\d+$/.test(truth.trim()) && Number(truth) === index);
}
