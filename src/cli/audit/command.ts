/**
 * `whycam explain <files, folders, globs...>` (a batch) and `whycam merge`. The main thread
 * lists the images and writes the results; the pool's worker threads do the work.
 */
import { promises as fs, existsSync, statSync } from 'fs';
import * as path from 'path';
import { WhycamError, type WhycamErrorCode } from '../../errors';
import { CliError } from '../args';
import { EXIT, type ExitCode } from '../exit-codes';
import { modelLocation } from '../explain';
import type { AuditArgs, MergeArgs } from './args';
import { collectImages, IMAGE_EXTENSIONS } from './inputs';
import { FatalWorkerError, WorkerPool } from './pool';
import { Progress, formatDuration } from './progress';
import type { WorkerRecord } from './protocol';
import { RecordLog, readRecords, writeRecords, type AuditRecord } from './record';
import { REPORT_RECORDS, writeReport } from './report-dir';
import { inShard } from './shard';
import { percent, summarize } from './summary';
import { loadTruth, sameClass, type TruthOf } from './truth';

export interface BatchOutput {
  out(line: string): void;
  err(text: string): void;
}

/** At most this many failures are listed in the summary; the JSONL and the report have them all. */
const LISTED_FAILURES = 20;

function withTruth(r: WorkerRecord, model: string, truthOf: TruthOf | undefined): AuditRecord {
  const { path: p, name, ok, ...rest } = r;
  const truth = truthOf?.(p);
  const top = r.predictions?.[0];
  const judged = truth === undefined ? {} : { truth, ...(ok && top ? { correct: sameClass(truth, top.label, top.index) } : {}) };
  return { path: p, name, model, ok, ...judged, ...rest };
}

/** Later records replace earlier ones of the same image. */
function latest(...lists: AuditRecord[][]): AuditRecord[] {
  const byPath = new Map<string, AuditRecord>();
  for (const list of lists) for (const r of list) byPath.set(r.path, r);
  return [...byPath.values()];
}

function printFailures(io: BatchOutput, failed: AuditRecord[]): void {
  for (const r of failed.slice(0, LISTED_FAILURES)) io.out(`  ${r.path}  ${r.error?.code ?? '?'}  ${(r.error?.message ?? '').replace(/\s*\n\s*/g, ' ')}`);
  if (failed.length > LISTED_FAILURES) io.out(`  ... and ${failed.length - LISTED_FAILURES} more (in the JSONL and the report)`);
}

export async function auditCommand(args: AuditArgs, io: BatchOutput): Promise<ExitCode> {
  const location = modelLocation(args.model);
  if (!/^https?:/.test(location) && !existsSync(location)) throw new WhycamError('MODEL_NOT_FOUND', `No model at '${location}'.`);
  let collection;
  try {
    collection = await collectImages(args.inputs);
  } catch (e) {
    throw new CliError(`${(e as Error).message} (see whycam --help)`, EXIT.USAGE);
  }
  if (collection.images.length === 0) {
    throw new CliError(`no ${IMAGE_EXTENSIONS.join(', ')} files in ${args.inputs.join(' ')}`, EXIT.IMAGE);
  }
  const mine = inShard(collection.images, args.shard);
  const truthOf = args.truth === undefined ? undefined : await loadTruth(args.truth);
  const logFile = args.jsonl ?? (args.report === undefined ? undefined : path.join(args.report, REPORT_RECORDS));
  try {
    if (args.report !== undefined) await fs.mkdir(args.report, { recursive: true });
    if (logFile) await fs.mkdir(path.dirname(logFile), { recursive: true });
  } catch (e) {
    throw new CliError(`Cannot create the output folder (${(e as Error).message}).`, EXIT.OUTPUT);
  }

  let previous: AuditRecord[] = [];
  if (args.resume && logFile) {
    await RecordLog.repairTail(logFile);
    previous = await readRecords(logFile);
  }
  const done = new Set(previous.map((r) => r.path));
  const todo = mine.filter((im) => !done.has(im.path));

  const started = Date.now();
  let log: RecordLog | null;
  try {
    log = logFile ? new RecordLog(logFile, args.resume) : null;
  } catch (e) {
    throw new CliError(`Cannot write '${logFile}' (${(e as Error).message}).`, EXIT.OUTPUT);
  }
  const fresh: AuditRecord[] = [];
  const progress = new Progress(process.stderr, todo.length);
  const pool = new WorkerPool({ args, location }, args.jobs, todo.map((im) => ({ type: 'job', path: im.path, name: im.name })), (w) => {
    const record = withTruth(w, location, truthOf);
    log?.write(record);
    fresh.push(record);
    progress.tick(record.ok);
  });

  let interrupted = false;
  const onSigint = () => {
    if (interrupted) process.exit(EXIT.INTERRUPTED);
    interrupted = true;
    io.err('\nwhycam: stopping (Ctrl-C again to quit at once); keeping what is done...\n');
    void pool.stop();
  };
  process.on('SIGINT', onSigint);
  try {
    await pool.run();
  } catch (e) {
    if (e instanceof FatalWorkerError) {
      const code = e.error.code as WhycamErrorCode;
      throw new WhycamError(code, e.error.message.includes(location) ? e.error.message : `${location}: ${e.error.message}`);
    }
    throw e;
  } finally {
    process.off('SIGINT', onSigint);
    log?.close();
    progress.end();
  }

  const records = latest(previous, fresh);
  try {
    if (logFile) await writeRecords(logFile, records);
    if (args.report !== undefined) await writeReport(args.report, records);
  } catch (e) {
    throw new CliError(`Cannot write the results (${(e as Error).message}).`, EXIT.OUTPUT);
  }

  const seconds = (Date.now() - started) / 1000;
  const s = summarize(fresh);
  const workers = Math.min(args.jobs, todo.length);
  io.out(`Explained ${s.explained} of ${fresh.length} images in ${formatDuration(seconds)} (${(fresh.length / Math.max(seconds, 1e-3)).toFixed(1)} images/s, ${workers} worker${workers === 1 ? '' : 's'})${s.failed.length ? `; ${s.failed.length} failed:` : '.'}`);
  printFailures(io, s.failed);
  if (args.shard) io.out(`Shard ${args.shard.index}/${args.shard.count}: ${mine.length} of ${collection.images.length} images.`);
  if (previous.length) io.out(`Resumed: ${mine.length - todo.length} already done, kept from ${logFile}.`);
  const earlier = previous.filter((r) => !r.ok && !fresh.some((f) => f.path === r.path)).length;
  // They decide the exit code too: say so, rather than exit 8 after a run that listed no failure.
  if (earlier) io.out(`${earlier} image${earlier === 1 ? '' : 's'} failed in the earlier run and ${earlier === 1 ? 'was' : 'were'} not retried (their lines are in ${logFile}; delete them to retry).`);
  if (collection.ignored) io.out(`Ignored ${collection.ignored} file${collection.ignored === 1 ? '' : 's'} not named ${IMAGE_EXTENSIONS.join(', ')}.`);
  const all = summarize(records);
  if (all.withTruth) io.out(`Accuracy: ${all.correct}/${all.withTruth} (${percent(all.correct, all.withTruth)}) against --truth ${args.truth}.`);
  if (args.jsonl) io.out(`JSONL: ${args.jsonl}`);
  if (args.report !== undefined) io.out(`Report: ${path.join(args.report, 'index.html')}`);
  io.out(`Overlays: ${args.out}${path.sep}`);
  if (interrupted) {
    io.out(`Stopped by Ctrl-C with ${mine.length - todo.length + fresh.length} of ${mine.length} images done; add --resume to finish.`);
    return EXIT.INTERRUPTED;
  }
  return all.failed.length > 0 ? EXIT.PARTIAL : EXIT.OK;
}

/** Of two records of one image (shards that overlapped, a shard run twice), the successful one. */
function better(a: AuditRecord, b: AuditRecord): AuditRecord {
  return !a.ok && b.ok ? b : a;
}

export async function mergeCommand(args: MergeArgs, io: BatchOutput): Promise<ExitCode> {
  const sources: Array<{ records: AuditRecord[]; dir?: string }> = [];
  for (const input of args.inputs) {
    const stat = existsSync(input) ? statSync(input) : null;
    if (!stat) throw new CliError(`No shard output '${input}'.`, EXIT.USAGE);
    const dir = stat.isDirectory() ? input : undefined;
    const file = dir ? path.join(dir, REPORT_RECORDS) : input;
    if (!existsSync(file)) throw new CliError(`'${input}' is a folder without ${REPORT_RECORDS}: give a report folder or a JSONL file.`, EXIT.USAGE);
    try {
      sources.push({ records: await readRecords(file), dir });
    } catch (e) {
      throw new CliError((e as Error).message, EXIT.USAGE);
    }
  }
  if (args.report !== undefined && sources.some((s) => !s.dir)) {
    throw new CliError('merge --report needs the shards\' report folders (their pictures are there), not only JSONL files.', EXIT.USAGE);
  }
  const chosen = new Map<string, { record: AuditRecord; dir?: string }>();
  let duplicates = 0;
  for (const s of sources) {
    for (const r of s.records) {
      const had = chosen.get(r.path);
      if (had) duplicates++;
      if (!had || better(had.record, r) !== had.record) chosen.set(r.path, { record: r, dir: s.dir });
    }
  }
  const records = [...chosen.values()].map((c) => c.record);
  const models = new Set(records.map((r) => r.model));
  if (models.size > 1) io.err(`whycam: warning: the shards used different models: ${[...models].join(', ')}\n`);
  try {
    if (args.jsonl !== undefined) {
      await fs.mkdir(path.dirname(args.jsonl), { recursive: true });
      await writeRecords(args.jsonl, records);
    }
    if (args.report !== undefined) {
      for (const { record, dir } of chosen.values()) {
        if (!record.images || !dir) continue;
        for (const rel of [record.images.photo, ...Object.values(record.images.maps)]) {
          if (!rel) continue;
          const to = path.join(args.report, rel);
          if (path.resolve(dir, rel) === path.resolve(to)) continue;
          await fs.mkdir(path.dirname(to), { recursive: true });
          await fs.copyFile(path.join(dir, rel), to);
        }
      }
      await writeReport(args.report, records);
    }
  } catch (e) {
    throw new CliError(`Cannot write the merged results (${(e as Error).message}).`, EXIT.OUTPUT);
  }
  const s = summarize(records);
  io.out(`Merged ${records.length} images from ${sources.length} inputs${duplicates ? ` (${duplicates} seen twice, kept once)` : ''}: ${s.explained} explained, ${s.failed.length} failed.`);
  if (s.withTruth) io.out(`Accuracy: ${s.correct}/${s.withTruth} (${percent(s.correct, s.withTruth)}).`);
  if (args.jsonl !== undefined) io.out(`JSONL: ${args.jsonl}`);
  if (args.report !== undefined) io.out(`Report: ${path.join(args.report, 'index.html')}`);
  return EXIT.OK;
}
