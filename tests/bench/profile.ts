/**
 * `npm run bench:profile [-- --models a,b] [--runs N] [--json <file>] [--top N]`
 *
 * Where the time goes, per tfjs kernel, in Chromium on WASM SIMD with one thread and with
 * threads (cross-origin-isolated page): one forward pass (stock model.predict) and one full
 * Guided Grad-CAM, medians over N profiled runs (tf.profile) after a warm-up. Prints, per
 * model, the kernels sorted by single-thread time with the threaded time and the ratio,
 * and writes JSON with --json.
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

function table(title: string, one: KernelTimes, many: KernelTimes, top: number): string {
  const byName = new Map(many.kernels.map((k) => [k.name, k]));
  const rows = [
    `${title}: wall ${one.wall_ms.toFixed(1)} ms -> ${many.wall_ms.toFixed(1)} ms with threads (${(one.wall_ms / many.wall_ms).toFixed(2)}x); kernels ${one.kernel_ms.toFixed(1)} -> ${many.kernel_ms.toFixed(1)} ms`,
    '  kernel                          calls   1 thread ms   threads ms   speed-up',
  ];
  for (const k of one.kernels.slice(0, top)) {
    const t = byName.get(k.name);
    rows.push(`  ${k.name.padEnd(30)} ${String(k.calls).padStart(6)} ${k.ms.toFixed(2).padStart(13)} ${(t ? t.ms.toFixed(2) : '—').padStart(12)} ${(t && t.ms > 0 ? `${(k.ms / t.ms).toFixed(2)}x` : '—').padStart(10)}`);
  }
  const calls = one.kernels.reduce((a, k) => a + k.calls, 0);
  rows.push(`  ${calls} kernel calls; ${(one.kernel_ms * 1000 / calls).toFixed(0)} us a call on average (1 thread)`);
  return rows.join('\n');
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
      process.stdout.write(`\n== ${model} (threads: ${threads.threads})\n`);
      process.stdout.write(`${table('forward', single.forward, threads.forward, Number(args.top))}\n`);
      process.stdout.write(`${table('full Guided Grad-CAM', single.full, threads.full, Number(args.top))}\n`);
    }
  } finally {
    fs.rmSync(pageDir, { recursive: true, force: true });
  }
  if (args.json) fs.writeFileSync(args.json, `${JSON.stringify({ date: new Date().toISOString(), runs, models: out }, null, 2)}\n`);
})().catch((e) => {
  process.stderr.write(`bench:profile: ${(e as Error).stack ?? e}\n`);
  process.exit(1);
});
