/**
 * whycam against PyTorch's own autograd on the same networks and weights (an independent
 * computation: another framework, NCHW, its own kernels and backward rules): the
 * probabilities, Grad-CAM before its ReLU, the vanilla and the guided input gradients and
 * Guided Grad-CAM, on the shipped models, the Teachable Machine export and full-size
 * bench architectures. tests/pytorch/same_work.py builds each model from its model.json.
 *
 * Needs Debian's python3-torch and python3-torchvision (.ci/run installs them).
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Explainer } from '../../src';
import { modelSourceFromPath } from '../../src/node/model-path';
import { imageToInput } from '../../src/model/preprocess';
import { switchTo } from '../helpers/backends';
import { readImage, TM_MODEL, tmPhotos } from '../helpers/fixtures';
import { buildZooModel, type ZooName } from '../bench/zoo';
import { readDump, runSameWork, saveLayersModel, torchVersion } from './torch-side';

const REPO = path.resolve(__dirname, '../..');
const torch = torchVersion();

// float32 in both, different summation orders: class maps and probabilities agree to ~1e-6 of
// their scale. Input gradients of piecewise-linear nets are exact only within one linear region:
// where a ReLU or max-pool unit sits within float32 rounding of its kink, the two frameworks'
// forward values can fall on opposite sides and the gradient changes inside that unit's
// receptive field (measured on the Teachable Machine export with a random input: all of whycam's
// differences in one 13x13 patch, while PyTorch float32 and float64 agree to 6e-7; with its
// photo, 2.2% of the entries in one 93x45 box, 0.5% in l2). So the bulk of the input gradient
// must agree to REL, all but FLIPPED of the entries, and the whole to within 5% in l2.
const REL = 2e-4;
const FLIPPED = 0.05;
const FLIPPED_L2 = 0.05;

function maxAbs(a: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]));
  return m;
}

/** The fraction of entries farther apart than rel * max|theirs| (0: all agree). */
function offFraction(name: string, ours: Float32Array, theirs: Float32Array, rel = REL): number {
  expect({ name, length: ours.length }).toEqual({ name, length: theirs.length });
  const scale = maxAbs(theirs);
  expect(scale).toBeGreaterThan(0); // an all-zero reference proves nothing
  let off = 0;
  for (let i = 0; i < ours.length; i++) if (Math.abs(ours[i] - theirs[i]) > rel * scale) off++;
  return off / ours.length;
}

function expectClose(name: string, ours: Float32Array, theirs: Float32Array, rel = REL): void {
  expect({ name, off: offFraction(name, ours, theirs, rel) }).toEqual({ name, off: 0 });
}

function expectCloseButFlips(name: string, ours: Float32Array, theirs: Float32Array, rel = REL): void {
  const off = offFraction(name, ours, theirs, rel);
  let d2 = 0, t2 = 0;
  for (let i = 0; i < ours.length; i++) { d2 += (ours[i] - theirs[i]) ** 2; t2 += theirs[i] ** 2; }
  const l2 = Math.sqrt(d2 / t2);
  expect({ name, off: off <= FLIPPED ? 'bulk agrees' : off, l2: l2 <= FLIPPED_L2 ? 'close' : l2 })
    .toEqual({ name, off: 'bulk agrees', l2: 'close' });
}

interface Case {
  name: string;
  /**
   * How the input gradients are compared: every entry; the bulk (units near a kink); not at all on
   * random-weight nets, whose input gradients change under a 1e-6 input perturbation (tf.grad's own, 1.1% in l2).
   */
  inputGradients: 'every entry' | 'bulk' | 'not compared';
  explainer(): Promise<{ ex: Explainer; modelJson: string }>;
  photo?: string;
}

const work = fs.mkdtempSync(path.join(os.tmpdir(), 'whycam-parity-'));
const fromDir = (name: string, dir: string, inputGradients: Case['inputGradients'], photo?: string): Case => ({
  name,
  inputGradients,
  photo,
  explainer: async () => ({ ex: await Explainer.load(await modelSourceFromPath(dir)), modelJson: path.join(dir, 'model.json') }),
});
const fromZoo = (name: ZooName): Case => ({
  name,
  inputGradients: 'not compared',
  explainer: async () => {
    const model = buildZooModel(name);
    const modelJson = await saveLayersModel(model, path.join(work, name));
    return { ex: new Explainer(model, { range: '-1..1' }), modelJson };
  },
});

const CASES: Case[] = [
  fromDir('ImageNet default (LeakyReLU, max pooling, float16 weights)', path.join(REPO, 'models/imagenet-darknet-tiny'), 'bulk', path.join(REPO, 'models/imagenet-darknet-tiny/samples/chelsea.png')),
  fromDir('garment model (ReLU6, depthwise, uint8 weights)', path.join(REPO, 'models/fashion-scenes'), 'every entry'),
  fromDir('Teachable Machine export (nested MobileNetV2, Dense relu head)', TM_MODEL, 'bulk', tmPhotos()[0][0]),
  fromZoo('mobilenet_v2_1.0_224'),
  fromZoo('resnet18_style_224'),
  fromZoo('vgg_style_224'),
];

describe('parity with PyTorch autograd', () => {
  beforeAll(async () => {
    if ('missing' in torch) throw new Error(torch.missing);
    await switchTo('wasm');
  });
  afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

  test.each(CASES.map((c) => [c.name, c] as const))('%s', async (_, c) => {
    const { ex, modelJson } = await c.explainer();
    try {
      const photo = c.photo ?? path.join(REPO, 'models/imagenet-darknet-tiny/samples/rocket.jpg');
      const x = imageToInput(await readImage(photo), ex.input, ex.range, 'cover');
      const input = x.dataSync() as Float32Array;
      const result = await ex.explainAll(x, { methods: ['gradcam', 'vanilla', 'guided', 'guided-gradcam'] });
      x.dispose();
      const dump = path.join(work, `${c.name.split(' ')[0]}-${Math.random().toString(36).slice(2)}`);
      const torchRun = runSameWork({ modelJson, target: ex.targetLayer()!.name, input, classIndex: result.classIndex, runs: 0, dump, layouts: ['nchw'] });
      expect(torchRun.error).toBeUndefined();

      const probs = readDump(dump, 'probabilities');
      expect(probs.length).toBe(ex.numClasses);
      const top = result.predictions[0];
      expect(Math.abs(probs[top.index] - top.probability)).toBeLessThan(1e-4);
      expect(probs.indexOf(Math.max(...probs))).toBe(top.index);

      const gc = result.maps.gradcam!;
      expect(torchRun.gradcam_shape).toEqual([gc.height, gc.width]);
      expectClose('gradcam', gc.data, readDump(dump, 'gradcam'));
      if (c.inputGradients === 'not compared') return;
      const exact = c.inputGradients === 'every entry' ? expectClose : expectCloseButFlips;
      exact('vanilla', result.maps.vanilla!.data, readDump(dump, 'vanilla'));
      exact('guided', result.maps.guided!.data, readDump(dump, 'guided'));
      // Guided Grad-CAM also goes through each side's bilinear upsampling of Grad-CAM.
      exact('guided-gradcam', result.maps['guided-gradcam']!.data, readDump(dump, 'ggc'), 1e-3);
    } finally {
      ex.dispose();
    }
  }, 120_000);
});
