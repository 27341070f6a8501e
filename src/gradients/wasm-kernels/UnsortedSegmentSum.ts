/**
 * UnsortedSegmentSum for the wasm backend (missing from stock tfjs-backend-wasm
 * 4.22; the gradient of gather scatters dy back through it).
 *
 * out[s, ...] = sum of x[i, ...] over all i with segmentIds[i] == s, for
 * out of shape [numSegments, ...x.shape[segmentIds.rank:]]. Ids outside
 * [0, numSegments) are dropped, as in TensorFlow and tfjs-backend-cpu.
 * A single pass over the WASM heap: O(x.size), where tfjs-backend-cpu builds one
 * mask per segment (O(numSegments * x.size)).
 */
import {
  KernelConfig,
  KernelFunc,
  TensorInfo,
  UnsortedSegmentSum,
  UnsortedSegmentSumAttrs,
  util,
} from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';

export function unsortedSegmentSum(args: {
  inputs: { x: TensorInfo; segmentIds: TensorInfo };
  backend: BackendWasm;
  attrs: UnsortedSegmentSumAttrs;
}): TensorInfo {
  const { inputs, backend, attrs } = args;
  const { x, segmentIds } = inputs;
  const { numSegments } = attrs;
  if (x.dtype !== 'float32' && x.dtype !== 'int32') {
    throw new Error(`UnsortedSegmentSum (wasm) supports float32 and int32 x, got ${x.dtype}.`);
  }
  const idsRank = segmentIds.shape.length;
  if (segmentIds.shape.join() !== x.shape.slice(0, idsRank).join()) {
    throw new Error(
      `UnsortedSegmentSum (wasm): segmentIds shape [${segmentIds.shape}] must be a prefix of x shape [${x.shape}].`);
  }
  const innerShape = x.shape.slice(idsRank);
  const inner = util.sizeFromShape(innerShape);
  const numIds = util.sizeFromShape(segmentIds.shape);

  const out = backend.makeOutput([numSegments, ...innerShape], x.dtype);
  // Heap views only after the allocation above (it may grow the heap).
  const xv = backend.typedArrayFromHeap(x);
  const ids = backend.typedArrayFromHeap(segmentIds);
  const ov = backend.typedArrayFromHeap(out);
  ov.fill(0);
  for (let i = 0; i < numIds; i++) {
    const s = ids[i];
    if (!(s >= 0 && s < numSegments)) continue;
    const src = i * inner;
    const dst = s * inner;
    for (let j = 0; j < inner; j++) ov[dst + j] += xv[src + j];
  }
  return out;
}

export const unsortedSegmentSumConfig: KernelConfig = {
  kernelName: UnsortedSegmentSum,
  backendName: 'wasm',
  kernelFunc: unsortedSegmentSum as unknown as KernelFunc,
};
