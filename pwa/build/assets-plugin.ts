/**
 * Build-time assets of the PWA, emitted into the 'pwa' compilation so InjectManifest sees and
 * precaches every one of them:
 * - the worker build (dist/worker: whycam-worker.js and its hashed .wasm binaries) under worker/;
 * - each built-in model under models/<id>-<hash>/ (a content-hashed directory: model.json,
 *   weights and metadata.json keep their names, which the engine looks up, and one model's files
 *   can never be mixed with another version's);
 * - the sample images (content-hashed names), app-config.json telling the page where they are,
 *   index.html (the CSS inlined, the hashed app script linked), the web app manifest and its icons.
 * The default model is chosen at build time: WHYCAM_DEFAULT_MODEL (a tfjs model directory), else
 * models/imagenet-darknet-tiny. The garment model (models/fashion-scenes) ships beside it as a
 * second built-in model. Each sample names the built-in model it was chosen for.
 */
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { PNG } from 'pngjs';
import type { Compiler } from 'webpack';

const ROOT = path.resolve(__dirname, '../..');

export interface Sample {
  url: string;
  label: string;
  /** The id of the built-in model it was chosen for. */
  model: string;
}

export interface BuiltInModel {
  /** 'default' for the default model. */
  id: string;
  url: string;
  name: string;
  bytes: number;
}

export interface AppConfig {
  defaultModel: { url: string; name: string; bytes: number };
  /** Every built-in model, the default first. */
  models: BuiltInModel[];
  samples: Sample[];
  worker: string;
  version: string;
}

export const THEME_COLOR = '#0b5cad';

function hash(data: Buffer | string, n = 8): string {
  return crypto.createHash('sha256').update(data).digest('hex').slice(0, n);
}

interface SampleFile { file: string; label: string }

interface ModelSource {
  id: string;
  dir: string;
  /** Its name in the app; undefined: metadata.json's modelName. */
  name?: string;
  /** Where its sample images are (a samples.json list, else every PNG/JPEG in it). */
  samples: string;
}

/** The repository's own models, by folder: the name a person sees and where their samples are. */
const SHIPPED: Record<string, Omit<ModelSource, 'id' | 'dir'>> = {
  'imagenet-darknet-tiny': { name: 'Everyday objects (ImageNet)', samples: path.join(ROOT, 'models/imagenet-darknet-tiny/samples') },
  'fashion-scenes': { name: 'Garments in scenes (Fashion-MNIST)', samples: path.join(ROOT, 'models/fashion-scenes/samples') },
};

/** Where the default model comes from (a directory with model.json). */
export function defaultModelDir(): string {
  const env = process.env.WHYCAM_DEFAULT_MODEL;
  return env ? path.resolve(env) : path.join(ROOT, 'models/imagenet-darknet-tiny');
}

/** The built-in models: the default first, then the garment model (unless it is the default). */
export function builtInModels(): ModelSource[] {
  const dir = defaultModelDir();
  const own = (d: string) => SHIPPED[path.basename(d)] && path.dirname(d) === path.join(ROOT, 'models') ? SHIPPED[path.basename(d)] : undefined;
  const out: ModelSource[] = [{ id: 'default', dir, ...(own(dir) ?? { samples: path.join(dir, 'samples') }) }];
  const garments = path.join(ROOT, 'models/fashion-scenes');
  if (garments !== dir) out.push({ id: 'fashion-scenes', dir: garments, ...SHIPPED['fashion-scenes'] });
  return out;
}

/** The images listed in `dir`/samples.json (whycam's lists name garments in `objects`), else every PNG/JPEG in `dir`. */
function sampleFiles(dir: string): SampleFile[] {
  const listed = path.join(dir, 'samples.json');
  if (fs.existsSync(listed)) {
    const raw = JSON.parse(fs.readFileSync(listed, 'utf8')) as unknown;
    const items = (Array.isArray(raw) ? raw : (raw as { samples?: unknown[] }).samples ?? []) as Array<Record<string, unknown> | string>;
    const out: SampleFile[] = [];
    for (const it of items) {
      const file = typeof it === 'string' ? it : String(it.file ?? it.path ?? it.name ?? '');
      if (!file) continue;
      const objects = typeof it === 'string' ? undefined : (it.objects as Array<{ className?: string }> | undefined);
      const named = objects?.map((o) => o.className).filter(Boolean).join(' and ');
      const label = typeof it === 'string' ? path.parse(it).name : String(it.label ?? it.title ?? it.class ?? (named || path.parse(file).name));
      out.push({ file: path.resolve(dir, file), label });
    }
    if (out.length) return out;
  }
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir).filter((f) => /\.(png|jpe?g)$/i.test(f)).sort()
    .map((f) => ({ file: path.join(dir, f), label: path.parse(f).name.replace(/[-_]+/g, ' ') }));
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

  /** Emits a model's default level and card under models/<id>-<hash>/ (model.json, weights and metadata.json keep their names, which the engine looks up). */
  private emitModel(source: ModelSource, emit: (name: string, data: Buffer) => void, fail: (message: string) => void): BuiltInModel | null {
    const dir = source.dir;
    if (!fs.existsSync(path.join(dir, 'model.json'))) {
      fail(`No model at ${dir} (model.json missing). Set WHYCAM_DEFAULT_MODEL to a tfjs model directory.`);
      return null;
    }
    // Not training.json (the training log), README.md nor levels/.
    const files = fs.readdirSync(dir)
      .filter((f) => fs.statSync(path.join(dir, f)).isFile() && !f.startsWith('.') && f !== 'training.json' && !/\.md$/i.test(f)).sort();
    const blobs = files.map((f) => fs.readFileSync(path.join(dir, f)));
    const modelHash = hash(Buffer.concat(blobs.map((b, i) => Buffer.concat([Buffer.from(files[i]), b]))));
    const base = `models/${source.id}-${modelHash}`;
    let bytes = 0;
    files.forEach((f, i) => {
      emit(`${base}/${f}`, blobs[i]);
      if (f !== 'card.json') bytes += blobs[i].length;
    });
    let name = source.name ?? 'Default model';
    if (!source.name) {
      try {
        const meta = JSON.parse(fs.readFileSync(path.join(dir, 'metadata.json'), 'utf8')) as { modelName?: string };
        if (meta.modelName && meta.modelName !== 'untitled') name = meta.modelName;
      } catch {
        // metadata.json is optional.
      }
    }
    return { id: source.id, url: `${base}/model.json`, name, bytes };
  }

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

        // Each built-in model in a content-hashed directory, and its samples.
        const models: BuiltInModel[] = [];
        const samples: Sample[] = [];
        for (const source of builtInModels()) {
          const emitted = this.emitModel(source, emit, fail);
          if (!emitted) return;
          models.push(emitted);
          for (const s of sampleFiles(source.samples)) {
            const data = fs.readFileSync(s.file);
            const ext = path.extname(s.file).toLowerCase();
            const url = `samples/${s.label.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '')}.${hash(data)}${ext}`;
            emit(url, data);
            samples.push({ url, label: s.label, model: source.id });
          }
        }
        const { id: _id, ...defaultModel } = models[0];
        const config: AppConfig = {
          defaultModel,
          models,
          samples,
          worker: 'worker/whycam-worker.js',
          // The shipped models are what a new version changes most.
          version: hash(models.map((m) => m.url).join('\n')),
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
