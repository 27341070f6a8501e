/** Small helpers shared by the pipeline's commands. */
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { toBatch } from './datasets';
import { DatasetMissingError, loadFashionMnist, type FashionSplit } from './idx';
import type { Scene } from './scene';

export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), r = s % 60;
  const mm = String(m).padStart(2, '0'), ss = String(r).padStart(2, '0');
  return h ? `${h}:${mm}:${ss}` : `${mm}:${ss}`;
}

/** Class index of the top probability for each scene, by model.predict in batches. */
export async function predictScenes(model: tfl.LayersModel, scenes: Scene[], batch = 50): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < scenes.length; i += batch) {
    const part = scenes.slice(i, i + batch);
    const s = part[0].size;
    const top = tf.tidy(() => {
      const x = tf.tensor4d(toBatch(part), [part.length, s, s, 3]);
      return tf.argMax(model.predict(x) as tf.Tensor, -1);
    });
    out.push(...(await top.data()));
    top.dispose();
  }
  return out;
}

/** Top-1 accuracy over scenes make(0..n-1) (first object's label). */
export async function accuracy(model: tfl.LayersModel, make: (j: number) => Scene, n: number, batch = 50): Promise<number> {
  let correct = 0;
  for (let i = 0; i < n; i += batch) {
    const scenes: Scene[] = [];
    for (let j = i; j < Math.min(n, i + batch); j++) scenes.push(make(j));
    const pred = await predictScenes(model, scenes, batch);
    pred.forEach((p, k) => { if (p === scenes[k].objects[0].label) correct++; });
  }
  return correct / n;
}

export interface Args {
  int(name: string, fallback: number): number;
  str(name: string, fallback: string): string;
  flag(name: string): boolean;
}

/** --name value / --name=value / --flag. */
export function parseArgs(argv: string[]): Args {
  const values = new Map<string, string>();
  const flags = new Set<string>();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith('--')) throw new Error(`Unexpected argument '${a}'.`);
    const eq = a.indexOf('=');
    if (eq > 0) values.set(a.slice(2, eq), a.slice(eq + 1));
    else if (i + 1 < argv.length && !argv[i + 1].startsWith('--')) values.set(a.slice(2), argv[++i]);
    else flags.add(a.slice(2));
  }
  return {
    int(name, fallback) {
      const v = values.get(name);
      if (v === undefined) return fallback;
      const n = Number(v);
      if (!Number.isInteger(n) || n < 0) throw new Error(`--${name} needs a whole number, got '${v}'.`);
      return n;
    },
    str: (name, fallback) => values.get(name) ?? fallback,
    flag: (name) => flags.has(name),
  };
}

/** The Fashion-MNIST splits a command needs; when the package is missing, says how to install it and exits with 2. */
export function loadSplitsOrExit<S extends 'train' | 'test'>(...splits: S[]): Record<S, FashionSplit> {
  try {
    return Object.fromEntries(splits.map((s) => [s, loadFashionMnist(s)])) as Record<S, FashionSplit>;
  } catch (e) {
    if (e instanceof DatasetMissingError) { console.error(e.message); process.exit(2); }
    throw e;
  }
}
