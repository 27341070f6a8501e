/**
 * Build-time assets of the PWA, emitted into the 'pwa' compilation so InjectManifest sees and
 * precaches every one of them:
 * - the worker build (dist/worker: whycam-worker.js and its hashed .wasm binaries) under worker/;
 * - the default model under models/default-<hash>/ (a content-hashed directory: model.json,
 *   weights and metadata.json keep their names, which the engine looks up, and one model's files
 *   can never be mixed with another version's);
 * - the sample scenes (content-hashed names), app-config.json telling the page where they are,
 *   index.html (the CSS inlined, the hashed app script linked), the web app manifest and its icons.
 * The default model is chosen at build time: WHYCAM_DEFAULT_MODEL, else models/fashion-scenes once it
 * exists, else the Teachable Machine export in ../shared/fixtures (never copied into the repo).
 */
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { PNG } from 'pngjs';
import type { Compiler } from 'webpack';

const ROOT = path.resolve(__dirname, '../..');
const FIXTURES = path.resolve(ROOT, '../shared/fixtures/teachable-machine');

export interface Sample {
  url: string;
  label: string;
}

export interface AppConfig {
  defaultModel: { url: string; name: string; bytes: number };
  samples: Sample[];
  worker: string;
  version: string;
}

export const THEME_COLOR = '#0b5cad';

function hash(data: Buffer | string, n = 8): string {
  return crypto.createHash('sha256').update(data).digest('hex').slice(0, n);
}

/** Where the default model comes from (a directory with model.json). */
export function defaultModelDir(): string {
  const env = process.env.WHYCAM_DEFAULT_MODEL;
  if (env) return path.resolve(env);
  const own = path.join(ROOT, 'models/fashion-scenes');
  if (fs.existsSync(path.join(own, 'model.json'))) return own;
  return path.join(FIXTURES, 'image-model');
}

interface SampleFile { file: string; label: string }

/** The model's own samples (samples/samples.json or the PNGs in samples/), else two of the fixture photos. */
function sampleFiles(modelDir: string): SampleFile[] {
  const dir = path.join(modelDir, 'samples');
  const listed = path.join(dir, 'samples.json');
  if (fs.existsSync(listed)) {
    const raw = JSON.parse(fs.readFileSync(listed, 'utf8')) as unknown;
    const items = (Array.isArray(raw) ? raw : (raw as { samples?: unknown[] }).samples ?? []) as Array<Record<string, unknown> | string>;
    const out: SampleFile[] = [];
    for (const it of items) {
      const file = typeof it === 'string' ? it : String(it.file ?? it.path ?? it.name ?? '');
      if (!file) continue;
      // whycam's own samples.json names the garments in `objects`; other lists may give a label.
      const objects = typeof it === 'string' ? undefined : (it.objects as Array<{ className?: string }> | undefined);
      const named = objects?.map((o) => o.className).filter(Boolean).join(' and ');
      const label = typeof it === 'string' ? path.parse(it).name : String(it.label ?? it.title ?? it.class ?? (named || path.parse(file).name));
      out.push({ file: path.resolve(dir, file), label });
    }
    if (out.length) return out;
  }
  if (fs.existsSync(dir)) {
    const pngs = fs.readdirSync(dir).filter((f) => /\.(png|jpe?g)$/i.test(f)).sort();
    if (pngs.length) return pngs.map((f) => ({ file: path.join(dir, f), label: path.parse(f).name.replace(/[-_]+/g, ' ') }));
  }
  const imgs = path.join(FIXTURES, 'images');
  return [
    { file: path.join(imgs, 'class-1/0.png'), label: 'Class 1 photo' },
    { file: path.join(imgs, 'class-2/0.png'), label: 'Class 2 photo' },
  ].filter((s) => fs.existsSync(s.file));
}

/** A square icon: the app's blue with a white ring and a warm "heat" dot, drawn with pngjs (no binary in the repo). */
function icon(size: number, maskable: boolean): Buffer {
  const png = new PNG({ width: size, height: size });
  const c = size / 2;
  const scale = maskable ? 0.8 : 1; // maskable icons keep their content in the central 80 %
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const d = Math.hypot(x + 0.5 - c, y + 0.5 - c) / (c * scale);
      const i = (y * size + x) * 4;
      let rgb = [0x0b, 0x5c, 0xad];
      if (d > 0.55 && d < 0.7) rgb = [255, 255, 255];
      else if (d <= 0.35) rgb = [255, Math.round(80 + 120 * d / 0.35), 40];
      else if (d <= 0.55) rgb = [255, 220, 80];
      png.data[i] = rgb[0];
      png.data[i + 1] = rgb[1];
      png.data[i + 2] = rgb[2];
      png.data[i + 3] = !maskable && d > 1 ? 0 : 255;
    }
  }
  return PNG.sync.write(png);
}

export class PwaAssetsPlugin {
  constructor(private readonly options: { workerDir: string }) {}

  apply(compiler: Compiler): void {
    const { RawSource } = compiler.webpack.sources;
    compiler.hooks.thisCompilation.tap('PwaAssets', (compilation) => {
      compilation.hooks.processAssets.tap({ name: 'PwaAssets', stage: compiler.webpack.Compilation.PROCESS_ASSETS_STAGE_ADDITIONAL }, () => {
        // minimized: the worker comes already minified by its own config, with the one terser
        // option tfjs's pthread source needs (typeofs: false); minifying it again here broke
        // the threaded binary ('r is not defined').
        const emit = (name: string, data: Buffer | string) => compilation.emitAsset(name, new RawSource(data), { minimized: true });
        const fail = (message: string) => compilation.errors.push(new compiler.webpack.WebpackError(message));

        // The worker, as its own config built it.
        const workerDir = this.options.workerDir;
        if (!fs.existsSync(path.join(workerDir, 'whycam-worker.js'))) {
          fail(`The PWA needs the worker build in ${workerDir}: build with --config-name worker --config-name pwa (npm run build:pwa).`);
          return;
        }
        for (const f of fs.readdirSync(workerDir)) {
          if (/\.(js|wasm)$/.test(f)) emit(`worker/${f}`, fs.readFileSync(path.join(workerDir, f)));
        }

        // The default model in a content-hashed directory.
        const modelDir = defaultModelDir();
        if (!fs.existsSync(path.join(modelDir, 'model.json'))) {
          fail(`No default model at ${modelDir} (model.json missing). Set WHYCAM_DEFAULT_MODEL to a tfjs model directory.`);
          return;
        }
        // The default level's files and its card; not training.json (the training log) nor levels/.
        const files = fs.readdirSync(modelDir)
          .filter((f) => fs.statSync(path.join(modelDir, f)).isFile() && !f.startsWith('.') && f !== 'training.json').sort();
        const blobs = files.map((f) => fs.readFileSync(path.join(modelDir, f)));
        const modelHash = hash(Buffer.concat(blobs.map((b, i) => Buffer.concat([Buffer.from(files[i]), b]))));
        const modelBase = `models/default-${modelHash}`;
        let bytes = 0;
        files.forEach((f, i) => {
          emit(`${modelBase}/${f}`, blobs[i]);
          if (f !== 'card.json') bytes += blobs[i].length;
        });
        let name = 'Default model';
        try {
          const meta = JSON.parse(fs.readFileSync(path.join(modelDir, 'metadata.json'), 'utf8')) as { modelName?: string };
          if (meta.modelName && meta.modelName !== 'untitled') name = meta.modelName;
          else if (modelDir.startsWith(FIXTURES)) name = 'Teachable Machine demo (2 classes)';
        } catch {
          // metadata.json is optional.
        }

        const samples: Sample[] = sampleFiles(modelDir).map((s) => {
          const data = fs.readFileSync(s.file);
          const ext = path.extname(s.file).toLowerCase();
          const url = `samples/${s.label.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '')}.${hash(data)}${ext}`;
          emit(url, data);
          return { url, label: s.label };
        });

        const config: AppConfig = {
          defaultModel: { url: `${modelBase}/model.json`, name, bytes },
          samples,
          worker: 'worker/whycam-worker.js',
          version: modelHash,
        };
        emit('app-config.json', JSON.stringify(config, null, 2));

        // Icons and manifest.
        const icons = [
          { src: 'icons/icon-192.png', sizes: '192x192', type: 'image/png', data: icon(192, false) },
          { src: 'icons/icon-512.png', sizes: '512x512', type: 'image/png', data: icon(512, false) },
          { src: 'icons/icon-maskable-512.png', sizes: '512x512', type: 'image/png', purpose: 'maskable', data: icon(512, true) },
        ];
        for (const i of icons) emit(i.src, i.data);
        emit('manifest.webmanifest', JSON.stringify({
          name: 'whycam — why did the model say that?',
          short_name: 'whycam',
          description: 'Point the camera, see what an image classifier predicts and which pixels made it say so. Works offline.',
          start_url: './',
          scope: './',
          display: 'standalone',
          orientation: 'portrait',
          background_color: '#ffffff',
          theme_color: THEME_COLOR,
          icons: icons.map(({ data: _d, ...rest }) => rest),
        }, null, 2));

        // index.html: the template with the CSS inlined and the entry's scripts.
        const scripts = [...(compilation.entrypoints.get('app')?.getFiles() ?? [])].filter((f) => f.endsWith('.js'));
        const css = fs.readFileSync(path.join(ROOT, 'pwa/styles.css'), 'utf8');
        const html = fs.readFileSync(path.join(ROOT, 'pwa/index.html'), 'utf8')
          .replace('<!--STYLES-->', `<style>\n${css}</style>`)
          .replace('<!--SCRIPTS-->', scripts.map((s) => `<script defer src="${s}"></script>`).join('\n'))
          .replace(/__THEME_COLOR__/g, THEME_COLOR);
        emit('index.html', html);
      });
    });
    // Rebuild when the template, the styles or the worker build change (watch mode).
    compiler.hooks.afterCompile.tap('PwaAssets', (compilation) => {
      compilation.fileDependencies.add(path.join(ROOT, 'pwa/index.html'));
      compilation.fileDependencies.add(path.join(ROOT, 'pwa/styles.css'));
    });
  }
}
