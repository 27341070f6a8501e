/**
 * DepthwiseConv2dNativeBackpropFilter for the wasm backend (missing from stock
 * tfjs-backend-wasm 4.22).
 *
 * dW[i, j, c, m] = sum_{n, yo, xo} x[n, yo*s + i*d - padTop, xo*s + j*d - padLeft, c] * dy[n, yo, xo, c*M + m]
 *
 * is a forward depthwise convolution with dy as the filter, so it runs on the
 * XNNPACK DepthwiseConv2dNative kernel:
 *   input  x'  = x  as [1, H, W, N*C]        (batch folded into channels)
 *   filter dy' = dy as [Ho, Wo, N*C, M]      (dy channel c*M + m is filter [c, m])
 *   depthwise(x', dy', stride d, dilation s, pad top/left as the forward conv)
 *     -> [1, fh, fw, N*C*M], then summed over N.
 * Forward stride and dilation swap roles. With N == 1 no data is copied before the
 * convolution. Dilations are honoured exactly (tfjs-backend-cpu ignores them).
 */
import {
  backend_util,
  DepthwiseConv2dNativeBackpropFilter,
  DepthwiseConv2dNativeBackpropFilterAttrs,
  KernelConfig,
  KernelFunc,
  TensorInfo,
} from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { disposeAll, explicitPad, runWasmKernel, view } from './util';

export function depthwiseConv2dNativeBackpropFilter(args: {
  inputs: { x: TensorInfo; dy: TensorInfo };
  backend: BackendWasm;
  attrs: DepthwiseConv2dNativeBackpropFilterAttrs;
}): TensorInfo {
  const { inputs, backend, attrs } = args;
  const { x, dy } = inputs;
  const { strides, dilations, pad, dimRoundingMode, filterShape } = attrs;
  if (x.dtype !== 'float32' || dy.dtype !== 'float32') {
    throw new Error(
      `DepthwiseConv2dNativeBackpropFilter (wasm) supports float32 only, got x ${x.dtype} and dy ${dy.dtype}.`);
  }
  const info = backend_util.computeConv2DInfo(
    x.shape as [number, number, number, number], filterShape, strides, dilations == null ? 1 : dilations, pad,
    dimRoundingMode, true);
  const { batchSize: n, inHeight: h, inWidth: w, inChannels: c, outChannels: k, outHeight: ho, outWidth: wo } = info;
  const { strideHeight: sh, strideWidth: sw, dilationHeight: dh, dilationWidth: dw } = info;
  const { filterHeight: fh, filterWidth: fw } = info;
  const m = k / c;
  if (dy.shape.join() !== [n, ho, wo, k].join()) {
    throw new Error(`DepthwiseConv2dNativeBackpropFilter (wasm): dy has shape [${dy.shape}], expected [${[n, ho, wo, k]}].`);
  }

  const temps: TensorInfo[] = [];
  try {
    let xT = view(x, [1, h, w, c]);
    let dyT = view(dy, [ho, wo, c, m]);
    if (n > 1) {
      xT = runWasmKernel('Transpose', backend, { x }, { perm: [1, 2, 0, 3] });
      temps.push(xT);
      xT = view(xT, [1, h, w, n * c]);
      dyT = runWasmKernel('Transpose', backend, { x: dy }, { perm: [1, 2, 0, 3] });
      temps.push(dyT);
      dyT = view(dyT, [ho, wo, n * c, m]);
    }

    // Pad bottom/right so exactly fh x fw outputs come out; crop any surplus when
    // the forward conv never reached the last input rows.
    const top = info.padInfo.top;
    const left = info.padInfo.left;
    const bottom = Math.max(0, (fh - 1) * dh + (ho - 1) * sh + 1 - h - top);
    const right = Math.max(0, (fw - 1) * dw + (wo - 1) * sw + 1 - w - left);
    let dW = runWasmKernel('DepthwiseConv2dNative', backend, { x: xT, filter: dyT }, {
      strides: [dh, dw],
      dilations: [sh, sw],
      pad: explicitPad(top, bottom, left, right),
      dataFormat: 'NHWC',
    });
    temps.push(dW);
    if (dW.shape[1] !== fh || dW.shape[2] !== fw) {
      dW = runWasmKernel('Slice', backend, { x: dW }, { begin: [0, 0, 0, 0], size: [1, fh, fw, n * k] });
      temps.push(dW);
    }

    if (n === 1) return view(temps.pop() as TensorInfo, [fh, fw, c, m]);
    const summed = runWasmKernel('Sum', backend, { x: view(dW, [fh * fw, n, k]) }, { axis: 1, keepDims: false });
    return view(summed, [fh, fw, c, m]);
  } finally {
    disposeAll(backend, temps);
  }
}

export const depthwiseConv2dNativeBackpropFilterConfig: KernelConfig = {
  kernelName: DepthwiseConv2dNativeBackpropFilter,
  backendName: 'wasm',
  kernelFunc: depthwiseConv2dNativeBackpropFilter as unknown as KernelFunc,
};
