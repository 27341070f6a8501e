/**
 * Input gradients of conv2d and depthwise conv2d expressed as *forward* convolutions,
 * so they run on the backend's fast forward path (XNNPACK on WASM) instead of a
 * scalar backprop kernel, and exist where the backend has no backprop kernel at all
 * (DepthwiseConv2dNativeBackpropInput on WASM). Filter gradients are never computed.
 *
 * For y[o] = sum_k x[o*s + k*d - p] w[k], the input gradient is a stride-1
 * correlation of dy — zero-upsampled by s and padded by (K-1)*d - p — with the
 * spatially flipped filter at dilation d.
 *
 * A conv with equal strides s > 1 (and no dilation) instead takes the sub-pixel form: output
 * row i + p = q*s + r receives dy[q - j] w[r + j*s] for j < J = ceil(K/s), so each phase r is a
 * stride-1 correlation of dy itself (no zero grid) with the sub-filter w[r + (J-1-t)*s]. All
 * s*s phases are one convolution whose output channels are (phase, channel), interleaved into
 * place as DepthToSpace would (kernels/interleave-phases.ts): 1/s^2 of the multiply-adds, and
 * s*s times the output channels, which XNNPACK tiles far better when a conv has few inputs.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { ConvGeometry as Geometry, ExplicitPadding as Explicit } from '../model/conv-geometry';
import { dilatePad } from './kernels/dilate-pad';
import { interleavePhases } from './kernels/interleave-phases';

/**
 * dy, and the padding, such that a stride-1 correlation with the flipped filter yields dx of
 * xShape. Stride 1: dy as it is, the padding left to the convolution itself. Larger strides:
 * dy spread onto a zero grid that already holds the padding.
 */
function prepareDy(xShape: number[], dy: tf.Tensor4D, filterShape: number[], g: Geometry, depthwise: boolean): { x: tf.Tensor4D; pad: 'valid' | Explicit } {
  const info = tf.backend_util.computeConv2DInfo(
    xShape as [number, number, number, number],
    filterShape as [number, number, number, number],
    g.strides, g.dilations, g.pad, undefined, depthwise,
  );
  const { top, left } = info.padInfo;
  const effH = info.effectiveFilterHeight, effW = info.effectiveFilterWidth;
  const padTop = effH - 1 - top, padLeft = effW - 1 - left;
  const outHeight = xShape[1] + effH - 1, outWidth = xShape[2] + effW - 1;
  const padBottom = outHeight - dy.shape[1] - padTop, padRight = outWidth - dy.shape[2] - padLeft;
  if (info.strideHeight === 1 && info.strideWidth === 1 && Math.min(padTop, padLeft, padBottom, padRight) >= 0) {
    return { x: dy, pad: [[0, 0], [padTop, padBottom], [padLeft, padRight], [0, 0]] };
  }
  return {
    x: dilatePad(dy, { strideHeight: info.strideHeight, strideWidth: info.strideWidth, padTop, padLeft, outHeight, outWidth }),
    pad: 'valid',
  };
}

/**
 * The flipped filters are built once per model in plain JS: the wasm backend's Reverse and
 * Transpose kernels took ~2.5 s for ResNet-18's 11M weights on the first request; this loop
 * takes tens of milliseconds.
 */
function flipSpatial(filter: tf.Tensor4D, swapChannels: boolean): tf.Tensor4D {
  const [kh, kw, ci, co] = filter.shape;
  const src = filter.dataSync() as Float32Array;
  const dst = new Float32Array(src.length);
  for (let y = 0; y < kh; y++) {
    for (let x = 0; x < kw; x++) {
      const from = ((kh - 1 - y) * kw + (kw - 1 - x)) * ci * co;
      const to = (y * kw + x) * ci * co;
      if (!swapChannels) {
        dst.set(src.subarray(from, from + ci * co), to);
        continue;
      }
      for (let i = 0; i < ci; i++) for (let o = 0; o < co; o++) dst[to + o * ci + i] = src[from + i * co + o];
    }
  }
  return tf.tensor4d(dst, swapChannels ? [kh, kw, co, ci] : [kh, kw, ci, co]);
}

/** Whether a conv's input gradient takes the sub-pixel form (equal strides > 1, no dilation). */
function subpixelStride(g: Geometry): number | null {
  const [sh, sw] = g.strides, [dh, dw] = g.dilations;
  return sh === sw && sh > 1 && dh === 1 && dw === 1 ? sh : null;
}

/**
 * The sub-pixel filter [J, J, Cout, s*s*Cin]: tap t of phase (ry, rx) is w[ry + (J-1-ty)*s, rx + (J-1-tx)*s]
 * (zero past the kernel), in output channel (ry*s + rx)*Cin + c, the order DepthToSpace reads.
 */
function subpixelFilter(filter: tf.Tensor4D, s: number): tf.Tensor4D {
  const [kh, kw, ci, co] = filter.shape;
  const jh = Math.ceil(kh / s), jw = Math.ceil(kw / s), outC = s * s * ci;
  const src = filter.dataSync() as Float32Array;
  const dst = new Float32Array(jh * jw * co * outC);
  for (let ty = 0; ty < jh; ty++) {
    for (let tx = 0; tx < jw; tx++) {
      for (let ry = 0; ry < s; ry++) {
        for (let rx = 0; rx < s; rx++) {
          const ky = ry + (jh - 1 - ty) * s, kx = rx + (jw - 1 - tx) * s;
          if (ky >= kh || kx >= kw) continue;
          for (let c = 0; c < ci; c++) {
            const from = ((ky * kw + kx) * ci + c) * co;
            const to = (ty * jw + tx) * co * outC + (ry * s + rx) * ci + c;
            for (let o = 0; o < co; o++) dst[to + o * outC] = src[from + o];
          }
        }
      }
    }
  }
  return tf.tensor4d(dst, [jh, jw, co, outC]);
}

/**
 * Filter for the backward correlation of a conv with geometry `g`: spatially flipped with in/out
 * channels swapped, or the sub-pixel filter where `g` takes that form. Cache it per layer.
 */
export function conv2dBackwardFilter(filter: tf.Tensor4D, g: Geometry): tf.Tensor4D {
  const s = subpixelStride(g);
  return s ? subpixelFilter(filter, s) : flipSpatial(filter, true);
}

/** The sub-pixel input gradient (see the top of this file); `sub` = conv2dBackwardFilter(filter, g). */
function subpixelInputGrad(xShape: number[], dy: tf.Tensor4D, filterShape: number[], sub: tf.Tensor4D, g: Geometry, s: number): tf.Tensor4D {
  const info = tf.backend_util.computeConv2DInfo(
    xShape as [number, number, number, number], filterShape as [number, number, number, number], g.strides, g.dilations, g.pad);
  const [, h, w] = xShape;
  const { top, left } = info.padInfo;
  const [jh, jw] = sub.shape;
  // Rows q of each phase: enough that q*s + r covers every input row shifted by the padding.
  const qh = Math.ceil((h + top) / s), qw = Math.ceil((w + left) / s);
  // dy rows past qh feed no input row: they are dropped (a zero padding then closes the grid).
  const dyIn = dy.shape[1] > qh || dy.shape[2] > qw ? tf.slice(dy, [0, 0, 0, 0], [-1, Math.min(qh, dy.shape[1]), Math.min(qw, dy.shape[2]), -1]) : dy;
  const phases = tf.conv2d(dyIn, sub, 1, [[0, 0], [jh - 1, qh - dyIn.shape[1]], [jw - 1, qw - dyIn.shape[2]], [0, 0]]);
  return interleavePhases(phases, { blockSize: s, top, left, outHeight: h, outWidth: w });
}

/**
 * Depthwise filter [kh,kw,C,M] flipped and laid out as [kh,kw,C*M,1]. Cache it per layer. No
 * sub-pixel form here: it needs a channel multiplier of s*s, which tfjs-backend-wasm runs slower
 * than the zero grid costs.
 */
export function depthwiseBackwardFilter(filter: tf.Tensor4D): tf.Tensor4D {
  const [kh, kw, c, m] = filter.shape;
  const flipped = flipSpatial(filter, false);
  const out = tf.reshape(flipped, [kh, kw, c * m, 1]) as tf.Tensor4D;
  flipped.dispose();
  return out;
}

/** dL/dx of conv2d(x, filter) given dL/dy. `backwardFilter` = conv2dBackwardFilter(filter, g). */
export function conv2dInputGrad(
  xShape: number[], dy: tf.Tensor4D, filterShape: number[], backwardFilter: tf.Tensor4D, g: Geometry,
): tf.Tensor4D {
  return tf.tidy(() => {
    const s = subpixelStride(g);
    if (s) return subpixelInputGrad(xShape, dy, filterShape, backwardFilter, g, s);
    const { x, pad } = prepareDy(xShape, dy, filterShape, g, false);
    return tf.conv2d(x, backwardFilter, 1, pad, 'NHWC', g.dilations);
  });
}

/** dL/dx of depthwiseConv2d(x, filter [kh,kw,C,M]) given dL/dy [N,Ho,Wo,C*M]. */
export function depthwiseInputGrad(
  xShape: number[], dy: tf.Tensor4D, filterShape: number[], backwardFilter: tf.Tensor4D, g: Geometry,
): tf.Tensor4D {
  return tf.tidy(() => {
    const { x, pad } = prepareDy(xShape, dy, filterShape, g, true);
    const full = tf.depthwiseConv2d(x, backwardFilter, 1, pad, 'NHWC', g.dilations);
    const m = filterShape[3];
    if (m === 1) return full;
    // Channel c*M+m of dy came from input channel c: sum each group of M.
    const [n, h, w] = full.shape;
    return tf.sum(tf.reshape(full, [n, h, w, filterShape[2], m]), 4) as tf.Tensor4D;
  });
}
