/** Runs the real `whycam` command (node src/cli/bin.cjs) as a subprocess. */
import { execFile } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { PNG } from 'pngjs';

export const REPO = path.resolve(__dirname, '../..');
export const BIN = path.join(REPO, 'src/cli/bin.cjs');
/** Shared, read-only fixtures beside the repository (see DESIGN.md, "Shared material"). */
export const TM = path.resolve(__dirname, '../../../shared/fixtures/teachable-machine');
export const TM_MODEL = path.join(TM, 'image-model');
export const TM_ZIP = path.join(TM, 'image-model.zip');
export const TM_TINY = path.join(TM, 'tiny-image-model');
export const photo = (cls: 1 | 2, i: number) => path.join(TM, 'images', `class-${cls}`, `${i}.png`);

export const BANNER = /looks like you are running TensorFlow\.js/;

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Start-up dominates each run (~1-2 s), so run at most two at once on a 2-core machine. */
const MAX_PARALLEL = 2;
let running = 0;
const waiting: Array<() => void> = [];

async function slot<T>(fn: () => Promise<T>): Promise<T> {
  if (running >= MAX_PARALLEL) await new Promise<void>((resolve) => waiting.push(resolve));
  running++;
  try {
    return await fn();
  } finally {
    running--;
    waiting.shift()?.();
  }
}

export function exec(file: string, args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<CliResult> {
  const env = { ...process.env, ...options.env };
  if (!options.env || !('WHYCAM_DEBUG' in options.env)) delete env.WHYCAM_DEBUG;
  return slot(
    () =>
      new Promise<CliResult>((resolve) => {
        execFile(file, args, { cwd: options.cwd ?? REPO, env, maxBuffer: 64 << 20, timeout: 120_000 }, (error, stdout, stderr) => {
          const code = error ? (typeof error.code === 'number' ? error.code : -1) : 0;
          resolve({ code, stdout: String(stdout), stderr: String(stderr) });
        });
      }),
  );
}

export const whycam = (args: string[], options?: { cwd?: string; env?: NodeJS.ProcessEnv }) =>
  exec(process.execPath, [BIN, ...args], options);

export function readPng(file: string): PNG {
  return PNG.sync.read(fs.readFileSync(file));
}
