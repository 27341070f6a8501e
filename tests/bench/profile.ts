/**
 * `npm run bench:profile [-- --models a,b] [--runs N] [--json <file>] [--top N] [--markdown]`
 *
 * Where the time goes, per tfjs kernel, in Chromium on WASM SIMD with one thread and with
 * threads (cross-origin-isolated page): our forward pass, one backward pass (a vanilla-gradient
 * request's kernels less the forward's), the whole five-method request (forward, the vanilla and
 * the guided pass) and the two passes in it (less the forward), and stock model.predict for reference; medians over N profiled runs (tf.profile) after a warm-up.
 * Prints, per model, the kernels sorted by their one-thread time in the five-method request,
 * and writes JSON with --json. --markdown prints the tables as docs/performance.md has them.
 */
import * as fs from 'fs';
import * as path from 'path';
import { parseArgs } from 'util';
import { launchChromium } from '../helpers/browser';
import { startStaticServer } from '../helpers/static-server';
import { buildPage } from './page-build';
import type { KernelProfile, KernelTimes } from './profile-types';
import { SHIPPED_DIRS, type Shipped } from './shipped';

const ROOT = path.resolve(__dirname, '../..');
const TM_DIR = path.resolve(ROOT, '../shared/fixtures/teachable-machine/image-model');

const { values: args } = parseArgs({
  options: {
    models: { type: 'string', default: 'mobilenet_v2_1.0_224,mobilenet_v1_0.25_224,vgg_style_224' },
    runs: { type: 'string', default: '5' },
    json: { type: 'string' },
    top: { type: 'string', default: '12' },
    markdown: { type: 'boolean', default: false },
  },
});

async function profile(pageDir: string, isolated: boolean, model: string, runs: number): Promise<KernelProfile> {
  const server = await startStaticServer({ mounts: { '/': pageDir, '/tm/': TM_DIR, '/models/': path.join(ROOT, 'models') }, isolated });
  const browser = await launchChromium();
  try {
    const page = await browser.context.newPage();
    page.setDefaultTimeout(0);
    await page.goto(`${server.origin}/index.html`);
    await page.waitForFunction(() => typeof (self as unknown as { whycamProfile?: unknown }).whycamProfile === 'function');
    const url = model === 'teachable_machine' ? '/tm/model.json' : model in SHIPPED_DIRS ? `/${SHIPPED_DIRS[model as Shipped]}/model.json` : undefined;
    return await page.evaluate((c) => (self as unknown as { whycamProfile(c: unknown): Promise<KernelProfile> }).whycamProfile(c), { model, url, runs });
  } finally {
    await browser.close();
    await server.close();
  }
}

type Phase = 'forward' | 'vanilla pass' | 'both passes' | 'all five';
const PHASES: Phase[] = ['forward', 'vanilla pass', 'both passes', 'all five'];

/** Per kernel and phase, ms (a pass: its request's kernels less the forward's, floored at 0). */
function phases(p: KernelProfile): { wall: Record<Phase, number>; kernels: Map<string, Record<Phase, number> & { calls: number }> } {
  const byName = (t: KernelTimes) => new Map(t.kernels.map((k) => [k.name, k]));
  const fwd = byName(p.forward), van = byName(p.vanilla_request), all = byName(p.all_five);
  const names = [...new Set([...fwd.keys(), ...van.keys(), ...all.keys()])];
  const kernels = new Map<string, Record<Phase, number> & { calls: number }>();
  for (const n of names) {
    const f = fwd.get(n)?.ms ?? 0;
    kernels.set(n, {
      forward: f,
      'vanilla pass': Math.max(0, (van.get(n)?.ms ?? 0) - f),
      'both passes': Math.max(0, (all.get(n)?.ms ?? 0) - f),
      'all five': all.get(n)?.ms ?? 0,
      calls: all.get(n)?.calls ?? 0,
    });
  }
  const wall = {
    forward: p.forward.wall_ms,
    'vanilla pass': p.vanilla_request.wall_ms - p.forward.wall_ms,
    'both passes': p.all_five.wall_ms - p.forward.wall_ms,
    'all five': p.all_five.wall_ms,
  };
  return { wall, kernels };
}

function table(model: string, one: KernelProfile, many: KernelProfile, top: number, markdown: boolean): string {
  const a = phases(one), b = phases(many);
  const sum = (x: ReturnType<typeof phases>, ph: Phase) => [...x.kernels.values()].reduce((s, k) => s + k[ph], 0);
  const head = ['kernel', 'calls (all five)', ...PHASES.map((ph) => `${ph} ms`), `all five, ${many.threads} threads ms`, 'threads speed-up'];
  const rows: string[][] = [];
  const sorted = [...a.kernels.entries()].sort((x, y) => y[1]['all five'] - x[1]['all five']);
  for (const [name, k] of sorted.slice(0, top)) {
    const t = b.kernels.get(name)?.['all five'];
    rows.push([name, String(k.calls), ...PHASES.map((ph) => k[ph].toFixed(1)), t === undefined ? '—' : t.toFixed(1), t ? `${(k['all five'] / t).toFixed(2)}x` : '—']);
  }
  const rest = sorted.slice(top);
  if (rest.length) rows.push([`${rest.length} others`, String(rest.reduce((s, [, k]) => s + k.calls, 0)), ...PHASES.map((ph) => rest.reduce((s, [, k]) => s + k[ph], 0).toFixed(1)), '', '']);
  rows.push(['all kernels', '', ...PHASES.map((ph) => sum(a, ph).toFixed(1)), sum(b, 'all five').toFixed(1), `${(sum(a, 'all five') / sum(b, 'all five')).toFixed(2)}x`]);
  rows.push(['wall (profiled)', '', ...PHASES.map((ph) => a.wall[ph].toFixed(1)), b.wall['all five'].toFixed(1), `${(a.wall['all five'] / b.wall['all five']).toFixed(2)}x`]);
  const title = `${model}: stock model.predict ${one.stock_forward.wall_ms.toFixed(1)} ms (kernels ${one.stock_forward.kernel_ms.toFixed(1)}); ours below, one thread unless said`;
  if (markdown) {
    return [`**${title}**`, '', `| ${head.join(' | ')} |`, `|---|${head.slice(1).map(() => '---:').join('|')}|`, ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n');
  }
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (r: string[]) => `  ${r.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ')}`;
  return [title, line(head), ...rows.map(line)].join('\n');
}

(async () => {
  const models = String(args.models).split(',');
  const runs = Number(args.runs);
  const pageDir = await buildPage();
  const out: Record<string, { single: KernelProfile; threads: KernelProfile }> = {};
  try {
    for (const model of models) {
      const single = await profile(pageDir, false, model, runs);
      const threads = await profile(pageDir, true, model, runs);
      if (!threads.isolated) throw new Error('the isolated page is not cross-origin isolated');
      out[model] = { single, threads };
      process.stdout.write(`\n${table(model, single, threads, Number(args.top), Boolean(args.markdown))}\n`);
    }
  } finally {
    fs.rmSync(pageDir, { recursive: true, force: true });
  }
  if (args.json) fs.writeFileSync(args.json, `${JSON.stringify({ date: new Date().toISOString(), runs, models: out }, null, 2)}\n`);
})().catch((e) => {
  process.stderr.write(`bench:profile: ${(e as Error).stack ?? e}\n`);
  process.exit(1);
});
