/**
 * The widget's postMessage protocol, version 1: the messages a host page and the whycam widget
 * (an iframe) exchange, the validator every incoming host message goes through, and the origin
 * allowlist. Pure TypeScript: no DOM, no tfjs, no side effects (unit-tested in Node,
 * tests/widget/protocol.test.ts; bundled into the widget page and, in part, into embed.js).
 *
 * Every message is a plain object `{ whycam: 1, type, id, ... }`. `id` (a host-chosen string)
 * correlates answers with requests. Host -> widget: `hello`, `explain`, `cancel`, `camera`.
 * Widget -> host: `ready`, `stage` (one per pipeline stage), `done`, `camera`, `error`.
 * Unknown fields are refused (BAD_MESSAGE), so a typo in an option never passes silently.
 */
import type { WhycamErrorCode } from '../../src/errors';
import { isMethodName, methodNames } from '../../src/methods/registry';
import type { MapStageName, MethodName, SaliencyMap } from '../../src/methods/types';

export const PROTOCOL_VERSION = 1 as const;

export type { MethodName };
export type StageName = 'prediction' | MapStageName;

/** The engine's error codes, plus the protocol's own. */
export type ProtocolErrorCode =
  | WhycamErrorCode
  /** Not a valid message of this version: missing or wrong-typed field, unknown type or field. */
  | 'BAD_MESSAGE'
  /** `whycam` is not a version this widget speaks (the answer lists the ones it does). */
  | 'UNSUPPORTED_VERSION'
  /** The image is larger than the widget accepts (bytes of a Blob, pixels of an ImageBitmap). */
  | 'PAYLOAD_TOO_LARGE'
  /** The host page did not grant the camera (`allow="camera"`), or the person refused it. */
  | 'CAMERA_BLOCKED'
  /** No camera, camera busy, or none started before `capture`. */
  | 'CAMERA_UNAVAILABLE';

/** Options of an explanation, as the host sends them. */
export interface ExplainRequestOptions {
  /** Absolute http(s) URL of a tfjs layers model.json (CORS-readable by the widget's origin), or 'default'. */
  model?: string;
  /** Class to explain: index or label. Default: the top prediction. */
  class?: number | string;
  /** Methods to compute (registered names). Default: the default methods (the five built-ins). */
  methods?: MethodName[];
  /** How many predictions to report (1..100). Default 5. */
  topK?: number;
}

export type HelloMessage = { whycam: 1; type: 'hello'; id: string; model?: string };
export type ExplainMessage = { whycam: 1; type: 'explain'; id: string; image: ImageBitmap | Blob; options: ExplainRequestOptions };
/** Cancels the explanation with this id (it ends with an `error` CANCELLED). */
export type CancelMessage = { whycam: 1; type: 'cancel'; id: string };
export type CameraAction = 'start' | 'stop' | 'capture';
/** Camera inside the widget: start/stop it, or explain the current frame (answered like `explain`). */
export type CameraMessage = { whycam: 1; type: 'camera'; id: string; action: CameraAction; options: ExplainRequestOptions };
export type HostMessage = HelloMessage | ExplainMessage | CancelMessage | CameraMessage;
export type HostMessageType = HostMessage['type'];
export const HOST_MESSAGE_TYPES: readonly HostMessageType[] = ['hello', 'explain', 'cancel', 'camera'];

/** A map as it crosses: the raw signed values (row-major HWC), transferred. */
export type WireMap = Omit<SaliencyMap, 'ms'>;

export interface WidgetInfo {
  protocol: 1;
  model: { name: string; labels: string[]; input: { width: number; height: number; channels: number } };
  backend: { binary: string | null; threads: number; crossOriginIsolated: boolean };
  /** Whether the host granted the camera (`allow="camera"`). */
  camera: boolean;
  limits: WidgetLimits;
}

export interface Prediction { index: number; label: string; probability: number }

/** The first answer to a hello from an allowed origin, sent at once: the widget is there and starting (ready follows). */
export type AcceptedMessage = { whycam: 1; type: 'accepted'; id: string };
export type ReadyMessage = { whycam: 1; type: 'ready'; id: string; widget: WidgetInfo };
/** The rectangle of the image (in its pixels) that the model's whole input covers: where a map belongs. */
export interface WireRegion { x: number; y: number; width: number; height: number }

export type PredictionStageMessage = {
  whycam: 1; type: 'stage'; id: string; stage: 'prediction'; predictions: Prediction[]; classIndex: number; elapsedMs: number; ms: number;
  /** How the image was fitted to the model's input ('cover': centre crop) and the part of it the model saw. */
  fit: 'cover' | 'contain' | 'stretch'; region: WireRegion;
};
export type MapStageMessage = {
  whycam: 1; type: 'stage'; id: string; stage: Exclude<StageName, 'prediction'>;
  maps: Partial<Record<MethodName, WireMap>>; skipped: Partial<Record<MethodName, string>>; elapsedMs: number; ms: number;
};
export type StageMessage = PredictionStageMessage | MapStageMessage;
export type DoneMessage = {
  whycam: 1; type: 'done'; id: string; predictions: Prediction[]; classIndex: number;
  fit: 'cover' | 'contain' | 'stretch'; region: WireRegion;
  stages: Array<{ stage: StageName; elapsedMs: number; ms: number }>;
};
export type CameraStateMessage = { whycam: 1; type: 'camera'; id: string; state: 'on' | 'off' };
/** `id` is null when the request's own id was unusable. */
export type ErrorMessage = { whycam: 1; type: 'error'; id: string | null; code: ProtocolErrorCode; message: string; supported?: number[] };
export type WidgetMessage = AcceptedMessage | ReadyMessage | StageMessage | DoneMessage | CameraStateMessage | ErrorMessage;

export interface WidgetLimits {
  /** Largest Blob accepted, in bytes. */
  maxImageBytes: number;
  /** Largest ImageBitmap accepted, in pixels (width x height). */
  maxImagePixels: number;
}

export const DEFAULT_LIMITS: WidgetLimits = { maxImageBytes: 16 * 1024 * 1024, maxImagePixels: 16 * 1024 * 1024 };

const MAX_ID = 64;
const ID = /^[A-Za-z0-9_.:-]+$/;
const MAX_URL = 2048;
const MAX_LABEL = 256;

export type Validation =
  | { ok: true; message: HostMessage }
  /** `reply` is null for data that is not a whycam message at all: it gets no answer. */
  | { ok: false; reply: ErrorMessage | null };

const tag = (v: unknown): string => Object.prototype.toString.call(v);
const isBlob = (v: unknown): v is Blob => tag(v) === '[object Blob]' || tag(v) === '[object File]';
const isBitmap = (v: unknown): v is ImageBitmap => tag(v) === '[object ImageBitmap]';
const isPlainObject = (v: unknown): v is Record<string, unknown> => {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
};

export function errorMessage(id: string | null, code: ProtocolErrorCode, message: string): ErrorMessage {
  return { whycam: PROTOCOL_VERSION, type: 'error', id, code, message };
}

export function isValidId(id: unknown): id is string {
  return typeof id === 'string' && id.length > 0 && id.length <= MAX_ID && ID.test(id);
}

class Invalid extends Error {
  constructor(readonly code: ProtocolErrorCode, message: string) {
    super(message);
  }
}

function bad(message: string): never {
  throw new Invalid('BAD_MESSAGE', message);
}

function onlyKeys(o: Record<string, unknown>, allowed: readonly string[], what: string): void {
  for (const k of Object.keys(o)) if (!allowed.includes(k)) bad(`${what} has an unknown field '${k.slice(0, 40)}' (allowed: ${allowed.join(', ')}).`);
}

/** 'default', or an absolute http(s) URL. */
function checkModel(v: unknown, what: string): string {
  if (typeof v !== 'string' || v.length === 0 || v.length > MAX_URL) bad(`${what} must be 'default' or a model.json URL of at most ${MAX_URL} characters.`);
  if (v === 'default') return v;
  let url: URL;
  try {
    url = new URL(v);
  } catch {
    return bad(`${what} must be 'default' or an absolute URL; got '${v.slice(0, 80)}'.`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') bad(`${what} must be an http(s) URL; got ${url.protocol}.`);
  return v;
}

function checkOptions(v: unknown): ExplainRequestOptions {
  if (v === undefined) return {};
  if (!isPlainObject(v)) bad('options must be an object.');
  onlyKeys(v, ['model', 'class', 'methods', 'topK'], 'options');
  const out: ExplainRequestOptions = {};
  if (v.model !== undefined) out.model = checkModel(v.model, 'options.model');
  if (v.class !== undefined) {
    const c = v.class;
    if (typeof c === 'number') {
      if (!Number.isInteger(c) || c < 0) bad(`options.class must be a class index (an integer >= 0) or a label; got ${c}.`);
    } else if (typeof c !== 'string' || c.length === 0 || c.length > MAX_LABEL) {
      bad(`options.class must be a class index or a label of 1..${MAX_LABEL} characters.`);
    }
    out.class = c;
  }
  if (v.methods !== undefined) {
    const m = v.methods;
    const known = methodNames();
    if (!Array.isArray(m) || m.length === 0 || m.length > known.length) bad(`options.methods must be a non-empty array of: ${known.join(', ')}.`);
    for (const x of m) if (!isMethodName(x)) bad(`options.methods: unknown method '${String(x).slice(0, 40)}' (known: ${known.join(', ')}).`);
    if (new Set(m).size !== m.length) bad('options.methods lists a method twice.');
    out.methods = [...(m as MethodName[])];
  }
  if (v.topK !== undefined) {
    const k = v.topK;
    if (typeof k !== 'number' || !Number.isInteger(k) || k < 1 || k > 100) bad('options.topK must be an integer from 1 to 100.');
    out.topK = k;
  }
  return out;
}

function checkImage(v: unknown, limits: WidgetLimits): ImageBitmap | Blob {
  if (isBlob(v)) {
    if (v.size > limits.maxImageBytes) {
      throw new Invalid('PAYLOAD_TOO_LARGE', `The image file is ${v.size} bytes; this widget accepts at most ${limits.maxImageBytes}. Scale it down first.`);
    }
    return v;
  }
  if (isBitmap(v)) {
    const { width, height } = v as { width: unknown; height: unknown };
    if (typeof width !== 'number' || typeof height !== 'number') bad('image is an ImageBitmap without a size.');
    if (width * height > limits.maxImagePixels) {
      throw new Invalid('PAYLOAD_TOO_LARGE', `The image is ${width}x${height} pixels; this widget accepts at most ${limits.maxImagePixels} pixels. Scale it down first.`);
    }
    return v;
  }
  return bad(`image must be an ImageBitmap (transferred) or a Blob; got ${v === null ? 'null' : tag(v).slice(8, -1)}.`);
}

/**
 * Validates one message from a host (already known to come from an allowed origin). Data that
 * does not carry the `whycam` field is not ours (another script's message): no answer. A whycam
 * message of another version gets UNSUPPORTED_VERSION; any other defect BAD_MESSAGE or
 * PAYLOAD_TOO_LARGE, answered with the request's id when that id is usable, else with id null.
 */
export function validateHostMessage(data: unknown, limits: WidgetLimits = DEFAULT_LIMITS): Validation {
  if (!isPlainObject(data) || !('whycam' in data)) return { ok: false, reply: null };
  const id = isValidId(data.id) ? data.id : null;
  if (data.whycam !== PROTOCOL_VERSION) {
    const reply = errorMessage(id, 'UNSUPPORTED_VERSION', `This widget speaks whycam protocol version ${PROTOCOL_VERSION}; the message says ${JSON.stringify(data.whycam)?.slice(0, 20)}.`);
    reply.supported = [PROTOCOL_VERSION];
    return { ok: false, reply };
  }
  try {
    if (id === null) bad(`id must be a string of 1..${MAX_ID} letters, digits or _ . : -`);
    const type = data.type;
    if (typeof type !== 'string' || !HOST_MESSAGE_TYPES.includes(type as HostMessageType)) {
      bad(`type must be one of ${HOST_MESSAGE_TYPES.join(', ')}; got ${JSON.stringify(type)?.slice(0, 40)}.`);
    }
    switch (type as HostMessageType) {
      case 'hello': {
        onlyKeys(data, ['whycam', 'type', 'id', 'model'], 'hello');
        const m: HelloMessage = { whycam: 1, type: 'hello', id };
        if (data.model !== undefined) m.model = checkModel(data.model, 'model');
        return { ok: true, message: m };
      }
      case 'explain': {
        onlyKeys(data, ['whycam', 'type', 'id', 'image', 'options'], 'explain');
        if (data.image === undefined) bad('explain needs an image (an ImageBitmap or a Blob).');
        const image = checkImage(data.image, limits);
        return { ok: true, message: { whycam: 1, type: 'explain', id, image, options: checkOptions(data.options) } };
      }
      case 'cancel':
        onlyKeys(data, ['whycam', 'type', 'id'], 'cancel');
        return { ok: true, message: { whycam: 1, type: 'cancel', id } };
      case 'camera': {
        onlyKeys(data, ['whycam', 'type', 'id', 'action', 'options'], 'camera');
        const action = data.action;
        if (action !== 'start' && action !== 'stop' && action !== 'capture') bad("camera action must be 'start', 'stop' or 'capture'.");
        if (action !== 'capture' && data.options !== undefined) bad('camera options are for capture only.');
        return { ok: true, message: { whycam: 1, type: 'camera', id, action, options: checkOptions(data.options) } };
      }
    }
  } catch (e) {
    if (e instanceof Invalid) return { ok: false, reply: errorMessage(id, e.code, e.message) };
    throw e;
  }
  return { ok: false, reply: errorMessage(id, 'BAD_MESSAGE', 'Unreachable.') };
}

// ------------------------------------------------------------------ origins

/**
 * An allowlist rule: an exact origin (`https://course.example.org`, `http://localhost:8080`), an
 * origin with any port, the default one included (`http://localhost:*`; host names in ASCII/punycode), or `*` (any origin: a public widget). Never
 * matches the opaque origin 'null' (sandboxed frames, file:).
 */
export function parseOriginRule(rule: string): string {
  const r = rule.trim();
  if (r === '*') return r;
  const m = /^(https?):\/\/([a-z0-9.-]+|\[[0-9a-f:]+\])(:(\d{1,5}|\*))?\/?$/i.exec(r);
  if (!m) throw new Error(`'${rule}' is not an origin (scheme://host[:port], with :* for any port) or '*'.`);
  if (m[4] === '*') return `${m[1].toLowerCase()}://${m[2].toLowerCase()}:*`;
  // new URL normalises the default port away and lower-cases the host.
  return new URL(`${m[1]}://${m[2]}${m[3] ?? ''}`).origin;
}

export function originAllowed(origin: string, rules: readonly string[]): boolean {
  if (!origin || origin === 'null') return false;
  let url: URL;
  try {
    url = new URL(origin);
  } catch {
    return false;
  }
  if (url.origin !== origin) return false;
  for (const rule of rules) {
    if (rule === '*' || rule === origin) return true;
    if (rule.endsWith(':*') && `${url.protocol}//${url.hostname}:*` === rule) return true;
  }
  return false;
}

/**
 * What the page's own URL may do to the configured allowlist: narrow it, never widen it. The
 * widget URL's fragment `#origins=a,b` keeps only those exact origins, and only those the
 * configuration allows; without the parameter the configuration stands.
 */
export function narrowRules(configured: readonly string[], requested: string | null): string[] {
  if (requested === null) return [...configured];
  const out: string[] = [];
  for (const part of requested.split(',')) {
    let origin: string;
    try {
      origin = parseOriginRule(part);
    } catch {
      continue;
    }
    if (origin === '*' || origin.endsWith(':*')) continue; // narrowing names exact origins only
    if (originAllowed(origin, configured) && !out.includes(origin)) out.push(origin);
  }
  return out;
}

/** The deploy-time widget configuration, emitted as widget/widget-config.json. */
export interface WidgetConfig {
  allowedOrigins: string[];
  limits: WidgetLimits;
}

/** Localhost on any port, over http and https: the default when the deployer names no origins. */
export const LOCALHOST_RULES: readonly string[] = [
  'http://localhost:*', 'https://localhost:*', 'http://127.0.0.1:*', 'https://127.0.0.1:*', 'http://[::1]:*', 'https://[::1]:*',
];

/** WHYCAM_WIDGET_ORIGINS (comma- or space-separated rules) -> the config; unset means localhost only. Throws on a bad rule. */
export function widgetConfigFrom(env: string | undefined): WidgetConfig {
  const rules = env && env.trim() ? env.split(/[\s,]+/).filter(Boolean).map(parseOriginRule) : [...LOCALHOST_RULES];
  return { allowedOrigins: [...new Set(rules)], limits: { ...DEFAULT_LIMITS } };
}

/**
 * The widget page's `Content-Security-Policy: frame-ancestors` for an allowlist, so that a page
 * off the list cannot frame the widget at all. The widget's own origin may ('self': the demo
 * page). IPv6 literals have no CSP source syntax and are left out (framing from them is refused).
 */
export function frameAncestors(rules: readonly string[]): string {
  // Only well-formed origins reach the header: a stray ';' or newline in a deployer's config would
  // add directives or break the response.
  const valid = rules.flatMap((r) => {
    try {
      return [parseOriginRule(r)];
    } catch {
      return [];
    }
  });
  if (valid.includes('*')) return 'frame-ancestors *';
  const sources = valid.filter((r) => !r.includes('['));
  return ['frame-ancestors', "'self'", ...sources].join(' ');
}
