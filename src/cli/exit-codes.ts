/**
 * Exit codes of the `whycam` command, one per kind of problem, so scripts can tell
 * "fix your command line" from "this model cannot be read" without parsing text.
 */
import type { WhycamErrorCode } from '../errors';

export const EXIT = {
  OK: 0,
  /** A bug or an error whycam did not anticipate. */
  UNEXPECTED: 1,
  /** The command line: unknown flag, missing argument, bad option value, unknown method. */
  USAGE: 2,
  /** The image: missing, unreadable, not PNG/JPEG, corrupt, zero size or too large. */
  IMAGE: 3,
  /** The model: missing (including no default model), corrupt, truncated, weights that do not fit, unsupported layers, too large. */
  MODEL: 4,
  /** The request does not fit the model: unknown class or target layer. */
  REQUEST: 5,
  /** The tfjs backend did not start. */
  BACKEND: 6,
  /** An output file or directory could not be written. */
  OUTPUT: 7,
  /** A batch finished, but some images failed (each on its JSONL line and in the summary). */
  PARTIAL: 8,
  /** A batch stopped by Ctrl-C (SIGINT) after keeping what was done; 128 + SIGINT, as shells report it. */
  INTERRUPTED: 130,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** Every WhycamError code has a home, checked by the compiler (Record over the union). */
const BY_CODE: Record<WhycamErrorCode, ExitCode> = {
  BAD_OPTION: EXIT.USAGE,
  UNKNOWN_METHOD: EXIT.USAGE,
  FILE_NOT_FOUND: EXIT.IMAGE,
  BAD_IMAGE: EXIT.IMAGE,
  EMPTY_IMAGE: EXIT.IMAGE,
  IMAGE_TOO_LARGE: EXIT.IMAGE,
  INPUT_SHAPE: EXIT.IMAGE,
  MODEL_NOT_FOUND: EXIT.MODEL,
  MODEL_CORRUPT: EXIT.MODEL,
  WEIGHTS_MISMATCH: EXIT.MODEL,
  UNSUPPORTED_LAYER: EXIT.MODEL,
  UNSUPPORTED_MODEL: EXIT.MODEL,
  MODEL_TOO_LARGE: EXIT.MODEL,
  UNKNOWN_CLASS: EXIT.REQUEST,
  UNKNOWN_LAYER: EXIT.REQUEST,
  BACKEND: EXIT.BACKEND,
  CANCELLED: EXIT.UNEXPECTED,
  INTERNAL: EXIT.UNEXPECTED,
};

export function exitCodeFor(code: WhycamErrorCode): ExitCode {
  return BY_CODE[code] ?? EXIT.UNEXPECTED;
}
