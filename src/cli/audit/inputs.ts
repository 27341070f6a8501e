/**
 * The images of a batch: files, folders (searched recursively) and globs, expanded to one
 * sorted list without duplicates. The order is by path, so every machine given the same
 * arguments sees the same list, which is what makes `--shard K/N` deterministic.
 */
import { promises as fs } from 'fs';
import * as path from 'path';
import { glob, isDynamicPattern } from 'tinyglobby';

/** Extensions taken from folders and globs; a file named on the command line is taken whatever its name. */
export const IMAGE_EXTENSIONS = ['.png', '.jpg', '.jpeg'];

export interface ImageEntry {
  /** The path as found (relative to the working directory when given relative); the batch's key. */
  path: string;
  /** The same path below the deepest folder common to the whole collection, without extension: names the outputs. */
  name: string;
}

export interface Collection {
  images: ImageEntry[];
  /** Files under the folders (or matched by the globs) that are not PNG or JPEG by name: left out. */
  ignored: number;
}

const isImageName = (file: string) => IMAGE_EXTENSIONS.includes(path.extname(file).toLowerCase());
const isHidden = (file: string) => path.basename(file).startsWith('.');
/** Forward slashes everywhere: the same key on every system, and what globs and URLs use. */
const slashed = (p: string) => p.split(path.sep).join('/');

async function walk(dir: string, out: string[], counts: { ignored: number }): Promise<void> {
  const entries = await fs.readdir(dir, { withFileTypes: true });
  for (const e of entries) {
    if (e.name.startsWith('.')) continue;
    const full = path.join(dir, e.name);
    if (e.isDirectory()) await walk(full, out, counts);
    else if (e.isFile() || e.isSymbolicLink()) {
      if (isImageName(e.name)) out.push(full);
      else counts.ignored++;
    }
  }
}

/** The deepest folder holding every path (compared by whole segments). */
export function commonFolder(paths: string[]): string {
  if (paths.length === 0) return '';
  let common = path.posix.dirname(paths[0]).split('/');
  for (const p of paths) {
    const parts = path.posix.dirname(p).split('/');
    let i = 0;
    while (i < common.length && i < parts.length && common[i] === parts[i]) i++;
    common = common.slice(0, i);
  }
  return common.join('/');
}

/** A relative output name with no way out of its folder ('..' and roots dropped). */
function outputName(p: string, base: string): string {
  const rel = base === '' ? p : path.posix.relative(base, p);
  const parts = rel.split('/').filter((s) => s !== '' && s !== '.' && s !== '..');
  const last = parts.length - 1;
  parts[last] = parts[last].slice(0, parts[last].length - path.posix.extname(parts[last]).length) || parts[last];
  return parts.join('/');
}

/**
 * Expands the command line's inputs. A path that does not exist stays in the list (it becomes
 * that image's error); a glob that matches nothing is an error of the command line.
 */
export async function collectImages(inputs: string[]): Promise<Collection> {
  const found: string[] = [];
  const counts = { ignored: 0 };
  for (const input of inputs) {
    const stat = await fs.stat(input).catch(() => null);
    if (stat?.isDirectory()) {
      await walk(input, found, counts);
    } else if (!stat && isDynamicPattern(input)) {
      const matches = await glob(input, { onlyFiles: true, dot: false, expandDirectories: false });
      if (matches.length === 0) throw new Error(`no file matches '${input}'`);
      for (const m of matches) {
        if (isHidden(m)) continue;
        if (isImageName(m)) found.push(m);
        else counts.ignored++;
      }
    } else {
      found.push(input);
    }
  }
  const unique = [...new Set(found.map((f) => slashed(path.normalize(f))))].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const base = commonFolder(unique);
  const names = unique.map((p) => outputName(p, base));
  // photo.png and photo.jpg side by side would write the same outputs: those keep their extension.
  const seen = new Map<string, number>();
  for (const n of names) seen.set(n, (seen.get(n) ?? 0) + 1);
  const images = unique.map((p, i) => ({ path: p, name: (seen.get(names[i]) ?? 0) > 1 ? `${names[i]}${path.posix.extname(p)}` : names[i] }));
  return { images, ignored: counts.ignored };
}
