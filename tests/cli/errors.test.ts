/**
 * Bad input: one line `whycam: <message>` on stderr, a non-zero exit code of the documented
 * kind, no stack trace, nothing (in particular no tfjs banner) on stdout. The broken models are
 * made from the real Teachable Machine export in a temp dir.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { BANNER, BIN, REPO, TM_MODEL, TM_TINY, exec, photo, whycam, type CliResult } from './helpers';

/** The exit codes documented in `whycam --help` (src/cli/exit-codes.ts). */
const USAGE = 2;
const IMAGE = 3;
const MODEL = 4;
const REQUEST = 5;

let tmp: string;
const dir = (...p: string[]) => path.join(tmp, ...p);

/** A copy of the big model with some of its files replaced. */
function brokenModel(name: string, files: { modelJson?: string; weights?: Buffer }): string {
  const d = dir(name);
  fs.mkdirSync(d);
  fs.copyFileSync(path.join(TM_MODEL, 'metadata.json'), path.join(d, 'metadata.json'));
  fs.writeFileSync(path.join(d, 'model.json'), files.modelJson ?? fs.readFileSync(path.join(TM_MODEL, 'model.json')));
  fs.writeFileSync(path.join(d, 'weights.bin'), files.weights ?? fs.readFileSync(path.join(TM_MODEL, 'weights.bin')));
  return d;
}

/** A PNG signature and an IHDR chunk that says 0x0 pixels (CRC left zero: the size check comes first). */
function zeroSizePng(): Buffer {
  const ihdr = Buffer.alloc(25);
  ihdr.writeUInt32BE(13, 0);
  ihdr.write('IHDR', 4, 'ascii');
  ihdr.writeUInt8(8, 16); // bit depth
  ihdr.writeUInt8(6, 17); // RGBA
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), ihdr]);
}

interface Case {
  name: string;
  args: () => string[];
  code: number;
  message: RegExp;
}

const good = () => photo(2, 0);
const cases: Case[] = [
  { name: 'a missing image file', args: () => ['explain', dir('nope.png'), '--model', TM_MODEL], code: IMAGE, message: /No image file .*nope\.png/ },
  { name: 'a text file named x.png', args: () => ['explain', dir('x.png'), '--model', TM_MODEL], code: IMAGE, message: /x\.png: .*not an image format.*PNG and JPEG/ },
  { name: 'an image of zero size', args: () => ['explain', dir('zero.png'), '--model', TM_MODEL], code: IMAGE, message: /0x0 pixels/ },
  { name: 'a truncated weights.bin', args: () => ['explain', good(), '--model', dir('truncated')], code: MODEL, message: /truncated/ },
  { name: 'a corrupt model.json', args: () => ['explain', good(), '--model', dir('badjson', 'model.json')], code: MODEL, message: /model\.json is not valid JSON/ },
  { name: 'the tiny model\'s weights next to the big model.json', args: () => ['explain', good(), '--model', dir('otherweights')], code: MODEL, message: /weight files hold \d+ bytes but model\.json describes \d+/ },
  { name: 'weights of the right size but the wrong shapes', args: () => ['explain', good(), '--model', dir('shapes')], code: MODEL, message: /do not match the model topology/ },
  { name: 'a layer class tfjs does not know', args: () => ['explain', good(), '--model', dir('unknownlayer')], code: MODEL, message: /FancyConv2D/ },
  { name: 'an ONNX model', args: () => ['explain', good(), '--model', dir('model.onnx')], code: MODEL, message: /ONNX model.*tensorflowjs_converter --input_format=tf_saved_model/ },
  { name: 'a model path that does not exist', args: () => ['explain', good(), '--model', dir('nomodel')], code: MODEL, message: /No model at/ },
  { name: 'an unknown class name', args: () => ['explain', good(), '--model', TM_MODEL, '--class', 'Dog'], code: REQUEST, message: /No class 'Dog'. Classes: 'Class 1', 'Class 2'/ },
  { name: 'a class index out of range', args: () => ['explain', good(), '--model', TM_MODEL, '--class', '2'], code: REQUEST, message: /Class index 2 is out of range/ },
  { name: 'an unknown layer name', args: () => ['explain', good(), '--model', TM_MODEL, '--layer', 'conv_99', '--method', 'gradcam'], code: REQUEST, message: /No layer named 'conv_99'/ },
  { name: 'an unknown method', args: () => ['explain', good(), '--model', TM_MODEL, '--method', 'gradcam,lime'], code: USAGE, message: /Unknown method 'lime'/ },
  { name: 'an unknown flag', args: () => ['explain', good(), '--model', TM_MODEL, '--colour', 'red'], code: USAGE, message: /^whycam: unknown option '--colour'/ },
  { name: 'a flag without its value', args: () => ['explain', good(), '--model'], code: USAGE, message: /option '--model' needs a value/ },
  { name: 'an opacity out of range', args: () => ['explain', good(), '--model', TM_MODEL, '--opacity', '1.5'], code: USAGE, message: /--opacity must be a number from 0 to 1/ },
  { name: 'an unknown backend', args: () => ['explain', good(), '--model', TM_MODEL, '--backend', 'webgl'], code: USAGE, message: /Unknown backend 'webgl'/ },
  { name: 'no image argument', args: () => ['explain', '--model', TM_MODEL], code: USAGE, message: /explain needs an image file/ },
];

const defaultModelShipped = fs.existsSync(path.join(REPO, 'models/imagenet-darknet-tiny/model.json'));
if (!defaultModelShipped) {
  cases.push({ name: 'no --model while no default model is shipped', args: () => ['explain', good()], code: MODEL, message: /No default model is shipped yet; pass --model/ });
}

const runs = new Map<string, Promise<CliResult>>();

beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'whycam-cli-errors-'));
  fs.writeFileSync(dir('x.png'), 'this is a text file, not a picture\n');
  fs.writeFileSync(dir('zero.png'), zeroSizePng());
  fs.writeFileSync(dir('model.onnx'), Buffer.from([8, 7, 18, 0]));

  const modelJson = fs.readFileSync(path.join(TM_MODEL, 'model.json'), 'utf8');
  const weights = fs.readFileSync(path.join(TM_MODEL, 'weights.bin'));
  brokenModel('truncated', { weights: weights.subarray(0, Math.floor(weights.length / 2)) });
  brokenModel('badjson', { modelJson: modelJson.slice(0, 5000) });
  brokenModel('otherweights', { weights: fs.readFileSync(path.join(TM_TINY, 'weights.bin')) });
  // Same byte count, so only tfjs-layers can notice: the first kernel's shape transposed in the manifest.
  const json = JSON.parse(modelJson);
  const first = json.weightsManifest[0].weights[0];
  expect(first.shape).toEqual([3, 3, 3, 16]);
  first.shape = [3, 3, 16, 3];
  brokenModel('shapes', { modelJson: JSON.stringify(json) });
  const renamed = modelJson.replace(/"class_name":\s*"DepthwiseConv2D"/, '"class_name": "FancyConv2D"');
  expect(renamed).not.toBe(modelJson);
  brokenModel('unknownlayer', { modelJson: renamed });

  for (const c of cases) runs.set(c.name, whycam([...c.args(), '--out', dir('out')]));
});

afterAll(async () => {
  await Promise.allSettled(runs.values());
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

describe('bad input: one line on stderr, a non-zero exit code, no stack, nothing on stdout', () => {
  test.each(cases.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    const r = await runs.get(c.name)!;
    expect(r.stderr.endsWith('\n')).toBe(true);
    const lines = r.stderr.trimEnd().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^whycam: /);
    expect(lines[0]).toMatch(c.message);
    expect(r.stderr).not.toMatch(/^\s+at /m);
    expect(r.stdout).toBe('');
    expect(r.stdout + r.stderr).not.toMatch(BANNER);
    expect(r.code).toBe(c.code);
  });

  test('no output files are left behind by a failed run', async () => {
    await Promise.all(runs.values());
    expect(fs.existsSync(dir('out'))).toBe(false);
  });
});

describe('errors whycam did not anticipate, and output errors', () => {
  /** Preloaded into the CLI process: makes PNG encoding fail with a plain Error, as a bug would. */
  const boom = () => {
    const file = dir('boom.cjs');
    const pngjs = JSON.stringify(require.resolve('pngjs', { paths: [REPO] }));
    fs.writeFileSync(file, `require(${pngjs}).PNG.sync.write = () => { throw new Error('boom in the encoder'); };\n`);
    return file;
  };
  const args = () => ['explain', good(), '--model', TM_MODEL, '--method', 'gradcam', '--out', dir('boom-out')];

  test('one line and exit 1, without a stack', async () => {
    const r = await exec(process.execPath, ['-r', boom(), BIN, ...args()]);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('whycam: unexpected error: boom in the encoder (set WHYCAM_DEBUG=1 for details)\n');
  });

  test('WHYCAM_DEBUG=1 adds the stack', async () => {
    const r = await exec(process.execPath, ['-r', boom(), BIN, ...args()], { env: { WHYCAM_DEBUG: '1' } });
    expect(r.code).toBe(1);
    const lines = r.stderr.trimEnd().split('\n');
    expect(lines[0]).toBe('whycam: unexpected error: boom in the encoder');
    expect(lines.slice(1).some((l) => /^\s+at /.test(l))).toBe(true);
  });

  test('an --out directory that cannot be created: one line, exit 7', async () => {
    fs.writeFileSync(dir('file'), '');
    const r = await whycam(['explain', good(), '--model', TM_MODEL, '--method', 'gradcam', '--out', dir('file', 'sub')]);
    expect(r.code).toBe(7);
    expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/^whycam: Cannot write '.*sub/);
    expect(r.stdout).toBe('');
  });
});
