/**
 * A batch's memory does not grow with the number of images: 2000 photos through the garment
 * model (64x64) on two worker threads, with the report's pictures, the process's resident size
 * read from /proc while it runs, against the progress it reports. A leak of one 64x64x3 float
 * tensor per image would add ~100 MB over the run.
 */
import { spawn } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { BIN, REPO } from './helpers';

const COUNT = 2000;
const MODEL = path.join(REPO, 'models/fashion-scenes');

function residentMb(pid: number): number | null {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : null;
  } catch {
    return null;
  }
}

test(`resident memory stays flat over ${COUNT} images`, async () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'whycam-audit-memory-'));
  try {
    const samples = fs.readdirSync(path.join(MODEL, 'samples')).filter((f) => f.endsWith('.png')).sort();
    fs.mkdirSync(path.join(tmp, 'photos'));
    for (let i = 0; i < COUNT; i++) {
      fs.copyFileSync(path.join(MODEL, 'samples', samples[i % samples.length]), path.join(tmp, 'photos', `${String(i).padStart(4, '0')}.png`));
    }
    const child = spawn(process.execPath, [BIN, 'explain', 'photos', '--model', MODEL, '--method', 'gradcam', '--jobs', '2', '--jsonl', 'r.jsonl', '--report', 'report', '--out', 'out'], { cwd: tmp, stdio: ['ignore', 'pipe', 'pipe'] });
    let done = 0;
    let stderr = '';
    child.stdout.resume();
    child.stderr.on('data', (d) => {
      stderr += d;
      for (const m of String(d).matchAll(/whycam: (\d+)\/\d+/g)) done = Number(m[1]);
    });
    const points: Array<{ done: number; mb: number }> = [];
    const timer = setInterval(() => {
      const mb = residentMb(child.pid!);
      if (mb !== null) points.push({ done, mb });
    }, 200);
    const code = await new Promise<number>((resolve) => child.on('close', (c) => resolve(c ?? -1)));
    clearInterval(timer);
    if (code !== 0) throw new Error(`exit ${code}: ${stderr}`);
    expect(fs.readFileSync(path.join(tmp, 'r.jsonl'), 'utf8').split('\n').filter(Boolean)).toHaveLength(COUNT);

    const peak = (from: number, to: number) => Math.max(...points.filter((p) => p.done >= from * COUNT && p.done <= to * COUNT).map((p) => p.mb));
    const early = peak(0.2, 0.4);
    const late = peak(0.8, 1);
    console.log(`resident size: ${early.toFixed(0)} MB at 20-40% of the images, ${late.toFixed(0)} MB at 80-100% (${points.length} samples)`);
    expect(Number.isFinite(early) && Number.isFinite(late)).toBe(true);
    expect(late - early).toBeLessThan(40);
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
});
