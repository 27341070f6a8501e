/**
 * `npx tsx tests/bench/ig-gap.ts [--steps 50] [--sweep 50,100,200,400] [--tm-photos 3] [--json <file>]`
 *
 * Integrated Gradients' completeness gap |sum(IG) - (y(x) - y(x'))| / |y(x) - y(x')| on the shipped
 * models (black baseline, the top class, Gauss-Legendre nodes), on Node's tfjs-backend-wasm:
 * - at `--steps` on every photo: models/imagenet-darknet-tiny on its samples/, models/fashion-scenes
 *   on its samples, the Teachable Machine fixture on its first `--tm-photos` photos of each class;
 * - on the shipped models (imagenet-darknet-tiny, fashion-scenes), the smallest step count of
 *   `--sweep` that brings the largest gap over their photos under 1 %.
 * Prints a markdown table per part.
 */
import * as fs from 'fs';
import * as path from 'path';
import { parseArgs } from 'util';
import { useBackend } from '../../src/backend';
import { Explainer } from '../../src/explainer';
import { decodeImage } from '../../src/image';
import { modelSourceFromPath } from '../../src/node/model-path';

const ROOT = path.resolve(__dirname, '../..');
const TM = path.resolve(ROOT, '../shared/fixtures/teachable-machine');

const { values: args } = parseArgs({
  options: {
    steps: { type: 'string', default: '50' },
    sweep: { type: 'string', default: '50,100,200,400,800' },
    'tm-photos': { type: 'string', default: '2' },
    json: { type: 'string' },
  },
});

const images = (dir: string, pattern = /\.(png|jpe?g)$/i) => fs.readdirSync(dir).filter((f) => pattern.test(f)).sort().map((f) => path.join(dir, f));

function tmPhotos(n: number): string[] {
  return ['class-1', 'class-2'].flatMap((c) => images(path.join(TM, 'images', c)).slice(0, n));
}

interface Subject { name: string; dir: string; photos: string[]; shipped: boolean }

/** A photo's name in the tables: its file name, with the class folder for the Teachable Machine photos. */
const photoName = (f: string) => (f.startsWith(TM) ? path.relative(path.join(TM, 'images'), f) : path.basename(f));

const SUBJECTS: Subject[] = [
  { name: 'imagenet-darknet-tiny', dir: path.join(ROOT, 'models/imagenet-darknet-tiny'), photos: images(path.join(ROOT, 'models/imagenet-darknet-tiny/samples')), shipped: true },
  { name: 'fashion-scenes', dir: path.join(ROOT, 'models/fashion-scenes'), photos: images(path.join(ROOT, 'models/fashion-scenes/samples')), shipped: true },
  { name: 'teachable-machine', dir: path.join(TM, 'image-model'), photos: tmPhotos(Number(args['tm-photos'])), shipped: false },
];

async function gap(explainer: Explainer, file: string, steps: number): Promise<{ gap: number; label: string; ms: number }> {
  const image = await decodeImage(new Uint8Array(fs.readFileSync(file)));
  const r = await explainer.explainAll(image, { methods: ['integrated-gradients'], methodOptions: { 'integrated-gradients': { steps } } });
  const map = r.maps['integrated-gradients']!;
  return { gap: map.stats!.completenessGap, label: explainer.labels[r.classIndex], ms: map.ms };
}

const pct = (v: number) => `${(v * 100).toFixed(2)} %`;

(async () => {
  await useBackend('wasm');
  const steps = Number(args.steps);
  const sweep = args.sweep!.split(',').map(Number);
  const out: Record<string, unknown> = { steps, models: {} as Record<string, unknown> };
  const lines: string[] = [`Completeness gap at ${steps} Gauss-Legendre steps (black baseline, top class):`, '',
    '| model | photos | median gap | largest gap | per photo |', '|---|---:|---:|---:|---|'];
  const sweepLines: string[] = ['Steps that bring the largest gap over the photos under 1 %:', '', '| model | steps: largest gap |', '|---|---|'];
  for (const s of SUBJECTS) {
    const explainer = await Explainer.load(await modelSourceFromPath(s.dir));
    try {
      const per = [];
      for (const f of s.photos) {
        const g = await gap(explainer, f, steps);
        process.stderr.write(`${s.name} ${photoName(f)} (${g.label}): ${pct(g.gap)} in ${g.ms.toFixed(0)} ms\n`);
        per.push({ photo: photoName(f), ...g });
      }
      const gaps = per.map((p) => p.gap).sort((a, b) => a - b);
      const median = gaps[gaps.length >> 1];
      lines.push(`| ${s.name} | ${per.length} | ${pct(median)} | ${pct(gaps[gaps.length - 1])} | ${per.map((p) => `${p.photo} ${pct(p.gap)}`).join(', ')} |`);
      const entry: Record<string, unknown> = { photos: per };
      if (s.shipped) {
        const found: Array<{ steps: number; largest: number }> = [];
        for (const n of sweep) {
          const largest = n === steps ? gaps[gaps.length - 1] : Math.max(...await Promise.all(s.photos.map(async (f) => (await gap(explainer, f, n)).gap)));
          found.push({ steps: n, largest });
          process.stderr.write(`${s.name} at ${n} steps: largest gap ${pct(largest)}\n`);
          if (largest < 0.01) break;
        }
        sweepLines.push(`| ${s.name} | ${found.map((f) => `${f.steps}: ${pct(f.largest)}`).join(', ')} |`);
        entry.sweep = found;
      }
      (out.models as Record<string, unknown>)[s.name] = entry;
    } finally {
      explainer.dispose();
    }
  }
  process.stdout.write(`${[...lines, '', ...sweepLines].join('\n')}\n`);
  if (args.json) fs.writeFileSync(args.json, `${JSON.stringify(out, null, 2)}\n`);
})().catch((e) => {
  process.stderr.write(`ig-gap: ${(e as Error).stack ?? e}\n`);
  process.exit(1);
});
