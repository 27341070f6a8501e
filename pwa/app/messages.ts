/// <reference lib="dom" />
/** What the app tells the person: the alert (what went wrong, in words they can act on) and the status line. */
import { CameraError } from '../camera/camera';
import { StorageError } from '../library/store';
import { $ } from '../dom';

export function showError(message: string): void {
  const el = $('alert');
  el.textContent = message;
  el.hidden = false;
}

export function clearError(): void {
  $('alert').hidden = true;
}

export function errorMessage(e: unknown): string {
  if (e instanceof CameraError || e instanceof StorageError) return e.message;
  const code = (e as { code?: string })?.code;
  const msg = (e as Error)?.message ?? String(e);
  switch (code) {
    case 'MODEL_NOT_FOUND':
    case 'MODEL_CORRUPT':
    case 'WEIGHTS_MISMATCH':
    case 'UNSUPPORTED_LAYER':
    case 'UNSUPPORTED_MODEL':
    case 'MODEL_TOO_LARGE':
      return `The model failed to load: ${msg}`;
    case 'BAD_IMAGE':
    case 'EMPTY_IMAGE':
    case 'IMAGE_TOO_LARGE':
      return `That image cannot be used: ${msg}`;
    default:
      return msg;
  }
}

/** The status line, and the explanation's progress bar when `step` is given (0..4). */
export function status(text: string, step?: number): void {
  $('status').textContent = text;
  if (step !== undefined) ($('progress') as HTMLProgressElement).value = step;
}
