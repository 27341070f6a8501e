/**
 * `npm run bench [-- --quick] [--json <file>] [--readme] [--runtimes node,browser,browser_threads] [--models a,b] [--runs N]
 *   [--cpu-models a,b] [--cpu-runs N] [--beyond-runs N] [--soak N]`
 *
 * Runs the benchmark in three runtimes — Node (the engine alone), Chromium headless on
 * WASM SIMD single-thread, and Chromium on a cross-origin-isolated page (threaded SIMD) —
 * one fresh process or page per model, prints a table of medians and ratios against
 * baselines measured in the same run, and writes JSON:
 *   { "environment": {...}, "node": { "models": {...}, ... }, "browser": {...}, "browser_threads": {...} }
 * (one top-level key per runtime, around `models`). `--readme` rewrites the table in docs/performance.md.
 * The methods beyond the five (Grad-CAM++, Layer-CAM, Score-CAM, SmoothGrad, Integrated Gradients)
 * are timed alone, `--beyond-runs` times each (default 3, 1 with --quick; 0 skips them).
 * On the isolated page each model runs with the threads its advice chooses (src/model/compute-cost.ts),
 * as in the app; `--ignore-thread-advice` gives every model the threaded binary.
 * Then the PyTorch side (tests/pytorch/same_work.py, Debian's python3-torch, one thread): the same
 * work on the same networks, weights and preprocessed image — forward, Grad-CAM, the vanilla and the
 * guided input gradient, Guided Grad-CAM — with whycam/PyTorch ratios per runtime (skipped, with a
 * line saying so, where python3-torch is not installed; `--pytorch-runs 0` skips it too).
 * Last, the batch row (tests/bench/batch.ts): `--batch-images N` images (default 200, 40 with
 * --quick; 0 skips it) through `whycam explain <folder>` with --jobs 1 and 2 against one
 * `whycam explain <file>` per image (`--batch-separate N` of them, default all, 10 with --quick).
 */
import { execFileSync, spawn } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { parseArgs } from 'util';
import { launchChromium } from '../helpers/browser';
import { startStaticServer } from '../helpers/static-server';
import type { ModelResult } from './measure';
import type { SuiteResult } from './suite';
import { ZOO } from './zoo';
import { SHIPPED, SHIPPED_DIRS, type Shipped } from './shipped';
import { buildPage } from './page-build';
import { torchVersion, type SameWorkResult } from '../pytorch/torch-side';

const ROOT = path.resolve(__dirname, '../..');
const TM_DIR = path.resolve(ROOT, '../shared/fixtures/teachable-machine/image-model');
const RUNTIMES = ['node', 'browser', 'browser_threads'] as const;
type Runtime = (typeof RUNTIMES)[number];

const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    json: { type: 'string' },
    readme: { type: 'boolean', default: false },
    runtimes: { type: 'string' },
    models: { type: 'string' },
    runs: { type: 'string' },
    'cpu-models': { type: 'string' },
    'cpu-runs': { type: 'string' },
    'beyond-runs': { type: 'string' },
    soak: { type: 'string' },
    'batch-images': { type: 'string' },
    'batch-separate': { type: 'string' },
    'pytorch-runs': { type: 'string' },
    'ignore-thread-advice': { type: 'boolean', default: false },
  },
});

const quick = Boolean(args.quick);
const runs = Number(args.runs ?? 10);
const beyondRuns = Number(args['beyond-runs'] ?? (quick ? 1 : 3));
const runtimes = (args.runtimes ? args.runtimes.split(',') : [...RUNTIMES]) as Runtime[];
/** 'default' is the app's default model (models/imagenet-darknet-tiny); 'fashion_scenes' the garment model. */
const allModels = [...ZOO, 'teachable_machine', ...SHIPPED.filter((m) => fs.existsSync(path.join(ROOT, SHIPPED_DIRS[m], 'model.json')))];
const models = args.models ? args.models.split(',') : allModels;
const MBV2 = 'mobilenet_v2_1.0_224';

/** The naive cpu route takes ~tens of seconds a run: all models in a full run, MobileNetV2 in node only with --quick. */
function cpuPlan(runtime: Runtime): { cpuRuns: number; cpuModels: string[] } {
  if (args['cpu-models'] !== undefined) return { cpuRuns: Number(args['cpu-runs'] ?? 1), cpuModels: args['cpu-models'].split(',') };
  if (quick) return runtime === 'node' ? { cpuRuns: 1, cpuModels: [MBV2] } : { cpuRuns: 0, cpuModels: [] };
  return { cpuRuns: 3, cpuModels: models };
}

function suiteConfig(runtime: Runtime, model: string) {
  const { cpuRuns, cpuModels } = cpuPlan(runtime);
  const soak = args.soak !== undefined ? (model === MBV2 ? Number(args.soak) : 0) : model === MBV2 ? (quick ? (runtime === 'node' ? 50 : 0) : 200) : 0;
  return { model, runs, cpuRuns, cpuModels, soak, beyondRuns };
}

function log(line: string): void {
  process.stderr.write(`${line}\n`);
}

async function runNodeModel(model: string): Promise<SuiteResult> {
  const tsx = path.join(ROOT, 'node_modules/.bin/tsx');
  const child = spawn(tsx, [path.join(__dirname, 'node-one.ts'), JSON.stringify(suiteConfig('node', model))], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d) => { out += d; });
  child.stderr.on('data', (d) => process.stderr.write(String(d).split('\n').filter((l) => l && !/Hi, looks|=====|tfjs-node|^\s*$/.test(l)).map((l) => `${l}\n`).join('')));
  const code = await new Promise<number>((resolve) => child.on('close', (c) => resolve(c ?? 1)));
  const line = out.split('\n').find((l) => l.startsWith('RESULT '));
  if (code !== 0 || !line) throw new Error(`node benchmark of ${model} failed (exit ${code})`);
  return JSON.parse(line.slice(7)) as SuiteResult;
}

async function runBrowser(runtime: 'browser' | 'browser_threads', pageDir: string): Promise<Record<string, SuiteResult & { isolated: boolean }>> {
  const server = await startStaticServer({
    mounts: { '/': pageDir, '/tm/': TM_DIR, '/models/': path.join(ROOT, 'models') },
    isolated: runtime === 'browser_threads',
  });
  const browser = await launchChromium();
  const results: Record<string, SuiteResult & { isolated: boolean }> = {};
  try {
    for (const model of models) {
      const page = await browser.context.newPage();
      page.setDefaultTimeout(0);
      page.on('console', (m) => { if (m.type() === 'log') log(`  ${runtime}: ${m.text()}`); });
      await page.goto(`${server.origin}/index.html`);
      await page.waitForFunction(() => typeof (self as unknown as { whycamBench?: unknown }).whycamBench === 'function');
      const url = model === 'teachable_machine' ? '/tm/model.json' : model in SHIPPED_DIRS ? `/${SHIPPED_DIRS[model as Shipped]}/model.json` : undefined;
      const ignoreThreadAdvice = Boolean(args['ignore-thread-advice']);
      results[model] = await page.evaluate((c) => (self as unknown as { whycamBench(c: unknown): Promise<SuiteResult & { isolated: boolean }> }).whycamBench(c), { ...suiteConfig(runtime, model), url, ignoreThreadAdvice });
      await page.close();
    }
  } finally {
    await browser.close();
    await server.close();
  }
  return results;
}

function environment(browserVersion: string | null): Record<string, unknown> {
  return {
    date: new Date().toISOString(),
    machine: `${os.cpus().length} x ${os.cpus()[0]?.model ?? 'cpu'}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, ${os.type()} ${os.release()}`,
    node: process.version,
    chromium: browserVersion,
    tfjs: require('@tensorflow/tfjs-core/package.json').version,
    load_average: os.loadavg().map((v) => Math.round(v * 100) / 100),
    quick,
    runs,
    notes: 'Medians after a warm-up. forward_ms: stock model.predict on wasm (preprocessing included). first_map_ms: image in to the first class map (CAM/Grad-CAM). coarse_maps_per_s: requests for the coarse map alone (CAM, else Grad-CAM), as the app\'s live camera makes them, per second. full_ms: image in to Guided Grad-CAM (with CAM and Grad-CAM). all_methods_ms: all five methods. cpu_naive_full_ms: one tf.grad of the class score w.r.t. the input on tfjs-backend-cpu (the vanilla gradient alone: a lower bound for the naive route to Guided Grad-CAM). wasm_stock_full_ms: the same tf.grad on stock tfjs-backend-wasm (null where a kernel is missing). wasm_heap_mb: wasm memory after the model\'s runs (it only grows: the peak). One fresh process or page per model.',
  };
}

const fmt = (v: number | null | undefined, d = 1) => (v == null ? '—' : v.toFixed(d));
const ratio = (a: number | null | undefined, b: number | null | undefined) => (a == null || b == null || b === 0 ? '—' : `${(a / b).toFixed(2)}x`);

function table(title: string, ms: Record<string, ModelResult>): string {
  const rows = [
    `**${title}**`,
    '',
    '| model | threads | forward ms | first map ms (x fwd) | coarse maps/s | full GGC ms (x fwd) | all 5 ms | naive cpu ms (speed-up) | stock wasm ms (speed-up) | heap MB |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const [name, r] of Object.entries(ms)) {
    rows.push(`| ${name} | ${r.threads ?? '?'} | ${fmt(r.forward_ms)} | ${fmt(r.first_map_ms)} (${ratio(r.first_map_ms, r.forward_ms)}) | ${fmt(r.coarse_maps_per_s)} | ${fmt(r.full_ms)} (${ratio(r.full_ms, r.forward_ms)}) | ${fmt(r.all_methods_ms)} | ${fmt(r.cpu_naive_full_ms, 0)} (${ratio(r.cpu_naive_full_ms, r.full_ms)}) | ${fmt(r.wasm_stock_full_ms, 0)} (${ratio(r.wasm_stock_full_ms, r.full_ms)}) | ${fmt(r.wasm_heap_mb, 0)} |`);
  }
  const beyond = Object.entries(ms).filter(([, r]) => r.beyond);
  if (beyond.length) {
    const names = Object.keys(beyond[0][1].beyond!);
    rows.push('', `Methods beyond the five, each requested alone: image in to its map, ms (x forward); Score-CAM and Integrated Gradients also as model passes per second of the method's own part.`, '',
      `| model | ${names.join(' | ')} | Score-CAM passes/s | IG passes/s |`, `|---|${names.map(() => '---:').join('|')}|---:|---:|`);
    for (const [name, r] of beyond) {
      const b = r.beyond!;
      const pps = (m: string) => (b[m]?.passes ? `${fmt(b[m].passes_per_s)} (${b[m].passes} passes)` : '—');
      rows.push(`| ${name} | ${names.map((m) => `${fmt(b[m].ms, 0)} (${b[m].x_forward.toFixed(1)}x)`).join(' | ')} | ${pps('scorecam')} | ${pps('integrated-gradients')} |`);
    }
  }
  return rows.join('\n');
}

/** What `libblas.so.3` resolves to: PyTorch's non-mkldnn convolutions run on it (reference BLAS is ~4x slower than OpenBLAS). */
function blasInUse(): string {
  try {
    return fs.realpathSync('/usr/lib/x86_64-linux-gnu/libblas.so.3');
  } catch {
    return 'unknown';
  }
}

/** The PyTorch side, one fresh process a model (tests/bench/pytorch-one.ts). */
function runPytorch(): { info: Record<string, unknown>; models: Record<string, SameWorkResult | { error: string }> } | { skipped: string } {
  const torchRuns = Number(args['pytorch-runs'] ?? runs);
  if (!torchRuns) return { skipped: 'PyTorch side skipped (--pytorch-runs 0)' };
  const torch = torchVersion();
  if ('missing' in torch) return { skipped: `PyTorch side skipped: ${torch.missing}` };
  const blas = blasInUse();
  log(`== pytorch ${torch.version} (one thread; BLAS ${blas})`);
  const out: Record<string, SameWorkResult | { error: string }> = {};
  for (const model of models) {
    try {
      const text = execFileSync(process.execPath, [require.resolve('tsx/cli'), path.join(__dirname, 'pytorch-one.ts'), JSON.stringify({ model, runs: torchRuns })],
        { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
      const line = text.split('\n').find((l) => l.startsWith('RESULT '));
      out[model] = line ? JSON.parse(line.slice(7)) as SameWorkResult : { error: 'no result' };
    } catch (e) {
      out[model] = { error: (e as Error).message.split('\n')[0] };
    }
    const r = out[model];
    log('error' in r && r.error ? `  pytorch: ${model}: ${r.error}` : `  pytorch: ${model}: forward ${fmt((r as SameWorkResult).forward_ms)} ms, first map ${fmt((r as SameWorkResult).first_map_ms)} ms, full ${fmt((r as SameWorkResult).full_ms)} ms (${(r as SameWorkResult).layout})`);
  }
  return { info: { torch: torch.version, threads: 1, blas, runs: torchRuns }, models: out };
}

function pytorchTable(torch: Record<string, SameWorkResult | { error: string }>, ours: Partial<Record<Runtime, Record<string, ModelResult>>>): string {
  const rts = RUNTIMES.filter((rt) => ours[rt]);
  const rows = [
    '| model | PyTorch layout | PyTorch forward ms | PyTorch first map ms | PyTorch full ms | ' + rts.map((rt) => `${rt} first map / PyTorch | ${rt} all 5 / PyTorch full`).join(' | ') + ' |',
    `|---|---|---:|---:|---:|${rts.map(() => '---:|---:').join('|')}|`,
  ];
  for (const [name, r] of Object.entries(torch)) {
    if ('error' in r && r.error) {
      rows.push(`| ${name} | ${r.error.slice(0, 80)} |`);
      continue;
    }
    const t = r as SameWorkResult;
    rows.push(`| ${name} | ${t.layout} | ${fmt(t.forward_ms)} | ${fmt(t.first_map_ms)} | ${fmt(t.full_ms)} | ${rts.map((rt) => {
      const o = ours[rt]?.[name];
      return `${ratio(o?.first_map_ms, t.first_map_ms)} | ${ratio(o?.all_methods_ms, t.full_ms)}`;
    }).join(' | ')} |`);
  }
  return rows.join('\n');
}

/** The batch row: tests/bench/batch.ts in its own process (it spawns the CLI); its table and JSON. */
function runBatch(): { table: string; json: unknown } | null {
  const images = Number(args['batch-images'] ?? (quick ? 40 : 200));
  if (!images) return null;
  log(`== batch (${images} images)`);
  const json = path.join(os.tmpdir(), `whycam-bench-batch-${process.pid}.json`);
  const separate = args['batch-separate'] ?? (quick ? '10' : undefined);
  const table = execFileSync(process.execPath, [require.resolve('tsx/cli'), path.join(__dirname, 'batch.ts'), '--images', String(images),
    ...(separate ? ['--separate', separate] : []), '--json', json], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim();
  const out = { table, json: JSON.parse(fs.readFileSync(json, 'utf8')) as unknown };
  fs.rmSync(json, { force: true });
  return out;
}

(async () => {
  const started = Date.now();
  const output: Record<string, unknown> = {};
  let chromiumVersion: string | null = null;
  try {
    chromiumVersion = execFileSync('/usr/bin/chromium', ['--version'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    chromiumVersion = null;
  }
  let pageDir: string | null = null;
  for (const runtime of runtimes) {
    log(`== ${runtime}`);
    const perModel: Record<string, SuiteResult> = {};
    if (runtime === 'node') {
      for (const m of models) perModel[m] = await runNodeModel(m);
    } else {
      pageDir ??= await buildPage();
      Object.assign(perModel, await runBrowser(runtime, pageDir));
    }
    const first = Object.values(perModel)[0];
    output[runtime] = {
      backend_info: { ...first?.backend_info, isolated: (first as { isolated?: boolean })?.isolated ?? null },
      models: Object.fromEntries(Object.entries(perModel).map(([k, v]) => [k, { ...v.models[k], threads: v.backend_info.threads }])),
      soak: Object.values(perModel).map((v) => v.soak).find((s) => s) ?? null,
    };
  }
  const torch = runPytorch();
  output.pytorch = 'skipped' in torch ? { skipped: torch.skipped } : { ...torch.info, models: torch.models };
  if ('skipped' in torch) log(torch.skipped);
  const batch = runBatch();
  if (batch) output.batch = batch.json;
  const env = environment(chromiumVersion);
  env.seconds = Math.round((Date.now() - started) / 1000);
  const result = { environment: env, ...output };

  const tables = runtimes.map((rt) => {
    const o = output[rt] as { models: Record<string, ModelResult>; backend_info: { threads: number | null; isolated: boolean | null } };
    return table(`${rt}${o.backend_info.isolated ? ' (cross-origin isolated: threads where the model\'s advice says they pay)' : ''}`, o.models);
  });
  const soaks = runtimes.map((rt) => (output[rt] as { soak: unknown }).soak).filter(Boolean)
    .map((s) => { const k = s as { model: string; explanations: number; tensors: number[]; wasm_heap_mb: number[] }; return `soak ${k.model} x${k.explanations}: tensors ${k.tensors.join(', ')}; wasm heap MB ${k.wasm_heap_mb.map((v) => v?.toFixed(0)).join(', ')}`; });
  const oursByRuntime = Object.fromEntries(runtimes.map((rt) => [rt, (output[rt] as { models: Record<string, ModelResult> }).models]));
  const torchText = 'skipped' in torch ? [torch.skipped, '']
    : [`**PyTorch ${torch.info.torch}, one thread, the same work** on the same weights and image (first map: forward + Grad-CAM; full: also the vanilla and the guided input gradient and Guided Grad-CAM, which whycam's "all 5" request computes; the faster of NCHW and channels_last; BLAS ${torch.info.blas}). Ratios are whycam / PyTorch: below 1 means whycam is faster.`, '', pytorchTable(torch.models, oursByRuntime), ''];
  const text = [`${env.machine}; ${env.node}; ${env.chromium ?? 'no chromium'}; tfjs ${env.tfjs}; ${env.date}${quick ? ' (--quick)' : ''}; ${env.seconds} s`, '', ...tables.flatMap((t) => [t, '']), ...torchText, ...soaks,
    ...(batch ? ['', `batch (the default model, ${(batch.json as { images: number }).images} images, whole commands, start-up included):`, '', batch.table] : [])].join('\n');
  process.stdout.write(`${text}\n`);
  if (args.json) fs.writeFileSync(args.json, `${JSON.stringify(result, null, 2)}\n`);
  if (args.readme) {
    const readme = path.join(ROOT, 'docs', 'performance.md');
    const s = fs.readFileSync(readme, 'utf8');
    const start = '<!-- bench:start -->', end = '<!-- bench:end -->';
    const i = s.indexOf(start), j = s.indexOf(end);
    if (i < 0 || j < 0) throw new Error('docs/performance.md has no bench markers');
    fs.writeFileSync(readme, `${s.slice(0, i + start.length)}\n${text}\n${s.slice(j)}`);
  }
  if (pageDir) fs.rmSync(pageDir, { recursive: true, force: true });
})().catch((e) => {
  process.stderr.write(`bench: ${(e as Error).stack ?? e}\n`);
  process.exit(1);
});
