/**
 * Backward kernels the stock tfjs-backend-wasm 4.22 lacks or gets wrong, so that
 * stock tf.grad / tf.grads / tf.variableGrads work on the 'wasm' backend for
 * conv2d (also fused, with bias), depthwiseConv2d, separableConv2d, maxPool and
 * gather.
 */
import { getKernel, KernelConfig, registerKernel, unregisterKernel } from '@tensorflow/tfjs-core';
// The stock wasm kernels register on import, and a later registration under the
// same name wins (tfjs only logs a warning); importing the package here guarantees that ours,
// registered at call time, come after the stock MaxPoolGrad.
import '@tensorflow/tfjs-backend-wasm';
import { conv2DBackpropFilterConfig } from './Conv2DBackpropFilter';
import { depthwiseConv2dNativeBackpropFilterConfig } from './DepthwiseConv2dNativeBackpropFilter';
import { depthwiseConv2dNativeBackpropInputConfig } from './DepthwiseConv2dNativeBackpropInput';
import { maxPoolGradConfig } from './MaxPoolGrad';
import { unsortedSegmentSumConfig } from './UnsortedSegmentSum';

export { conv2DBackpropFilter } from './Conv2DBackpropFilter';
export { depthwiseConv2dNativeBackpropFilter } from './DepthwiseConv2dNativeBackpropFilter';
export { depthwiseConv2dNativeBackpropInput } from './DepthwiseConv2dNativeBackpropInput';
export { maxPoolGrad } from './MaxPoolGrad';
export { unsortedSegmentSum } from './UnsortedSegmentSum';

/** The kernels registered by {@link registerWasmGradientKernels}. */
export const wasmGradientKernelConfigs: readonly KernelConfig[] = [
  conv2DBackpropFilterConfig,
  depthwiseConv2dNativeBackpropInputConfig,
  depthwiseConv2dNativeBackpropFilterConfig,
  unsortedSegmentSumConfig,
  maxPoolGradConfig,
];

/**
 * Registers the kernels for the 'wasm' backend. Idempotent; replaces whatever is
 * registered under the same names (in particular the stock, incorrect
 * MaxPoolGrad). Kernels are looked up when an op runs, so this may be called
 * before or after `tf.setBackend('wasm')`. None of them needs a setupFunc.
 */
export function registerWasmGradientKernels(): void {
  for (const config of wasmGradientKernelConfigs) {
    const current = getKernel(config.kernelName, 'wasm');
    if (current != null) {
      if (current.kernelFunc === config.kernelFunc) continue;
      unregisterKernel(config.kernelName, 'wasm');
    }
    registerKernel(config);
  }
}
