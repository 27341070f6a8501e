/**
 * `npm run bench:batch [-- --images 200] [--separate <n>] [--model <dir>] [--photos <dir>] [--json <file>]`
 *
 * Images per second of a batch against one `whycam explain` run per image, on the same files in
 * the same run: a folder of N images (the model's sample photos copied round robin, default 200)
 * explained (1) by N separate runs one after another, each starting Node, tfjs and the model;
 * (2) by one `whycam explain <folder> --jobs 1`; (3) by one with --jobs 2. Every run writes the
 * same overlays (all default methods) and the batches a JSONL. Wall-clock time of the whole
 * command, start-up included. `--separate n` times the separate runs on the first n images only
 * (each run is independent, so its per-image figure holds; the table says so). Prints a table and
 * writes JSON (default tests/artifacts/bench-batch.json).
 */
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { parseArgs } from 'util';
import { DEFAULT_MODEL_DIR } from '../../src/cli/explain';

const ROOT = path.resolve(__dirname, '../..');
const BIN = path.join(ROOT, 'src/cli/bin.cjs');

const { values } = parseArgs({
  options: {
    images: { type: 'string', default: '200' },
    separate: { type: 'string' },
    model: { type: 'string' },
    photos: { type: 'string' },
    json: { type: 'string', default: path.join(ROOT, 'tests/artifacts/bench-batch.json') },
  },
});

const count = Number(values.images);
const separateCount = Math.min(count, Number(values.separate ?? count));
const model = path.resolve(values.model ?? DEFAULT_MODEL_DIR);
const photosDir = path.resolve(values.photos ?? path.join(model, 'samples'));
const photos = fs.readdirSync(photosDir).filter((f) => /\.(png|jpe?g)$/i.test(f)).sort().map((f) => path.join(photosDir, f));
if (photos.length === 0) throw new Error(`no PNG or JPEG photos in ${photosDir}; pass --photos <dir>`);

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'whycam-bench-batch-'));
const folder = path.join(tmp, 'photos');
fs.mkdirSync(folder);
const files: string[] = [];
for (let i = 0; i < count; i++) {
  const src = photos[i % photos.length];
  const dest = path.join(folder, `${String(i).padStart(4, '0')}${path.extname(src)}`);
  fs.copyFileSync(src, dest);
  files.push(dest);
}

function whycam(args: string[]): void {
  execFileSync(process.execPath, [BIN, ...args], { stdio: ['ignore', 'ignore', 'pipe'], maxBuffer: 64 << 20 });
}

function timed(fn: () => void): number {
  const t = performance.now();
  fn();
  return (performance.now() - t) / 1000;
}

function log(line: string): void {
  process.stderr.write(`${line}\n`);
}

log(`${count} images (${photos.length} photos from ${path.relative(ROOT, photosDir) || photosDir}), model ${path.relative(ROOT, model) || model}, ${os.cpus().length} cores`);
log('separate runs...');
const separate = timed(() => {
  for (const f of files.slice(0, separateCount)) {
    try {
      whycam(['explain', f, '--model', model, '--out', path.join(tmp, 'separate')]);
    } catch (e) {
      throw new Error(`whycam explain ${f} failed: ${(e as { stderr?: Buffer }).stderr?.toString() ?? e}`);
    }
  }
});
const batch = (jobs: number) => timed(() => {
  try {
    whycam(['explain', folder, '--model', model, '--out', path.join(tmp, `jobs-${jobs}`), '--jsonl', path.join(tmp, `jobs-${jobs}.jsonl`), '--jobs', String(jobs)]);
  } catch (e) {
    throw new Error(`the batch with --jobs ${jobs} failed: ${(e as { stderr?: Buffer }).stderr?.toString() ?? e}`);
  }
});
log('batch --jobs 1...');
const jobs1 = batch(1);
log('batch --jobs 2...');
const jobs2 = batch(2);

const rows = [
  { mode: `${separateCount} separate runs`, images: separateCount, seconds: separate },
  { mode: 'batch --jobs 1', images: count, seconds: jobs1 },
  { mode: 'batch --jobs 2', images: count, seconds: jobs2 },
].map((r) => ({ ...r, imagesPerSecond: r.images / r.seconds, msPerImage: (1000 * r.seconds) / r.images }))
  .map((r, _i, all) => ({ ...r, speedup: all[0].msPerImage / r.msPerImage }));

const lines = [
  '| mode | images | seconds | images/s | ms/image | x separate (per image) |',
  '|---|---:|---:|---:|---:|---:|',
  ...rows.map((r) => `| ${r.mode} | ${r.images} | ${r.seconds.toFixed(1)} | ${r.imagesPerSecond.toFixed(2)} | ${r.msPerImage.toFixed(0)} | ${r.speedup.toFixed(1)}x |`),
];
process.stdout.write(`${lines.join('\n')}\n`);
const result = {
  environment: { node: process.version, cpus: os.cpus().length, cpu: os.cpus()[0]?.model, loadavg: os.loadavg(), date: new Date().toISOString() },
  model: path.relative(ROOT, model) || model,
  photos: photos.length,
  images: count,
  rows,
};
fs.mkdirSync(path.dirname(values.json), { recursive: true });
fs.writeFileSync(values.json, `${JSON.stringify(result, null, 2)}\n`);
log(`JSON: ${values.json}`);
fs.rmSync(tmp, { recursive: true, force: true });
