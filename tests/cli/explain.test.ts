/**
 * `whycam explain` end to end on the real Teachable Machine export: the command runs as a
 * subprocess, exactly as a user runs it. All runs start in beforeAll (two at a time) because
 * process start-up, not the explanation, is what costs time; each test awaits its own run.
 */
import * as fs from 'fs';
import * as http from 'http';
import type { AddressInfo } from 'net';
import * as os from 'os';
import * as path from 'path';
import * as jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import { BANNER, REPO, TM, TM_MODEL, TM_TINY, TM_ZIP, exec, photo, readPng, whycam, type CliResult } from './helpers';

const CHELSEA = path.join(REPO, 'models/imagenet-darknet-tiny/samples/chelsea.png'); // 451x300
const GARMENT = path.join(REPO, 'models/fashion-scenes/samples/single-05.png');

const METHODS = ['cam', 'gradcam', 'vanilla', 'guided', 'guided-gradcam'];

let tmp: string;
let server: http.Server;
const runs: Record<string, Promise<CliResult>> = {};
const dir = (...p: string[]) => path.join(tmp, ...p);
const readJson = (file: string) => JSON.parse(fs.readFileSync(dir(file), 'utf8'));

/** Nearest-neighbour copy of a photo at another size: a non-square input of a size the model does not take. */
function resizedCopy(src: string, width: number, height: number, dest: string): void {
  const a = readPng(src);
  const b = new PNG({ width, height });
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const s = (Math.floor((y * a.height) / height) * a.width + Math.floor((x * a.width) / width)) * 4;
      a.data.copy(b.data, (y * width + x) * 4, s, s + 4);
    }
  }
  fs.writeFileSync(dest, PNG.sync.write(b));
}

function jpegCopy(src: string, dest: string): void {
  const a = readPng(src);
  fs.writeFileSync(dest, jpeg.encode({ data: a.data, width: a.width, height: a.height }, 95).data);
}

/** Serves the fixture folder, to load a model from an http URL as the CLI allows. */
function serve(root: string): Promise<string> {
  server = http.createServer((req, res) => {
    const file = path.join(root, decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname));
    if (!file.startsWith(root) || !fs.existsSync(file) || !fs.statSync(file).isFile()) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'Content-Type': file.endsWith('.json') ? 'application/json' : 'application/octet-stream' });
    fs.createReadStream(file).pipe(res);
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`)));
}

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'whycam-cli-'));
  resizedCopy(photo(1, 0), 300, 200, dir('wide.png'));
  jpegCopy(photo(1, 1), dir('photo.jpg'));
  const base = await serve(TM);

  runs.all = whycam(['explain', photo(2, 0), '--model', TM_MODEL, '--out', dir('all'), '--json', dir('all.json')]);
  runs.zip = whycam([
    'explain', dir('wide.png'), '--model', TM_ZIP, '--class', 'Class 1', '--method', 'gradcam,vanilla',
    '--out', dir('zip'), '--json', dir('zip.json'), '--colormap', 'viridis', '--opacity', '0.7',
  ]);
  runs.url = whycam([
    'explain', dir('photo.jpg'), '--model', `${base}/image-model/model.json`, '--class', '0', '--method', 'gradcam',
    '--backend', 'cpu', '--out', dir('url'), '--json', dir('url.json'),
  ]);
  runs.tiny = whycam([
    'explain', photo(1, 2), '--model', path.join(TM_TINY, 'model.json'), '--method', 'vanilla,gradcam,guided-gradcam',
    '--range', '-1..1', '--out', dir('tiny'), '--json', dir('tiny.json'),
  ]);
  // The default model (no --model), the garment model by path, --fit contain, --labels for a bare model.json.
  runs.default = whycam(['explain', CHELSEA, '--method', 'gradcam', '--out', dir('default'), '--json', dir('default.json')]);
  runs.garment = whycam(['explain', GARMENT, '--model', 'models/fashion-scenes', '--method', 'gradcam', '--out', dir('garment'), '--json', dir('garment.json')]);
  runs.contain = whycam(['explain', dir('wide.png'), '--model', TM_MODEL, '--fit', 'contain', '--method', 'gradcam', '--out', dir('contain'), '--json', dir('contain.json')]);
  fs.mkdirSync(dir('bare'));
  for (const f of ['model.json', 'weights.bin']) fs.copyFileSync(path.join(TM_MODEL, f), dir('bare', f));
  fs.writeFileSync(dir('names.txt'), 'left hand\r\nright hand\n\n');
  fs.writeFileSync(dir('three.json'), JSON.stringify(['a', 'b', 'c']));
  runs.labels = whycam(['explain', photo(2, 0), '--model', dir('bare'), '--labels', dir('names.txt'), '--method', 'gradcam', '--out', dir('labels'), '--json', dir('labels.json')]);
  runs.badLabels = whycam(['explain', photo(2, 0), '--model', dir('bare'), '--labels', dir('three.json'), '--method', 'gradcam', '--out', dir('bad')]);
  runs.help = whycam(['--help']);
  // A fresh, offline npm cache: npx must run the package's own bin, never look for "whycam" in the registry.
  const npmEnv = { npm_config_cache: dir('npm-cache'), npm_config_offline: 'true', npm_config_update_notifier: 'false' };
  runs.npx = exec('npx', ['--no-install', 'whycam', '--help'], { env: npmEnv });
  runs.npmRun = exec('npm', ['run', '--silent', 'whycam', '--', '--help'], { env: npmEnv });
}, 30_000);

afterAll(() => {
  server?.close();
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

/** The rows of the predictions table, as [rank, index, label, probability]. */
function predictionRows(stdout: string): string[][] {
  const lines = stdout.split('\n');
  const header = lines.findIndex((l) => /rank\s+index\s+class\s+probability/.test(l));
  expect(header).toBeGreaterThanOrEqual(0);
  const rows: string[][] = [];
  for (const l of lines.slice(header + 1)) {
    const m = /^\s+(\d+)\s+(\d+)\s+(.+?)\s+([\d.e+-]+)(\s+<- explained)?$/.exec(l);
    if (!m) break;
    rows.push([m[1], m[2], m[3], m[4]]);
  }
  return rows;
}

function expectCleanSuccess(r: CliResult): void {
  if (r.code !== 0) throw new Error(`exit ${r.code}: ${r.stderr}`);
  expect(r.stderr).toBe('');
  expect(r.stdout).not.toMatch(BANNER);
}

describe('whycam explain, all methods on a class-2 photo', () => {
  test('prints the predictions with "Class 2" on top, the class explained and the layer', async () => {
    const r = await runs.all;
    expectCleanSuccess(r);
    const rows = predictionRows(r.stdout);
    expect(rows.map((row) => row[2])).toEqual(['Class 2', 'Class 1']);
    expect(Number(rows[0][3])).toBeGreaterThan(0.5);
    expect(r.stdout).toMatch(/Explaining: class 1 "Class 2" \(the top prediction\)/);
    expect(r.stdout).toMatch(/Target layer: out_relu \(7x7/);
  });

  test('writes one overlay PNG per applicable method, at the photo\'s size', async () => {
    const r = await runs.all;
    expectCleanSuccess(r);
    const original = readPng(photo(2, 0));
    for (const m of ['gradcam', 'vanilla', 'guided', 'guided-gradcam']) {
      const file = dir('all', `0.${m}.png`);
      expect(r.stdout).toContain(file);
      const png = readPng(file);
      expect([png.width, png.height]).toEqual([original.width, original.height]);
      // A heat map is actually blended in: the pixels differ from the photo.
      expect(Buffer.compare(png.data, original.data)).not.toBe(0);
    }
    expect(fs.existsSync(dir('all', '0.cam.png'))).toBe(false);
  });

  test('reports CAM as skipped, with the reason (GAP -> Dense -> Dense head)', async () => {
    const r = await runs.all;
    expect(r.stdout).toMatch(/^\s+cam\s+skipped: .*Dense.*$/m);
  });

  test('--json has exactly the documented keys and raw maps', async () => {
    const json = readJson('all.json');
    expect(Object.keys(json)).toEqual(['predictions', 'class', 'fit', 'region', 'maps', 'skipped']);
    // A square photo into a square input: the model saw all of it.
    expect([json.fit, json.region]).toEqual(['cover', { x: 0, y: 0, width: 224, height: 224 }]);
    for (const p of json.predictions) expect(Object.keys(p).sort()).toEqual(['index', 'label', 'probability']);
    expect(json.predictions[0].label).toBe('Class 2');
    expect(json.class).toBe(json.predictions[0].index);
    expect(Object.keys(json.maps)).toEqual(['gradcam', 'vanilla', 'guided', 'guided-gradcam']);
    for (const map of Object.values<Record<string, unknown>>(json.maps)) {
      expect(Object.keys(map)).toEqual(['width', 'height', 'channels', 'layer', 'data']);
    }
    const { gradcam, vanilla, guided } = json.maps;
    expect([gradcam.width, gradcam.height, gradcam.channels, gradcam.layer]).toEqual([7, 7, 1, 'out_relu']);
    expect(gradcam.data).toHaveLength(49);
    expect(gradcam.data.every(Number.isFinite)).toBe(true);
    expect(gradcam.data.some((v: number) => v !== 0)).toBe(true);
    expect([vanilla.width, vanilla.height, vanilla.channels, vanilla.layer]).toEqual([224, 224, 3, null]);
    expect(vanilla.data).toHaveLength(224 * 224 * 3);
    expect(vanilla.data.every(Number.isFinite)).toBe(true);
    expect(guided.layer).toBeNull();
    expect(json.maps['guided-gradcam'].layer).toBe('out_relu');
    expect(Object.keys(json.skipped)).toEqual(['cam']);
    expect(json.skipped.cam).toMatch(/Dense/);
    // Every requested method is in exactly one of maps and skipped.
    expect([...Object.keys(json.maps), ...Object.keys(json.skipped)].sort()).toEqual([...METHODS].sort());
  });
});

describe('other inputs and model sources', () => {
  test('a Teachable Machine zip, --class by label, a 300x200 photo: overlays over the 200x200 centre the model saw', async () => {
    const r = await runs.zip;
    expectCleanSuccess(r);
    const json = readJson('zip.json');
    expect(json.class).toBe(0);
    expect(r.stdout).toMatch(/Explaining: class 0 "Class 1"/);
    expect(Object.keys(json.maps)).toEqual(['gradcam', 'vanilla']);
    expect(json.skipped).toEqual({});
    expect(json.predictions.reduce((s: number, p: { probability: number }) => s + p.probability, 0)).toBeCloseTo(1, 4);
    expect([json.fit, json.region]).toEqual(['cover', { x: 50, y: 0, width: 200, height: 200 }]);
    expect(r.stdout).toMatch(/\(300x200; cover: the model saw 200x200 at \(50, 0\)\)/);
    for (const m of ['gradcam', 'vanilla']) {
      const png = readPng(dir('zip', `wide.${m}.png`));
      expect([png.width, png.height]).toEqual([200, 200]);
    }
  });

  test('a model.json URL, --class by index, a JPEG, the cpu backend: no tfjs banner', async () => {
    const r = await runs.url;
    expectCleanSuccess(r);
    expect(r.stderr).not.toMatch(BANNER);
    const json = readJson('url.json');
    expect(json.class).toBe(0);
    expect(json.maps.gradcam.layer).toBe('out_relu');
    const png = readPng(dir('url', 'photo.gradcam.png'));
    expect([png.width, png.height]).toEqual([224, 224]);
  });

  test('the tiny 96x96 grayscale model: one-channel gradient maps, overlays at the photo\'s size', async () => {
    const r = await runs.tiny;
    expectCleanSuccess(r);
    const json = readJson('tiny.json');
    expect([json.maps.vanilla.width, json.maps.vanilla.height, json.maps.vanilla.channels]).toEqual([96, 96, 1]);
    expect(json.maps.vanilla.data).toHaveLength(96 * 96);
    expect(json.maps['guided-gradcam'].channels).toBe(1);
    expect(json.maps.gradcam.channels).toBe(1);
    expect(json.maps.gradcam.data.every(Number.isFinite)).toBe(true);
    for (const m of ['vanilla', 'gradcam', 'guided-gradcam']) {
      const png = readPng(dir('tiny', `2.${m}.png`));
      expect([png.width, png.height]).toEqual([224, 224]);
    }
  });
});

describe('the default model, --fit and --labels', () => {
  test('without --model: the ImageNet model; a 451x300 cat photo, centre-cropped, is an Egyptian cat; overlays over the crop', async () => {
    const r = await runs.default;
    expectCleanSuccess(r);
    expect(r.stdout).toMatch(/^Model: .*models[\\/]imagenet-darknet-tiny \(input 224x224x3, pixels 0\.\.1, 1000 classes\)/m);
    expect(predictionRows(r.stdout)[0][2]).toBe('Egyptian cat');
    const json = readJson('default.json');
    expect([json.fit, json.region]).toEqual(['cover', { x: 75, y: 0, width: 300, height: 300 }]);
    expect(json.maps.gradcam.layer).toBe('conv2d_16');
    const png = readPng(dir('default', 'chelsea.gradcam.png'));
    expect([png.width, png.height]).toEqual([300, 300]);
  });

  test('--model models/fashion-scenes: the garment model still works', async () => {
    const r = await runs.garment;
    expectCleanSuccess(r);
    expect(r.stdout).toMatch(/^Model: models\/fashion-scenes \(input 64x64x3, pixels 0\.\.1, 10 classes\)/m);
    expect(predictionRows(r.stdout)[0][2]).toBe('Bag'); // single-05 is the Bag sample (samples.json)
  });

  test('--fit contain: the whole 300x200 photo, padded to the square the model saw', async () => {
    const r = await runs.contain;
    expectCleanSuccess(r);
    const json = readJson('contain.json');
    // 200 * 224 / 300 = 149.3 -> 149 rows placed 37 rows down: 200 / 149 source pixels a row.
    expect(json.fit).toBe('contain');
    expect(json.region.x).toBe(0);
    expect(json.region.y).toBeCloseTo((-37 * 200) / 149, 6);
    expect(json.region.width).toBeCloseTo(300, 6);
    expect(json.region.height).toBeCloseTo((224 * 200) / 149, 6);
    const png = readPng(dir('contain', 'wide.gradcam.png'));
    expect([png.width, png.height]).toEqual([300, 301]);
  });

  test('--labels names the classes of a model without metadata.json (one name a line)', async () => {
    const r = await runs.labels;
    expectCleanSuccess(r);
    const json = readJson('labels.json');
    expect(json.predictions.map((p: { label: string }) => p.label).sort()).toEqual(['left hand', 'right hand']);
    expect(r.stdout).toMatch(/Explaining: class 1 "right hand"/);
  });

  test('--labels with a count that does not match the outputs: exit 2 and one line that says so', async () => {
    const r = await runs.badLabels;
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^whycam: --labels .*three\.json: 3 labels given for a model with 2 classes\.\n$/);
  });
});

describe('how it is started', () => {
  test('--help prints the usage and exits 0', async () => {
    const r = await runs.help;
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Usage: whycam explain <image/);
    for (const flag of ['--model', '--class', '--method', '--layer', '--range', '--fit', '--labels', '--out', '--json', '--backend', '--colormap', '--opacity']) {
      expect(r.stdout).toContain(flag);
    }
  });

  test('npx whycam runs the package\'s own bin offline, and so does npm run whycam', async () => {
    for (const r of [await runs.npx, await runs.npmRun]) {
      if (r.code !== 0) throw new Error(`exit ${r.code}: ${r.stderr}`);
      expect(r.stdout).toMatch(/Usage: whycam explain/);
    }
  });
});
