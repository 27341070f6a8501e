/**
 * `whycam explain` on a folder: the batch end to end as a subprocess, on the Teachable Machine
 * tiny model. The folder holds 27 photos (one folder per class) and 3 bad files: an empty one,
 * a text file named .jpg and a truncated PNG. Runs start in beforeAll, two at a time.
 */
import { spawn } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { launchChromium } from '../helpers/browser';
import { BIN, TM_TINY, photo, whycam, type CliResult } from './helpers';

const METHODS = 'gradcam,guided';
let tmp: string;
const dir = (...p: string[]) => path.join(tmp, ...p);
const runs: Record<string, Promise<CliResult>> = {};
const common = ['--model', TM_TINY, '--method', METHODS, '--truth', 'folders'];

interface Rec { path: string; ok: boolean; truth?: string; correct?: boolean; predictions?: Array<{ label: string; probability: number }>; error?: { code: string }; ms?: number }
const readJsonl = (file: string): Rec[] => fs.readFileSync(file, 'utf8').split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as Rec);

const BAD = ['class-1/empty.png', 'class-2/not-an-image.jpg', 'class-2/truncated.png'];

function makeFolder(root: string): void {
  for (const cls of [1, 2] as const) {
    const d = path.join(root, `class-${cls}`);
    fs.mkdirSync(d, { recursive: true });
    for (let i = 0; i <= 10; i++) fs.copyFileSync(photo(cls, i), path.join(d, `${i}.png`));
  }
  // 27 photos: 14 + 13.
  for (const i of [11, 12, 13]) fs.copyFileSync(photo(1, i - 11), path.join(root, 'class-1', `${i}.png`));
  for (const i of [11, 12]) fs.copyFileSync(photo(2, i - 8), path.join(root, 'class-2', `${i}.png`));
  fs.writeFileSync(path.join(root, BAD[0]), '');
  fs.writeFileSync(path.join(root, BAD[1]), 'These are notes, not a photo.\n');
  const png = fs.readFileSync(photo(2, 5));
  fs.writeFileSync(path.join(root, BAD[2]), png.subarray(0, Math.floor(png.length / 3)));
  // Not named as an image: left out of the batch.
  fs.writeFileSync(path.join(root, 'README.txt'), 'photos\n');
}

/** Runs a batch and stops it with Ctrl-C once `after` images are done. */
function interrupted(args: string[], jsonl: string, after: number): Promise<CliResult> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd: tmp, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => { stdout += d; });
    child.stderr.on('data', (d) => { stderr += d; });
    const poll = setInterval(() => {
      const lines = fs.existsSync(jsonl) ? fs.readFileSync(jsonl, 'utf8').split('\n').length - 1 : 0;
      if (lines >= after) {
        clearInterval(poll);
        child.kill('SIGINT');
      }
    }, 50);
    child.on('close', (code) => {
      clearInterval(poll);
      resolve({ code: code ?? -1, stdout, stderr });
    });
  });
}

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'whycam-audit-'));
  makeFolder(dir('photos'));
  const cwd = { cwd: tmp };
  runs.whole = whycam(['explain', 'photos', ...common, '--jobs', '2', '--out', 'out', '--jsonl', 'all.jsonl', '--report', 'report'], cwd);
  runs.shards = (async () => {
    const shards = await Promise.all([0, 1, 2].map((k) => whycam(['explain', 'photos', ...common, '--jobs', '1', '--shard', `${k}/3`, '--out', 'out-shards', '--report', `shard-${k}`], cwd)));
    for (const s of shards) if (s.code !== 8 && s.code !== 0) return s;
    return whycam(['merge', 'shard-0', 'shard-1', 'shard-2', '--jsonl', 'merged.jsonl', '--report', 'merged'], cwd);
  })();
  runs.resumed = (async () => {
    const stop = await interrupted(['explain', 'photos', ...common, '--jobs', '1', '--out', 'out-stop', '--jsonl', 'stop.jsonl', '--report', 'stop'], dir('stop.jsonl'), 4);
    fs.copyFileSync(dir('stop.jsonl'), dir('stop-before.jsonl'));
    const again = await whycam(['explain', 'photos', ...common, '--jobs', '2', '--out', 'out-stop', '--jsonl', 'stop.jsonl', '--report', 'stop', '--resume'], cwd);
    return { ...again, stdout: `${stop.code}\n${stop.stdout}\n---\n${again.stdout}` };
  })();
}, 60_000);

afterAll(() => {
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

describe('a folder of 30 files, 3 of them bad', () => {
  test('27 results, 3 errors each on its line, listed in the summary; exit 8 (done, with failures)', async () => {
    const r = await runs.whole;
    expect(r.code).toBe(8);
    const records = readJsonl(dir('all.jsonl'));
    expect(records).toHaveLength(30);
    expect(records.filter((x) => x.ok)).toHaveLength(27);
    const failed = records.filter((x) => !x.ok);
    expect(failed.map((x) => x.path).sort()).toEqual(BAD.map((b) => `photos/${b}`).sort());
    for (const f of failed) expect(['BAD_IMAGE', 'EMPTY_IMAGE']).toContain(f.error?.code);
    expect(r.stdout).toMatch(/Explained 27 of 30 images .*; 3 failed:/);
    for (const b of BAD) expect(r.stdout).toContain(`photos/${b}`);
    expect(r.stdout).toMatch(/Ignored 1 file not named/);
    // Overlays mirror the folders: no two photos named 0.png overwrite each other.
    expect(fs.existsSync(dir('out', 'class-1', '0.gradcam.png'))).toBe(true);
    expect(fs.existsSync(dir('out', 'class-2', '0.guided.png'))).toBe(true);
  });

  test('ground truth from the folder names: each record says whether the top class matches', async () => {
    await runs.whole;
    const records = readJsonl(dir('all.jsonl')).filter((x) => x.ok);
    for (const x of records) {
      expect(x.truth).toBe(path.basename(path.dirname(x.path)));
      expect(x.correct).toBe(x.predictions![0].label.replace(' ', '-').toLowerCase() === x.truth);
    }
  });

  test('the report holds 30 entries and the pictures it names', async () => {
    await runs.whole;
    const html = fs.readFileSync(dir('report', 'index.html'), 'utf8');
    const data = JSON.parse(/<script type="application\/json" id="whycam-data">(.*?)<\/script>/s.exec(html)![1]);
    expect(data.entries).toHaveLength(30);
    for (const e of data.entries.filter((x: Rec) => x.ok)) {
      for (const file of [e.images.photo, ...Object.values(e.images.maps) as string[]]) expect(fs.existsSync(dir('report', file))).toBe(true);
      expect(Object.keys(e.images.maps).sort()).toEqual(['gradcam', 'guided']);
    }
    // Offline: nothing fetched from anywhere.
    expect(html).not.toMatch(/(src|href)="(https?:)?\/\//);
  });

  test('the report opens in Chromium from file:// without console errors; 30 figures; the filters work', async () => {
    await runs.whole;
    const records = readJsonl(dir('all.jsonl'));
    const browser = await launchChromium();
    try {
      const page = await browser.context.newPage();
      const errors: string[] = [];
      page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
      page.on('pageerror', (e) => errors.push(String(e)));
      page.on('requestfailed', (q) => errors.push(`failed to load ${q.url()}`));
      await page.goto(`file://${dir('report', 'index.html')}`, { waitUntil: 'load' });
      const figures = page.locator('#grid figure');
      expect(await figures.count()).toBe(30);
      // Every picture decodes (lazy ones too, once scrolled to).
      const broken = await page.evaluate(async () => {
        const imgs = [...document.querySelectorAll('#grid img')] as HTMLImageElement[];
        for (const img of imgs) { img.loading = 'eager'; }
        await Promise.all(imgs.map((img) => (img.complete ? null : new Promise((r) => { img.onload = img.onerror = r; }))));
        return imgs.filter((img) => img.naturalWidth === 0).length;
      });
      expect(broken).toBe(0);

      const wrong = records.filter((x) => x.ok && x.correct === false).length;
      await page.check('#f-wrong');
      expect(await figures.count()).toBe(wrong);
      await page.uncheck('#f-wrong');

      await page.check('#f-failed');
      expect(await figures.count()).toBe(3);
      await page.uncheck('#f-failed');

      await page.selectOption('#f-class', 'Class 2');
      expect(await figures.count()).toBe(records.filter((x) => x.ok && x.predictions![0].label === 'Class 2').length);
      await page.selectOption('#f-class', '');

      await page.fill('#f-min', '0.9');
      const confident = records.filter((x) => x.ok && x.predictions![0].probability >= 0.9).length;
      expect(confident).toBeGreaterThan(0);
      expect(confident).toBeLessThan(27);
      expect(await figures.count()).toBe(confident);
      await page.fill('#f-min', '');

      await page.selectOption('#f-truth', 'class-2');
      expect(await figures.count()).toBe(records.filter((x) => x.truth === 'class-2').length);
      expect(await page.locator('#count').textContent()).toMatch(/^\d+ of 30 images/);
      // 30 entries fit on one page: no "Show more".
      expect(await page.locator('#more').isVisible()).toBe(false);
      // Two plots: accuracy per class, confidence histogram.
      expect(await page.locator('.plots svg').count()).toBe(2);
      expect(errors).toEqual([]);
    } finally {
      await browser.close();
    }
  });
});

describe('shards and merge', () => {
  test('--shard 0/3, 1/3, 2/3 cover the folder without overlap; merge gives the report of one unsharded run', async () => {
    const merged = await runs.shards;
    expect(merged.stderr).toBe('');
    expect(merged.code).toBe(0);
    const parts = [0, 1, 2].map((k) => readJsonl(dir(`shard-${k}`, 'results.jsonl')).map((x) => x.path));
    const all = parts.flat();
    expect(new Set(all).size).toBe(all.length);
    expect(all.sort()).toEqual(readJsonl(dir('all.jsonl')).map((x) => x.path).sort());
    for (const p of parts) expect(p.length).toBe(10);

    await runs.whole;
    expect(fs.readFileSync(dir('merged', 'index.html'), 'utf8')).toBe(fs.readFileSync(dir('report', 'index.html'), 'utf8'));
    const pictures = (root: string) => fs.readdirSync(root, { recursive: true }).map(String).filter((f) => f.endsWith('.jpg')).sort();
    expect(pictures(dir('merged', 'images'))).toEqual(pictures(dir('report', 'images')));
    // The same records but for the timings and where each run put its overlays (--out differs).
    const strip = (x: Rec) => ({ ...x, ms: undefined, overlays: undefined });
    expect(readJsonl(dir('merged.jsonl')).map(strip)).toEqual(readJsonl(dir('all.jsonl')).map(strip));
  });
});

describe('Ctrl-C, then --resume', () => {
  test('Ctrl-C exits 130 keeping every finished image; --resume does exactly the rest', async () => {
    const r = await runs.resumed;
    const [stopCode] = r.stdout.split('\n');
    expect(stopCode).toBe('130');
    const before = readJsonl(dir('stop-before.jsonl'));
    expect(before.length).toBeGreaterThanOrEqual(4);
    expect(before.length).toBeLessThan(30);
    expect(r.code).toBe(8);
    // The resumed run explained only what was missing...
    const resumedPart = r.stdout.split('---\n')[1];
    expect(resumedPart).toMatch(new RegExp(`of ${30 - before.length} images`));
    expect(resumedPart).toMatch(new RegExp(`Resumed: ${before.length} already done`));
    // ...and kept the earlier lines as they were.
    const after = readJsonl(dir('stop.jsonl'));
    expect(after.map((x) => x.path).sort()).toEqual(readJsonl(dir('all.jsonl')).map((x) => x.path).sort());
    const byPath = new Map(after.map((x) => [x.path, x]));
    for (const b of before) expect(byPath.get(b.path)).toEqual(b);
    const html = fs.readFileSync(dir('stop', 'index.html'), 'utf8');
    expect(JSON.parse(/id="whycam-data">(.*?)<\/script>/s.exec(html)![1]).entries).toHaveLength(30);
  });
});

describe('command line', () => {
  test('--version prints the package version', async () => {
    const r = await whycam(['--version']);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`${JSON.parse(fs.readFileSync(path.join(__dirname, '../../package.json'), 'utf8')).version}\n`);
  });

  test.each([
    [['explain', 'photos', '--shard', '3/3'], /--shard must be K\/N/],
    [['explain', 'photos', '--jobs', '0'], /--jobs must be/],
    [['explain', 'photos', '--json', 'x.json'], /--jsonl/],
    [['explain', 'photos', '--metrics', 'speed'], /Unknown metric 'speed'/],
    [['explain', 'photos', '--resume'], /--resume needs/],
    [['merge'], /merge needs/],
  ])('%j is a usage error (exit 2)', async (args, message) => {
    const r = await whycam(args as string[], { cwd: tmp });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
  });

  test('a class the model does not have stops the batch before the first image (exit 5)', async () => {
    const r = await whycam(['explain', 'photos', '--model', TM_TINY, '--class', 'Dog', '--jsonl', 'dog.jsonl', '--out', 'out-dog'], { cwd: tmp });
    expect(r.code).toBe(5);
    expect(r.stderr).toMatch(/No class 'Dog'/);
    expect(fs.readFileSync(dir('dog.jsonl'), 'utf8')).toBe('');
  });

  test('a glob that matches nothing is a usage error', async () => {
    const r = await whycam(['explain', 'photos/*.webp', '--model', TM_TINY], { cwd: tmp });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/no file matches/);
  });
});
