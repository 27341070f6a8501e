/**
 * `npm run evaluate`: measures a model directory (default the shipped one) through the
 * engine — accuracy on single-garment test scenes, and the pointing game on two-garment
 * test scenes: for each garment, does the map for that garment's class peak inside its
 * box? For CAM, Grad-CAM, Guided Grad-CAM and the vanilla gradient, against a baseline
 * that always points at the scene centre. Prints a table and writes JSON.
 *
 * Options: --model DIR  --singles N (1000)  --pairs M (300)  --out FILE (<model>/evaluation.json)
 */
import { writeFileSync } from 'fs';
import * as path from 'path';
import { Explainer, useBackend } from '../../src';
import type { MethodName, SaliencyMap } from '../../src';
import { modelSourceFromPath } from '../../src/node/model-path';
import { upsample } from '../../src/render';
import { suppressTfjsNodeBanner } from '../../src/cli/quiet-tfjs';
import type { FashionSplit } from './idx';
import { testPairScene, testSingleScene } from './datasets';
import { LABELS, MODEL_DIR, TEST_SEED } from './config';
import type { Box, Scene } from './scene';
import { loadSplitsOrExit, parseArgs, predictScenes } from './util';

export const POINTING_METHODS: MethodName[] = ['gradcam', 'cam', 'guided-gradcam', 'vanilla'];

export interface AccuracyResult {
  scenes: number;
  accuracy: number;
  perClass: Record<string, number>;
  /** confusion[true][predicted] counts. */
  confusion: number[][];
}

export interface PointingResult {
  pairs: number;
  garments: number;
  methods: Record<string, { hits: number; score: number }>;
  /** Always pointing at the scene centre: what a map must beat. */
  centreBaseline: { hits: number; score: number };
}

/** Index of the largest value (ties: the first). */
function argmax(values: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < values.length; i++) if (values[i] > values[best]) best = i;
  return best;
}

/**
 * The map's peak in scene pixels. Class maps (target-layer grid) are upsampled
 * bilinearly to the scene first; gradient maps score a pixel by its largest |value| over
 * the channels (as normalizeMap's 'abs' mode).
 */
export function mapPeak(map: SaliencyMap, width: number, height: number): { x: number; y: number } {
  let values: Float32Array;
  if (map.channels === 1) {
    values = map.width === width && map.height === height ? map.data : upsample(map, width, height);
  } else {
    const src = map.width === width && map.height === height ? map.data : upsample(map, width, height);
    values = new Float32Array(width * height);
    for (let p = 0; p < values.length; p++) {
      let m = 0;
      for (let c = 0; c < map.channels; c++) m = Math.max(m, Math.abs(src[p * map.channels + c]));
      values[p] = m;
    }
  }
  const i = argmax(values);
  return { x: i % width, y: Math.floor(i / width) };
}

export function inBox(p: { x: number; y: number }, b: Box): boolean {
  return p.x >= b.x && p.x < b.x + b.width && p.y >= b.y && p.y < b.y + b.height;
}

const asImage = (s: Scene) => ({ data: s.rgb, width: s.size, height: s.size, channels: 3 as const });

export async function evaluateAccuracy(explainer: Explainer, test: FashionSplit, n: number, size: number): Promise<AccuracyResult> {
  if (explainer.range !== '0..1') throw new Error(`evaluate feeds scenes scaled to 0..1; the model wants ${explainer.range}.`);
  const confusion = LABELS.map(() => LABELS.map(() => 0));
  for (let i = 0; i < n; i += 100) {
    const scenes = Array.from({ length: Math.min(100, n - i) }, (_, k) => testSingleScene(test, TEST_SEED, i + k, size));
    const pred = await predictScenes(explainer.model, scenes);
    scenes.forEach((s, k) => { confusion[s.objects[0].label][pred[k]]++; });
  }
  const correct = confusion.reduce((a, row, i) => a + row[i], 0);
  const perClass: Record<string, number> = {};
  LABELS.forEach((l, i) => { const t = confusion[i].reduce((a, b) => a + b, 0); perClass[l] = t ? confusion[i][i] / t : NaN; });
  return { scenes: n, accuracy: correct / n, perClass, confusion };
}

export async function pointingGame(
  explainer: Explainer, test: FashionSplit, pairs: number, size: number, methods: MethodName[] = POINTING_METHODS,
  onProgress?: (done: number) => void,
): Promise<PointingResult> {
  const hits: Record<string, number> = Object.fromEntries(methods.map((m) => [m, 0]));
  let centre = 0, garments = 0;
  for (let j = 0; j < pairs; j++) {
    const scene = testPairScene(test, TEST_SEED, j, size);
    for (const obj of scene.objects) {
      const ex = await explainer.explainAll(asImage(scene), { class: obj.label, methods });
      for (const m of methods) {
        const map = ex.maps[m];
        if (map && inBox(mapPeak(map, scene.size, scene.size), obj.box)) hits[m]++;
      }
      if (inBox({ x: Math.floor(scene.size / 2), y: Math.floor(scene.size / 2) }, obj.box)) centre++;
      garments++;
    }
    onProgress?.(j + 1);
  }
  return {
    pairs, garments,
    methods: Object.fromEntries(methods.map((m) => [m, { hits: hits[m], score: hits[m] / garments }])),
    centreBaseline: { hits: centre, score: centre / garments },
  };
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const dir = path.resolve(args.str('model', MODEL_DIR));
  const singles = args.int('singles', 1000);
  const pairs = args.int('pairs', 300);
  const out = path.resolve(args.str('out', path.join(dir, 'evaluation.json')));
  const { test } = loadSplitsOrExit('test');
  suppressTfjsNodeBanner();
  await useBackend('wasm');
  const explainer = await Explainer.load(await modelSourceFromPath(dir));
  const { height: size } = explainer.input;
  console.log(`whycam evaluate: ${dir} (${explainer.describe().name}, ${size}x${size}, target ${explainer.describe().targetLayer})`);

  const t0 = performance.now();
  const acc = await evaluateAccuracy(explainer, test, singles, size);
  console.log(`\naccuracy on ${singles} single-garment test scenes: ${(acc.accuracy * 100).toFixed(2)}%`);
  console.log(LABELS.map((l) => `  ${l.padEnd(12)} ${(acc.perClass[l] * 100).toFixed(1).padStart(5)}%`).join('\n'));

  const pg = await pointingGame(explainer, test, pairs, size, POINTING_METHODS, (d) => {
    if (process.stdout.isTTY) process.stdout.write(`\rpointing game: ${d}/${pairs} two-garment scenes`);
  });
  if (process.stdout.isTTY) process.stdout.write('\n');
  console.log(`\npointing game on ${pairs} two-garment test scenes (${pg.garments} garments): map peak inside the garment's box`);
  console.log('  method          hits    score');
  for (const [m, r] of Object.entries(pg.methods)) console.log(`  ${m.padEnd(14)} ${String(r.hits).padStart(5)}  ${(r.score * 100).toFixed(1).padStart(6)}%`);
  console.log(`  ${'centre (base)'.padEnd(14)} ${String(pg.centreBaseline.hits).padStart(5)}  ${(pg.centreBaseline.score * 100).toFixed(1).padStart(6)}%`);

  const result = {
    model: path.relative(process.cwd(), dir) || '.',
    testSeed: TEST_SEED,
    accuracy: acc,
    pointingGame: pg,
    seconds: Math.round((performance.now() - t0) / 1000),
  };
  writeFileSync(out, `${JSON.stringify(result, null, 1)}\n`);
  console.log(`\nwrote ${out}`);
  explainer.dispose();
}

if (require.main === module) {
  main().catch((e) => {
    console.error(e);
    process.exit(1);
  });
}
