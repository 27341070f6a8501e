/**
 * Training-only speed-ups for tfjs-layers on the wasm backend. None of them changes
 * what the model computes or how it is saved; they change how the *training* forward
 * pass is differentiated:
 *
 * - BatchNormalization followed by ReLU6: tfjs differentiates the batch statistics op
 *   by op (tf.moments, then FusedBatchNorm, whose gradient tiles the scale to the full
 *   activation shape with the slow generic wasm Tile), about 30 full-size passes per
 *   layer. Here the pair runs as one tf.customGrad with the closed-form gradient on two
 *   kernels of our own (5 passes, bn-relu6-kernels.ts). Inference (training=false) still
 *   runs the stock layers.
 * - The stem Conv2D: tfjs's fused conv2d gradient always computes the input gradient
 *   too, and the stem's input is the image, which needs none.
 * - Conv2DBackpropInput for 1x1 stride-1 convs (the pointwise half of every block):
 *   stock tfjs-backend-wasm runs a scalar loop; dx = dy W^T is one XNNPACK matmul.
 */
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { runWasmKernel, view } from '../../src/gradients/wasm-kernels/util';
import { transposeWasm } from '../../src/gradients/wasm-kernels/transpose';
import { BN_RELU6_BACKWARD, BN_RELU6_FORWARD, hasBnRelu6Kernels } from './bn-relu6-kernels';

type Kwargs = { training?: boolean; [k: string]: unknown };
type CallFn = (inputs: tf.Tensor | tf.Tensor[], kwargs: Kwargs) => tf.Tensor | tf.Tensor[];
interface PatchableLayer {
  call: CallFn;
  name: string;
}
/** The BatchNormalization layer's fields we read (tfjs-layers keeps them public at runtime). */
interface BnFields {
  gamma: tfl.LayerVariable;
  beta: tfl.LayerVariable;
  movingMean: tfl.LayerVariable;
  movingVariance: tfl.LayerVariable;
  momentum: number;
  epsilon: number;
}

const one = (t: tf.Tensor | tf.Tensor[]) => (Array.isArray(t) ? t[0] : t);

/**
 * relu6(batchnorm(x)) in training mode with batch statistics, and its gradient with
 * respect to x, gamma and beta, on the two kernels of bn-relu6-kernels.ts (the formulas
 * are there). Returns y and the batch mean and variance (for the moving averages), which
 * the caller disposes.
 */
export function bnRelu6Train(x: tf.Tensor4D, gamma: tf.Tensor1D, beta: tf.Tensor1D, epsilon: number, maxValue = 6) {
  if (!hasBnRelu6Kernels()) throw new Error(`fast training: no ${BN_RELU6_FORWARD} kernel for the '${tf.getBackend()}' backend (wasm and cpu have one).`);
  const attrs = { epsilon, maxValue };
  let stats: { mean: tf.Tensor1D; variance: tf.Tensor1D } | null = null;
  const f = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const [xx, gg, bb] = args as tf.Tensor[];
    const save = args[3] as tf.GradSaveFunc;
    const [y, mean, variance] = tf.engine().runKernel(BN_RELU6_FORWARD, { x: xx, gamma: gg, beta: bb }, attrs) as tf.Tensor[];
    stats = { mean: tf.keep(mean) as tf.Tensor1D, variance: tf.keep(variance) as tf.Tensor1D };
    save([xx, y, mean, variance, gg]);
    return {
      value: y,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [sx, sy, smean, svariance, sgamma] = saved;
        return tf.engine().runKernel(BN_RELU6_BACKWARD,
          { dy, x: sx, y: sy, mean: smean, variance: svariance, gamma: sgamma }, attrs) as tf.Tensor[];
      },
    };
  });
  const y = f(x, gamma, beta) as tf.Tensor4D;
  const s = stats as unknown as { mean: tf.Tensor1D; variance: tf.Tensor1D };
  return { y, mean: s.mean, variance: s.variance };
}

/** The stem conv with no input gradient (its input is the image). */
function convNoInputGrad(x: tf.Tensor4D, kernel: tf.Tensor4D, strides: [number, number], pad: 'same' | 'valid') {
  const f = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const [xx, kk] = args as tf.Tensor[];
    const save = args[2] as tf.GradSaveFunc;
    save([xx]);
    return {
      value: tf.conv2d(xx as tf.Tensor4D, kk as tf.Tensor4D, strides, pad),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => [
        tf.zerosLike(saved[0]),
        tf.engine().runKernel('Conv2DBackpropFilter', { x: saved[0], dy },
          { strides, pad, dataFormat: 'NHWC', dimRoundingMode: undefined, filterShape: kk.shape } as unknown as tf.NamedAttrMap) as tf.Tensor,
      ],
    };
  });
  return f(x, kernel) as tf.Tensor4D;
}

/**
 * Patches the layers of `model` (built by buildModel) so that training uses the fused
 * paths above. Returns a function that restores the stock calls.
 */
export function patchForFastTraining(model: tfl.LayersModel): () => void {
  const restore: Array<() => void> = [];
  const layers = model.layers as unknown as Array<PatchableLayer & { getClassName(): string; outboundNodes: Array<{ outboundLayer: PatchableLayer & { getClassName(): string; maxValue?: number } }> }>;
  for (const layer of layers) {
    const cls = layer.getClassName();
    if (cls === 'BatchNormalization') {
      const next = layer.outboundNodes.length === 1 ? layer.outboundNodes[0].outboundLayer : null;
      if (!next || next.getClassName() !== 'ReLU' || next.maxValue === undefined) continue;
      const bn = layer as unknown as BnFields & PatchableLayer;
      const relu = next;
      const maxValue = next.maxValue;
      const bnCall = bn.call;
      const reluCall = relu.call;
      bn.call = function (inputs, kwargs) {
        if (!kwargs?.training) return bnCall.call(this, inputs, kwargs);
        return tf.tidy(() => {
          const { y, mean, variance } = bnRelu6Train(one(inputs) as tf.Tensor4D, bn.gamma.read() as tf.Tensor1D, bn.beta.read() as tf.Tensor1D, bn.epsilon, maxValue);
          // The moving averages, as tfjs-layers updates them (biased batch variance).
          const update = (v: tfl.LayerVariable, value: tf.Tensor) => {
            const old = v.read();
            v.write(tf.sub(old, tf.mul(tf.sub(old, value), 1 - bn.momentum)));
          };
          update(bn.movingMean, mean);
          update(bn.movingVariance, variance);
          mean.dispose();
          variance.dispose();
          return y;
        });
      };
      // The clip already happened inside the fused BN during training: the identity, as
      // tfjs-layers' linear activation is (no copy; tf.clone cost ~5 ms a 16-scene step).
      relu.call = function (inputs, kwargs) {
        if (!kwargs?.training) return reluCall.call(this, inputs, kwargs);
        return one(inputs);
      };
      restore.push(() => { bn.call = bnCall; relu.call = reluCall; });
    } else if (cls === 'Conv2D' && (layer as unknown as { inboundNodes: Array<{ inboundLayers: Array<{ getClassName(): string }> }> }).inboundNodes[0]?.inboundLayers[0]?.getClassName() === 'InputLayer') {
      const conv = layer as unknown as PatchableLayer & { kernel: tfl.LayerVariable; strides: number[]; padding: 'same' | 'valid'; useBias: boolean; dilationRate: number[]; activation: { getClassName(): string } };
      if (conv.useBias || conv.dilationRate.some((d) => d !== 1) || conv.activation.getClassName() !== 'linear') continue;
      const convCall = conv.call;
      conv.call = function (inputs, kwargs) {
        if (!kwargs?.training) return convCall.call(this, inputs, kwargs);
        return tf.tidy(() => convNoInputGrad(one(inputs) as tf.Tensor4D, conv.kernel.read() as tf.Tensor4D, [conv.strides[0], conv.strides[1]], conv.padding));
      };
      restore.push(() => { conv.call = convCall; });
    }
  }
  return () => restore.forEach((r) => r());
}

/**
 * Conv2DBackpropInput on wasm: 1x1 stride-1 unpadded NHWC convs as one matmul
 * dx[P, Ci] = dy[P, Co] W[Ci, Co]^T; everything else goes to the stock kernel.
 */
export function registerFastPointwiseInputGrad(): void {
  const stock = tf.getKernel('Conv2DBackpropInput', 'wasm');
  if (!stock || (stock as { fastPointwise?: boolean }).fastPointwise) return;
  const kernelFunc = (args: { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs: tf.NamedAttrMap }) => {
    const { dy, filter } = args.inputs as { dy: tf.TensorInfo; filter: tf.TensorInfo };
    const attrs = args.attrs as unknown as { strides: number | [number, number]; pad: unknown; dataFormat: string; inputShape: number[] };
    const [fh, fw, ci, co] = filter.shape;
    const strides = typeof attrs.strides === 'number' ? [attrs.strides, attrs.strides] : attrs.strides;
    const unpadded = attrs.pad === 'valid' || attrs.pad === 'same' || attrs.pad === 0;
    if (fh !== 1 || fw !== 1 || strides[0] !== 1 || strides[1] !== 1 || !unpadded || attrs.dataFormat !== 'NHWC' || dy.dtype !== 'float32') {
      return stock.kernelFunc(args as Parameters<tf.KernelFunc>[0]);
    }
    const backend = args.backend as BackendWasm;
    const pixels = dy.shape[0] * dy.shape[1] * dy.shape[2];
    // The wasm BatchMatMul takes XNNPACK's fast path only without transposes: transpose W (small) first.
    const wT = transposeWasm(backend, view(filter, [ci, co]), [1, 0]);
    try {
      const dx = runWasmKernel('BatchMatMul', backend, { a: view(dy, [1, pixels, co]), b: view(wT, [1, co, ci]) }, { transposeA: false, transposeB: false });
      return view(dx, attrs.inputShape);
    } finally {
      backend.disposeData(wT.dataId);
    }
  };
  tf.unregisterKernel('Conv2DBackpropInput', 'wasm');
  tf.registerKernel({ ...stock, kernelFunc: kernelFunc as unknown as tf.KernelFunc, fastPointwise: true } as tf.KernelConfig);
}
