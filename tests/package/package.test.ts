/**
 * The package as someone outside this repository gets it: `npm pack` (which builds it), the
 * tarball installed into a fresh project under the OS temp directory, then
 * - Node ESM `import` and CommonJS `require` explain a photo with the default model it ships;
 * - `tsc --noEmit` type-checks a consumer file importing every public export and using the main ones;
 * - `npx whycam` (the installed bin, no TypeScript runtime) explains a photo and prints its version;
 * - a webpack 5 app and a Vite app using `whycam/worker` build, run in Chromium, fetch the wasm
 *   from their own origin only, and receive the four stages in order.
 * Installing needs the npm registry or its cache (the tarball's dependencies, Vite); nothing
 * else is downloaded. Slow (several minutes on two cores): one scratch project serves every test.
 */
import { execFile } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { launchChromium, type LaunchedBrowser } from '../helpers/browser';
import { FIXTURES } from '../helpers/fixtures';
import { startStaticServer } from '../helpers/static-server';

const REPO = path.resolve(__dirname, '../..');
const CONSUMER = path.join(__dirname, 'consumer');
/** The model the package ships as its default (a folder under models/). */
const DEFAULT_MODEL = 'imagenet-darknet-tiny';
const PHOTO = path.join(FIXTURES, 'photos/chelsea.png');
/** The Vite the scratch app builds with (a dev dependency of that app only). */
const VITE = 'vite@^6.4.6';
const STAGES = ['prediction', 'class-maps', 'gradient-maps', 'guided-gradcam'];
const SETUP_TIMEOUT_MS = 20 * 60_000;

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function run(cmd: string, args: string[], cwd: string, env: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve) => {
    execFile(cmd, args, {
      cwd, maxBuffer: 64 * 1024 * 1024, timeout: 15 * 60_000,
      env: { ...process.env, npm_config_update_notifier: 'false', npm_config_fund: 'false', npm_config_audit: 'false', ...env },
    }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
      resolve({ code, stdout: String(stdout), stderr: String(stderr) });
    });
  });
}

function ok(r: Run, what: string): Run {
  if (r.code !== 0) throw new Error(`${what} failed (exit ${r.code}):\n${r.stdout.slice(-4000)}\n${r.stderr.slice(-4000)}`);
  return r;
}

let scratch = '';
let tarball = '';
let packed: { size: number; unpackedSize: number; entryCount: number; files: Array<{ path: string }> };
let version = '';

beforeAll(async () => {
  if (!fs.existsSync(PHOTO)) throw new Error(`The shared fixtures are missing (${PHOTO}): the tests expect ../shared/fixtures beside the repository.`);
  scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'whycam-package-'));
  version = (JSON.parse(fs.readFileSync(path.join(REPO, 'package.json'), 'utf8')) as { version: string }).version;
  // npm pack runs the prepack script: the package is built from this checkout first.
  const pack = ok(await run('npm', ['pack', '--json', '--pack-destination', scratch], REPO), 'npm pack');
  packed = (JSON.parse(pack.stdout.slice(pack.stdout.indexOf('['))) as (typeof packed & { filename: string })[])[0];
  tarball = path.join(scratch, (packed as unknown as { filename: string }).filename);
  console.log(`whycam ${version}: tarball ${(packed.size / 1024).toFixed(0)} KiB (${(packed.unpackedSize / 1024 / 1024).toFixed(1)} MiB unpacked), ${packed.entryCount} files`);

  const app = path.join(scratch, 'app');
  fs.mkdirSync(app);
  fs.writeFileSync(path.join(app, 'package.json'), JSON.stringify({ name: 'whycam-consumer', version: '1.0.0', private: true }));
  ok(await run('npm', ['install', '--prefer-offline', '--no-package-lock', tarball, '--save-dev', VITE, '@types/node@20'], app), 'npm install');
}, SETUP_TIMEOUT_MS);

afterAll(() => {
  if (scratch) fs.rmSync(scratch, { recursive: true, force: true });
});

const appDir = () => path.join(scratch, 'app');

describe('the tarball', () => {
  test('holds the built code, its types, the worker with its wasm and the default model; no tests, training or benchmarks', () => {
    const files = packed.files.map((f) => f.path);
    for (const f of [
      'dist/npm/index.mjs', 'dist/npm/index.js', 'dist/npm/index.d.ts', 'dist/npm/index.d.mts', 'dist/npm/render.mjs', 'dist/npm/node.js',
      'dist/npm/worker/index.mjs', 'dist/npm/worker/index.d.mts', 'dist/npm/worker/whycam-worker.mjs', 'dist/npm/widget/embed.js',
      'dist/npm/worker/tfjs-backend-wasm.wasm', 'dist/npm/worker/tfjs-backend-wasm-simd.wasm', 'dist/npm/worker/tfjs-backend-wasm-threaded-simd.wasm',
      'dist/cli/main.js', 'dist/cli/audit-worker.js', 'dist/cli/page.js', 'dist/cli/page.css', 'src/cli/bin.cjs', 'CHANGELOG.md',
      `models/${DEFAULT_MODEL}/model.json`, `models/${DEFAULT_MODEL}/weights.bin`, `models/${DEFAULT_MODEL}/README.md`, `models/${DEFAULT_MODEL}/samples/SOURCE.md`,
    ]) expect(files).toContain(f);
    const stray = files.filter((f) => /^(tests|models\/pipeline)\/|\/levels\/|bench|training|\.test\.|\.ts$/.test(f) && !/\.d\.m?ts$/.test(f));
    expect(stray).toEqual([]);
    const installed = JSON.parse(fs.readFileSync(path.join(appDir(), 'node_modules/whycam/package.json'), 'utf8')) as { dependencies: Record<string, string> };
    expect(Object.keys(installed.dependencies)).not.toContain('tsx');
    expect(fs.existsSync(path.join(appDir(), 'node_modules/tsx'))).toBe(false);
  });
});

describe('Node', () => {
  function expectStages(stages: Array<{ stage: string }>): void {
    expect(stages.map((s) => s.stage)).toEqual(STAGES);
  }

  test('import { Explainer } from "whycam" explains a photo with the default model', async () => {
    fs.copyFileSync(path.join(CONSUMER, 'explain.mjs'), path.join(appDir(), 'explain.mjs'));
    const r = ok(await run('node', ['explain.mjs', PHOTO, DEFAULT_MODEL], appDir()), 'node explain.mjs');
    const out = JSON.parse(r.stdout.trim().split('\n').pop() as string) as { stages: Array<{ stage: string; top?: string; maps?: Array<{ max: number }> }> };
    expectStages(out.stages);
    expect(typeof out.stages[0].top).toBe('string');
    for (const s of out.stages.slice(1)) for (const m of s.maps ?? []) expect(m.max).toBeCloseTo(1, 5);
  }, 180_000);

  test('require("whycam") explains the same photo', async () => {
    fs.copyFileSync(path.join(CONSUMER, 'explain.cjs'), path.join(appDir(), 'explain.cjs'));
    const r = ok(await run('node', ['explain.cjs', PHOTO, DEFAULT_MODEL], appDir()), 'node explain.cjs');
    const out = JSON.parse(r.stdout.trim().split('\n').pop() as string) as { stages: string[]; maps: Array<{ method: string }> };
    expect(out.stages).toEqual(STAGES);
    expect(out.maps.map((m) => m.method)).toEqual(expect.arrayContaining(['gradcam', 'vanilla', 'guided', 'guided-gradcam']));
  }, 180_000);

  test('npx whycam explain <photo> runs the installed bin; --version prints the version', async () => {
    const v = ok(await run('npx', ['--no-install', 'whycam', '--version'], appDir()), 'npx whycam --version');
    expect(v.stdout.trim()).toBe(version);
    const out = path.join(appDir(), 'cli-out');
    const r = ok(await run('npx', ['--no-install', 'whycam', 'explain', PHOTO, '--out', out], appDir()), 'npx whycam explain');
    expect(r.stdout).toMatch(/Top 5 predictions/);
    expect(r.stdout).toContain(`models/${DEFAULT_MODEL}`);
    expect(fs.readdirSync(out).filter((f) => f.endsWith('.png')).length).toBeGreaterThanOrEqual(4);
  }, 180_000);

  test('npx whycam explain <folder> --report runs a batch audit on worker threads from the built package', async () => {
    const photos = path.join(appDir(), 'node_modules/whycam/models', DEFAULT_MODEL, 'samples');
    const report = path.join(appDir(), 'audit-report');
    const r = ok(await run('npx', ['--no-install', 'whycam', 'explain', photos, '--jobs', '2', '--report', report, '--jsonl', path.join(report, 'audit.jsonl')], appDir()), 'npx whycam explain <folder>');
    const lines = fs.readFileSync(path.join(report, 'audit.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { ok: boolean });
    expect(lines).toHaveLength(fs.readdirSync(photos).filter((f) => /\.(png|jpe?g)$/.test(f)).length);
    expect(lines.every((l) => l.ok)).toBe(true);
    const page = fs.readFileSync(path.join(report, 'index.html'), 'utf8');
    // The page's own script and styles are inlined from the package (dist/cli/page.js, page.css).
    expect(page).toContain('<script>');
    expect(page.length).toBeGreaterThan(fs.readFileSync(path.join(appDir(), 'node_modules/whycam/dist/cli/page.js'), 'utf8').length);
    expect(r.stderr).not.toMatch(/Error/);
  }, 300_000);
});

/** Every name a .d.mts entry exports (values and types alike). */
function namesIn(dts: string): string[] {
  const names: string[] = [];
  for (const m of dts.matchAll(/export \{([^}]*)\};?/g)) {
    for (const raw of m[1].split(',').map((s) => s.trim()).filter(Boolean)) names.push(raw.replace(/^type\s+/, '').split(/\s+as\s+/).pop() as string);
  }
  for (const m of dts.matchAll(/^export (?:declare )?(?:function|const|class|let|interface|type|enum) (\w+)/gm)) names.push(m[1]);
  return [...new Set(names)];
}

test('tsc --noEmit type-checks a consumer file that uses every public export', async () => {
  const pkg = path.join(appDir(), 'node_modules/whycam');
  const entries: Record<string, string> = {
    whycam: 'dist/npm/index.d.mts', 'whycam/render': 'dist/npm/render.d.mts', 'whycam/node': 'dist/npm/node.d.mts', 'whycam/worker': 'dist/npm/worker/index.d.mts',
  };
  // The values each entry exports at run time (the rest of its declared names are types).
  const probe = `for (const s of ${JSON.stringify(Object.keys(entries))}) console.log(JSON.stringify([s, Object.keys(await import(s))]));`;
  const runtime = new Map<string, string[]>(ok(await run('node', ['--input-type=module', '-e', probe], appDir()), 'import every entry')
    .stdout.trim().split('\n').map((l) => JSON.parse(l) as [string, string[]]));
  const lines: string[] = [];
  let counted = 0;
  for (const [specifier, dts] of Object.entries(entries)) {
    const names = namesIn(fs.readFileSync(path.join(pkg, dts), 'utf8'));
    const values = runtime.get(specifier) ?? [];
    // Every runtime export is declared, and the other way round is what types are.
    expect(names).toEqual(expect.arrayContaining(values));
    const types = names.filter((n) => !values.includes(n));
    const id = (n: string) => `${specifier.replace(/\W/g, '_')}_${n}`;
    lines.push(`import { ${[...values.map((n) => `${n} as ${id(n)}`), ...types.map((n) => `type ${n} as ${id(n)}`)].join(', ')} } from '${specifier}';`);
    lines.push(`export const values_${specifier.replace(/\W/g, '_')} = [${values.map(id).join(', ')}];`);
    lines.push(`export type { ${types.map(id).join(', ')} };`);
    counted += names.length;
  }
  fs.writeFileSync(path.join(appDir(), 'every-export.mts'), `${lines.join('\n')}\n`);
  fs.writeFileSync(path.join(appDir(), 'usage.mts'), USAGE);
  // skipLibCheck as most projects have it: tfjs's own declarations do not pass a strict check.
  fs.writeFileSync(path.join(appDir(), 'tsconfig.json'), JSON.stringify({
    compilerOptions: { module: 'node16', moduleResolution: 'node16', target: 'es2022', lib: ['es2022', 'dom'], types: ['node'], strict: true, noEmit: true, skipLibCheck: true },
    files: ['every-export.mts', 'usage.mts'],
  }));
  const tsc = path.join(REPO, 'node_modules/typescript/bin/tsc');
  ok(await run('node', [tsc, '--noEmit', '-p', 'tsconfig.json'], appDir()), 'tsc --noEmit');
  console.log(`tsc checked a consumer of ${counted} public exports`);
  expect(counted).toBeGreaterThan(60);
}, 180_000);

/** What a TypeScript consumer writes: the types must carry it without a cast. */
const USAGE = `import { readFileSync } from 'node:fs';
import { Explainer, useBackend, WhycamError, isWhycamError, type Stage, type SaliencyMap } from 'whycam';
import { normalizeMap, overlay, colorize, upsample } from 'whycam/render';
import { decodeImage, encodePng, modelSourceFromPath } from 'whycam/node';
import { createWhycamWorker, type WhycamClient } from 'whycam/worker';

export async function node(dir: string, photo: string): Promise<Uint8Array> {
  await useBackend('wasm');
  const explainer = await Explainer.load(await modelSourceFromPath(dir));
  const image = await decodeImage(readFileSync(photo));
  let last: SaliencyMap | undefined;
  for await (const stage of explainer.explain(image, { topK: 3 })) {
    if (stage.stage === 'prediction') console.log(stage.predictions[0].label.toUpperCase(), stage.predictions[0].probability.toFixed(2));
    else for (const map of Object.values(stage.maps)) last = map;
  }
  if (!last) throw new WhycamError('BAD_OPTION', 'no map');
  const norm = normalizeMap(last, { mode: 'positive' });
  const big = upsample({ data: norm, width: last.width, height: last.height }, image.width, image.height);
  const heat: Uint8ClampedArray = colorize(big, 'turbo');
  console.log(heat.length);
  const shown = overlay(image, { data: big, width: image.width, height: image.height }, { colormap: 'viridis', opacity: 0.6 });
  return encodePng(shown.data, shown.width, shown.height);
}

export async function page(file: Blob, draw: (s: Stage) => void): Promise<WhycamClient> {
  const { client, backend } = await createWhycamWorker();
  console.log(backend.binary, backend.threads);
  await client.load({ url: '/model/model.json' });
  try {
    const summary = await client.explain(file, { methods: ['gradcam'] }, draw);
    console.log(summary);
  } catch (e) {
    if (isWhycamError(e) && e.code === 'CANCELLED') return client;
    throw e;
  }
  return client;
}
`;

describe('browser apps using whycam/worker', () => {
  let browser: LaunchedBrowser;

  beforeAll(async () => {
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
  });

  /** Serves a built app with a model and a photo of its own, runs it, and returns what it got and what was fetched. */
  async function runApp(dist: string) {
    fs.mkdirSync(path.join(dist, 'model'), { recursive: true });
    for (const f of ['model.json', 'weights.bin', 'metadata.json']) {
      const from = path.join(appDir(), 'node_modules/whycam/models', DEFAULT_MODEL, f);
      if (fs.existsSync(from)) fs.copyFileSync(from, path.join(dist, 'model', f));
    }
    fs.copyFileSync(PHOTO, path.join(dist, 'photo.png'));
    const server = await startStaticServer({ mounts: { '/': dist } });
    const page = await browser.context.newPage();
    const requested: string[] = [];
    const errors: string[] = [];
    page.on('request', (r) => requested.push(r.url()));
    page.on('pageerror', (e) => errors.push(e.message));
    try {
      await page.goto(`${server.origin}/index.html`);
      await page.waitForFunction(() => 'whycamResult' in globalThis, null, { timeout: 60_000 });
      const result = await page.evaluate(() => (globalThis as unknown as { whycamResult: Promise<unknown> }).whycamResult) as {
        error?: string; stages: Array<{ stage: string; methods?: string[]; normalizedMax?: number }>; binary: string; wasmUrl: string;
      };
      return { result, requested, errors, served: server.requests, origin: server.origin };
    } finally {
      await page.close();
      await server.close();
    }
  }

  function expectRanOnItsOwnOrigin(r: Awaited<ReturnType<typeof runApp>>): void {
    expect(r.errors).toEqual([]);
    expect(r.result.error).toBeUndefined();
    expect(r.result.stages.map((s) => s.stage)).toEqual(STAGES);
    for (const s of r.result.stages.slice(1)) expect(s.normalizedMax).toBeCloseTo(1, 5);
    expect(r.result.binary).toMatch(/^(simd|plain|threaded-simd)$/);
    expect(r.result.wasmUrl.startsWith(`${r.origin}/`)).toBe(true);
    // Every request the page and its worker made went to the app's own server, which served a wasm binary.
    expect(r.requested.filter((u) => !u.startsWith(`${r.origin}/`))).toEqual([]);
    expect(r.served.filter((q) => q.path.endsWith('.wasm') && q.status === 200).length).toBeGreaterThanOrEqual(1);
  }

  test('a webpack 5 app builds, runs in Chromium and receives the four stages in order', async () => {
    const app = path.join(appDir(), 'webpack-app');
    fs.mkdirSync(app, { recursive: true });
    fs.copyFileSync(path.join(CONSUMER, 'app/main.js'), path.join(app, 'main.js'));
    fs.writeFileSync(path.join(app, 'webpack.config.cjs'), `module.exports = {
  mode: 'production', context: __dirname, entry: './main.js',
  output: { path: require('path').join(__dirname, 'dist'), clean: true }, performance: { hints: false },
};\n`);
    // The repository's webpack 5; whycam and its dependencies resolve from the scratch app's node_modules.
    const cli = path.join(REPO, 'node_modules/webpack-cli/bin/cli.js');
    ok(await run('node', [cli, '--config', path.join(app, 'webpack.config.cjs')], app), 'webpack build');
    const dist = path.join(app, 'dist');
    fs.writeFileSync(path.join(dist, 'index.html'), '<!doctype html>\n<meta charset="utf-8">\n<script src="main.js"></script>\n');
    expect(fs.readdirSync(dist).filter((f) => f.endsWith('.wasm')).length).toBe(3);
    expectRanOnItsOwnOrigin(await runApp(dist));
  }, 10 * 60_000);

  test('a Vite app builds, runs in Chromium and receives the four stages in order', async () => {
    const app = path.join(appDir(), 'vite-app');
    fs.mkdirSync(app, { recursive: true });
    for (const f of ['main.js', 'index.html']) fs.copyFileSync(path.join(CONSUMER, 'app', f), path.join(app, f));
    ok(await run('npx', ['--no-install', 'vite', 'build', '--logLevel', 'warn', '--outDir', 'dist', app], appDir()), 'vite build');
    const dist = path.join(app, 'dist');
    expect(fs.readdirSync(path.join(dist, 'assets')).filter((f) => f.endsWith('.wasm')).length).toBe(3);
    expectRanOnItsOwnOrigin(await runApp(dist));
  }, 10 * 60_000);
});
