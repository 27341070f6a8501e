/**
 * Conv2DBackpropFilter for the wasm backend (stock tfjs-backend-wasm 4.22 has none;
 * the gradient of conv2d and of a fused conv2d with bias both need it).
 *
 * dW[i, j, ci, co] = sum_{n, yo, xo} x[n, yo*s + i - padTop, xo*s + j - padLeft, ci] * dy[n, yo, xo, co]
 *
 * is itself a forward convolution, so it runs on the fast XNNPACK Conv2D kernel:
 *   input  x'  = x  as [Ci, H, W, N]       (input channels become the batch)
 *   filter dy' = dy as [Ho, Wo, N, Co]     (dy becomes a Ho x Wo filter)
 *   conv2d(x', dy', stride 1, dilation s, pad top/left as the forward conv)
 *     -> [Ci, fh, fw, Co] -> transpose to [fh, fw, Ci, Co].
 * The forward stride turns into the dilation and vice versa; dilations are not an
 * attribute of this kernel (tfjs only differentiates conv2d with dilation 1).
 * Pointwise (1x1, stride 1) filters take a plain matmul instead, see below.
 */
import {
  backend_util,
  Conv2DBackpropFilter,
  Conv2DBackpropFilterAttrs,
  KernelConfig,
  KernelFunc,
  TensorInfo,
} from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { disposeAll, explicitPad, runWasmKernel, view } from './util';
import { transposeWasm } from './transpose';

export function conv2DBackpropFilter(args: {
  inputs: { x: TensorInfo; dy: TensorInfo };
  backend: BackendWasm;
  attrs: Conv2DBackpropFilterAttrs;
}): TensorInfo {
  const { inputs, backend, attrs } = args;
  const { x, dy } = inputs;
  const { strides, pad, dataFormat, dimRoundingMode, filterShape } = attrs;
  if (x.dtype !== 'float32' || dy.dtype !== 'float32') {
    throw new Error(`Conv2DBackpropFilter (wasm) supports float32 only, got x ${x.dtype} and dy ${dy.dtype}.`);
  }
  const $dataFormat = backend_util.convertConv2DDataFormat(dataFormat);
  const info = backend_util.computeConv2DInfo(
    x.shape as [number, number, number, number], filterShape, strides, 1, pad, dimRoundingMode, false, $dataFormat);
  const { batchSize: n, inHeight: h, inWidth: w, inChannels: ci, outChannels: co } = info;
  const { filterHeight: fh, filterWidth: fw, outHeight: ho, outWidth: wo, strideHeight: sh, strideWidth: sw } = info;
  const channelsLast = info.dataFormat === 'channelsLast';
  const dyShape = channelsLast ? [n, ho, wo, co] : [n, co, ho, wo];
  if (dy.shape.join() !== dyShape.join()) {
    throw new Error(`Conv2DBackpropFilter (wasm): dy has shape [${dy.shape}], expected [${dyShape}].`);
  }

  const { top, bottom, left, right } = info.padInfo;
  if (fh === 1 && fw === 1 && sh === 1 && sw === 1 && top + bottom + left + right === 0 && channelsLast) {
    return pointwiseFilterGrad(backend, x, dy, n * h * w, ci, co);
  }

  const temps: TensorInfo[] = [];
  try {
    // x -> [Ci, H, W, N]: a 2-D transpose when N == 1, free when also Ci == 1.
    let xT: TensorInfo;
    if (ci === 1) {
      // [N, H, W, 1] and [N, 1, H, W] share one memory layout.
      xT = view(x, [1, h, w, n]);
      if (n > 1) {
        xT = transposeWasm(backend, view(x, [n, h, w]), [1, 2, 0]);
        temps.push(xT);
        xT = view(xT, [1, h, w, n]);
      }
    } else {
      xT = transposeWasm(backend, x, channelsLast ? [3, 1, 2, 0] : [1, 2, 3, 0]);
      temps.push(xT);
    }

    // dy -> [Ho, Wo, N, Co]. With N == 1 and NHWC the layout already matches.
    let dyT: TensorInfo;
    if (n === 1 && (channelsLast || co === 1)) {
      dyT = view(dy, [ho, wo, 1, co]);
    } else {
      dyT = transposeWasm(backend, dy, channelsLast ? [1, 2, 0, 3] : [2, 3, 0, 1]);
      temps.push(dyT);
    }

    // Pad bottom/right so exactly fh x fw outputs come out; when the forward conv
    // never reached the last input rows (negative pad), crop the surplus afterwards.
    const padBottom = Math.max(0, fh - 1 + (ho - 1) * sh + 1 - h - top);
    const padRight = Math.max(0, fw - 1 + (wo - 1) * sw + 1 - w - left);
    let dW = runWasmKernel('Conv2D', backend, { x: xT, filter: dyT }, {
      strides: [1, 1],
      dilations: [sh, sw],
      pad: explicitPad(top, padBottom, left, padRight),
      dataFormat: 'NHWC',
    });
    temps.push(dW);
    if (dW.shape[1] !== fh || dW.shape[2] !== fw) {
      dW = runWasmKernel('Slice', backend, { x: dW }, { begin: [0, 0, 0, 0], size: [ci, fh, fw, co] });
      temps.push(dW);
    }

    // [Ci, fh, fw, Co] -> [fh, fw, Ci, Co]
    if (ci === 1) return view(temps.pop() as TensorInfo, [fh, fw, 1, co]);
    return transposeWasm(backend, dW, [1, 2, 0, 3]);
  } finally {
    disposeAll(backend, temps);
  }
}

/**
 * 1x1, stride 1, unpadded (the pointwise convs that dominate MobileNets):
 * dW = x^T dy over all N*H*W pixels, one XNNPACK fully-connected matmul. The
 * convolution route would run an indirect GEMM with a single input channel,
 * measured 2.5-5x slower here.
 */
function pointwiseFilterGrad(
  backend: BackendWasm, x: TensorInfo, dy: TensorInfo, pixels: number, ci: number, co: number): TensorInfo {
  // The wasm BatchMatMul only takes the XNNPACK path without transposes, so
  // transpose x explicitly. XNNPACK caches the packed operator on dy's data id
  // (freed with dy), which is only read here as [pixels, Co].
  const xT = ci === 1 ? null : transposeWasm(backend, view(x, [pixels, ci]), [1, 0]);
  try {
    const dW = runWasmKernel('BatchMatMul', backend,
      { a: view(xT ?? x, [1, ci, pixels]), b: view(dy, [1, pixels, co]) }, { transposeA: false, transposeB: false });
    return view(dW, [1, 1, ci, co]);
  } finally {
    if (xT != null) backend.disposeData(xT.dataId);
  }
}

export const conv2DBackpropFilterConfig: KernelConfig = {
  kernelName: Conv2DBackpropFilter,
  backendName: 'wasm',
  kernelFunc: conv2DBackpropFilter as unknown as KernelFunc,
};
