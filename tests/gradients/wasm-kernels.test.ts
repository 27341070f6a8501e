/**
 * The wasm backward kernels in src/gradients/wasm-kernels, checked against
 * independent computations only:
 *  - each kernel against the same kernel on tfjs-backend-cpu, over a grid of
 *    shapes / strides / paddings / channel multipliers;
 *  - dilated depthwise kernels (tfjs-backend-cpu ignores dilations) against cpu
 *    on the equivalent zero-inserted, undilated filter;
 *  - stock tf.grads / tf.variableGrads on wasm against the same on cpu, and one
 *    function against central finite differences of the wasm forward pass;
 *  - the stock wasm MaxPoolGrad, kept from before it was replaced, shown wrong
 *    on hand-computed all-negative / all-zero windows.
 *
 * Tolerance for float comparisons: max |wasm - reference| <= TOL * max |reference|
 * (TOL = 1e-4; observed differences are float32 rounding, ~1e-7 relative).
 * Set WHYCAM_VERBOSE=1 to print the worst observed difference per kernel.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
// tfjs-core's Node bundle registers no gradient functions; tfjs-layers' bundle
// registers all of them (as @tensorflow/tfjs does). The app imports it anyway.
import '@tensorflow/tfjs-layers';
import { registerWasmGradientKernels } from '../../src/gradients/wasm-kernels';

const TOL = 1e-4;

type Backend = 'cpu' | 'wasm';
type Pad = 'same' | 'valid' | number | [[number, number], [number, number], [number, number], [number, number]];
interface Spec {
  values: Float32Array | Int32Array;
  shape: number[];
  dtype: 'float32' | 'int32';
}
interface Result {
  values: Float32Array;
  shape: number[];
}

const worst = new Map<string, number>();
let stockMaxPoolGrad: tf.KernelFunc;

beforeAll(async () => {
  expect(await tf.setBackend('cpu')).toBe(true);
  expect(await tf.setBackend('wasm')).toBe(true);
  // Kept after the wasm backend ran its setupFunc, before it is replaced.
  stockMaxPoolGrad = tf.getKernel('MaxPoolGrad', 'wasm').kernelFunc;
  registerWasmGradientKernels();
});

afterAll(() => {
  if (process.env.WHYCAM_VERBOSE) {
    console.log([...worst].map(([k, v]) => `${k}: ${v.toExponential(2)}`).join('\n'));
  }
});

// ---------------------------------------------------------------- helpers

function size(shape: number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** Deterministic uniform values in [lo, hi) (mulberry32). */
function randomValues(n: number, seed: number, lo = -1, hi = 1): Float32Array {
  let s = seed >>> 0;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    out[i] = lo + (hi - lo) * (((t ^ (t >>> 14)) >>> 0) / 4294967296);
  }
  return out;
}

function rand(shape: number[], seed: number, lo = -1, hi = 1): Spec {
  return { values: randomValues(size(shape), seed, lo, hi), shape, dtype: 'float32' };
}

function ints(values: number[], shape: number[]): Spec {
  return { values: Int32Array.from(values), shape, dtype: 'int32' };
}

function wasmDataIds(): number {
  return (tf.backend() as BackendWasm).numDataIds();
}

/** Asserts that fn leaves no tensor and (on wasm) no backend buffer behind. */
function expectNoLeak<T>(backend: Backend, fn: () => T): T {
  const tensors = tf.memory().numTensors;
  const ids = backend === 'wasm' ? wasmDataIds() : 0;
  const out = fn();
  expect(tf.memory().numTensors).toBe(tensors);
  if (backend === 'wasm') expect(wasmDataIds()).toBe(ids);
  return out;
}

function toTensor(s: Spec): tf.Tensor {
  return tf.tensor(s.values, s.shape, s.dtype);
}

async function runKernel(backend: Backend, name: string, inputs: Record<string, Spec>, attrs: object): Promise<Result> {
  await tf.setBackend(backend);
  return expectNoLeak(backend, () => {
    const ts: tf.NamedTensorMap = {};
    for (const k of Object.keys(inputs)) ts[k] = toTensor(inputs[k]);
    const out = tf.engine().runKernel(name, ts, attrs as unknown as tf.NamedAttrMap) as tf.Tensor;
    const result = { values: Float32Array.from(out.dataSync()), shape: out.shape.slice() };
    tf.dispose([out, ...Object.values(ts)]);
    return result;
  });
}

/** max |actual - expected| / max |expected|; records the worst per label. */
function expectClose(actual: Result, expected: Result, label: string, tol = TOL): void {
  expect(actual.shape).toEqual(expected.shape);
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < expected.values.length; i++) {
    diff = Math.max(diff, Math.abs(actual.values[i] - expected.values[i]));
    scale = Math.max(scale, Math.abs(expected.values[i]));
  }
  const rel = scale === 0 ? diff : diff / scale;
  const key = label.split(' ')[0];
  worst.set(key, Math.max(worst.get(key) ?? 0, rel));
  if (!(rel <= tol)) throw new Error(`${label}: max diff ${diff} vs max magnitude ${scale} (relative ${rel} > ${tol})`);
}

async function compareKernel(name: string, inputs: Record<string, Spec>, attrs: object, label: string): Promise<void> {
  const w = await runKernel('wasm', name, inputs, attrs);
  const c = await runKernel('cpu', name, inputs, attrs);
  expectClose(w, c, `${name} ${label}`);
}

const PADS: Pad[] = [
  'same',
  'valid',
  1,
  [[0, 0], [1, 2], [0, 1], [0, 0]],
  // Larger than the filter: some dy rows only ever see padding.
  [[0, 0], [4, 0], [3, 5], [0, 0]],
];
const STRIDES: (number | [number, number])[] = [1, 2, [2, 1]];
const FILTERS: [number, number][] = [[1, 1], [3, 3], [2, 3]];

function conv2dOutShape(xShape: number[], filterShape: number[], strides: number | [number, number], pad: Pad,
  depthwise: boolean, dilations: number | [number, number] = 1, dimRoundingMode?: 'floor' | 'round' | 'ceil'): number[] {
  return tf.backend_util.computeConv2DInfo(
    xShape as [number, number, number, number], filterShape as [number, number, number, number], strides, dilations,
    pad, dimRoundingMode, depthwise).outShape;
}

// ------------------------------------------------------ kernel vs cpu grids

describe('Conv2DBackpropFilter: wasm vs tfjs-backend-cpu', () => {
  test('grid over batch/channels, filter sizes, strides, paddings', async () => {
    const geoms = [[1, 7, 8, 3, 4], [2, 8, 7, 1, 2], [2, 6, 9, 3, 1]];
    let seed = 1;
    for (const [n, h, w, ci, co] of geoms) {
      for (const [fh, fw] of FILTERS) {
        for (const strides of STRIDES) {
          for (const pad of PADS) {
            const xShape = [n, h, w, ci];
            const filterShape = [fh, fw, ci, co];
            const dyShape = conv2dOutShape(xShape, filterShape, strides, pad, false);
            await compareKernel('Conv2DBackpropFilter', { x: rand(xShape, seed++), dy: rand(dyShape, seed++) },
              { strides, pad, dataFormat: 'NHWC', filterShape },
              `x=${xShape} f=${filterShape} s=${strides} pad=${JSON.stringify(pad)}`);
          }
        }
      }
    }
  });

  test('dimRoundingMode and NCHW', async () => {
    for (const dimRoundingMode of ['ceil', 'round', 'floor'] as const) {
      const xShape = [1, 8, 7, 2];
      const filterShape = [3, 2, 2, 3];
      const dyShape = conv2dOutShape(xShape, filterShape, 2, 1, false, 1, dimRoundingMode);
      await compareKernel('Conv2DBackpropFilter', { x: rand(xShape, 7), dy: rand(dyShape, 8) },
        { strides: 2, pad: 1, dataFormat: 'NHWC', dimRoundingMode, filterShape }, `dimRoundingMode=${dimRoundingMode}`);
    }
    for (const [n, ci, co, strides, pad] of [[2, 3, 4, 2, 'same'], [1, 1, 2, 1, 'valid'], [2, 1, 1, 2, 'valid']] as const) {
      const xShape = [n, ci, 7, 6];
      const filterShape = [3, 3, ci, co];
      const info = tf.backend_util.computeConv2DInfo(
        xShape as [number, number, number, number], filterShape as [number, number, number, number], strides, 1, pad,
        undefined, false, 'channelsFirst');
      await compareKernel('Conv2DBackpropFilter', { x: rand(xShape, 9), dy: rand(info.outShape, 10) },
        { strides, pad, dataFormat: 'NCHW', filterShape }, `NCHW x=${xShape}`);
    }
  });
});

describe('depthwise backprop kernels: wasm vs tfjs-backend-cpu', () => {
  // 11 channels: the filter gradient's loop takes eight channels at a time, then one.
  const geoms = [[1, 7, 8, 3], [2, 8, 7, 2], [2, 6, 5, 11]];
  const grid = function* (): Generator<{ xShape: number[]; filterShape: number[]; strides: number | [number, number]; pad: Pad }> {
    for (const [n, h, w, c] of geoms) {
      for (const m of [1, 2, 3]) {
        for (const [fh, fw] of FILTERS) {
          for (const strides of STRIDES) {
            for (const pad of PADS) yield { xShape: [n, h, w, c], filterShape: [fh, fw, c, m], strides, pad };
          }
        }
      }
    }
  };

  test('DepthwiseConv2dNativeBackpropInput grid (channel multiplier 1, 2, 3)', async () => {
    let seed = 100;
    for (const { xShape, filterShape, strides, pad } of grid()) {
      const dyShape = conv2dOutShape(xShape, filterShape, strides, pad, true);
      await compareKernel('DepthwiseConv2dNativeBackpropInput', { dy: rand(dyShape, seed++), filter: rand(filterShape, seed++) },
        { strides, pad, dilations: 1, inputShape: xShape },
        `x=${xShape} f=${filterShape} s=${strides} pad=${JSON.stringify(pad)}`);
    }
  });

  test('DepthwiseConv2dNativeBackpropFilter grid (channel multiplier 1, 2, 3)', async () => {
    let seed = 1000;
    for (const { xShape, filterShape, strides, pad } of grid()) {
      const dyShape = conv2dOutShape(xShape, filterShape, strides, pad, true);
      await compareKernel('DepthwiseConv2dNativeBackpropFilter', { x: rand(xShape, seed++), dy: rand(dyShape, seed++) },
        { strides, pad, dilations: 1, filterShape },
        `x=${xShape} f=${filterShape} s=${strides} pad=${JSON.stringify(pad)}`);
    }
  });

  test('dimRoundingMode', async () => {
    for (const dimRoundingMode of ['ceil', 'round'] as const) {
      const xShape = [1, 8, 7, 2];
      const filterShape = [3, 3, 2, 2];
      const dyShape = conv2dOutShape(xShape, filterShape, 2, 1, true, 1, dimRoundingMode);
      const attrs = { strides: 2, pad: 1, dilations: 1, dimRoundingMode };
      await compareKernel('DepthwiseConv2dNativeBackpropInput', { dy: rand(dyShape, 1), filter: rand(filterShape, 2) },
        { ...attrs, inputShape: xShape }, `dimRoundingMode=${dimRoundingMode}`);
      await compareKernel('DepthwiseConv2dNativeBackpropFilter', { x: rand(xShape, 3), dy: rand(dyShape, 4) },
        { ...attrs, filterShape }, `dimRoundingMode=${dimRoundingMode}`);
    }
  });

  test('dilations, against cpu on the zero-inserted undilated filter', async () => {
    // tfjs-backend-cpu's depthwise backprop kernels ignore dilations; a filter
    // dilated by d equals an undilated one with d-1 zeros between taps, with the
    // same padding and output size (both go through the effective filter size).
    let seed = 5000;
    const [n, h, w, c] = [2, 9, 10, 2];
    for (const dilations of [2, [2, 1], [1, 3]] as (number | [number, number])[]) {
      const [dh, dw] = typeof dilations === 'number' ? [dilations, dilations] : dilations;
      for (const strides of [1, 2]) {
        for (const pad of ['same', 'valid', [[0, 0], [1, 3], [2, 0], [0, 0]]] as Pad[]) {
          for (const m of [1, 2]) {
            for (const [fh, fw] of [[3, 3], [2, 3]]) {
              const xShape = [n, h, w, c];
              const filterShape = [fh, fw, c, m];
              const [efh, efw] = [(fh - 1) * dh + 1, (fw - 1) * dw + 1];
              const expandedShape = [efh, efw, c, m];
              const dyShape = conv2dOutShape(xShape, filterShape, strides, pad, true, dilations);
              expect(conv2dOutShape(xShape, expandedShape, strides, pad, true)).toEqual(dyShape);
              const label = `d=${dilations} s=${strides} pad=${JSON.stringify(pad)} f=${filterShape}`;

              const filter = rand(filterShape, seed++);
              const expanded = new Float32Array(size(expandedShape));
              for (let i = 0; i < fh; i++) {
                for (let j = 0; j < fw; j++) {
                  for (let q = 0; q < c * m; q++) {
                    expanded[((i * dh) * efw + j * dw) * c * m + q] = filter.values[(i * fw + j) * c * m + q];
                  }
                }
              }
              const dy = rand(dyShape, seed++);
              expectClose(
                await runKernel('wasm', 'DepthwiseConv2dNativeBackpropInput', { dy, filter },
                  { strides, pad, dilations, inputShape: xShape }),
                await runKernel('cpu', 'DepthwiseConv2dNativeBackpropInput',
                  { dy, filter: { values: expanded, shape: expandedShape, dtype: 'float32' } },
                  { strides, pad, dilations: 1, inputShape: xShape }),
                `DepthwiseConv2dNativeBackpropInput(dilated) ${label}`);

              const x = rand(xShape, seed++);
              const dW = await runKernel('wasm', 'DepthwiseConv2dNativeBackpropFilter', { x, dy },
                { strides, pad, dilations, filterShape });
              const dWexpanded = await runKernel('cpu', 'DepthwiseConv2dNativeBackpropFilter', { x, dy },
                { strides, pad, dilations: 1, filterShape: expandedShape });
              const taps = new Float32Array(size(filterShape));
              for (let i = 0; i < fh; i++) {
                for (let j = 0; j < fw; j++) {
                  for (let q = 0; q < c * m; q++) {
                    taps[(i * fw + j) * c * m + q] = dWexpanded.values[((i * dh) * efw + j * dw) * c * m + q];
                  }
                }
              }
              expectClose(dW, { values: taps, shape: filterShape }, `DepthwiseConv2dNativeBackpropFilter(dilated) ${label}`);
            }
          }
        }
      }
    }
  });
});

describe('UnsortedSegmentSum: wasm vs tfjs-backend-cpu', () => {
  test('rank-1 segment ids: duplicates, empty segments, out-of-range ids dropped', async () => {
    const cases: [number[], number[], number][] = [
      [[7, 3, 2], [2, 0, 2, 4, -1, 5, 0], 5],
      [[6], [1, 1, 1, 0, 3, 3], 4],
      [[4, 5], [0, 0, 0, 0], 1],
    ];
    let seed = 77;
    for (const [xShape, ids, numSegments] of cases) {
      await compareKernel('UnsortedSegmentSum', { x: rand(xShape, seed++), segmentIds: ints(ids, [ids.length]) },
        { numSegments }, `x=${xShape} ids=${ids}`);
    }
    const intCase = await runKernel('wasm', 'UnsortedSegmentSum',
      { x: ints([1, 2, 3, 4, 5, 6], [3, 2]), segmentIds: ints([1, 0, 1], [3]) }, { numSegments: 2 });
    expect(Array.from(intCase.values)).toEqual([3, 4, 6, 8]);
  });

  test('rank-2 segment ids follow TensorFlow (tfjs-backend-cpu only handles rank 1)', async () => {
    // Hand-computed: segment 0 = 1 + 6, segment 1 = 2 + 3 + 4, segment 2 = 5.
    const out = await runKernel('wasm', 'UnsortedSegmentSum',
      { x: rand([3, 2], 0), segmentIds: ints([0, 1, 1, 1, 2, 0], [3, 2]) }, { numSegments: 3 });
    expect(out.shape).toEqual([3]);
    const xv = randomValues(6, 0);
    expectClose(out, { values: Float32Array.from([xv[0] + xv[5], xv[1] + xv[2] + xv[3], xv[4]]), shape: [3] },
      'UnsortedSegmentSum rank-2 ids');
  });
});

describe('MaxPoolGrad', () => {
  /** Values with many ties, all-negative and all-zero windows. */
  function tiedValues(shape: number[], seed: number): Spec {
    const v = randomValues(size(shape), seed, 0, 1).map(u => Math.floor(u * 5) - 3); // {-3..1}
    return { values: v, shape, dtype: 'float32' };
  }

  test('wasm vs tfjs-backend-cpu: same winners (first maximum), padding never wins', async () => {
    // Fewer than 4 channels run in JS; 4 and more on SIMD in groups of 4 (6 and 9: with a JS tail).
    const geoms = [[1, 7, 8, 3], [2, 9, 6, 2], [1, 6, 7, 4], [1, 7, 6, 6], [2, 5, 6, 9]];
    const filterSizes: [number, number][] = [[2, 2], [3, 3], [2, 3], [1, 1]];
    const pads: Pad[] = ['same', 'valid', 1, [[0, 0], [1, 0], [0, 2], [0, 0]]];
    let seed = 300;
    for (const xShape of geoms) {
      for (const filterSize of filterSizes) {
        for (const strides of STRIDES) {
          for (const pad of pads) {
            const info = tf.backend_util.computePool2DInfo(
              xShape as [number, number, number, number], filterSize, strides, 1, pad);
            for (const input of [rand(xShape, seed++), tiedValues(xShape, seed++), rand(xShape, seed++, -3, -1)]) {
              const inputs = { dy: rand(info.outShape, seed++), input, output: rand(info.outShape, 0) };
              const attrs = { filterSize, strides, pad };
              const w = await runKernel('wasm', 'MaxPoolGrad', inputs, attrs);
              const c = await runKernel('cpu', 'MaxPoolGrad', inputs, attrs);
              const label = `MaxPoolGrad x=${xShape} f=${filterSize} s=${strides} pad=${JSON.stringify(pad)}`;
              // Which cells receive gradient is exact; the sums only differ by float32 rounding.
              expect(Array.from(w.values, v => v !== 0)).toEqual(Array.from(c.values, v => v !== 0));
              expectClose(w, c, label, 1e-6);
            }
          }
        }
      }
    }
    for (const dimRoundingMode of ['ceil', 'round'] as const) {
      const xShape = [1, 8, 7, 2];
      const info = tf.backend_util.computePool2DInfo(xShape as [number, number, number, number], 3, 2, 1, 1, dimRoundingMode);
      const inputs = { dy: rand(info.outShape, 1), input: tiedValues(xShape, 2), output: rand(info.outShape, 0) };
      const attrs = { filterSize: 3, strides: 2, pad: 1, dimRoundingMode };
      expectClose(await runKernel('wasm', 'MaxPoolGrad', inputs, attrs), await runKernel('cpu', 'MaxPoolGrad', inputs, attrs),
        `MaxPoolGrad dimRoundingMode=${dimRoundingMode}`, 1e-6);
    }
  });

  test('on SIMD too, NaN and -Infinity never win and a window of only those passes nothing', async () => {
    // 4 channels (one SIMD group): channel k of cell i is [NaN, 1, -Inf, NaN, NaN, -5, -Inf, -Inf] rotated by k.
    const cells = [NaN, 1, -Infinity, NaN, NaN, -5, -Infinity, -Infinity];
    const values = new Float32Array(32);
    for (let i = 0; i < 8; i++) for (let k = 0; k < 4; k++) values[i * 4 + k] = cells[(i + 2 * k) % 8];
    const inputs = { dy: rand([1, 1, 2, 4], 1), input: { values, shape: [1, 2, 4, 4], dtype: 'float32' } as Spec, output: rand([1, 1, 2, 4], 0) };
    const attrs = { filterSize: 2, strides: 2, pad: 'valid' };
    const w = await runKernel('wasm', 'MaxPoolGrad', inputs, attrs);
    const c = await runKernel('cpu', 'MaxPoolGrad', inputs, attrs);
    expect(Array.from(w.values)).toEqual(Array.from(c.values));
    expect(Array.from(w.values).filter((v) => v !== 0).length).toBeGreaterThan(0);
  });

  test('NaN and -Infinity never win; a window of only those passes nothing', async () => {
    const input: Spec = {
      values: Float32Array.from([NaN, 1, -Infinity, NaN, NaN, -5, -Infinity, -Infinity]), shape: [1, 2, 4, 1], dtype: 'float32',
    };
    const inputs = { dy: rand([1, 1, 2, 1], 1), input, output: rand([1, 1, 2, 1], 0) };
    const attrs = { filterSize: 2, strides: 2, pad: 'valid' };
    const w = await runKernel('wasm', 'MaxPoolGrad', inputs, attrs);
    const c = await runKernel('cpu', 'MaxPoolGrad', inputs, attrs);
    expect(Array.from(w.values)).toEqual(Array.from(c.values));
    const dy = randomValues(2, 1);
    expect(Array.from(w.values)).toEqual([0, dy[0], 0, 0, 0, 0, 0, 0]);
  });

  test('stock wasm kernel drops or misroutes the gradient of all-negative and all-zero windows; ours does not', async () => {
    await tf.setBackend('wasm');
    const backend = tf.backend() as BackendWasm;
    const attrs = { filterSize: 2, strides: 2, pad: 'valid' };
    // Two 2x2 windows of a 2x4 image; dy = [1, 10]. Hand-computed dx: the first
    // maximum of each window receives its dy.
    const cases: { x: number[]; expected: number[]; stock: number[] }[] = [
      // Second window all negative: its maximum (-2) must get 10; stock drops it.
      { x: [1, 2, -5, -3, 0.5, 0.25, -4, -2], expected: [0, 1, 0, 0, 0, 0, 0, 10], stock: [0, 1, 0, 0, 0, 0, 0, 0] },
      // All zeros (as after a ReLU): first cell of each window; stock keeps only
      // the window that contains element 0.
      { x: [0, 0, 0, 0, 0, 0, 0, 0], expected: [1, 0, 10, 0, 0, 0, 0, 0], stock: [1, 0, 0, 0, 0, 0, 0, 0] },
      // All negative, maxima at the end of each window: stock sends 1 to element 0.
      { x: [-4, -3, -2, -1, -4, -3, -2, -1], expected: [0, 1, 0, 10, 0, 0, 0, 0], stock: [1, 0, 0, 0, 0, 0, 0, 0] },
    ];
    const spec = (values: number[], shape: number[]): Spec => ({ values: Float32Array.from(values), shape, dtype: 'float32' });
    for (const { x, expected, stock } of cases) {
      const stockDx = expectNoLeak('wasm', () => {
        const input = tf.tensor4d(x, [1, 2, 4, 1]);
        const dy = tf.tensor4d([1, 10], [1, 1, 2, 1]);
        const out = stockMaxPoolGrad({ inputs: { dy, input, output: dy }, backend, attrs }) as tf.TensorInfo;
        const values = Array.from(backend.readSync(out.dataId) as Float32Array);
        backend.disposeData(out.dataId);
        tf.dispose([input, dy]);
        return values;
      });
      expect(stockDx).toEqual(stock);
      expect(stockDx).not.toEqual(expected);

      const inputs = { dy: spec([1, 10], [1, 1, 2, 1]), input: spec(x, [1, 2, 4, 1]), output: spec([0, 0], [1, 1, 2, 1]) };
      expect(Array.from((await runKernel('wasm', 'MaxPoolGrad', inputs, attrs)).values)).toEqual(expected);
      expect(Array.from((await runKernel('cpu', 'MaxPoolGrad', inputs, attrs)).values)).toEqual(expected);
    }

    // The same through stock tf.grad: d/dx sum(maxPool(x) * [1, 10]).
    await tf.setBackend('wasm');
    const dx = expectNoLeak('wasm', () => {
      const x = tf.tensor4d(cases[0].x, [1, 2, 4, 1]);
      const g = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(tf.maxPool(t as tf.Tensor4D, 2, 2, 'valid'), tf.tensor4d([1, 10], [1, 1, 2, 1]))))(x);
      const values = Array.from(g.dataSync());
      tf.dispose([x, g]);
      return values;
    });
    expect(dx).toEqual(cases[0].expected);
  });
});

// ------------------------------------------------------------- end to end

/** Gradients of f at args on a backend, as plain arrays, checking for leaks. */
async function gradsOn(backend: Backend, f: (...xs: tf.Tensor[]) => tf.Tensor, args: Spec[]): Promise<Result[]> {
  await tf.setBackend(backend);
  return expectNoLeak(backend, () => {
    const ts = args.map(toTensor);
    const gs = tf.grads((...xs: tf.Tensor[]) => f(...xs))(ts);
    const out = gs.map(g => ({ values: Float32Array.from(g.dataSync()), shape: g.shape.slice() }));
    tf.dispose([...gs, ...ts]);
    return out;
  });
}

/** A scalar with a non-uniform upstream gradient: sum(y * r) for a fixed random r. */
function weightedSum(y: tf.Tensor, seed: number): tf.Tensor {
  return tf.sum(tf.mul(y, tf.tensor(randomValues(y.size, seed), y.shape)));
}

async function expectGradsMatchCpu(label: string, f: (...xs: tf.Tensor[]) => tf.Tensor, args: Spec[]): Promise<void> {
  const w = await gradsOn('wasm', f, args);
  const c = await gradsOn('cpu', f, args);
  expect(w.length).toBe(args.length);
  w.forEach((g, i) => expectClose(g, c[i], `grads ${label} arg ${i}`));
}

describe('stock tf.grads on wasm equals cpu', () => {
  const x4 = (s: tf.Tensor) => s as tf.Tensor4D;

  test('fused conv2d with bias (linear: FusedConv2D custom gradient) and with relu', async () => {
    const configs: [number, Pad][] = [[1, 'same'], [2, 'same'], [2, 'valid'], [1, [[0, 0], [2, 0], [1, 1], [0, 0]]]];
    for (const [strides, pad] of configs) {
      for (const activation of ['linear', 'relu'] as const) {
        await expectGradsMatchCpu(`fused conv2d ${activation} s=${strides} pad=${JSON.stringify(pad)}`,
          (x, w, b) => weightedSum(tf.fused.conv2d({
            x: x4(x), filter: x4(w), bias: b, strides, pad: pad as 'same', activation,
          }), 11),
          [rand([2, 9, 8, 3], 1), rand([3, 3, 3, 5], 2), rand([5], 3)]);
      }
    }
  });

  test('depthwiseConv2d, channel multiplier 1 and 2', async () => {
    for (const m of [1, 2]) {
      for (const [strides, pad] of [[1, 'same'], [2, 'same'], [2, 'valid']] as [number, Pad][]) {
        await expectGradsMatchCpu(`depthwise m=${m} s=${strides} pad=${pad}`,
          (x, f) => weightedSum(tf.depthwiseConv2d(x4(x), x4(f), strides, pad as 'same'), 12),
          [rand([2, 9, 10, 4], 4), rand([3, 3, 4, m], 5)]);
      }
    }
  });

  test('separableConv2d', async () => {
    for (const [strides, pad] of [[1, 'same'], [2, 'valid']] as [number, 'same' | 'valid'][]) {
      await expectGradsMatchCpu(`separable s=${strides} pad=${pad}`,
        (x, dw, pw) => weightedSum(tf.separableConv2d(x4(x), x4(dw), x4(pw), strides, pad), 13),
        [rand([1, 10, 9, 3], 6), rand([3, 3, 3, 2], 7), rand([1, 1, 6, 4], 8)]);
    }
  });

  test('maxPool over mostly negative input', async () => {
    for (const [filterSize, strides, pad] of [[3, 2, 'same'], [2, 2, 'valid'], [3, 1, 'same']] as [number, number, 'same' | 'valid'][]) {
      await expectGradsMatchCpu(`maxPool f=${filterSize} s=${strides} pad=${pad}`,
        (x) => weightedSum(tf.maxPool(x4(x), filterSize, strides, pad), 14),
        [rand([2, 9, 8, 3], 9, -3, 0.5)]);
    }
  });

  test('gather (axis 0 and 1) with repeated indices', async () => {
    const idx = [3, 0, 3, 5, 1];
    await expectGradsMatchCpu('gather axis 0', (x) => weightedSum(tf.gather(x, tf.tensor1d(idx, 'int32'), 0), 15),
      [rand([6, 4, 3], 10)]);
    await expectGradsMatchCpu('gather axis 1', (x) => weightedSum(tf.gather(x, tf.tensor1d(idx, 'int32'), 1), 16),
      [rand([2, 7, 3], 11)]);
  });

  test('tf.variableGrads through a small CNN (conv+bias+relu6, depthwise, maxPool, separable, gather)', async () => {
    const run = async (backend: Backend): Promise<Result[]> => {
      await tf.setBackend(backend);
      return expectNoLeak(backend, () => {
        const x = toTensor(rand([1, 16, 16, 3], 20));
        const names = ['w1', 'b1', 'dw', 'sdw', 'spw', 'table'];
        const shapes = [[3, 3, 3, 8], [8], [3, 3, 8, 2], [3, 3, 16, 1], [1, 1, 16, 6], [4, 6]];
        const inits = shapes.map((s, i) => toTensor(rand(s, 30 + i)));
        const vars = inits.map((t, i) => tf.variable(t, true, `${names[i]}_${backend}`));
        const [w1, b1, dw, sdw, spw, table] = vars;
        const { value, grads } = tf.variableGrads(() => {
          let y: tf.Tensor = tf.fused.conv2d({ x: x4(x), filter: x4(w1), bias: b1, strides: 2, pad: 'same', activation: 'relu6' });
          y = tf.depthwiseConv2d(x4(y), x4(dw), 1, 'same');
          y = tf.maxPool(x4(y), 3, 2, 'same');
          y = tf.separableConv2d(x4(y), x4(sdw), x4(spw), 1, 'valid');
          const pooled = tf.mean(y, [0, 1, 2]); // [6]
          const rows = tf.gather(table, tf.tensor1d([3, 1, 3], 'int32')); // [3, 6]
          return tf.sum(tf.mul(rows, tf.reshape(pooled, [1, 6]))) as tf.Scalar;
        });
        const out = vars.map(v => {
          const g = grads[v.name];
          return { values: Float32Array.from(g.dataSync()), shape: g.shape.slice() };
        });
        tf.dispose([value, ...Object.values(grads), x, ...vars, ...inits]);
        return out;
      });
    };
    const w = await run('wasm');
    const c = await run('cpu');
    w.forEach((g, i) => expectClose(g, c[i], `variableGrads var ${i}`));
  });
});

describe('central finite differences of the wasm forward pass', () => {
  test('input and all filter gradients of tanh(separable(fused conv2d + bias))', async () => {
    await tf.setBackend('wasm');
    const x4 = (s: tf.Tensor) => s as tf.Tensor4D;
    const f = (x: tf.Tensor, w: tf.Tensor, b: tf.Tensor, dw: tf.Tensor, pw: tf.Tensor): tf.Scalar =>
      tf.tidy(() => weightedSum(tf.tanh(tf.separableConv2d(
        x4(tf.fused.conv2d({ x: x4(x), filter: x4(w), bias: b, strides: 2, pad: 'same' })),
        x4(dw), x4(pw), 1, 'same')), 21) as tf.Scalar);
    const args = [rand([1, 9, 8, 2], 40), rand([3, 3, 2, 4], 41, -0.5, 0.5), rand([4], 42), rand([3, 3, 4, 2], 43, -0.5, 0.5),
      rand([1, 1, 8, 3], 44, -0.5, 0.5)];
    const analytic = await gradsOn('wasm', (...xs) => f(xs[0], xs[1], xs[2], xs[3], xs[4]), args);

    const h = 1e-2;
    let checked = 0;
    expectNoLeak('wasm', () => {
      for (let a = 0; a < args.length; a++) {
        const n = args[a].values.length;
        const g = analytic[a].values;
        const scale = Math.max(...Array.from(g, Math.abs));
        // A spread of coordinates per argument, including the first and last.
        for (const i of new Set([0, n - 1, Math.floor(n / 3), Math.floor(n / 2), Math.floor((2 * n) / 3)])) {
          const at = (delta: number): number => {
            const perturbed = args.map(s => toTensor(s));
            const v = args[a].values.slice() as Float32Array;
            v[i] += delta;
            perturbed[a].dispose();
            perturbed[a] = tf.tensor(v, args[a].shape);
            const y = f(perturbed[0], perturbed[1], perturbed[2], perturbed[3], perturbed[4]);
            const out = y.dataSync()[0];
            tf.dispose([y, ...perturbed]);
            return out;
          };
          const fd = (at(h) - at(-h)) / (2 * h);
          // float32 forward passes: allow 1e-2 of the gradient's scale.
          if (!(Math.abs(fd - g[i]) <= 1e-2 * scale + 1e-4)) {
            throw new Error(`arg ${a} index ${i}: finite difference ${fd} vs analytic ${g[i]} (scale ${scale})`);
          }
          checked++;
        }
      }
    });
    expect(checked).toBeGreaterThanOrEqual(20);
  });
});

describe('registration and errors', () => {
  test('registerWasmGradientKernels is idempotent and replaces the stock MaxPoolGrad', () => {
    const warn = jest.spyOn(console, 'warn').mockImplementation(() => undefined);
    try {
      registerWasmGradientKernels();
      registerWasmGradientKernels();
      expect(warn).not.toHaveBeenCalled();
    } finally {
      warn.mockRestore();
    }
    expect(tf.getKernel('MaxPoolGrad', 'wasm').kernelFunc).not.toBe(stockMaxPoolGrad);
    for (const name of ['Conv2DBackpropFilter', 'DepthwiseConv2dNativeBackpropInput', 'DepthwiseConv2dNativeBackpropFilter',
      'UnsortedSegmentSum', 'MaxPoolGrad']) {
      expect(tf.getKernel(name, 'wasm')).toBeDefined();
    }
  });

  test('a dy of the wrong shape is rejected with nothing left allocated', async () => {
    await tf.setBackend('wasm');
    const cases: [string, Record<string, number[]>, object][] = [
      ['Conv2DBackpropFilter', { x: [1, 6, 6, 2], dy: [1, 5, 6, 3] }, { strides: 1, pad: 'same', dataFormat: 'NHWC', filterShape: [3, 3, 2, 3] }],
      ['DepthwiseConv2dNativeBackpropInput', { dy: [1, 5, 6, 2], filter: [3, 3, 2, 1] }, { strides: 1, pad: 'same', dilations: 1, inputShape: [1, 6, 6, 2] }],
      ['DepthwiseConv2dNativeBackpropFilter', { x: [1, 6, 6, 2], dy: [1, 6, 6, 3] }, { strides: 1, pad: 'same', dilations: 1, filterShape: [3, 3, 2, 1] }],
      ['MaxPoolGrad', { dy: [1, 2, 3, 2], input: [1, 6, 6, 2], output: [1, 2, 3, 2] }, { filterSize: 2, strides: 2, pad: 'valid' }],
    ];
    for (const [name, shapes, attrs] of cases) {
      expectNoLeak('wasm', () => {
        const ts: tf.NamedTensorMap = {};
        for (const k of Object.keys(shapes)) ts[k] = tf.zeros(shapes[k]);
        expect(() => tf.engine().runKernel(name, ts, attrs as unknown as tf.NamedAttrMap)).toThrow(/expected/);
        tf.dispose(Object.values(ts));
      });
    }
  });
});
