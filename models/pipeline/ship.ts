/**
 * From a trained float32 model to what ships in models/fashion-scenes/: every quantisation
 * level measured on the fixed test scenes (accuracy, top-1 agreement and Grad-CAM
 * correlation with float32, the pointing game), the default level chosen by the gates,
 * the passing levels written, and card.json saying all of it.
 *
 * Layout written:
 *   <out>/model.json, weights.bin, metadata.json   the default level (what the app, CLI and widget load)
 *   <out>/levels/<level>/...                        every other level that passes, float32 (the reference) included
 *   <out>/card.json
 * `npm run train` ends with this step; `npx tsx models/pipeline/ship.ts --from DIR` reruns it on a
 * float32 model directory (e.g. one kept from a training run) without training again.
 */
import { copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'fs';
import * as path from 'path';
import type * as tf from '@tensorflow/tfjs-core';
import { Explainer, useBackend } from '../../src';
import { compareQuantized, quantizeFilesWithReport, type QuantizationLevel } from '../../src/quantize';
import type { ModelFile } from '../../src/model/load';
import { suppressTfjsNodeBanner } from '../../src/cli/quiet-tfjs';
import type { FashionSplit } from './idx';
import { testSingleScene } from './datasets';
import { INPUT_RANGE, LABELS, MODEL_DIR, MODEL_ID, TEST_SEED, TRAIN_COMMAND } from './config';
import { evaluateAccuracy, pointingGame, POINTING_METHODS, type PointingResult } from './evaluate';
import { loadSplitsOrExit, parseArgs } from './util';

/** What the shipped default level must reach; written into the card and checked by tests/models/card.test.ts. */
export const GATES = {
  /** Top-1 accuracy on single-garment test scenes. */
  accuracy: 0.88,
  /** Top-1 agreement with float32 on single-garment test scenes. */
  agreement: 0.995,
  /** Mean Pearson correlation of Grad-CAM maps (top class) with float32's. */
  gradcamPearson: 0.99,
  /** Grad-CAM pointing game on two-garment scenes. */
  pointing: 0.85,
} as const;

/** How many fixed test scenes each measurement uses (test split only, seed TEST_SEED). */
export const CARD_EVALUATION = { accuracyScenes: 2000, fidelityScenes: 500, pointingPairs: 300 } as const;

/** Levels tried, smallest first: the smallest that passes every gate is the default (float16 when uint8 does not). */
export const CANDIDATE_LEVELS: QuantizationLevel[] = ['uint8', 'float16', 'uint16'];

/**
 * uint8 per tensor is too coarse for depthwise kernels (9 or 25 weights a channel spread over
 * one range) and for batch-norm parameters; those stay float16 (on the Teachable Machine
 * export this split keeps Grad-CAM r at 0.99; all uint8 drops it to 0.87).
 */
export function levelFor(spec: tf.io.WeightsManifestEntry, level: QuantizationLevel): QuantizationLevel {
  if (level !== 'uint8') return level;
  return /depthwise_kernel|gamma|beta|moving_mean|moving_variance/.test(spec.name) ? 'float16' : 'uint8';
}

export interface LevelCard {
  /** Directory of this level, relative to the card. */
  path: string;
  shipped: boolean;
  bytes: { modelJson: number; weights: number };
  /** Tensors kept at float16 inside a uint8 level. */
  mixed?: string;
  accuracy: number;
  /** Against float32 on `fidelityScenes` single-garment test scenes. */
  agreement: number;
  gradcamPearson: number;
  minGradcamPearson: number;
  pointingGame: Record<string, number>;
  passes: Record<keyof typeof GATES, boolean>;
}

export interface ModelCard {
  id: string;
  description: string;
  classes: string[];
  input: { width: number; height: number; channels: number; range: string };
  targetLayer: string;
  grid: { width: number; height: number };
  training: { command: string; data: string; seed: number; seconds?: number; scenes?: number; epochs?: number; backend?: string };
  evaluation: {
    testSeed: number;
    accuracyScenes: number;
    fidelityScenes: number;
    pointingPairs: number;
    pointingGarments: number;
    pointingRule: string;
    centreBaseline: number;
    perClassAccuracy: Record<string, number>;
    command: string;
  };
  gates: typeof GATES;
  defaultLevel: QuantizationLevel;
  /** The default level's accuracy, and whether every gate holds for it. */
  accuracy: number;
  passes: boolean;
  levels: Partial<Record<QuantizationLevel, LevelCard>>;
}

function readFiles(dir: string): ModelFile[] {
  const json = JSON.parse(readFileSync(path.join(dir, 'model.json'), 'utf8')) as tf.io.ModelJSON;
  const names = ['model.json', ...json.weightsManifest.flatMap((g) => g.paths), 'metadata.json'];
  return names.map((name) => ({ name, data: new Uint8Array(readFileSync(path.join(dir, name))) }));
}

function writeFiles(dir: string, files: ModelFile[]): void {
  mkdirSync(dir, { recursive: true });
  for (const f of files) writeFileSync(path.join(dir, path.basename(f.name)), f.data instanceof Uint8Array ? f.data : new Uint8Array(f.data));
}

const size = (f: ModelFile) => f.data.byteLength;

export interface ShipOptions {
  /** Directory of the trained float32 model (model.json, weights.bin, metadata.json). */
  from: string;
  out?: string;
  /** training.json beside the float32 model, if any, for the card's training section. */
  training?: ModelCard['training'];
  log?: (line: string) => void;
}

/** Measures every level, writes the shipped files and card.json; returns the card. */
export async function ship(test: FashionSplit, options: ShipOptions): Promise<ModelCard> {
  const out = path.resolve(options.out ?? MODEL_DIR);
  const log = options.log ?? (() => undefined);
  const float32Files = readFiles(options.from);
  const reference = await Explainer.load({ files: float32Files });
  const { height, width, channels } = reference.input;
  if (reference.range !== INPUT_RANGE) throw new Error(`The model wants ${reference.range}; the scenes are ${INPUT_RANGE}.`);
  const target = reference.targetLayer();
  if (!target) throw new Error('The model has no target layer for Grad-CAM.');
  const fidelityImages = Array.from({ length: CARD_EVALUATION.fidelityScenes }, (_, j) => {
    const s = testSingleScene(test, TEST_SEED, j, height);
    return { data: s.rgb, width: s.size, height: s.size, channels: 3 as const };
  });

  const measured: Array<{ level: QuantizationLevel; files: ModelFile[]; card: LevelCard; pointing: PointingResult }> = [];
  let perClass: Record<string, number> = {};
  try {
    for (const level of ['float32', ...CANDIDATE_LEVELS] as QuantizationLevel[]) {
      const q = level === 'float32' ? { files: float32Files, report: null } : quantizeFilesWithReport(float32Files, level, { levelFor });
      const ex = level === 'float32' ? reference : await Explainer.load({ files: q.files });
      try {
        const acc = await evaluateAccuracy(ex, test, CARD_EVALUATION.accuracyScenes, height);
        if (level === 'float32') perClass = acc.perClass;
        const fid = level === 'float32' ? null : await compareQuantized(reference, ex, fidelityImages);
        const pg = await pointingGame(ex, test, CARD_EVALUATION.pointingPairs, height, POINTING_METHODS);
        const json = q.files.find((f) => f.name === 'model.json') as ModelFile;
        const weights = q.files.find((f) => f.name.endsWith('.bin')) as ModelFile;
        const agreement = fid ? fid.top1Agreement : 1;
        const r = fid ? (fid.gradcamPearson as number) : 1;
        const card: LevelCard = {
          path: '', shipped: false,
          bytes: { modelJson: size(json), weights: size(weights) },
          ...(level === 'uint8' ? { mixed: 'depthwise kernels and batch-norm parameters at float16, every other kernel uint8 (affine per tensor)' } : {}),
          accuracy: acc.accuracy,
          agreement,
          gradcamPearson: r,
          minGradcamPearson: fid ? (fid.minGradcamPearson as number) : 1,
          pointingGame: Object.fromEntries(Object.entries(pg.methods).map(([m, v]) => [m, v.score])),
          passes: {
            accuracy: acc.accuracy >= GATES.accuracy,
            agreement: agreement >= GATES.agreement,
            gradcamPearson: r >= GATES.gradcamPearson,
            pointing: pg.methods.gradcam.score >= GATES.pointing,
          },
        };
        log(`  ${level.padEnd(8)} ${String(card.bytes.weights).padStart(8)} B  accuracy ${(acc.accuracy * 100).toFixed(2)}%  agreement ${(agreement * 100).toFixed(2)}%  Grad-CAM r ${r.toFixed(4)}  pointing ${POINTING_METHODS.map((m) => `${m} ${(card.pointingGame[m] * 100).toFixed(1)}%`).join(', ')}`);
        measured.push({ level, files: q.files, card, pointing: pg });
      } finally {
        if (ex !== reference) ex.dispose();
      }
    }
  } finally {
    reference.dispose();
  }

  // The smallest level that keeps the quantisation gates (agreement, Grad-CAM r) and the pointing game; float16 otherwise.
  const keeps = (c: LevelCard) => c.passes.agreement && c.passes.gradcamPearson && c.passes.pointing;
  const byLevel = new Map(measured.map((m) => [m.level, m]));
  const chosen = (['uint8', 'float16'] as QuantizationLevel[]).find((l) => keeps(byLevel.get(l)!.card)) ?? 'float16';

  // Rewrite the shipped files from scratch (a level that stopped passing must not linger).
  for (const name of ['model.json', 'weights.bin', 'metadata.json', 'card.json']) rmSync(path.join(out, name), { force: true });
  rmSync(path.join(out, 'levels'), { recursive: true, force: true });
  const levels: ModelCard['levels'] = {};
  for (const m of measured) {
    const isDefault = m.level === chosen;
    const ships = isDefault || m.level === 'float32' || keeps(m.card);
    if (!ships) { levels[m.level] = m.card; continue; }
    const dir = isDefault ? out : path.join(out, 'levels', m.level);
    writeFiles(dir, m.files);
    levels[m.level] = { ...m.card, path: path.relative(out, dir) || '.', shipped: true };
  }

  const def = byLevel.get(chosen)!;
  const metadata = JSON.parse(readFileSync(path.join(options.from, 'metadata.json'), 'utf8')) as { description?: string };
  const card: ModelCard = {
    id: MODEL_ID,
    description: metadata.description ?? '',
    classes: LABELS,
    input: { width, height, channels, range: INPUT_RANGE },
    targetLayer: target.name,
    grid: { width: target.width, height: target.height },
    training: options.training ?? { command: TRAIN_COMMAND, data: 'Debian dataset-fashion-mnist', seed: 1 },
    evaluation: {
      testSeed: TEST_SEED,
      ...CARD_EVALUATION,
      pointingGarments: def.pointing.garments,
      pointingRule: "For each garment of a two-garment test scene, the map for that garment's class (bilinearly upsampled to the scene; gradient maps by max |value| over channels) peaks inside the garment's tight box.",
      centreBaseline: def.pointing.centreBaseline.score,
      perClassAccuracy: perClass,
      command: 'npx tsx models/pipeline/ship.ts --from models/fashion-scenes/levels/float32 (also the last step of npm run train)',
    },
    gates: GATES,
    defaultLevel: chosen,
    accuracy: def.card.accuracy,
    passes: Object.values(def.card.passes).every(Boolean),
    levels,
  };
  writeFileSync(path.join(out, 'card.json'), `${JSON.stringify(card, null, 2)}\n`);
  return card;
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const from = path.resolve(args.str('from', path.join(MODEL_DIR, 'levels', 'float32')));
  const out = path.resolve(args.str('out', MODEL_DIR));
  const { test } = loadSplitsOrExit('test');
  suppressTfjsNodeBanner();
  await useBackend('wasm');
  // Ship from a copy: `from` may be the levels/float32 directory that shipping rewrites.
  const staging = path.join(out, '.staging-float32');
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(staging, { recursive: true });
  for (const f of readdirSync(from)) if (statSync(path.join(from, f)).isFile()) copyFileSync(path.join(from, f), path.join(staging, f));
  const trainingFile = [path.join(from, 'training.json'), path.join(out, 'training.json')].find(existsSync);
  const training = trainingFile ? trainingSummary(JSON.parse(readFileSync(trainingFile, 'utf8'))) : undefined;
  try {
    console.log(`whycam ship: measuring every level of ${from}`);
    const card = await ship(test, { from: staging, out, training, log: (l) => console.log(l) });
    console.log(`default level ${card.defaultLevel}: accuracy ${(card.accuracy * 100).toFixed(2)}%, every gate ${card.passes ? 'passes' : 'does NOT pass'}; wrote ${path.join(out, 'card.json')}`);
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
}

/** The card's training section from the trainer's training.json. */
export function trainingSummary(t: Record<string, unknown>): ModelCard['training'] {
  return {
    command: String(t.command ?? TRAIN_COMMAND),
    data: String(t.data ?? ''),
    seed: Number(t.seed ?? 1),
    seconds: t.trainSeconds as number | undefined,
    scenes: t.scenes as number | undefined,
    epochs: t.epochs as number | undefined,
    backend: t.backend as string | undefined,
  };
}

if (require.main === module) {
  main().catch((e) => {
    console.error(e);
    process.exit(1);
  });
}
