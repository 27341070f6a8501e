/**
 * The default model: a small MobileNet-style CNN (depthwise-separable blocks, batch
 * norm, ReLU6) whose last conv block feeds global average pooling and one
 * Dense(softmax) layer, so CAM applies as well as Grad-CAM.
 */
import * as tfl from '@tensorflow/tfjs-layers';
import { Rng } from './prng';

export interface BlockSpec {
  filters: number;
  stride: 1 | 2;
  /** Depthwise kernel size (5x5 widens the receptive field at little cost). */
  kernel?: 3 | 5;
}

export interface ArchSpec {
  inputSize: number;
  stemFilters: number;
  blocks: BlockSpec[];
  classes: number;
}

/**
 * Input 64x64 RGB, total stride 8: the target layer is an 8x8 grid. One block at 32x32
 * keeps the fine details that separate shirts from T-shirts and sandals from sneakers; 5x5
 * depthwise kernels on the 8x8 grid give every unit a receptive field wider than the scene.
 */
export const DEFAULT_ARCH: ArchSpec = {
  inputSize: 64,
  stemFilters: 24,
  blocks: [
    { filters: 32, stride: 1 },
    { filters: 64, stride: 2 },
    { filters: 96, stride: 1 },
    { filters: 96, stride: 1 },
    { filters: 192, stride: 2, kernel: 5 },
    { filters: 192, stride: 1, kernel: 5 },
    { filters: 256, stride: 1, kernel: 5 },
  ],
  classes: 10,
};

export const TARGET_LAYER = 'features';

/** Side of the target layer's grid. */
export function gridSize(arch: ArchSpec): number {
  const stride = 2 * arch.blocks.reduce((s, b) => s * b.stride, 1);
  return Math.ceil(arch.inputSize / stride);
}

export function buildModel(arch: ArchSpec, seed: number, name = 'whycam_fashion'): tfl.LayersModel {
  const rng = new Rng(seed);
  // tfjs initialisers take a seed; drawing each from our PRNG keeps the model a function of `seed`.
  const he = () => tfl.initializers.heNormal({ seed: rng.u32() });
  // BN momentum 0.9 (Keras default 0.99): with a short run the moving statistics must catch up quickly.
  const bn = (n: string) => tfl.layers.batchNormalization({ name: n, momentum: 0.9, epsilon: 1e-3 });
  const relu6 = (n: string) => tfl.layers.reLU({ name: n, maxValue: 6 });

  const input = tfl.input({ shape: [arch.inputSize, arch.inputSize, 3], name: 'image' });
  let x = tfl.layers.conv2d({
    name: 'stem_conv', filters: arch.stemFilters, kernelSize: 3, strides: 2, padding: 'same', useBias: false,
    kernelInitializer: he(),
  }).apply(input) as tfl.SymbolicTensor;
  x = bn('stem_bn').apply(x) as tfl.SymbolicTensor;
  x = relu6('stem_relu').apply(x) as tfl.SymbolicTensor;

  arch.blocks.forEach((b, i) => {
    const last = i === arch.blocks.length - 1;
    const p = `block${i + 1}`;
    x = tfl.layers.depthwiseConv2d({
      name: `${p}_dw`, kernelSize: b.kernel ?? 3, strides: b.stride, padding: 'same', useBias: false,
      depthwiseInitializer: he(),
    }).apply(x) as tfl.SymbolicTensor;
    x = bn(`${p}_dw_bn`).apply(x) as tfl.SymbolicTensor;
    x = relu6(`${p}_dw_relu`).apply(x) as tfl.SymbolicTensor;
    x = tfl.layers.conv2d({
      name: `${p}_pw`, filters: b.filters, kernelSize: 1, padding: 'same', useBias: false, kernelInitializer: he(),
    }).apply(x) as tfl.SymbolicTensor;
    x = bn(`${p}_pw_bn`).apply(x) as tfl.SymbolicTensor;
    // The last block's activation is the explainers' target layer: name it.
    x = relu6(last ? TARGET_LAYER : `${p}_pw_relu`).apply(x) as tfl.SymbolicTensor;
  });

  x = tfl.layers.globalAveragePooling2d({ name: 'gap' }).apply(x) as tfl.SymbolicTensor;
  const out = tfl.layers.dense({
    name: 'classes', units: arch.classes, activation: 'softmax',
    kernelInitializer: tfl.initializers.glorotUniform({ seed: rng.u32() }),
  }).apply(x) as tfl.SymbolicTensor;
  return tfl.model({ inputs: input, outputs: out, name });
}
