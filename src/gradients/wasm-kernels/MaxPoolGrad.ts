/**
 * MaxPoolGrad for the wasm backend, replacing the stock tfjs-backend-wasm 4.22
 * kernel. The stock C++ kernel starts its running maximum at
 * std::numeric_limits<float>::min() (the smallest *positive* float, position 0)
 * and keeps the *last* maximum (>=): a window whose values are all <= 0 (all
 * negative, or all zero as after a ReLU) sends its gradient to element 0 of the
 * whole tensor if that lies in the window and drops it otherwise, and ties go to
 * the last element instead of the first.
 *
 * Semantics here are those of tfjs-backend-cpu (and TensorFlow): in each pooling
 * window the first strictly greatest value in row-major scan order receives dy;
 * padding cells never win; NaN never wins; a window without any winner (all NaN
 * or -Infinity, or entirely in padding) passes no gradient. dx is float32. Channels run
 * 4 at a time in our SIMD kernel (src/gradients/simd) where the engine has it.
 */
import {
  backend_util,
  KernelConfig,
  KernelFunc,
  MaxPoolGrad,
  MaxPoolGradAttrs,
  TensorInfo,
} from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { heapOffset, simdKernels } from '../simd';

export function maxPoolGrad(args: {
  inputs: { dy: TensorInfo; input: TensorInfo; output: TensorInfo };
  backend: BackendWasm;
  attrs: MaxPoolGradAttrs;
}): TensorInfo {
  const { inputs, backend, attrs } = args;
  const { dy, input } = inputs;
  const { filterSize, strides, pad, dimRoundingMode } = attrs;
  const info = backend_util.computePool2DInfo(
    input.shape as [number, number, number, number], filterSize, strides, 1, pad, dimRoundingMode);
  const { batchSize: n, inHeight: h, inWidth: w, inChannels: c, outHeight: ho, outWidth: wo } = info;
  const { strideHeight: sh, strideWidth: sw, effectiveFilterHeight: efh, effectiveFilterWidth: efw } = info;
  const padTop = info.padInfo.top;
  const padLeft = info.padInfo.left;
  if (dy.shape.join() !== [n, ho, wo, c].join()) {
    throw new Error(`MaxPoolGrad (wasm): dy has shape [${dy.shape}], expected [${[n, ho, wo, c]}].`);
  }

  const dx = backend.makeOutput(input.shape, 'float32');
  // Heap views only after the allocation above (it may grow the heap).
  const xv = backend.typedArrayFromHeap(input);
  const dyv = backend.typedArrayFromHeap(dy);
  const dxv = backend.typedArrayFromHeap(dx);
  dxv.fill(0);

  // Channels in groups of 4 on our SIMD kernel, one call per window; the rest (c % 4, or all of
  // them without SIMD) in the JS scan below.
  const simd = c >= 4 ? simdKernels(backend) : null;
  const simdChannels = simd ? c - (c % 4) : 0;
  const heap = simd ? { x: heapOffset(backend, input), dx: heapOffset(backend, dx), dy: heapOffset(backend, dy) } : null;
  // Running max and its flat index per channel, so the window scan reads x
  // contiguously (NHWC) instead of striding by C.
  const best = new Float64Array(c);
  const bestAt = new Int32Array(c);
  for (let b = 0; b < n; b++) {
    for (let yr = 0; yr < ho; yr++) {
      const r0 = yr * sh - padTop;
      const rMin = Math.max(0, r0);
      const rMax = Math.min(h, r0 + efh);
      for (let yc = 0; yc < wo; yc++) {
        const c0 = yc * sw - padLeft;
        const cMin = Math.max(0, c0);
        const cMax = Math.min(w, c0 + efw);
        const dyBase = ((b * ho + yr) * wo + yc) * c;
        if (simd && heap && rMax > rMin && cMax > cMin) {
          const first = ((b * h + rMin) * w + cMin) * c * 4;
          simd.maxpool_grad_window(heap.x + first, heap.dx + first, heap.dy + dyBase * 4, simdChannels >> 2,
            rMax - rMin, cMax - cMin, w * c * 4, c * 4);
        }
        if (simdChannels === c) continue;
        best.fill(-Infinity);
        bestAt.fill(-1);
        for (let r = rMin; r < rMax; r++) {
          for (let col = cMin; col < cMax; col++) {
            const base = ((b * h + r) * w + col) * c;
            for (let d = simdChannels; d < c; d++) {
              const v = xv[base + d];
              // Strict '>' keeps the first maximum and never picks NaN.
              if (v > best[d]) {
                best[d] = v;
                bestAt[d] = base + d;
              }
            }
          }
        }
        for (let d = simdChannels; d < c; d++) {
          if (bestAt[d] >= 0) dxv[bestAt[d]] += dyv[dyBase + d];
        }
      }
    }
  }
  return dx;
}

export const maxPoolGradConfig: KernelConfig = {
  kernelName: MaxPoolGrad,
  backendName: 'wasm',
  kernelFunc: maxPoolGrad as unknown as KernelFunc,
};
