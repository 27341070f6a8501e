/**
 * Full-size benchmark architectures with seeded random weights (nothing is downloaded):
 * Keras-layout MobileNetV2 (alpha 1.0) and MobileNetV1 (alpha 0.25) at 224, a
 * ResNet-18-style net and a VGG-style net at 224. Layer names follow Keras where it
 * matters for reading profiles.
 */
import * as tfl from '@tensorflow/tfjs-layers';
import { randomizeWeights } from '../helpers/families';

const L = tfl.layers;
type ST = tfl.SymbolicTensor;
const ap = (layer: { apply(x: ST | ST[]): unknown }, x: ST | ST[]): ST => layer.apply(x) as ST;

export type ZooName = 'mobilenet_v2_1.0_224' | 'mobilenet_v1_0.25_224' | 'resnet18_style_224' | 'vgg_style_224';
export const ZOO: ZooName[] = ['mobilenet_v2_1.0_224', 'mobilenet_v1_0.25_224', 'resnet18_style_224', 'vgg_style_224'];

const CLASSES = 1000;

function makeDivisible(v: number, divisor = 8): number {
  const n = Math.max(divisor, Math.floor((v + divisor / 2) / divisor) * divisor);
  return n < 0.9 * v ? n + divisor : n;
}

function bnRelu6(x: ST, name: string): ST {
  const y = ap(L.batchNormalization({ epsilon: 1e-3, momentum: 0.999, name: `${name}_BN` }), x);
  return ap(L.reLU({ maxValue: 6, name: `${name}_relu` }), y);
}

function mobilenetV2(alpha: number): tfl.LayersModel {
  const input = tfl.input({ shape: [224, 224, 3] });
  const first = makeDivisible(32 * alpha);
  let x = ap(L.zeroPadding2d({ padding: [[0, 1], [0, 1]], name: 'Conv1_pad' }), input);
  x = ap(L.conv2d({ filters: first, kernelSize: 3, strides: 2, padding: 'valid', useBias: false, name: 'Conv1' }), x);
  x = bnRelu6(x, 'Conv1');
  let inC = first;
  const settings: Array<[number, number, number, number]> = [
    [1, 16, 1, 1], [6, 24, 2, 2], [6, 32, 3, 2], [6, 64, 4, 2], [6, 96, 3, 1], [6, 160, 3, 2], [6, 320, 1, 1],
  ];
  let block = 0;
  for (const [t, c, n, s] of settings) {
    const outC = makeDivisible(c * alpha);
    for (let i = 0; i < n; i++) {
      const stride = i === 0 ? s : 1;
      const name = `block_${block}`;
      let y = x;
      if (t !== 1) {
        y = ap(L.conv2d({ filters: inC * t, kernelSize: 1, useBias: false, name: `${name}_expand` }), y);
        y = bnRelu6(y, `${name}_expand`);
      }
      if (stride === 2) y = ap(L.zeroPadding2d({ padding: [[0, 1], [0, 1]], name: `${name}_pad` }), y);
      y = ap(L.depthwiseConv2d({ kernelSize: 3, strides: stride, padding: stride === 2 ? 'valid' : 'same', useBias: false, name: `${name}_depthwise` }), y);
      y = bnRelu6(y, `${name}_depthwise`);
      y = ap(L.conv2d({ filters: outC, kernelSize: 1, useBias: false, name: `${name}_project` }), y);
      y = ap(L.batchNormalization({ epsilon: 1e-3, momentum: 0.999, name: `${name}_project_BN` }), y);
      x = inC === outC && stride === 1 ? ap(L.add({ name: `${name}_add` }), [x, y]) : y;
      inC = outC;
      block++;
    }
  }
  const last = alpha > 1 ? makeDivisible(1280 * alpha) : 1280;
  x = ap(L.conv2d({ filters: last, kernelSize: 1, useBias: false, name: 'Conv_1' }), x);
  x = ap(L.batchNormalization({ epsilon: 1e-3, momentum: 0.999, name: 'Conv_1_bn' }), x);
  x = ap(L.reLU({ maxValue: 6, name: 'out_relu' }), x);
  x = ap(L.globalAveragePooling2d({}), x);
  const out = ap(L.dense({ units: CLASSES, activation: 'softmax', name: 'predictions' }), x);
  return tfl.model({ inputs: input, outputs: out, name: `mobilenetv2_${alpha}_224` });
}

function mobilenetV1(alpha: number): tfl.LayersModel {
  const input = tfl.input({ shape: [224, 224, 3] });
  const f = (c: number) => Math.floor(c * alpha);
  let x = ap(L.zeroPadding2d({ padding: [[0, 1], [0, 1]], name: 'conv1_pad' }), input);
  x = ap(L.conv2d({ filters: f(32), kernelSize: 3, strides: 2, padding: 'valid', useBias: false, name: 'conv1' }), x);
  x = bnRelu6(x, 'conv1');
  const blocks: Array<[number, number]> = [
    [64, 1], [128, 2], [128, 1], [256, 2], [256, 1], [512, 2], [512, 1], [512, 1], [512, 1], [512, 1], [512, 1], [1024, 2], [1024, 1],
  ];
  blocks.forEach(([c, s], i) => {
    const name = `conv_dw_${i + 1}`;
    if (s === 2) x = ap(L.zeroPadding2d({ padding: [[0, 1], [0, 1]], name: `conv_pad_${i + 1}` }), x);
    x = ap(L.depthwiseConv2d({ kernelSize: 3, strides: s, padding: s === 2 ? 'valid' : 'same', useBias: false, name }), x);
    x = bnRelu6(x, name);
    x = ap(L.conv2d({ filters: f(c), kernelSize: 1, useBias: false, name: `conv_pw_${i + 1}` }), x);
    x = bnRelu6(x, `conv_pw_${i + 1}`);
  });
  x = ap(L.globalAveragePooling2d({}), x);
  const out = ap(L.dense({ units: CLASSES, activation: 'softmax', name: 'predictions' }), x);
  return tfl.model({ inputs: input, outputs: out, name: `mobilenet_${alpha}_224` });
}

function resnet18Style(): tfl.LayersModel {
  const input = tfl.input({ shape: [224, 224, 3] });
  const convBn = (x: ST, filters: number, k: number, s: number, relu: boolean, name: string): ST => {
    let y = ap(L.conv2d({ filters, kernelSize: k, strides: s, padding: 'same', useBias: false, name }), x);
    y = ap(L.batchNormalization({ epsilon: 1e-5, name: `${name}_bn` }), y);
    return relu ? ap(L.activation({ activation: 'relu', name: `${name}_relu` }), y) : y;
  };
  let x = convBn(input, 64, 7, 2, true, 'conv1');
  x = ap(L.maxPooling2d({ poolSize: 3, strides: 2, padding: 'same', name: 'pool1' }), x);
  let inC = 64;
  [64, 128, 256, 512].forEach((c, stage) => {
    for (let b = 0; b < 2; b++) {
      const s = b === 0 && stage > 0 ? 2 : 1;
      const name = `stage${stage + 2}_block${b + 1}`;
      let y = convBn(x, c, 3, s, true, `${name}_conv1`);
      y = convBn(y, c, 3, 1, false, `${name}_conv2`);
      const shortcut = s !== 1 || inC !== c ? convBn(x, c, 1, s, false, `${name}_shortcut`) : x;
      x = ap(L.activation({ activation: 'relu', name: `${name}_out` }), ap(L.add({ name: `${name}_add` }), [shortcut, y]));
      inC = c;
    }
  });
  x = ap(L.globalAveragePooling2d({}), x);
  const out = ap(L.dense({ units: CLASSES, activation: 'softmax', name: 'fc' }), x);
  return tfl.model({ inputs: input, outputs: out, name: 'resnet18_style' });
}

function vggStyle(): tfl.LayersModel {
  const input = tfl.input({ shape: [224, 224, 3] });
  let x: ST = input;
  const stages: Array<[number, number]> = [[32, 1], [64, 1], [128, 2], [256, 2], [256, 2]];
  stages.forEach(([c, n], i) => {
    for (let j = 0; j < n; j++) {
      x = ap(L.conv2d({ filters: c, kernelSize: 3, padding: 'same', activation: 'relu', name: `block${i + 1}_conv${j + 1}` }), x);
    }
    x = ap(L.maxPooling2d({ poolSize: 2, strides: 2, name: `block${i + 1}_pool` }), x);
  });
  x = ap(L.flatten({ name: 'flatten' }), x);
  x = ap(L.dense({ units: 256, activation: 'relu', name: 'fc1' }), x);
  const out = ap(L.dense({ units: CLASSES, activation: 'softmax', name: 'predictions' }), x);
  return tfl.model({ inputs: input, outputs: out, name: 'vgg_style' });
}

export function buildZooModel(name: ZooName): tfl.LayersModel {
  let m: tfl.LayersModel;
  switch (name) {
    case 'mobilenet_v2_1.0_224': m = mobilenetV2(1.0); break;
    case 'mobilenet_v1_0.25_224': m = mobilenetV1(0.25); break;
    case 'resnet18_style_224': m = resnet18Style(); break;
    case 'vgg_style_224': m = vggStyle(); break;
  }
  randomizeWeights(m, 1234);
  return m;
}
