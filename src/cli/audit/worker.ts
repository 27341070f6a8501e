/**
 * A batch worker thread: starts tfjs-backend-wasm and loads the model once, then explains one
 * image per message. Every image's tensors are freed by the engine before the next one, so a
 * worker's memory does not grow with the number of images.
 */
import * as path from 'path';
import { parentPort, workerData } from 'worker_threads';
import { isWhycamError } from '../../errors';
import { Explainer } from '../../explainer';
import { getMethod, needsTargetLayer } from '../../methods/registry';
import type { MethodName } from '../../methods/types';
import { normalizeMap, overlay } from '../../render';
import { evaluateTrust } from '../../trust/evaluate';
import { cropToRegion } from '../../image/crop';
import { loadExplainer, readImage, renderOverlay, writeFile } from '../explain';
import type { FromWorker, Job, SerializedError, WorkerRecord, WorkerSetup } from './protocol';
import type { MapScores } from './record';
import { encodeJpeg, thumbnail } from './thumbnail';

if (!parentPort) throw new Error('src/cli/audit/worker.ts runs inside a worker thread.');
const port = parentPort;
const { args, location } = workerData as WorkerSetup;
const post = (message: FromWorker) => port.postMessage(message);

function serialize(e: unknown): SerializedError {
  if (isWhycamError(e)) return { code: e.code, message: e.message };
  if (e instanceof Error && 'exitCode' in e) return { code: 'OUTPUT', message: e.message };
  return { code: 'INTERNAL', message: e instanceof Error ? e.message : String(e) };
}

/** Report files live under images/, named after the photo. */
const reportFile = (name: string, suffix: string) => `images/${name}.${suffix}.jpg`;

async function explainOne(explainer: Explainer, job: Job): Promise<WorkerRecord> {
  const start = performance.now();
  const image = await readImage(job.path);
  const result = await explainer.explainAll(image, { class: args.class, methods: args.methods, layer: args.layer, fit: args.fit, methodOptions: args.methodOptions });
  // Overlays cover what the model saw: the crop for 'cover', the padded photo for 'contain'.
  const seen = cropToRegion(image, result.region);
  const record: WorkerRecord = {
    path: job.path,
    name: job.name,
    ok: true,
    width: image.width,
    height: image.height,
    predictions: result.predictions.map(({ index, label, probability }) => ({ index, label, probability })),
    class: result.classIndex,
    label: explainer.labels[result.classIndex],
    fit: result.fit,
    region: result.region,
    overlays: {},
    skipped: {},
  };
  const thumb = args.report === undefined ? null : await thumbnail(seen);
  if (thumb && args.report !== undefined) {
    record.images = { photo: reportFile(job.name, 'photo'), maps: {} };
    await writeFile(path.join(args.report, record.images.photo), await encodeJpeg(thumb));
  }
  for (const m of args.methods) {
    const map = result.maps[m];
    if (!map) {
      record.skipped![m] = result.skipped[m] ?? 'not computed';
      continue;
    }
    const values = normalizeMap(map, { mode: getMethod(m).normalize });
    const file = path.join(args.out, `${job.name}.${m}.png`);
    await writeFile(file, renderOverlay(seen, map, args, values));
    record.overlays![m] = file;
    if (thumb && record.images && args.report !== undefined) {
      const small = overlay(thumb, { data: values, width: map.width, height: map.height }, { colormap: args.colormap, opacity: args.opacity });
      record.images.maps[m] = reportFile(job.name, m);
      await writeFile(path.join(args.report, record.images.maps[m]!), await encodeJpeg({ ...small, channels: 4 }));
    }
  }
  if (args.metrics.length > 0) {
    const methods = args.methods.filter((m) => result.maps[m]);
    const trust = await evaluateTrust(explainer, image, { methods, metrics: args.metrics, layer: args.layer, maps: result.maps, fit: args.fit });
    const scores: Partial<Record<MethodName | 'random', MapScores>> = {};
    const last = trust.sanity?.[trust.sanity.length - 1];
    for (const m of methods) {
      const t = trust.maps[m];
      if (!t) continue;
      scores[m] = { deletion: t.deletion?.auc, insertion: t.insertion?.auc, sanity: last?.correlation[m], summary: t.summary };
    }
    if (trust.random) scores.random = { deletion: trust.random.deletion?.auc, insertion: trust.random.insertion?.auc, summary: 'a random pixel order' };
    record.metrics = scores;
  }
  record.probability = result.predictions.find((p) => p.index === result.classIndex)?.probability;
  record.ms = Math.round(performance.now() - start);
  return record;
}

async function main(): Promise<void> {
  let explainer: Explainer;
  try {
    explainer = await loadExplainer(args, location);
    // A wrong --class or --layer would fail every image alike: fail once, before the first.
    if (args.class !== undefined) explainer.resolveClass(args.class);
    if (args.layer !== undefined && args.methods.some((m) => needsTargetLayer(getMethod(m)))) explainer.targetLayer(args.layer);
  } catch (e) {
    post({ type: 'fatal', error: serialize(e) });
    return;
  }
  port.on('message', (job: Job) => {
    explainOne(explainer, job).then(
      (record) => post({ type: 'result', record }),
      (e) => post({ type: 'result', record: { path: job.path, name: job.name, ok: false, error: serialize(e) } }),
    );
  });
  post({ type: 'ready' });
}

void main();
