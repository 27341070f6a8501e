/** Runs a describe block once per backend the engine must be right on. */
import * as tf from '@tensorflow/tfjs-core';
import { useBackend, type BackendName } from '../../src/backend';

export const BACKENDS: BackendName[] = ['cpu', 'wasm'];

export async function switchTo(name: BackendName): Promise<void> {
  if (tf.getBackend() !== name) await useBackend(name);
}

/** Pearson correlation of two equal-length arrays. */
export function pearson(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const n = a.length;
  let ma = 0, mb = 0;
  for (let i = 0; i < n; i++) { ma += a[i]; mb += b[i]; }
  ma /= n; mb /= n;
  let sab = 0, saa = 0, sbb = 0;
  for (let i = 0; i < n; i++) {
    const da = a[i] - ma, db = b[i] - mb;
    sab += da * db; saa += da * da; sbb += db * db;
  }
  return sab / Math.sqrt(saa * sbb);
}

/** max |a - b| / max |b|: the relative error scale used throughout the tests. */
export function relMaxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let d = 0, m = 0;
  for (let i = 0; i < a.length; i++) {
    d = Math.max(d, Math.abs(a[i] - b[i]));
    m = Math.max(m, Math.abs(b[i]));
  }
  return m === 0 ? d : d / m;
}
