/** Command-line parsing for `whycam` with Node's own util.parseArgs (no dependency). */
import { parseArgs } from 'util';
import { WhycamError } from '../errors';
import { defaultMethodNames, isMethodName, listMethods, methodNames } from '../methods/registry';
import type { MethodName } from '../methods/types';
import { TRUST_METRICS, type TrustMetric } from '../trust/evaluate';
import { FITS, type Fit } from '../image/fit';
import { INPUT_RANGES, type InputRange } from '../model/preprocess';
import { COLORMAP_NAMES, type ColormapName } from '../render/colormaps';
import { EXIT, type ExitCode } from './exit-codes';
import { BATCH_OPTIONS, auditArgs, defaultJobs, isBatch, mergeArgs, type AuditArgs, type MergeArgs } from './audit/args';

/** A CLI-level failure that is not an engine error (command line, output files). */
export class CliError extends Error {
  constructor(message: string, readonly exitCode: ExitCode) {
    super(message);
    this.name = 'CliError';
  }
}

export const DEFAULT_OUT_DIR = 'whycam-out';
export const BACKENDS = ['wasm', 'cpu'] as const;
export type CliBackend = (typeof BACKENDS)[number];

/** The help text; built on each call, so it lists the methods registered by then. */
export function usage(): string {
  const methods = listMethods();
  const width = Math.max(...methods.map((m) => m.name.length));
  const methodLines = methods.map((m) => `                           ${m.name.padEnd(width)}  ${m.label}${m.byDefault ? '' : ' (not in the default)'}`).join('\n');
  return `Usage: whycam explain <image.png|.jpg> [options]
       whycam explain <files, folders, globs...> [options] [batch options]
       whycam merge <shard.jsonl | report folder>... [--jsonl <file>] [--report <dir>]
       whycam --version

Explains an image classifier's answer for one photo: prints the top 5 predictions
and writes one heat-map overlay PNG per method (<image name>.<method>.png).
Given several images, a folder or a glob, it audits them all as a batch.

Options:
  --model <path|url>     model directory, model.json, Teachable Machine .zip or
                         http(s) URL of a model.json (default: models/imagenet-darknet-tiny/,
                         1000 everyday ImageNet classes; the garment model: models/fashion-scenes)
  --class <index|label>  class to explain (default: the top prediction)
  --method <list>        comma-separated (default: ${defaultMethodNames().join(',')};
                         'all' for every method), from:
${methodLines}
  --option <m.key=value> a method's own option, repeatable, e.g.
                         --option smoothgrad.samples=50 --option integrated-gradients.steps=100
  --metrics <list>       also measure whether each map can be trusted: deletion,
                         insertion, sanity (model randomisation), or all
  --layer <name>         target conv layer for the class maps
                         (default: the last layer with a spatial output)
  --range <range>        pixel values the model expects: ${INPUT_RANGES.join(' | ')}
                         (default: metadata.json; Teachable Machine -1..1; else 0..1)
  --fit <fit>            how a photo meets the model's input: ${FITS.join(' | ')}
                         (default: cover, a centre crop to the input's aspect;
                         overlays show the part of the photo the model saw)
  --labels <file>        class names for a model without metadata.json: a JSON
                         array or one name per line, as many as the model's outputs
  --out <dir>            directory for the overlay PNGs (default: ./${DEFAULT_OUT_DIR})
  --json <file>          also write predictions and raw maps as JSON
  --backend <name>       ${BACKENDS.join(' | ')} (default: wasm)
  --colormap <name>      ${COLORMAP_NAMES.join(' | ')} (default: turbo)
  --opacity <0..1>       heat-map opacity over the photo (default: 0.5)
  -h, --help             show this help
  --version              print whycam's version

Batch options (any of them, several inputs, a folder or a glob make a batch; folders
are searched recursively for .png, .jpg and .jpeg files; overlays go to
<out>/<path below the common folder>.<method>.png):
  --jsonl <file>         one JSON line per image, written as each one is done
  --report <dir>         an HTML report (index.html, images/, results.jsonl) that
                         works offline from file://
  --jobs <n>             worker threads, each with the model loaded once
                         (default: ${defaultJobs()}, the cores here)
  --truth <csv|folders>  ground truth: a CSV of image,class, or 'folders' (the
                         class is each photo's folder name)
  --shard <K/N>          only images K, K+N, K+2N, ... of the sorted list (K from 0)
  --resume               skip the images already in the --jsonl (or report) file

Exit codes: 0 done, 1 unexpected error, 2 bad command line, 3 bad image,
  4 bad or missing model, 5 class or layer not in the model, 6 backend failed,
  7 could not write output, 8 batch done but some images failed,
  130 batch stopped by Ctrl-C (what was done is kept).
  WHYCAM_DEBUG=1 adds stack traces to unexpected errors.
`;
}

export interface ExplainArgs {
  image: string;
  model?: string;
  class?: string;
  methods: MethodName[];
  methodOptions: Partial<Record<MethodName, Record<string, unknown>>>;
  metrics: TrustMetric[];
  layer?: string;
  range?: InputRange;
  fit: Fit;
  labels?: string;
  out: string;
  json?: string;
  backend: CliBackend;
  colormap: ColormapName;
  opacity: number;
}

export type Command =
  | { kind: 'help' }
  | { kind: 'version' }
  | { kind: 'explain'; args: ExplainArgs }
  | { kind: 'audit'; args: AuditArgs }
  | { kind: 'merge'; args: MergeArgs };

const OPTIONS = {
  model: { type: 'string' },
  class: { type: 'string' },
  method: { type: 'string', multiple: true },
  option: { type: 'string', multiple: true },
  metrics: { type: 'string' },
  layer: { type: 'string' },
  range: { type: 'string' },
  fit: { type: 'string' },
  labels: { type: 'string' },
  out: { type: 'string' },
  json: { type: 'string' },
  backend: { type: 'string' },
  colormap: { type: 'string' },
  opacity: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean' },
  ...BATCH_OPTIONS,
} as const;

const usageError = (message: string) => new CliError(`${message} (see whycam --help)`, EXIT.USAGE);

/**
 * parseArgs refuses `--range -1..1` as ambiguous (the value starts with a dash); the
 * usage advertises exactly that form, so glue such values on as `--range=-1..1`.
 */
function joinDashValues(argv: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const name = a.startsWith('--') ? a.slice(2) : '';
    const next = argv[i + 1];
    if (name in OPTIONS && OPTIONS[name as keyof typeof OPTIONS].type === 'string' && next !== undefined && /^-[\d.]/.test(next)) {
      out.push(`${a}=${next}`);
      i++;
    } else {
      out.push(a);
    }
  }
  return out;
}

/** parseArgs' own messages span lines and suggest '--' tricks; keep the first sentence. */
function parseArgsMessage(e: Error & { code?: string }): string {
  const option = /'(-[^']*)'/.exec(e.message)?.[1];
  switch (e.code) {
    case 'ERR_PARSE_ARGS_UNKNOWN_OPTION':
      return `unknown option '${option ?? '?'}'`;
    case 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE':
      // "argument missing" (last on the line) or "ambiguous" (followed by another --flag).
      return /missing|ambiguous/.test(e.message) ? `option '${option?.split(' ')[0] ?? '?'}' needs a value` : e.message.split('\n')[0];
    default:
      return e.message.split('\n')[0];
  }
}

function oneOf<T extends string>(what: string, value: string | undefined, allowed: readonly T[], fallback: T): T {
  if (value === undefined) return fallback;
  if (!(allowed as readonly string[]).includes(value)) {
    throw new WhycamError('BAD_OPTION', `Unknown ${what} '${value}'; use one of: ${allowed.join(', ')}.`);
  }
  return value as T;
}

function parseMethods(values: string[] | undefined): MethodName[] {
  if (!values) return defaultMethodNames();
  const names = values.flatMap((v) => v.split(',')).map((s) => s.trim()).filter((s) => s !== '');
  if (names.length === 0) throw new WhycamError('UNKNOWN_METHOD', `--method needs at least one of: ${methodNames().join(', ')}.`);
  const out: MethodName[] = [];
  for (const n of names) {
    if (n === 'all') return methodNames();
    if (!isMethodName(n)) {
      throw new WhycamError('UNKNOWN_METHOD', `Unknown method '${n}'; use a comma-separated list of: ${methodNames().join(', ')}.`);
    }
    if (!out.includes(n)) out.push(n);
  }
  return out;
}

/** `--option smoothgrad.samples=50`: numbers become numbers, anything else stays a string. */
function parseMethodOptions(values: string[] | undefined): ExplainArgs['methodOptions'] {
  const out: ExplainArgs['methodOptions'] = {};
  for (const v of values ?? []) {
    const m = /^([a-z][a-z0-9+-]*)\.([A-Za-z][A-Za-z0-9]*)=(.*)$/.exec(v.trim());
    if (!m) throw new WhycamError('BAD_OPTION', `--option takes method.key=value (e.g. smoothgrad.samples=50); got '${v}'.`);
    const [, method, key, raw] = m;
    if (!isMethodName(method)) throw new WhycamError('UNKNOWN_METHOD', `--option names an unknown method '${method}'; use one of: ${methodNames().join(', ')}.`);
    const num = Number(raw);
    (out[method] ??= {})[key] = raw.trim() !== '' && Number.isFinite(num) ? num : raw;
  }
  return out;
}

function parseMetrics(value: string | undefined): TrustMetric[] {
  if (value === undefined) return [];
  const names = value.split(',').map((s) => s.trim()).filter((s) => s !== '');
  if (names.includes('all')) return [...TRUST_METRICS];
  for (const n of names) {
    if (!(TRUST_METRICS as readonly string[]).includes(n)) throw new WhycamError('BAD_OPTION', `Unknown metric '${n}'; use a comma-separated list of: ${TRUST_METRICS.join(', ')} (or all).`);
  }
  if (names.length === 0) throw new WhycamError('BAD_OPTION', `--metrics needs at least one of: ${TRUST_METRICS.join(', ')}.`);
  return [...new Set(names)] as TrustMetric[];
}

function parseOpacity(value: string | undefined): number {
  if (value === undefined) return 0.5;
  const a = Number(value);
  if (value.trim() === '' || !(a >= 0 && a <= 1)) {
    throw new WhycamError('BAD_OPTION', `--opacity must be a number from 0 to 1; got '${value}'.`);
  }
  return a;
}

/**
 * Turns argv (without node and the script) into a command. Everything that can be
 * checked without the model is checked here, so a typo fails before tfjs loads.
 */
export function parseCommand(argv: string[]): Command {
  let parsed;
  try {
    parsed = parseArgs({ args: joinDashValues(argv), options: OPTIONS, allowPositionals: true, strict: true });
  } catch (e) {
    throw usageError(parseArgsMessage(e as Error));
  }
  const { values, positionals } = parsed;
  if (values.help || positionals[0] === 'help') return { kind: 'help' };
  if (values.version) return { kind: 'version' };
  const [command, ...rest] = positionals;
  if (command === undefined) throw usageError('missing command: whycam explain <image>');
  if (command === 'merge') return { kind: 'merge', args: mergeArgs(rest, values) };
  if (command !== 'explain') throw usageError(`unknown command '${command}'; the commands are: whycam explain <images>, whycam merge <outputs>`);
  if (rest.length === 0) throw usageError('explain needs an image file: whycam explain <image.png|.jpg>');

  for (const key of ['model', 'class', 'layer', 'out', 'json', 'labels'] as const) {
    if (values[key] !== undefined && values[key] === '') throw usageError(`--${key} needs a non-empty value`);
  }
  const args: ExplainArgs = {
      image: rest[0],
      model: values.model,
      class: values.class,
      methods: parseMethods(values.method),
      methodOptions: parseMethodOptions(values.option),
      metrics: parseMetrics(values.metrics),
      layer: values.layer,
      range: values.range === undefined ? undefined : oneOf('range', values.range, INPUT_RANGES, '0..1'),
      fit: oneOf('fit', values.fit, FITS, 'cover'),
      labels: values.labels,
      out: values.out ?? DEFAULT_OUT_DIR,
      json: values.json,
      backend: oneOf('backend', values.backend, BACKENDS, 'wasm'),
      colormap: oneOf('colour map', values.colormap, COLORMAP_NAMES, 'turbo'),
      opacity: parseOpacity(values.opacity),
  };
  return isBatch(rest, values) ? { kind: 'audit', args: auditArgs(args, rest, values) } : { kind: 'explain', args };
}
