/** The batch options of `whycam explain` and the arguments of `whycam merge`. */
import { statSync } from 'fs';
import * as os from 'os';
import { isDynamicPattern } from 'tinyglobby';
import { WhycamError } from '../../errors';
import type { ExplainArgs } from '../args';
import { parseShard, type Shard } from './shard';

export interface AuditArgs extends ExplainArgs {
  /** Files, folders and globs, as given. */
  inputs: string[];
  jsonl?: string;
  report?: string;
  jobs: number;
  shard?: Shard;
  resume: boolean;
  /** A CSV file, or 'folders'. */
  truth?: string;
}

export interface MergeArgs {
  inputs: string[];
  jsonl?: string;
  report?: string;
}

/** The options only a batch has: any of them makes `explain` a batch, even of one image. */
export const BATCH_OPTIONS = {
  jsonl: { type: 'string' },
  report: { type: 'string' },
  jobs: { type: 'string' },
  shard: { type: 'string' },
  resume: { type: 'boolean' },
  truth: { type: 'string' },
} as const;

export interface BatchValues {
  jsonl?: string;
  report?: string;
  jobs?: string;
  shard?: string;
  resume?: boolean;
  truth?: string;
  json?: string;
}

const usageError = (message: string) => new WhycamError('BAD_OPTION', `${message} (see whycam --help)`);

export const defaultJobs = () => (typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length);

/** Several inputs, a folder, a glob or a batch option: a batch. One plain file stays the one-image command. */
export function isBatch(inputs: string[], values: BatchValues): boolean {
  if (inputs.length !== 1) return true;
  if ((Object.keys(BATCH_OPTIONS) as Array<keyof typeof BATCH_OPTIONS>).some((k) => values[k] !== undefined)) return true;
  const stat = (() => {
    try {
      return statSync(inputs[0]);
    } catch {
      return null;
    }
  })();
  return stat ? stat.isDirectory() : isDynamicPattern(inputs[0]);
}

function parseJobs(value: string | undefined): number {
  if (value === undefined) return defaultJobs();
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 256) throw new WhycamError('BAD_OPTION', `--jobs must be a whole number from 1 to 256; got '${value}'.`);
  return n;
}

export function auditArgs(explain: ExplainArgs, inputs: string[], values: BatchValues): AuditArgs {
  if (values.json !== undefined) throw usageError('--json writes one image\'s raw maps; for a batch use --jsonl <file> (one line per image)');
  if (values.resume && values.jsonl === undefined && values.report === undefined) throw usageError('--resume needs the --jsonl file (or --report folder) of the run to continue');
  let shard: Shard | undefined;
  if (values.shard !== undefined) {
    const s = parseShard(values.shard);
    if (!s) throw new WhycamError('BAD_OPTION', `--shard must be K/N with 0 <= K < N (K counts from 0); got '${values.shard}'.`);
    shard = s;
  }
  for (const key of ['jsonl', 'report', 'truth'] as const) {
    if (values[key] === '') throw usageError(`--${key} needs a non-empty value`);
  }
  return {
    ...explain,
    inputs,
    jsonl: values.jsonl,
    report: values.report,
    jobs: parseJobs(values.jobs),
    shard,
    resume: Boolean(values.resume),
    truth: values.truth,
  };
}

export function mergeArgs(inputs: string[], values: BatchValues): MergeArgs {
  if (inputs.length === 0) throw usageError('merge needs the shards\' outputs: whycam merge <shard.jsonl | report folder>... --jsonl <file> --report <dir>');
  if (values.jsonl === undefined && values.report === undefined) throw usageError('merge needs somewhere to write: --jsonl <file> and/or --report <dir>');
  return { inputs, jsonl: values.jsonl, report: values.report };
}
