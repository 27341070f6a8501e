/**
 * Typed errors. Each has a stable `code` that survives serialisation (the worker
 * boundary, the CLI's one-line message) and a message a person can act on.
 */
export type WhycamErrorCode =
  | 'MODEL_NOT_FOUND'
  | 'MODEL_CORRUPT'
  | 'WEIGHTS_MISMATCH'
  | 'UNSUPPORTED_LAYER'
  | 'UNSUPPORTED_MODEL'
  /** The model is larger than the load allows (weights over the cap, a zip that inflates too far, absurd shapes): refused before it is read. */
  | 'MODEL_TOO_LARGE'
  | 'BAD_IMAGE'
  | 'IMAGE_TOO_LARGE'
  | 'EMPTY_IMAGE'
  | 'INPUT_SHAPE'
  | 'UNKNOWN_CLASS'
  | 'UNKNOWN_LAYER'
  | 'UNKNOWN_METHOD'
  | 'BAD_OPTION'
  | 'BACKEND'
  | 'CANCELLED'
  | 'FILE_NOT_FOUND'
  /** Anything unexpected (a tfjs or runtime failure): a bug or an exhausted resource, not bad input. */
  | 'INTERNAL';

export class WhycamError extends Error {
  readonly code: WhycamErrorCode;
  constructor(code: WhycamErrorCode, message: string, options?: { cause?: unknown }) {
    super(message);
    this.name = 'WhycamError';
    this.code = code;
    if (options?.cause !== undefined) (this as { cause?: unknown }).cause = options.cause;
  }

  /** Plain object form for postMessage / JSON. */
  toJSON(): { name: string; code: WhycamErrorCode; message: string } {
    return { name: this.name, code: this.code, message: this.message };
  }

  static fromJSON(o: { code: WhycamErrorCode; message: string }): WhycamError {
    return new WhycamError(o.code, o.message);
  }
}

export function isWhycamError(e: unknown): e is WhycamError {
  return e instanceof WhycamError;
}
