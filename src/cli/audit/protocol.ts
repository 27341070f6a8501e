/** Messages between the batch's main thread and its worker threads. */
import type { AuditArgs } from './args';
import type { AuditRecord } from './record';

export interface WorkerSetup {
  args: AuditArgs;
  /** The model's location (resolved default included). */
  location: string;
}

export interface Job {
  type: 'job';
  path: string;
  name: string;
}

/** What a worker knows of an image; the main thread adds the model, the truth and whether it is correct. */
export type WorkerRecord = Omit<AuditRecord, 'model' | 'truth' | 'correct'>;

export interface SerializedError {
  code: string;
  message: string;
}

export type FromWorker =
  | { type: 'ready' }
  | { type: 'fatal'; error: SerializedError }
  | { type: 'result'; record: WorkerRecord };
