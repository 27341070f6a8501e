/** The batch's pure parts, in process: the image list, shards, ground truth, the JSONL reader, the plots. */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { collectImages, commonFolder } from '../../src/cli/audit/inputs';
import { classBars, confidenceHistogram } from '../../src/cli/audit/plots';
import { readRecords, RecordLog, type AuditRecord } from '../../src/cli/audit/record';
import { inShard, parseShard } from '../../src/cli/audit/shard';
import { summarize } from '../../src/cli/audit/summary';
import { loadTruth, sameClass } from '../../src/cli/audit/truth';
import { reportHtml } from '../../src/cli/audit/html';

let tmp: string;
const dir = (...p: string[]) => path.join(tmp, ...p);
const touch = (...p: string[]) => {
  fs.mkdirSync(path.dirname(dir(...p)), { recursive: true });
  fs.writeFileSync(dir(...p), 'x');
};

beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'whycam-audit-parts-'));
  for (const f of ['b/2.png', 'b/10.JPG', 'a/1.jpeg', 'a/x/3.png', 'a/notes.txt', 'a/.hidden.png', '.git/4.png', 'a/dup.png', 'a/dup.jpg']) touch('set', f);
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe('collectImages', () => {
  test('folders recursively, images by extension, hidden skipped, sorted by code unit, names below the common folder', async () => {
    const cwd = process.cwd();
    process.chdir(tmp);
    try {
      const c = await collectImages(['set', 'set/b/2.png', 'set/b/*.JPG']);
      expect(c.images.map((i) => i.path)).toEqual(['set/a/1.jpeg', 'set/a/dup.jpg', 'set/a/dup.png', 'set/a/x/3.png', 'set/b/10.JPG', 'set/b/2.png']);
      expect(c.images.map((i) => i.name)).toEqual(['a/1', 'a/dup.jpg', 'a/dup.png', 'a/x/3', 'b/10', 'b/2']);
      expect(c.ignored).toBe(1);
      // A named file is taken whatever its name; one that does not exist stays (it becomes its own error).
      expect((await collectImages(['set/a/notes.txt', 'missing.png'])).images.map((i) => i.path)).toEqual(['missing.png', 'set/a/notes.txt']);
      await expect(collectImages(['set/*.webp'])).rejects.toThrow(/no file matches/);
    } finally {
      process.chdir(cwd);
    }
  });

  test('commonFolder compares whole segments', () => {
    expect(commonFolder(['p/cat/1.png', 'p/cats/2.png'])).toBe('p');
    expect(commonFolder(['/a/b/c.png'])).toBe('/a/b');
    expect(commonFolder(['a.png', 'b/c.png'])).toBe('');
  });
});

describe('shards', () => {
  test('K/N parses with 0 <= K < N, and the shards partition the list', () => {
    expect(parseShard('2/5')).toEqual({ index: 2, count: 5 });
    for (const bad of ['5/5', '1/0', '-1/3', '1', 'a/b', '1/2/3']) expect(parseShard(bad)).toBeNull();
    const items = Array.from({ length: 103 }, (_, i) => i);
    for (const n of [1, 2, 7, 200]) {
      const parts = Array.from({ length: n }, (_, k) => inShard(items, { index: k, count: n }));
      expect(parts.flat().sort((a, b) => a - b)).toEqual(items);
      expect(Math.max(...parts.map((p) => p.length)) - Math.min(...parts.map((p) => p.length))).toBeLessThanOrEqual(1);
    }
  });
});

describe('ground truth', () => {
  test('a CSV with a header, paths relative to the CSV or bare names; folders', async () => {
    fs.writeFileSync(dir('truth.csv'), 'file,label\nset/a/1.jpeg,Sandal\n"2.png","Ankle boot"\n');
    const truth = await loadTruth(dir('truth.csv'));
    expect(truth(path.join(tmp, 'set/a/1.jpeg'))).toBe('Sandal');
    expect(truth('anywhere/2.png')).toBe('Ankle boot');
    expect(truth('set/a/x/3.png')).toBeUndefined();
    expect((await loadTruth('folders'))('photos/cat/1.jpg')).toBe('cat');
    fs.writeFileSync(dir('short.csv'), 'a.png\n');
    await expect(loadTruth(dir('short.csv'))).rejects.toThrow(/two columns/);
  });

  test('sameClass ignores case, spaces, dashes and underscores, and takes an index', () => {
    expect(sameClass('ankle_boot', 'Ankle boot', 9)).toBe(true);
    expect(sameClass('class-2', 'Class 2', 1)).toBe(true);
    expect(sameClass('9', 'Ankle boot', 9)).toBe(true);
    expect(sameClass('Sandal', 'Ankle boot', 9)).toBe(false);
  });
});

describe('JSONL', () => {
  test('a line cut short at the end is dropped (and repaired before appending); a later line of the same image wins', async () => {
    const file = dir('r.jsonl');
    const a = { path: 'a.png', name: 'a', model: 'm', ok: true };
    fs.writeFileSync(file, `${JSON.stringify(a)}\n${JSON.stringify({ ...a, ok: false })}\n{"path":"b.png","na`);
    expect(await readRecords(file)).toEqual([{ ...a, ok: false }]);
    await RecordLog.repairTail(file);
    const log = new RecordLog(file, true);
    log.write({ path: 'b.png', name: 'b', model: 'm', ok: true });
    log.close();
    expect((await readRecords(file)).map((r) => r.path)).toEqual(['a.png', 'b.png']);
    expect(await readRecords(dir('none.jsonl'))).toEqual([]);
  });
});

describe('report', () => {
  const rec = (p: string, label: string, probability: number, truth: string): AuditRecord => ({
    path: p, name: p, model: 'm', ok: true, truth, correct: label === truth,
    predictions: [{ index: 0, label, probability }], class: 0, label, images: { photo: `images/${p}.photo.jpg`, maps: {} },
  });
  const records = [
    rec('1.png', 'cat', 0.95, 'cat'), rec('2.png', 'cat', 0.55, 'dog'), rec('3.png', 'dog', 0.99, 'dog'),
    { path: '4.png', name: '4', model: 'm', ok: false, error: { code: 'BAD_IMAGE', message: 'not </script> an image' } },
  ];

  test('plots: bars per true class with their counts, a histogram bar per non-empty bin', () => {
    const s = summarize(records);
    expect(s.perClass).toEqual([{ truth: 'cat', total: 1, correct: 1 }, { truth: 'dog', total: 2, correct: 1 }]);
    const bars = classBars(s);
    expect(bars).toContain('>1/1<');
    expect(bars).toContain('>1/2<');
    const hist = confidenceHistogram(records);
    // 0.55 alone in its bin (wrong), 0.95 and 0.99 together (both right).
    expect(hist.match(/<rect [^>]*><title>/g)).toHaveLength(2);
    expect(hist).toContain('0.5-0.6: 1 wrong');
    expect(hist).toContain('0.9-1.0: 2 right');
    expect(hist).not.toMatch(/NaN|Infinity/);
  });

  test('the page does not depend on the order of the records, and no text closes its script', () => {
    const html = reportHtml(records);
    expect(reportHtml([...records].reverse())).toBe(html);
    expect(html.match(/<\/script>/g)).toHaveLength(2);
  });
});
