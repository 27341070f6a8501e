/**
 * Input gradient of a fused conv -> batch norm -> ReLU-family chain (record/fusion.ts):
 * the activation's mask read from the chain's output, then one correlation with the
 * flipped folded filter, which is the input gradient of conv and batch norm together.
 */
import * as tf from '@tensorflow/tfjs-core';
import { weightKey, type WeightCache } from '../model/weight-cache';
import { chainGeometry, chainWeights, chainWeightsKey, type FusedChain } from '../record/fusion';
import type { GradMode } from './activation-grad';
import { reluBackward } from './kernels/relu-backward';
import { conv2dBackwardFilter, conv2dInputGrad, depthwiseBackwardFilter, depthwiseInputGrad } from './conv-input-grad';

export function chainInputGrad(chain: FusedChain, x: tf.Tensor, y: tf.Tensor, dy: tf.Tensor, mode: GradMode, cache: WeightCache): tf.Tensor {
  return tf.tidy(() => {
    const a = chain.activation;
    const guided = mode === 'guided';
    // y > 0 iff z > 0 (and 0 < y < 6 iff 0 < z < 6; leaky keeps the sign), so y stands in for z.
    const dz = a.kind === 'linear' ? dy
      : reluBackward(y, dy, { lower: 0, upper: a.kind === 'relu6' ? 6 : Infinity, negativeSlope: a.kind === 'leakyrelu' ? a.alpha : 0, guided });
    const { filter } = chainWeights(chain, cache);
    const g = chainGeometry(chain);
    const key = weightKey(chain.conv, `${chainWeightsKey(chain)}:back`);
    if (chain.conv.className === 'DepthwiseConv2D') {
      const back = cache.get(key, () => depthwiseBackwardFilter(filter)) as tf.Tensor4D;
      return depthwiseInputGrad(x.shape, dz as tf.Tensor4D, filter.shape, back, g);
    }
    const back = cache.get(key, () => conv2dBackwardFilter(filter, g)) as tf.Tensor4D;
    return conv2dInputGrad(x.shape, dz as tf.Tensor4D, filter.shape, back, g);
  });
}
