/** What whycam does not read is refused with UNSUPPORTED_MODEL saying how to convert it. */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import JSZip from 'jszip';
import { Explainer } from '../../src';
import { modelSourceFromPath } from '../../src/node/model-path';

const bytes = new Uint8Array([1, 2, 3, 4]);

describe('formats whycam does not read', () => {
  test.each([
    ['an ONNX file', [{ name: 'model.onnx', data: bytes }], /ONNX model.*onnx2tf.*tensorflowjs_converter --input_format=tf_saved_model/],
    ['a SavedModel directory', [{ name: 'saved_model.pb', data: bytes }, { name: 'variables/variables.index', data: bytes }], /SavedModel directory.*tensorflowjs_converter --input_format=tf_saved_model --output_format=tfjs_graph_model/],
    ['a Keras HDF5 file', [{ name: 'model.h5', data: bytes }], /Keras HDF5 model.*--input_format=keras model\.h5/],
    ['a TensorFlow Lite file', [{ name: 'model.tflite', data: bytes }], /TensorFlow Lite/],
    ['a PyTorch checkpoint', [{ name: 'model.pt', data: bytes }], /PyTorch model.*torch\.onnx\.export/],
  ])('%s among the files', async (_what, files, message) => {
    await expect(Explainer.load({ files })).rejects.toMatchObject({ code: 'UNSUPPORTED_MODEL', message: expect.stringMatching(message) });
  });

  test('a .keras archive given as a zip', async () => {
    const zip = new JSZip();
    zip.file('config.json', '{"module": "keras", "class_name": "Sequential"}');
    zip.file('metadata.json', '{"keras_version": "3.4.1"}');
    zip.file('model.weights.h5', bytes);
    const data = await zip.generateAsync({ type: 'uint8array' });
    await expect(Explainer.load({ zip: data })).rejects.toMatchObject({ code: 'UNSUPPORTED_MODEL', message: expect.stringMatching(/Keras 3 \.keras archive.*model\.export/) });
  });

  test('a URL to an ONNX file is refused before fetching', async () => {
    await expect(Explainer.load({ url: 'http://127.0.0.1:9/models/resnet.onnx' })).rejects.toMatchObject({ code: 'UNSUPPORTED_MODEL' });
  });

  test('the command line\'s paths: a SavedModel directory, a .keras file', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'whycam-formats-'));
    try {
      fs.writeFileSync(path.join(dir, 'saved_model.pb'), bytes);
      await expect(modelSourceFromPath(dir)).rejects.toMatchObject({ code: 'UNSUPPORTED_MODEL', message: expect.stringMatching(/SavedModel/) });
      fs.writeFileSync(path.join(dir, 'model.keras'), bytes);
      await expect(modelSourceFromPath(path.join(dir, 'model.keras'))).rejects.toMatchObject({ code: 'UNSUPPORTED_MODEL', message: expect.stringMatching(/\.keras archive/) });
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
