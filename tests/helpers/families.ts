/**
 * Small random-weight networks of each architecture family the engine must handle,
 * built with tfjs-layers and seeded so every backend sees the same weights.
 * `head: 'linear'` builds the same network without the final softmax: its output is
 * the logits, which the finite-difference checks read through tfjs-layers' own forward.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';

export type Family = 'vgg' | 'mobilenet-v1' | 'mobilenet-v2' | 'resnet' | 'darknet' | 'mixed';
export const FAMILIES: Family[] = ['vgg', 'mobilenet-v1', 'mobilenet-v2', 'resnet', 'darknet', 'mixed'];
export type Head = 'softmax' | 'linear';

const L = tfl.layers;
type ST = tfl.SymbolicTensor;
const apply = (layer: { apply(x: ST | ST[]): unknown }, x: ST | ST[]): ST => layer.apply(x) as ST;

export const NUM_CLASSES = 5;


function convBn(x: ST, filters: number, kernelSize: number, strides: number, act: 'relu' | 'relu6' | 'leaky' | 'none', padding: 'same' | 'valid' = 'same'): ST {
  let y = apply(L.conv2d({ filters, kernelSize, strides, padding, useBias: false }), x);
  y = apply(L.batchNormalization({ epsilon: 1e-3 }), y);
  if (act === 'relu') y = apply(L.reLU(), y);
  if (act === 'relu6') y = apply(L.reLU({ maxValue: 6 }), y);
  if (act === 'leaky') y = apply(L.leakyReLU({ alpha: 0.1 }), y);
  return y;
}

function dwBn(x: ST, strides: number, padding: 'same' | 'valid' = 'same'): ST {
  let y = apply(L.depthwiseConv2d({ kernelSize: 3, strides, padding, useBias: false }), x);
  y = apply(L.batchNormalization({ epsilon: 1e-3 }), y);
  return apply(L.reLU({ maxValue: 6 }), y);
}

/** Builds the family's graph; `size` is the square input side. */
export function buildFamily(family: Family, head: Head = 'softmax', size = 32, channels = 3): tfl.LayersModel {
  const input = tfl.input({ shape: [size, size, channels] });
  let x: ST = input;
  const denseAct = head === 'softmax' ? 'softmax' : 'linear';
  let out: ST;
  switch (family) {
    case 'vgg': {
      x = apply(L.conv2d({ filters: 8, kernelSize: 3, padding: 'same', activation: 'relu' }), x);
      x = apply(L.conv2d({ filters: 8, kernelSize: 3, padding: 'same', activation: 'relu' }), x);
      x = apply(L.maxPooling2d({ poolSize: 2 }), x);
      x = apply(L.conv2d({ filters: 12, kernelSize: 3, padding: 'same', activation: 'relu' }), x);
      x = apply(L.maxPooling2d({ poolSize: 2 }), x);
      x = apply(L.flatten(), x);
      x = apply(L.dense({ units: 16, activation: 'relu' }), x);
      out = apply(L.dense({ units: NUM_CLASSES, activation: denseAct }), x);
      break;
    }
    case 'mobilenet-v1': {
      x = convBn(x, 8, 3, 2, 'relu6');
      x = dwBn(x, 1);
      x = convBn(x, 16, 1, 1, 'relu6');
      x = dwBn(x, 2);
      x = convBn(x, 24, 1, 1, 'relu6');
      x = apply(L.globalAveragePooling2d({}), x);
      out = apply(L.dense({ units: NUM_CLASSES, activation: denseAct }), x);
      break;
    }
    case 'mobilenet-v2': {
      x = apply(L.zeroPadding2d({ padding: [[0, 1], [0, 1]] }), x);
      x = convBn(x, 8, 3, 2, 'relu6', 'valid');
      // Inverted residual with identity shortcut: expand, depthwise, linear projection, add.
      let y = convBn(x, 24, 1, 1, 'relu6');
      y = dwBn(y, 1);
      y = convBn(y, 8, 1, 1, 'none');
      x = apply(L.add(), [x, y]);
      // Strided block through explicit zero padding, as Keras MobileNetV2 does.
      y = convBn(x, 24, 1, 1, 'relu6');
      y = apply(L.zeroPadding2d({ padding: [[0, 1], [0, 1]] }), y);
      y = dwBn(y, 2, 'valid');
      x = convBn(y, 16, 1, 1, 'none');
      x = convBn(x, 32, 1, 1, 'relu6');
      x = apply(L.globalAveragePooling2d({}), x);
      out = apply(L.dense({ units: NUM_CLASSES, activation: denseAct }), x);
      break;
    }
    case 'resnet': {
      x = convBn(x, 8, 3, 1, 'relu');
      let y = convBn(x, 8, 3, 1, 'relu');
      y = convBn(y, 8, 3, 1, 'none');
      x = apply(L.activation({ activation: 'relu' }), apply(L.add(), [x, y]));
      // Downsampling block with a projection shortcut.
      y = convBn(x, 16, 3, 2, 'relu');
      y = convBn(y, 16, 3, 1, 'none');
      const shortcut = convBn(x, 16, 1, 2, 'none');
      x = apply(L.activation({ activation: 'relu' }), apply(L.add(), [shortcut, y]));
      x = apply(L.globalAveragePooling2d({}), x);
      out = apply(L.dense({ units: NUM_CLASSES, activation: denseAct }), x);
      break;
    }
    case 'darknet': {
      x = convBn(x, 8, 3, 1, 'leaky');
      x = apply(L.maxPooling2d({ poolSize: 2, strides: 2 }), x);
      x = convBn(x, 16, 3, 1, 'leaky');
      x = apply(L.maxPooling2d({ poolSize: 2, strides: 2 }), x);
      x = convBn(x, 16, 1, 1, 'leaky');
      // Class convolution: one map per class, then global average pooling.
      x = apply(L.conv2d({ filters: NUM_CLASSES, kernelSize: 1, padding: 'same' }), x);
      x = apply(L.globalAveragePooling2d({}), x);
      out = head === 'softmax' ? apply(L.activation({ activation: 'softmax' }), x) : x;
      break;
    }
    case 'mixed': {
      // Layers the other families do not cover: separable conv, average pooling, concatenate, dropout, dilation, tanh/sigmoid/elu.
      const a = apply(L.separableConv2d({ filters: 8, kernelSize: 3, padding: 'same', activation: 'relu', depthMultiplier: 2 }), x);
      const b = apply(L.conv2d({ filters: 4, kernelSize: 3, padding: 'same', dilationRate: 2, activation: 'tanh' }), x);
      x = apply(L.concatenate({ axis: -1 }), [a, b]);
      x = apply(L.averagePooling2d({ poolSize: 2 }), x);
      x = apply(L.conv2d({ filters: 12, kernelSize: 3, strides: 2, padding: 'same', activation: 'elu' }), x);
      x = apply(L.dropout({ rate: 0.5 }), x);
      x = apply(L.depthwiseConv2d({ kernelSize: 3, padding: 'same', activation: 'sigmoid' }), x);
      x = apply(L.globalAveragePooling2d({}), x);
      out = apply(L.dense({ units: NUM_CLASSES, activation: denseAct }), x);
      break;
    }
  }
  const model = tfl.model({ inputs: input, outputs: out });
  randomizeWeights(model, hashSeed(family));
  return model;
}

function hashSeed(s: string): number {
  let h = 2166136261;
  for (const c of s) h = Math.imul(h ^ c.charCodeAt(0), 16777619);
  return h >>> 0;
}

/** mulberry32: a small seeded PRNG so weights are identical across backends and runs. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function gaussian(rand: () => number): number {
  const u = Math.max(rand(), 1e-12);
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rand());
}

/** He-scaled kernels, non-trivial batch-norm statistics, small biases — all seeded. */
export function randomizeWeights(model: tfl.LayersModel, seed: number): void {
  const rand = prng(seed);
  const values = model.weights.map((w) => {
    const shape = w.shape as number[];
    const n = shape.reduce((a, b) => a * b, 1);
    const name = w.originalName;
    const data = new Float32Array(n);
    const fill = (f: () => number) => { for (let i = 0; i < n; i++) data[i] = f(); };
    if (/moving_variance/.test(name)) fill(() => 0.5 + rand());
    else if (/moving_mean/.test(name)) fill(() => 0.2 * gaussian(rand));
    else if (/gamma/.test(name)) fill(() => 0.6 + 0.8 * rand());
    else if (/beta|bias/.test(name)) fill(() => 0.1 * gaussian(rand));
    else {
      // Kernels: fan-in is every dimension but the last (depthwise: the spatial ones).
      const fanIn = /depthwise/.test(name) ? shape[0] * shape[1] : shape.slice(0, -1).reduce((a, b) => a * b, 1);
      const std = Math.sqrt(2 / Math.max(1, fanIn));
      fill(() => std * gaussian(rand));
    }
    return tf.tensor(data, shape);
  });
  model.setWeights(values);
  values.forEach((t) => t.dispose());
}

/** A seeded random input in [-1, 1]. */
export function randomInput(size: number, channels = 3, seed = 7): tf.Tensor4D {
  const rand = prng(seed);
  const data = new Float32Array(size * size * channels).map(() => rand() * 2 - 1);
  return tf.tensor4d(data, [1, size, size, channels]);
}
