/**
 * tfjs-backend-cpu prints "Hi, looks like you are running TensorFlow.js in Node.js. To speed
 * things up dramatically, install our node backend..." through console.warn on the first tensor
 * it stores whenever the IS_NODE flag is set (MathBackendCPU.write). For whycam the advice is
 * wrong (tfjs-node has none of our WASM gradient kernels) and it pollutes the CLI's output.
 *
 * Not done: flipping IS_NODE (tfjs uses it to pick Node's fetch, file and timer paths) or
 * tf.enableProdMode() (it silences every tfjs warning, including useful ones). Instead this
 * filter drops console.warn calls whose text is that banner and passes everything else through.
 */
const BANNER = 'looks like you are running TensorFlow.js in Node.js';

let installed = false;

export function suppressTfjsNodeBanner(): void {
  if (installed) return;
  installed = true;
  const warn = console.warn.bind(console);
  console.warn = (...args: unknown[]) => {
    if (args.some((a) => typeof a === 'string' && a.includes(BANNER))) return;
    warn(...args);
  };
}
