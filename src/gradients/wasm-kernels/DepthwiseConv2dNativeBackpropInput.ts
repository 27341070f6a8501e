/**
 * DepthwiseConv2dNativeBackpropInput for the wasm backend (missing from stock
 * tfjs-backend-wasm 4.22; needed for the input gradient of every depthwise and
 * separable convolution, i.e. all of MobileNet).
 *
 * dx is a forward depthwise convolution of dy with the spatially flipped filter:
 * dy is spread out by the forward stride (zeros in between), padded by
 * effectiveFilter - 1 - pad on the top/left, and correlated with flip(filter) at
 * the forward dilation, stride 1, 'valid'. That runs on the XNNPACK
 * DepthwiseConv2dNative kernel. For channel multiplier M > 1 the convolution runs
 * over all C*M channels of dy (the [fh, fw, C, M] filter is already laid out as
 * [fh, fw, C*M, 1]) and each group of M output channels is summed.
 *
 * Dilations are honoured exactly (tfjs-backend-cpu's kernel ignores them; tfjs
 * itself only differentiates depthwise convs with dilation 1).
 */
import {
  backend_util,
  DepthwiseConv2dNativeBackpropInput,
  DepthwiseConv2dNativeBackpropInputAttrs,
  KernelConfig,
  KernelFunc,
  TensorInfo,
} from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { disposeAll, explicitPad, runWasmKernel, view } from './util';

export function depthwiseConv2dNativeBackpropInput(args: {
  inputs: { dy: TensorInfo; filter: TensorInfo };
  backend: BackendWasm;
  attrs: DepthwiseConv2dNativeBackpropInputAttrs;
}): TensorInfo {
  const { inputs, backend, attrs } = args;
  const { dy, filter } = inputs;
  const { strides, dilations, pad, dimRoundingMode, inputShape } = attrs;
  if (dy.dtype !== 'float32' || filter.dtype !== 'float32') {
    throw new Error(
      `DepthwiseConv2dNativeBackpropInput (wasm) supports float32 only, got dy ${dy.dtype} and filter ${filter.dtype}.`);
  }
  const info = backend_util.computeConv2DInfo(
    inputShape, filter.shape as [number, number, number, number], strides, dilations == null ? 1 : dilations, pad,
    dimRoundingMode, true);
  const { batchSize: n, inHeight: h, inWidth: w, inChannels: c, outChannels: k, outHeight: ho, outWidth: wo } = info;
  const { strideHeight: sh, strideWidth: sw, dilationHeight: dh, dilationWidth: dw } = info;
  const { filterHeight: fh, filterWidth: fw, effectiveFilterHeight: efh, effectiveFilterWidth: efw } = info;
  const m = k / c;
  if (dy.shape.join() !== [n, ho, wo, k].join()) {
    throw new Error(`DepthwiseConv2dNativeBackpropInput (wasm): dy has shape [${dy.shape}], expected [${[n, ho, wo, k]}].`);
  }

  // Geometry of the spread-out, padded dy: its valid correlation with an
  // effective filter of efh x efw has exactly h x w outputs.
  const hp = h + efh - 1;
  const wp = w + efw - 1;
  const offTop = efh - 1 - info.padInfo.top;
  const offLeft = efw - 1 - info.padInfo.left;
  const padBottom = hp - offTop - ((ho - 1) * sh + 1);
  const padRight = wp - offLeft - ((wo - 1) * sw + 1);

  const temps: TensorInfo[] = [];
  try {
    const flipped = runWasmKernel('Reverse', backend, { x: filter }, { dims: [0, 1] });
    temps.push(flipped);

    let src: TensorInfo = dy;
    let convPad: 'valid' | ReturnType<typeof explicitPad> = 'valid';
    if (sh === 1 && sw === 1 && offTop >= 0 && offLeft >= 0 && padBottom >= 0 && padRight >= 0) {
      // Stride 1: no zeros to insert, let XNNPACK pad (saves a copy of dy).
      convPad = explicitPad(offTop, padBottom, offLeft, padRight);
    } else {
      src = spreadAndPad(backend, dy, [n, ho, wo, k], [hp, wp], [sh, sw], [offTop, offLeft]);
      temps.push(src);
    }

    const dx = runWasmKernel('DepthwiseConv2dNative', backend, { x: src, filter: view(flipped, [fh, fw, k, 1]) }, {
      strides: [1, 1],
      dilations: [dh, dw],
      pad: convPad,
      dataFormat: 'NHWC',
    });
    if (m === 1) return dx;
    temps.push(dx);
    return runWasmKernel('Sum', backend, { x: view(dx, [n, h, w, c, m]) }, { axis: 4, keepDims: false });
  } finally {
    disposeAll(backend, temps);
  }
}

/**
 * New [n, hp, wp, k] tensor with dy[b, yo, xo] at (offTop + yo*sh, offLeft + xo*sw)
 * and zeros elsewhere; rows/columns that land outside are dropped (they can only
 * touch dx outside the input, e.g. with explicit padding larger than the filter).
 */
function spreadAndPad(
  backend: BackendWasm,
  dy: TensorInfo,
  [n, ho, wo, k]: number[],
  [hp, wp]: number[],
  [sh, sw]: number[],
  [offTop, offLeft]: number[],
): TensorInfo {
  const out = backend.makeOutput([n, hp, wp, k], 'float32');
  // Views into the heap only after the allocation above (it may grow the heap).
  const src = backend.typedArrayFromHeap(dy);
  const dst = backend.typedArrayFromHeap(out);
  dst.fill(0);
  for (let b = 0; b < n; b++) {
    for (let yo = 0; yo < ho; yo++) {
      const r = offTop + yo * sh;
      if (r < 0 || r >= hp) continue;
      for (let xo = 0; xo < wo; xo++) {
        const col = offLeft + xo * sw;
        if (col < 0 || col >= wp) continue;
        const s0 = ((b * ho + yo) * wo + xo) * k;
        const d0 = ((b * hp + r) * wp + col) * k;
        for (let q = 0; q < k; q++) dst[d0 + q] = src[s0 + q];
      }
    }
  }
  return out;
}

export const depthwiseConv2dNativeBackpropInputConfig: KernelConfig = {
  kernelName: DepthwiseConv2dNativeBackpropInput,
  backendName: 'wasm',
  kernelFunc: depthwiseConv2dNativeBackpropInput as unknown as KernelFunc,
};
