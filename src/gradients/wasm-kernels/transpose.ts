/**
 * Transpose of a float32 tensor on the wasm heap, in JS, for the layout changes the
 * gradient kernels make around XNNPACK calls. On a large 2-D transpose stock
 * tfjs-backend-wasm's Transpose costs 6-10 ns an element here ([1024, 192], [4096, 96],
 * [16384, 24] -> [C, P]: 1.7, 4.2, 2.3 ms, as long as the XNNPACK matmul it feeds or
 * longer); the tiled loop below costs about 3 (0.6, 1.2, 1.3 ms), about what a plain JS
 * copy costs on this machine.
 * Axes that stay next to each other are merged first, so [N, H, W, 1] -> [H, W, N] is
 * the 2-D transpose [N, HW] -> [HW, N].
 */
import type { TensorInfo } from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { runWasmKernel } from './util';

const TILE = 16;

/** Drops size-1 axes and merges axes that stay adjacent and in order. */
export function simplifyTranspose(shape: number[], perm: number[]): { shape: number[]; perm: number[] } {
  const kept = shape.map((_, i) => i).filter((i) => shape[i] !== 1);
  const sh = kept.map((i) => shape[i]);
  const pm = perm.filter((p) => shape[p] !== 1).map((p) => kept.indexOf(p));
  // Runs of consecutive input axes in output order become one axis each.
  const runs: number[][] = [];
  for (const p of pm) {
    const run = runs[runs.length - 1];
    if (run && run[run.length - 1] === p - 1) run.push(p);
    else runs.push([p]);
  }
  const order = runs.map((r) => r[0]).sort((a, b) => a - b);
  return {
    shape: order.map((first) => runs.find((r) => r[0] === first)!.reduce((n, p) => n * sh[p], 1)),
    perm: runs.map((r) => order.indexOf(r[0])),
  };
}

/**
 * dst[c, r] = src[r, c] for a rows x cols matrix. TILE source rows at a time: each
 * source row segment is read once, and the TILE destination rows are written in step.
 */
export function transpose2d(src: Float32Array, rows: number, cols: number, dst: Float32Array): void {
  for (let r0 = 0; r0 < rows; r0 += TILE) {
    const r1 = Math.min(rows, r0 + TILE);
    for (let c = 0; c < cols; c++) {
      const to = c * rows;
      for (let r = r0; r < r1; r++) dst[to + r] = src[r * cols + c];
    }
  }
}

/**
 * transpose(x, perm) as a new heap tensor. Only a plain 2-D transpose (after merging axes)
 * takes the JS loop: the stock kernel is fast where it can move whole rows (memcpy: 0.05-0.3
 * ms for [N, H, W, C] -> [H, W, N, C] at the training sizes) and on small tensors, and is
 * used for everything else.
 */
export function transposeWasm(backend: BackendWasm, x: TensorInfo, perm: number[]): TensorInfo {
  const s = simplifyTranspose(x.shape, perm);
  if (x.dtype !== 'float32' || s.shape.length !== 2 || s.perm[0] !== 1) {
    return runWasmKernel('Transpose', backend, { x }, { perm });
  }
  const out = backend.makeOutput(perm.map((p) => x.shape[p]), 'float32');
  // Views only after the allocation (it may grow the heap and detach older views).
  transpose2d(backend.typedArrayFromHeap(x) as Float32Array, s.shape[0], s.shape[1], backend.typedArrayFromHeap(out) as Float32Array);
  return out;
}
