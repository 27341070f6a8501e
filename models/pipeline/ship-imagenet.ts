/**
 * From the float32 Tiny Darknet ImageNet model to what ships in models/imagenet-darknet-tiny/:
 * metadata.json (labels, range, input size), the smallest quantisation level that keeps the
 * float32 model's answers on every photo the project has, and card.json saying what each level
 * costs and keeps, with timings. `npm run ship:imagenet` (options: --from DIR, --out DIR).
 *
 * Written: <out>/model.json, weights.bin, metadata.json, card.json. README.md (attribution) is
 * kept by hand, as are the photos in models/imagenet-darknet-tiny/samples/ with their SOURCE.md. The float32 reference is not shipped: it stays
 * the input of this script.
 */
import { readFileSync, readdirSync, rmSync, writeFileSync } from 'fs';
import * as path from 'path';
import type * as tf from '@tensorflow/tfjs-core';
import { Explainer, useBackend } from '../../src';
import { decodeImage } from '../../src/image';
import type { ImageInput } from '../../src/image/types';
import type { ModelFile } from '../../src/model/load';
import { compareQuantized, quantizeFilesWithReport, type QuantizationLevel } from '../../src/quantize';
import { suppressTfjsNodeBanner } from '../../src/cli/quiet-tfjs';

const REPO = path.resolve(__dirname, '../..');

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
export const IMAGENET_DIR = path.join(REPO, 'models/imagenet-darknet-tiny');
/** The float32 model as published (see README.md in the output folder for its source). */
const GARMENT_SAMPLES = path.join(REPO, 'models/fashion-scenes/samples');
/** Photos of everyday things shipped for the app's samples and the tests (outside models/, whose size budget is for models). */
export const SAMPLE_PHOTOS = path.join(REPO, 'models/imagenet-darknet-tiny/samples');

export const MODEL_ID = 'imagenet-darknet-tiny';
export const DESCRIPTION =
  'Tiny Darknet ImageNet classifier (1000 classes, 224x224 RGB, 0..1): 15 convolutions with batch norm and LeakyReLU, ' +
  '4 max-pools, a 1x1 class convolution and global average pooling (logits; no softmax layer).';
export const SOURCE = {
  weights: 'ml5js/ml5-data-and-models (MIT licence), models/darknetclassifier/darknettiny/, commit 0612a3e7c51cbffdc5db701dff49d16d1ac26fa8; converted from Joseph Redmon\'s Darknet "Tiny Darknet" ImageNet classifier (Darknet is public domain)',
  labels: 'ml5js/ml5-library (MIT licence), src/utils/IMAGENET_CLASSES_DARKNET.js, commit f80f95aa6b31191ab7e79ff466e8506f5e48a172 (Darknet\'s ImageNet order)',
  licence: 'MIT (ml5 conversion and labels); Darknet weights public domain',
  imagenetTop1: 0.587,
};

/** What the shipped level must keep (issue 14): the float32 top-1 on every photo, Grad-CAM r >= 0.99 on each. */
export const GATES = { agreement: 1, minGradcamPearson: 0.99 } as const;

/** Smallest first; the first that keeps the gates ships. */
export const CANDIDATE_LEVELS: QuantizationLevel[] = ['uint8', 'float16'];

/** Batch-norm parameters are few and sensitive (a per-tensor uint8 range spans very different channels): float16. */
export function levelFor(spec: tf.io.WeightsManifestEntry, level: QuantizationLevel): QuantizationLevel {
  if (level !== 'uint8') return level;
  return /gamma|beta|moving_mean|moving_variance/.test(spec.name) ? 'float16' : 'uint8';
}
export const MIXED_UINT8 = 'batch-norm parameters at float16, every convolution kernel uint8 (affine per tensor)';

export interface Photo {
  /** Relative to the repository root; the Teachable Machine photos as teachable-machine/images/<class>/<n>.png. */
  file: string;
  path: string;
}

/**
 * Every photo the project has: the shipped samples, the Teachable Machine export's training photos
 * (`tmImages`: its images/ folder, with class-1/ and class-2/; not shipped), the garment samples.
 */
export function projectPhotos(tmImages: string): Photo[] {
  const list = (dir: string, ext: RegExp) => readdirSync(dir).filter((f) => ext.test(f)).sort().map((f) => path.join(dir, f));
  const own = (p: string) => ({ path: p, file: path.relative(REPO, p) });
  const tm = ['class-1', 'class-2'].flatMap((d) => list(path.join(tmImages, d), /\.png$/))
    .map((p) => ({ path: p, file: `teachable-machine/images/${path.relative(tmImages, p).split(path.sep).join('/')}` }));
  return [...list(SAMPLE_PHOTOS, /\.(png|jpg)$/).map(own), ...tm, ...list(GARMENT_SAMPLES, /\.png$/).map(own)];
}

export async function readPhoto(file: string): Promise<ImageInput> {
  return decodeImage(new Uint8Array(readFileSync(file)));
}

export function readModelFiles(dir: string): ModelFile[] {
  const json = JSON.parse(readFileSync(path.join(dir, 'model.json'), 'utf8')) as tf.io.ModelJSON;
  const names = ['model.json', ...json.weightsManifest.flatMap((g) => g.paths)];
  const files: ModelFile[] = names.map((name) => ({ name, data: new Uint8Array(readFileSync(path.join(dir, name))) }));
  files.push({ name: 'metadata.json', data: new TextEncoder().encode(JSON.stringify(metadataFor(dir))) });
  return files;
}

export function metadataFor(float32Dir: string): Record<string, unknown> {
  const labels = JSON.parse(readFileSync(path.join(float32Dir, 'labels.json'), 'utf8')) as string[];
  return { modelName: MODEL_ID, labels, inputRange: '0..1', inputSize: [224, 224, 3], description: DESCRIPTION };
}

export interface ImagenetLevelCard {
  path: string | null;
  shipped: boolean;
  bytes: { modelJson: number; weights: number };
  mixed?: string;
  agreement: number;
  gradcamPearson: number;
  minGradcamPearson: number;
  maxProbabilityChange: number;
  passes: boolean;
}

export interface ImagenetCard {
  id: string;
  description: string;
  source: typeof SOURCE;
  input: { width: number; height: number; channels: number; range: string };
  fit: string;
  targetLayer: string;
  grid: { width: number; height: number };
  gates: typeof GATES;
  defaultLevel: QuantizationLevel;
  evaluation: {
    photos: string[];
    /** The float32 model's top class on each photo (index and label), the reference of the agreement. */
    float32Top1: Array<{ file: string; index: number; label: string; probability: number }>;
    rule: string;
    command: string;
  };
  levels: Partial<Record<QuantizationLevel, ImagenetLevelCard>>;
  timings: { image: string; backend: string; runs: number; forwardMs: number; firstClassMapMs: number; fullRequestMs: number; note: string };
}

const size = (f: ModelFile) => f.data.byteLength;

async function timings(ex: Explainer, image: ImageInput, runs: number): Promise<Pick<ImagenetCard['timings'], 'forwardMs' | 'firstClassMapMs' | 'fullRequestMs'>> {
  const forward: number[] = [], first: number[] = [], full: number[] = [];
  for (let i = 0; i <= runs; i++) {
    const t0 = performance.now();
    await ex.predict(image);
    const t1 = performance.now();
    const r = await ex.explainAll(image, { methods: ['gradcam'] });
    const firstMs = r.stages.find((s) => s.stage === 'class-maps')!.elapsedMs;
    const all = await ex.explainAll(image);
    const fullMs = all.stages[all.stages.length - 1].elapsedMs;
    if (i === 0) continue; // warm-up: fused weights and wasm kernels
    forward.push(t1 - t0);
    first.push(firstMs);
    full.push(fullMs);
  }
  return { forwardMs: median(forward), firstClassMapMs: median(first), fullRequestMs: median(full) };
}

export async function shipImagenet(from: string, out: string, tmImages: string, log: (l: string) => void = () => undefined): Promise<ImagenetCard> {
  const float32Files = readModelFiles(from);
  const photos = projectPhotos(tmImages);
  const images = await Promise.all(photos.map((p) => readPhoto(p.path)));
  const reference = await Explainer.load({ files: float32Files });
  const target = reference.targetLayer();
  if (!target) throw new Error('The model has no target layer for Grad-CAM.');
  const levels: ImagenetCard['levels'] = {};
  const files = new Map<QuantizationLevel, ModelFile[]>();
  const float32Top1: ImagenetCard['evaluation']['float32Top1'] = [];
  let timing: Awaited<ReturnType<typeof timings>> | null = null;
  let chosen: QuantizationLevel | null = null;
  try {
    for (let i = 0; i < images.length; i++) {
      const [top] = await reference.predict(images[i], 1);
      float32Top1.push({ file: photos[i].file, index: top.index, label: top.label, probability: top.probability });
    }
    const json = float32Files.find((f) => f.name === 'model.json')!;
    levels.float32 = {
      path: null, shipped: false,
      bytes: { modelJson: size(json), weights: float32Files.filter((f) => f.name !== 'model.json' && f.name !== 'metadata.json').reduce((a, f) => a + size(f), 0) },
      agreement: 1, gradcamPearson: 1, minGradcamPearson: 1, maxProbabilityChange: 0, passes: true,
    };
    for (const level of CANDIDATE_LEVELS) {
      const q = quantizeFilesWithReport(float32Files, level, { levelFor });
      if (q.report.keptFloat32.length) throw new Error(`${level} kept tensors at float32: ${q.report.keptFloat32.map((k) => k.name).join(', ')}`);
      files.set(level, q.files);
      const ex = await Explainer.load({ files: q.files });
      try {
        const f = await compareQuantized(reference, ex, images);
        const card: ImagenetLevelCard = {
          path: null, shipped: false,
          bytes: { modelJson: size(q.files.find((x) => x.name === 'model.json')!), weights: size(q.files.find((x) => x.name.endsWith('.bin'))!) },
          ...(level === 'uint8' ? { mixed: MIXED_UINT8 } : {}),
          agreement: f.top1Agreement,
          gradcamPearson: f.gradcamPearson!,
          minGradcamPearson: f.minGradcamPearson!,
          maxProbabilityChange: f.maxProbabilityChange,
          passes: f.top1Agreement >= GATES.agreement && f.minGradcamPearson! >= GATES.minGradcamPearson,
        };
        levels[level] = card;
        log(`  ${level.padEnd(8)} ${String(card.bytes.weights).padStart(8)} B  agreement ${(card.agreement * 100).toFixed(1)}%  Grad-CAM r mean ${card.gradcamPearson.toFixed(5)} min ${card.minGradcamPearson.toFixed(5)}  max |dp| ${card.maxProbabilityChange.toFixed(4)}`);
        if (!chosen && card.passes) {
          chosen = level;
          timing = await timings(ex, images[0], 5);
        }
      } finally {
        ex.dispose();
      }
    }
  } finally {
    reference.dispose();
  }
  if (!chosen || !timing) throw new Error('No quantisation level keeps the float32 answers; ship float32 by hand and say why.');
  levels[chosen] = { ...levels[chosen]!, path: '.', shipped: true };

  for (const name of ['model.json', 'weights.bin', 'metadata.json', 'card.json']) rmSync(path.join(out, name), { force: true });
  for (const f of files.get(chosen)!) {
    if (f.name === 'metadata.json') continue;
    writeFileSync(path.join(out, path.basename(f.name)), f.data instanceof Uint8Array ? f.data : new Uint8Array(f.data));
  }
  writeFileSync(path.join(out, 'metadata.json'), `${JSON.stringify(metadataFor(from), null, 2)}\n`);
  const card: ImagenetCard = {
    id: MODEL_ID,
    description: DESCRIPTION,
    source: SOURCE,
    input: { ...reference.input, range: '0..1' },
    fit: 'cover',
    targetLayer: target.name,
    grid: { width: target.width, height: target.height },
    gates: GATES,
    defaultLevel: chosen,
    evaluation: {
      photos: photos.map((p) => p.file),
      float32Top1,
      rule: `Each photo decoded by whycam, centre-cropped to 224x224 (fit cover) and explained by float32 and by each level: agreement is the share of photos with the same top class; r is the Pearson correlation of the Grad-CAM maps (${target.width}x${target.height}, float32's top class).`,
      command: 'npm run ship:imagenet',
    },
    levels,
    timings: {
      image: photos[0].file,
      backend: 'tfjs-backend-wasm in Node (SIMD, one thread)',
      runs: 5,
      ...timing,
      note: 'Medians after a warm-up, preprocessing included. forward: top-5 predictions; first class map: the Grad-CAM stage of a Grad-CAM-only request; full request: all five methods.',
    },
  };
  writeFileSync(path.join(out, 'card.json'), `${JSON.stringify(card, null, 2)}\n`);
  return card;
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const opt = (name: string, fallback?: string) => {
    const i = argv.indexOf(`--${name}`);
    const v = i >= 0 && argv[i + 1] ? path.resolve(argv[i + 1]) : fallback;
    if (v === undefined) {
      console.error('usage: npm run ship:imagenet -- --from <float32 model dir (ml5 Darknet Tiny)> --tm-photos <Teachable Machine export images/ dir> [--out DIR]');
      process.exit(2);
    }
    return v;
  };
  suppressTfjsNodeBanner();
  await useBackend('wasm');
  const from = opt('from');
  const tmPhotos = opt('tm-photos');
  const out = opt('out', IMAGENET_DIR);
  console.log(`whycam ship: measuring every level of ${from} on ${projectPhotos(tmPhotos).length} photos`);
  const card = await shipImagenet(from, out, tmPhotos, (l) => console.log(l));
  const t = card.timings;
  console.log(`default level ${card.defaultLevel}; forward ${t.forwardMs.toFixed(0)} ms, first class map ${t.firstClassMapMs.toFixed(0)} ms, full request ${t.fullRequestMs.toFixed(0)} ms; wrote ${path.join(out, 'card.json')}`);
}

if (require.main === module) {
  main().catch((e) => {
    console.error(e);
    process.exit(1);
  });
}
