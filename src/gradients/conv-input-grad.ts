/**
 * Input gradients of conv2d and depthwise conv2d expressed as *forward* convolutions,
 * so they run on the backend's fast forward path (XNNPACK on WASM) instead of a
 * scalar backprop kernel, and exist where the backend has no backprop kernel at all
 * (DepthwiseConv2dNativeBackpropInput on WASM). Filter gradients are never computed.
 *
 * For y[o] = sum_k x[o*s + k*d - p] w[k], the input gradient is a stride-1
 * correlation of dy — zero-upsampled by s and padded by (K-1)*d - p — with the
 * spatially flipped filter at dilation d.
 */
import * as tf from '@tensorflow/tfjs-core';

export type Padding = 'same' | 'valid' | [[number, number], [number, number], [number, number], [number, number]];

interface Geometry {
  strides: [number, number];
  dilations: [number, number];
  pad: Padding;
}

/** Zero-insert (s-1) zeros after every row/column of dy; 4-D ops only, which every backend has. */
function upsampleZeros(dy: tf.Tensor4D, sh: number, sw: number): tf.Tensor4D {
  const [n, h, w, c] = dy.shape;
  let out: tf.Tensor4D = dy;
  if (sh > 1) {
    const r = tf.reshape(out, [n, h, 1, w * c]);
    out = tf.reshape(tf.pad(r, [[0, 0], [0, 0], [0, sh - 1], [0, 0]]), [n, h * sh, w, c]);
  }
  if (sw > 1) {
    const rows = out.shape[1];
    const r = tf.reshape(out, [n * rows, w, 1, c]);
    out = tf.reshape(tf.pad(r, [[0, 0], [0, 0], [0, sw - 1], [0, 0]]), [n, rows, w * sw, c]);
  }
  return out;
}

/** Pads (positive) or crops (negative) the two spatial dims. */
function padOrCrop(x: tf.Tensor4D, top: number, bottom: number, left: number, right: number): tf.Tensor4D {
  const cropT = Math.max(0, -top), cropB = Math.max(0, -bottom), cropL = Math.max(0, -left), cropR = Math.max(0, -right);
  let out = x;
  if (cropT || cropB || cropL || cropR) {
    out = tf.slice(out, [0, cropT, cropL, 0], [-1, out.shape[1] - cropT - cropB, out.shape[2] - cropL - cropR, -1]);
  }
  const pT = Math.max(0, top), pB = Math.max(0, bottom), pL = Math.max(0, left), pR = Math.max(0, right);
  if (pT || pB || pL || pR) out = tf.pad(out, [[0, 0], [pT, pB], [pL, pR], [0, 0]]);
  return out;
}

/** dy zero-upsampled and padded so that a 'valid' stride-1 correlation yields dx of xShape. */
function prepareDy(xShape: number[], dy: tf.Tensor4D, filterShape: number[], g: Geometry, depthwise: boolean): tf.Tensor4D {
  const info = tf.backend_util.computeConv2DInfo(
    xShape as [number, number, number, number],
    filterShape as [number, number, number, number],
    g.strides, g.dilations, g.pad, undefined, depthwise,
  );
  const { top, left } = info.padInfo;
  const effH = info.effectiveFilterHeight, effW = info.effectiveFilterWidth;
  const up = upsampleZeros(dy, info.strideHeight, info.strideWidth);
  const padTop = effH - 1 - top;
  const padLeft = effW - 1 - left;
  const padBottom = xShape[1] + effH - 1 - up.shape[1] - padTop;
  const padRight = xShape[2] + effW - 1 - up.shape[2] - padLeft;
  return padOrCrop(up, padTop, padBottom, padLeft, padRight);
}

/** Filter for the backward correlation: spatially flipped, in/out channels swapped. Cache it per layer. */
export function conv2dBackwardFilter(filter: tf.Tensor4D): tf.Tensor4D {
  return tf.tidy(() => tf.transpose(tf.reverse(filter, [0, 1]), [0, 1, 3, 2]));
}

/** Depthwise filter [kh,kw,C,M] flipped and laid out as [kh,kw,C*M,1]. Cache it per layer. */
export function depthwiseBackwardFilter(filter: tf.Tensor4D): tf.Tensor4D {
  const [kh, kw, c, m] = filter.shape;
  return tf.tidy(() => tf.reshape(tf.reverse(filter, [0, 1]), [kh, kw, c * m, 1]));
}

/** dL/dx of conv2d(x, filter) given dL/dy. `backwardFilter` = conv2dBackwardFilter(filter). */
export function conv2dInputGrad(
  xShape: number[], dy: tf.Tensor4D, filterShape: number[], backwardFilter: tf.Tensor4D, g: Geometry,
): tf.Tensor4D {
  return tf.tidy(() => {
    const padded = prepareDy(xShape, dy, filterShape, g, false);
    return tf.conv2d(padded, backwardFilter, 1, 'valid', 'NHWC', g.dilations);
  });
}

/** dL/dx of depthwiseConv2d(x, filter [kh,kw,C,M]) given dL/dy [N,Ho,Wo,C*M]. */
export function depthwiseInputGrad(
  xShape: number[], dy: tf.Tensor4D, filterShape: number[], backwardFilter: tf.Tensor4D, g: Geometry,
): tf.Tensor4D {
  return tf.tidy(() => {
    const padded = prepareDy(xShape, dy, filterShape, g, true);
    const full = tf.depthwiseConv2d(padded, backwardFilter, 1, 'valid', 'NHWC', g.dilations);
    const m = filterShape[3];
    if (m === 1) return full;
    // Channel c*M+m of dy came from input channel c: sum each group of M.
    const [n, h, w] = full.shape;
    return tf.sum(tf.reshape(full, [n, h, w, filterShape[2], m]), 4) as tf.Tensor4D;
  });
}
