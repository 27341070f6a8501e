/**
 * Keras 3 layers-model configs (the format tfjs issue 8328 reports tfjs-layers 4.22 cannot read),
 * written here by hand as Keras 3 serialises them: `module`/`registered_name` wrappers,
 * `InputLayer.batch_shape`, dtype-policy objects, functional `inbound_nodes` of
 * `{ args, kwargs }` with `__keras_tensor__` arguments, single input/output endpoints written
 * flat, a nested Functional. Loaded, each must compute what a tfjs-layers model built by hand
 * with the same weights computes.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { loadModel, type ModelFile } from '../../src';
import { switchTo } from '../helpers/backends';

type Json = Record<string, unknown>;

const policy = { module: 'keras', class_name: 'DTypePolicy', config: { name: 'float32' }, registered_name: null };
const init = (name: string) => ({ module: 'keras.initializers', class_name: name, config: { seed: null }, registered_name: null });
const tensor = (layer: string, shape: Array<number | null>) => ({
  class_name: '__keras_tensor__', config: { shape, dtype: 'float32', keras_history: [layer, 0, 0] },
});
const call = (...args: unknown[]) => [{ args, kwargs: {} }];

function layer(className: string, name: string, config: Json, inbound?: unknown, input?: Array<number | null>): Json {
  return {
    module: 'keras.layers', class_name: className, config: { name, trainable: true, dtype: policy, ...config }, registered_name: null,
    ...(input ? { build_config: { input_shape: input } } : {}), name, ...(inbound ? { inbound_nodes: inbound } : {}),
  };
}
const inputLayer = (name: string, shape: number[], functional: boolean) => ({
  module: 'keras.layers', class_name: 'InputLayer', config: { batch_shape: [null, ...shape], dtype: 'float32', sparse: false, name }, registered_name: null,
  ...(functional ? { name, inbound_nodes: [] } : {}),
});
const conv = (filters: number, activation: string) => ({
  filters, kernel_size: [3, 3], strides: [1, 1], padding: 'same', data_format: 'channels_last', dilation_rate: [1, 1], groups: 1,
  activation, use_bias: true, kernel_initializer: init('GlorotUniform'), bias_initializer: init('Zeros'),
  kernel_regularizer: null, bias_regularizer: null, activity_regularizer: null, kernel_constraint: null, bias_constraint: null,
});
const dense = (units: number, activation: string) => ({
  units, activation, use_bias: true, kernel_initializer: init('GlorotUniform'), bias_initializer: init('Zeros'),
  kernel_regularizer: null, bias_regularizer: null, kernel_constraint: null, bias_constraint: null,
});
const bn = {
  axis: -1, momentum: 0.99, epsilon: 0.001, center: true, scale: true, beta_initializer: init('Zeros'), gamma_initializer: init('Ones'),
  moving_mean_initializer: init('Zeros'), moving_variance_initializer: init('Ones'), beta_regularizer: null, gamma_regularizer: null,
  beta_constraint: null, gamma_constraint: null, synchronized: false,
};

/** A Sequential CNN as Keras 3 writes it: the InputLayer is the first of its layers. */
function cnnKeras3(): Json {
  return {
    module: 'keras', class_name: 'Sequential', registered_name: null,
    config: {
      name: 'small_cnn', trainable: true, dtype: policy,
      layers: [
        inputLayer('input_layer', [12, 12, 3], false),
        layer('Conv2D', 'conv2d', conv(6, 'relu'), undefined, [null, 12, 12, 3]),
        layer('BatchNormalization', 'batch_normalization', bn),
        layer('MaxPooling2D', 'max_pooling2d', { pool_size: [2, 2], padding: 'valid', strides: [2, 2], data_format: 'channels_last' }),
        layer('Conv2D', 'conv2d_1', conv(5, 'relu')),
        layer('GlobalAveragePooling2D', 'global_average_pooling2d', { data_format: 'channels_last', keepdims: false }),
        layer('Dense', 'dense', dense(4, 'softmax')),
      ],
      build_input_shape: [null, 12, 12, 3],
    },
  };
}

function cnnReference(): tfl.LayersModel {
  const m = tfl.sequential({ name: 'small_cnn' });
  m.add(tfl.layers.conv2d({ name: 'conv2d', inputShape: [12, 12, 3], filters: 6, kernelSize: 3, padding: 'same', activation: 'relu' }));
  m.add(tfl.layers.batchNormalization({ name: 'batch_normalization', epsilon: 0.001 }));
  m.add(tfl.layers.maxPooling2d({ name: 'max_pooling2d', poolSize: 2 }));
  m.add(tfl.layers.conv2d({ name: 'conv2d_1', filters: 5, kernelSize: 3, padding: 'same', activation: 'relu' }));
  m.add(tfl.layers.globalAveragePooling2d({ name: 'global_average_pooling2d' }));
  m.add(tfl.layers.dense({ name: 'dense', units: 4, activation: 'softmax' }));
  return m;
}

/** A functional model around a nested functional backbone with a residual Add, as Keras 3 writes it. */
function nestedKeras3(): Json {
  const backbone = {
    module: 'keras', class_name: 'Functional', registered_name: 'Functional', name: 'backbone',
    config: {
      name: 'backbone', trainable: true,
      layers: [
        inputLayer('backbone_input', [10, 10, 3], true),
        layer('Conv2D', 'stem', conv(4, 'relu'), call(tensor('backbone_input', [null, 10, 10, 3]))),
        layer('Conv2D', 'branch', conv(4, 'linear'), call(tensor('stem', [null, 10, 10, 4]))),
        layer('Add', 'add', {}, call([tensor('stem', [null, 10, 10, 4]), tensor('branch', [null, 10, 10, 4])])),
        layer('Activation', 'out_relu', { activation: 'relu' }, call(tensor('add', [null, 10, 10, 4]))),
      ],
      input_layers: ['backbone_input', 0, 0],
      output_layers: ['out_relu', 0, 0],
    },
    inbound_nodes: [{ args: [tensor('image', [null, 10, 10, 3])], kwargs: { training: false } }],
  };
  return {
    module: 'keras', class_name: 'Functional', registered_name: 'Functional',
    config: {
      name: 'outer', trainable: true,
      layers: [
        inputLayer('image', [10, 10, 3], true),
        backbone,
        layer('GlobalAveragePooling2D', 'gap', { data_format: 'channels_last', keepdims: false }, call({ ...tensor('backbone', [null, 10, 10, 4]), config: { shape: [null, 10, 10, 4], dtype: 'float32', keras_history: ['backbone', 1, 0] } })),
        layer('Dense', 'logits', dense(3, 'softmax'), call(tensor('gap', [null, 4]))),
      ],
      input_layers: ['image', 0, 0],
      output_layers: ['logits', 0, 0],
    },
  };
}

function nestedReference(): tfl.LayersModel {
  const bi = tfl.input({ shape: [10, 10, 3], name: 'backbone_input' });
  const stem = tfl.layers.conv2d({ name: 'stem', filters: 4, kernelSize: 3, padding: 'same', activation: 'relu' }).apply(bi) as tfl.SymbolicTensor;
  const branch = tfl.layers.conv2d({ name: 'branch', filters: 4, kernelSize: 3, padding: 'same' }).apply(stem) as tfl.SymbolicTensor;
  const sum = tfl.layers.add({ name: 'add' }).apply([stem, branch]) as tfl.SymbolicTensor;
  const out = tfl.layers.activation({ name: 'out_relu', activation: 'relu' }).apply(sum) as tfl.SymbolicTensor;
  const backbone = tfl.model({ inputs: bi, outputs: out, name: 'backbone' });
  const image = tfl.input({ shape: [10, 10, 3], name: 'image' });
  const features = backbone.apply(image) as tfl.SymbolicTensor;
  const pooled = tfl.layers.globalAveragePooling2d({ name: 'gap' }).apply(features) as tfl.SymbolicTensor;
  const logits = tfl.layers.dense({ name: 'logits', units: 3, activation: 'softmax' }).apply(pooled) as tfl.SymbolicTensor;
  return tfl.model({ inputs: image, outputs: logits, name: 'outer' });
}

/** Randomises a reference model's weights (biases and batch-norm statistics too) and returns model.json + weights.bin for `topology`. */
async function filesFor(reference: tfl.LayersModel, topology: Json): Promise<ModelFile[]> {
  let seed = 7;
  for (const w of reference.weights) {
    const v = w.read();
    const positive = /variance|gamma/.test(w.name);
    const values = Float32Array.from({ length: v.size }, () => {
      seed = (seed * 1664525 + 1013904223) >>> 0;
      const u = seed / 2 ** 32 - 0.5;
      return positive ? 0.5 + u : u;
    });
    const t = tf.tensor(values, v.shape);
    w.write(t);
    t.dispose();
  }
  let files: ModelFile[] = [];
  await reference.save(tf.io.withSaveHandler(async (a) => {
    const json = { format: 'layers-model', modelTopology: { class_name: topology.class_name, config: topology.config, keras_version: '3.4.1', backend: 'tensorflow' }, weightsManifest: [{ paths: ['weights.bin'], weights: a.weightSpecs }] };
    files = [{ name: 'model.json', data: new TextEncoder().encode(JSON.stringify({ ...json, modelTopology: { ...topology, keras_version: '3.4.1', backend: 'tensorflow' } })) },
      { name: 'weights.bin', data: new Uint8Array(a.weightData as ArrayBuffer) }];
    return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
  }));
  return files;
}

function randomInput(shape: number[], seed: number): tf.Tensor4D {
  let s = seed;
  const n = shape.reduce((a, b) => a * b, 1);
  return tf.tensor4d(Float32Array.from({ length: n }, () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  }), shape as [number, number, number, number]);
}

describe('Keras 3 layers models', () => {
  beforeAll(async () => { await switchTo('cpu'); });

  test.each([
    ['a Sequential CNN', cnnKeras3, cnnReference, [2, 12, 12, 3]],
    ['a functional model with a nested functional backbone and a residual Add', nestedKeras3, nestedReference, [2, 10, 10, 3]],
  ] as const)('%s computes what the hand-built tfjs-layers model computes', async (_what, keras3, reference, shape) => {
    const ref = reference();
    const files = await filesFor(ref, keras3());
    const { model } = await loadModel({ files });
    const x = randomInput([...shape], 3);
    const want = ref.predict(x) as tf.Tensor;
    const got = model.predict(x) as tf.Tensor;
    expect(got.shape).toEqual(want.shape);
    const [g, w] = [got.dataSync(), want.dataSync()];
    for (let i = 0; i < w.length; i++) expect(Math.abs(g[i] - w[i])).toBeLessThan(1e-6);
    // The outputs are not trivially equal: the classes differ from one another.
    expect(Math.max(...w) - Math.min(...w)).toBeGreaterThan(1e-3);
    tf.dispose([x, want, got]);
    model.dispose();
    ref.dispose();
  });

  test.each([
    ['a grouped convolution', (j: Json) => { ((j.config as Json).layers as Json[])[1].config = { ...(((j.config as Json).layers as Json[])[1].config as Json), groups: 2 }; }, /grouped convolution \('conv2d', groups = 2\)/],
    ['a bfloat16 dtype policy', (j: Json) => { (((j.config as Json).layers as Json[])[2].config as Json).dtype = { ...policy, config: { name: 'bfloat16' } }; }, /dtype policy 'bfloat16'/],
  ])('%s is refused with UNSUPPORTED_LAYER naming it', async (_what, edit, message) => {
    const ref = cnnReference();
    const j = cnnKeras3();
    edit(j);
    const files = await filesFor(ref, j);
    const before = tf.memory().numTensors;
    await expect(loadModel({ files })).rejects.toMatchObject({ code: 'UNSUPPORTED_LAYER', message: expect.stringMatching(message) });
    expect(tf.memory().numTensors).toBe(before);
    ref.dispose();
  });

  test('a call with a tensor keyword argument is refused naming the layer and the argument', async () => {
    const ref = nestedReference();
    const j = nestedKeras3();
    const outer = (j.config as Json).layers as Json[];
    outer[2].inbound_nodes = [{ args: [tensor('backbone', [null, 10, 10, 4])], kwargs: { mask: tensor('image', [null, 10, 10, 3]) } }];
    await expect(loadModel({ files: await filesFor(ref, j) })).rejects.toMatchObject({ code: 'UNSUPPORTED_LAYER', message: expect.stringMatching(/layer 'gap' with the tensor keyword argument 'mask'/) });
    ref.dispose();
  });
});
