/**
 * Model formats whycam does not read, recognised by their file names, with the conversion that
 * turns each into one it does (a tfjs graph model or layers model).
 */
import { WhycamError } from '../errors';

const SAVED_MODEL = 'tensorflowjs_converter --input_format=tf_saved_model --output_format=tfjs_graph_model <saved_model_dir> <out_dir>';

const ADVICE: Array<{ test: (name: string) => boolean; what: string; how: string }> = [
  {
    test: (n) => n.endsWith('.onnx'), what: 'an ONNX model',
    how: `convert it to a TensorFlow SavedModel (e.g. with onnx2tf: onnx2tf -i model.onnx -o saved_model), then run ${SAVED_MODEL}`,
  },
  {
    test: (n) => n === 'saved_model.pb' || n === 'saved_model.pbtxt', what: 'a TensorFlow SavedModel directory',
    how: `run ${SAVED_MODEL} and load the model.json it writes`,
  },
  {
    test: (n) => n.endsWith('.keras') || n === 'model.weights.h5' || n === 'config.json', what: 'a Keras 3 .keras archive',
    how: `in Python, model.export("saved_model") and then ${SAVED_MODEL}; or tensorflowjs_converter --input_format=keras_keras model.keras <out_dir> for a layers model`,
  },
  {
    test: (n) => n.endsWith('.h5') || n.endsWith('.hdf5'), what: 'a Keras HDF5 model',
    how: 'run tensorflowjs_converter --input_format=keras model.h5 <out_dir> and load the model.json it writes',
  },
  {
    test: (n) => n.endsWith('.tflite'), what: 'a TensorFlow Lite model',
    how: `convert the SavedModel it was made from with ${SAVED_MODEL} (a .tflite file cannot be converted back)`,
  },
  {
    test: (n) => n.endsWith('.pt') || n.endsWith('.pth'), what: 'a PyTorch model',
    how: `export it to ONNX (torch.onnx.export), convert that to a SavedModel with onnx2tf, then run ${SAVED_MODEL}`,
  },
];

/** UNSUPPORTED_MODEL saying how to convert, when the file names show a format whycam does not read; null otherwise. */
export function unsupportedFormat(names: string[]): WhycamError | null {
  const base = names.map((n) => (n.split(/[\\/]/).pop() as string).toLowerCase());
  for (const a of ADVICE) {
    const hit = base.find(a.test);
    if (hit) {
      return new WhycamError('UNSUPPORTED_MODEL', `'${hit}' is ${a.what}, which whycam does not read: ${a.how}. See docs/bringing-your-model.md.`);
    }
  }
  return null;
}
