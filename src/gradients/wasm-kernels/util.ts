/**
 * Small helpers shared by the wasm gradient kernels: calling other wasm kernels
 * from inside a kernelFunc, and reinterpreting a tensor's shape without a copy.
 */
import { getKernel, NamedAttrMap, NamedTensorInfoMap, TensorInfo } from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';

/**
 * Runs a registered wasm kernel directly. Public tf ops must not be called from
 * inside a kernelFunc (they would re-enter the engine and be recorded on the
 * tape), so intermediates are produced at the kernel level and the caller
 * frees them with `backend.disposeData`.
 */
export function runWasmKernel(
  kernelName: string,
  backend: BackendWasm,
  inputs: NamedTensorInfoMap,
  attrs: NamedAttrMap = {},
): TensorInfo {
  const config = getKernel(kernelName, 'wasm');
  if (config == null) {
    throw new Error(`whycam wasm gradient kernels need the wasm kernel '${kernelName}', which is not registered.`);
  }
  const out = config.kernelFunc({ inputs, backend, attrs });
  return Array.isArray(out) ? out[0] : out;
}

/**
 * The same data under another (equal-size) shape. No reference is taken: the
 * view is only valid while `info` is alive and must not be disposed itself.
 */
export function view(info: TensorInfo, shape: number[]): TensorInfo {
  return { dataId: info.dataId, shape, dtype: info.dtype };
}

/** Frees kernel-level intermediates (each must own exactly one reference). */
export function disposeAll(backend: BackendWasm, infos: TensorInfo[]): void {
  for (const info of infos) backend.disposeData(info.dataId);
}

/** Explicit NHWC padding in the form computeConv2DInfo and the wasm conv kernels accept. */
export function explicitPad(
  top: number,
  bottom: number,
  left: number,
  right: number,
): [[number, number], [number, number], [number, number], [number, number]] {
  return [[0, 0], [top, bottom], [left, right], [0, 0]];
}

export function pair(v: number | [number, number]): [number, number] {
  return typeof v === 'number' ? [v, v] : [v[0], v[1]];
}
