/** `whycam explain <image>`: predictions on stdout, one overlay PNG per method, optional JSON. */
import { existsSync, promises as fs } from 'fs';
import * as path from 'path';
import { useBackend } from '../backend';
import { WhycamError, isWhycamError } from '../errors';
import { Explainer } from '../explainer';
import { decodeImage } from '../image';
import { cropToRegion } from '../image/crop';
import type { ImageInput } from '../image/types';
import type { MethodName, SaliencyMap } from '../methods/types';
import { modelSourceFromPath } from '../node/model-path';
import { normalizeMap, overlay } from '../render';
import { evaluateTrust } from '../trust/evaluate';
import { getMethod, needsTargetLayer } from '../methods/registry';
import { encodePng } from '../image/encode';
import { CliError, type ExplainArgs } from './args';
import { EXIT } from './exit-codes';
import { readLabels } from './labels';
import { jsonReport, predictionLines, shapeText } from './report';
import { suppressTfjsNodeBanner } from './quiet-tfjs';

/** Where the shipped default model lives (relative to the package, not the working directory). */
export const DEFAULT_MODEL_DIR = path.resolve(__dirname, '../../models/imagenet-darknet-tiny');

/** What a map reports about itself, e.g. Integrated Gradients' completeness gap, with what to do when it is large. */
function statsText(map: SaliencyMap): string {
  const gap = map.stats?.completenessGap;
  if (gap === undefined) return '';
  const large = gap > 0.05 ? `: large, raise --option ${map.method}.steps (now ${map.stats?.steps})` : '';
  return `  (completeness gap ${(gap * 100).toFixed(1)}%${large})`;
}

export interface Output {
  out(line: string): void;
}

/** Prefixes an engine error's message with the file it is about (unless it names it), keeping its code. */
function about(file: string, e: unknown): unknown {
  if (!isWhycamError(e) || e.message.includes(file)) return e;
  return new WhycamError(e.code, `${file}: ${e.message}`, { cause: e });
}

export async function readImage(file: string): Promise<ImageInput> {
  let bytes: Buffer;
  try {
    bytes = await fs.readFile(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new WhycamError('FILE_NOT_FOUND', `No image file '${file}'.`);
    if (code === 'EISDIR') throw new WhycamError('BAD_IMAGE', `'${file}' is a directory; give a PNG or JPEG file.`);
    throw new WhycamError('FILE_NOT_FOUND', `Cannot read the image '${file}' (${(e as Error).message}).`);
  }
  try {
    return await decodeImage(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length));
  } catch (e) {
    throw about(file, e);
  }
}

export function modelLocation(model: string | undefined): string {
  if (model !== undefined) return model;
  if (!existsSync(path.join(DEFAULT_MODEL_DIR, 'model.json'))) {
    throw new WhycamError('MODEL_NOT_FOUND', 'No default model is shipped yet; pass --model <dir | model.json | Teachable Machine zip | URL>.');
  }
  return DEFAULT_MODEL_DIR;
}

export async function writeFile(file: string, data: Uint8Array | string): Promise<void> {
  try {
    await fs.mkdir(path.dirname(file), { recursive: true });
    await fs.writeFile(file, data);
  } catch (e) {
    throw new CliError(`Cannot write '${file}' (${(e as Error).message}).`, EXIT.OUTPUT);
  }
}

/** The map at the photo's own size, coloured and blended over it, as PNG bytes (`values`: the map already normalised). */
export function renderOverlay(image: ImageInput, map: SaliencyMap, args: Pick<ExplainArgs, 'colormap' | 'opacity'>,
  values = normalizeMap(map, { mode: getMethod(map.method).normalize })): Uint8Array {
  const rgba = overlay(image, { data: values, width: map.width, height: map.height }, { colormap: args.colormap, opacity: args.opacity });
  return encodePng(rgba.data, rgba.width, rgba.height);
}

/** How the photo met the model input, in a few words. */
function regionText(image: ImageInput, fit: string, r: { x: number; y: number; width: number; height: number }): string {
  const whole = r.x === 0 && r.y === 0 && r.width === image.width && r.height === image.height;
  const n = (v: number) => String(Math.round(v));
  if (fit === 'cover') return whole ? 'cover: the whole photo' : `cover: the model saw ${n(r.width)}x${n(r.height)} at (${n(r.x)}, ${n(r.y)})`;
  if (fit === 'contain') return `contain: the whole photo, padded to ${n(r.width)}x${n(r.height)}`;
  return 'stretch: the whole photo, stretched';
}

/** The backend started and the model at `location` loaded with --labels and --range; its errors name the file at fault. */
export async function loadExplainer(args: Pick<ExplainArgs, 'labels' | 'range' | 'backend'>, location: string): Promise<Explainer> {
  // Everything that needs no tfjs first, so a wrong path fails at once.
  const source = await modelSourceFromPath(location);
  const labels = args.labels === undefined ? undefined : await readLabels(args.labels);
  suppressTfjsNodeBanner();
  await useBackend(args.backend);
  try {
    return await Explainer.load(source, { range: args.range, labels });
  } catch (e) {
    // A label count that does not match the outputs is about the labels file, not the model.
    throw about(labels && isWhycamError(e) && e.code === 'BAD_OPTION' ? `--labels ${args.labels as string}` : location, e);
  }
}

export async function explainCommand(args: ExplainArgs, io: Output): Promise<void> {
  const image = await readImage(args.image);
  const location = modelLocation(args.model);
  const explainer = await loadExplainer(args, location);
  try {
    const result = await explainer.explainAll(image, { class: args.class, methods: args.methods, layer: args.layer, fit: args.fit, methodOptions: args.methodOptions });
    const target = explainer.targetLayer(args.layer);
    const { predictions, classIndex, maps, skipped, fit, region } = result;
    // Overlays cover what the model saw: the crop for 'cover', the padded photo for 'contain'.
    const seen = cropToRegion(image, region);
    const judged = args.methods.filter((m) => maps[m]);
    const trust = args.metrics.length && judged.length
      ? await evaluateTrust(explainer, image, { methods: judged, metrics: args.metrics, layer: args.layer, maps, fit: args.fit })
      : null;

    const base = path.parse(args.image).name;
    const written: Partial<Record<MethodName, string>> = {};
    for (const m of args.methods) {
      const map = maps[m];
      if (!map) continue;
      const file = path.join(args.out, `${base}.${m}.png`);
      await writeFile(file, renderOverlay(seen, map, args));
      written[m] = file;
    }
    if (args.json !== undefined) {
      await writeFile(args.json, `${JSON.stringify(jsonReport(predictions, classIndex, args.methods, maps, skipped, { fit, region }, trust))}\n`);
    }

    const top = predictions[0];
    const label = explainer.labels[classIndex];
    const d = explainer.describe();
    io.out(`Model: ${location} (input ${shapeText(d.input.width, d.input.height, d.input.channels)}, pixels ${d.range}, ${explainer.numClasses} classes)`);
    io.out(`Image: ${args.image} (${image.width}x${image.height}; ${regionText(image, fit, region)})`);
    io.out('');
    io.out(`Top ${predictions.length} predictions:`);
    for (const l of predictionLines(predictions, classIndex)) io.out(l);
    io.out('');
    const why = args.class === undefined ? 'the top prediction' : top && top.index === classIndex ? 'requested; also the top prediction' : 'requested';
    io.out(`Explaining: class ${classIndex} "${label}" (${why})`);
    // Only the class maps (and Guided Grad-CAM) have a target layer; pure gradients have none.
    if (args.methods.some((m) => needsTargetLayer(getMethod(m)))) {
      io.out(`Target layer: ${target ? `${target.path} (${target.width}x${target.height}, ${target.channels} channels)` : 'none'}`);
    }
    io.out('Maps:');
    const width = Math.max(...args.methods.map((m) => m.length));
    for (const m of args.methods) {
      const map = maps[m];
      const file = written[m];
      if (map && file) {
        io.out(`  ${m.padEnd(width)}  ${shapeText(map.width, map.height, map.channels).padEnd(11)}  ${file}${statsText(map)}`);
      } else {
        io.out(`  ${m.padEnd(width)}  skipped: ${skipped[m] ?? 'not computed'}`);
      }
    }
    if (trust) {
      io.out('');
      io.out(`Can these maps be trusted? (${args.metrics.join(', ')}; the class's probability on the photo is ${trust.probability.toFixed(3)})`);
      for (const m of judged) io.out(`  ${trust.maps[m]?.summary ?? `${m}: not measured.`}`);
    }
    if (args.json !== undefined) io.out(`JSON: ${args.json}`);
    const total = result.stages.length ? result.stages[result.stages.length - 1].elapsedMs : 0;
    io.out(`(explained in ${(total / 1000).toFixed(2)} s on ${args.backend})`);
  } finally {
    explainer.dispose();
  }
}
