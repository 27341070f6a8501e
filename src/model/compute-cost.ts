/**
 * How much arithmetic a model's ops carry, and from it whether a threaded backend pays off.
 *
 * tfjs-backend-wasm's thread pool forks and joins around every XNNPACK op; below a few million
 * multiply-adds an op finishes in tens of microseconds and the fork/join costs about what the
 * second thread saves, while the elementwise kernels between the ops run slower threaded. The
 * threshold comes from the bench models, which fall on either side of it with a wide gap
 * (docs/performance.md, Threads).
 */
import type { FlatGraph } from './graph';

/** Mean multiply-adds per convolution or dense op from which threads are preferred. */
export const THREADS_MIN_MACS_PER_OP = 3e6;

export interface ComputeCost {
  /** Multiply-adds of one forward pass in the convolutions and dense layers. */
  macs: number;
  /** Those ops (Conv2D, DepthwiseConv2D, SeparableConv2D, Dense). */
  ops: number;
}

export interface ThreadAdvice {
  /** 'all': a threaded backend is faster; 'one': one thread is. */
  preferred: 'all' | 'one';
  /** Mean multiply-adds per convolution or dense op; null where the ops cannot be read (graph models). */
  macsPerOp: number | null;
  reason: string;
}

type WeightLike = { shape: number[] } | undefined;

/** Multiply-adds of the layer ops (layers models): output positions x the kernel's size. */
export function computeCost(graph: FlatGraph): ComputeCost | null {
  let macs = 0, ops = 0;
  for (const op of graph.ops) {
    if (op.className.startsWith('tf:')) return null;
    const layer = op.layer as { kernel?: WeightLike; depthwiseKernel?: WeightLike; pointwiseKernel?: WeightLike };
    const kernels = [layer.depthwiseKernel ?? layer.kernel, layer.pointwiseKernel].filter((k): k is { shape: number[] } => Array.isArray(k?.shape));
    if (!kernels.length) continue;
    const out = graph.shapes[op.outputs[0]];
    const positions = out.length === 4 ? (out[1] ?? 1) * (out[2] ?? 1) : 1;
    for (const k of kernels) macs += positions * k.shape.reduce((a, b) => a * b, 1);
    ops++;
  }
  return { macs, ops };
}

export function threadAdvice(graph: FlatGraph): ThreadAdvice {
  const cost = computeCost(graph);
  if (!cost || cost.ops === 0) {
    return { preferred: 'all', macsPerOp: null, reason: 'op sizes unknown: threads where the page allows them' };
  }
  const macsPerOp = cost.macs / cost.ops;
  const m = (macsPerOp / 1e6).toFixed(1);
  return macsPerOp >= THREADS_MIN_MACS_PER_OP
    ? { preferred: 'all', macsPerOp, reason: `${m} M multiply-adds per op: large enough for threads to pay` }
    : { preferred: 'one', macsPerOp, reason: `${m} M multiply-adds per op: too small for threads to pay (their fork/join costs what they save)` };
}
