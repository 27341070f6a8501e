/**
 * A pool of worker threads (src/cli/audit/worker.ts), each with its own tfjs-backend-wasm and
 * its own copy of the model. Each worker holds one image at a time, so the images in memory are
 * never more than the workers, however long the list. A worker that dies (out of memory, a crash
 * in wasm) fails only the image it held and is replaced.
 */
import { existsSync } from 'fs';
import * as path from 'path';
import { Worker } from 'worker_threads';
import type { FromWorker, Job, SerializedError, WorkerRecord, WorkerSetup } from './protocol';

export class FatalWorkerError extends Error {
  constructor(readonly error: SerializedError) {
    super(error.message);
  }
}

interface Slot {
  worker: Worker;
  job: Job | null;
}

// In a checkout, worker.cjs runs worker.ts through tsx; in the npm package the CLI is one bundle
// in dist/cli/ with the worker built beside it (tsup.config.ts).
const WORKER_FILE = existsSync(path.join(__dirname, 'worker.ts'))
  ? path.join(__dirname, 'worker.cjs')
  : path.join(__dirname, 'audit-worker.js');

/** A replacement worker after a crash gets this many tries in a whole batch before the batch gives up. */
const MAX_RESTARTS = 8;

export class WorkerPool {
  private slots: Slot[] = [];
  private queue: Job[];
  private stopped = false;
  private restarts = 0;
  private finish!: () => void;
  private fail!: (e: Error) => void;

  constructor(
    private readonly setup: WorkerSetup,
    private readonly size: number,
    jobs: Job[],
    private readonly onResult: (record: WorkerRecord) => void,
  ) {
    this.queue = jobs;
  }

  /** Runs every job; resolves when all are done or stop() was called, rejects on a fatal error (the model, the backend). */
  run(): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.finish = resolve;
      this.fail = reject;
      const n = Math.min(this.size, this.queue.length);
      for (let i = 0; i < n; i++) this.start();
      if (this.queue.length === 0) this.settle();
    });
  }

  /** Stops handing out images and ends every worker; images in flight are dropped, finished ones are kept. */
  async stop(): Promise<void> {
    this.stopped = true;
    const slots = this.slots;
    this.slots = [];
    await Promise.all(slots.map((s) => s.worker.terminate()));
    this.finish?.();
  }

  /** Rejects run() (before anything could resolve it) and ends every worker. */
  private abort(e: Error): void {
    if (this.stopped) return;
    this.stopped = true;
    this.fail(e);
    const slots = this.slots;
    this.slots = [];
    for (const s of slots) void s.worker.terminate();
  }

  private start(): void {
    const worker = new Worker(WORKER_FILE, { workerData: this.setup, stdout: false, stderr: false });
    const slot: Slot = { worker, job: null };
    this.slots.push(slot);
    worker.on('message', (m: FromWorker) => this.onMessage(slot, m));
    worker.on('error', (e) => this.onExit(slot, e.message));
    worker.on('exit', (code) => this.onExit(slot, `exit code ${code}`));
  }

  private onMessage(slot: Slot, m: FromWorker): void {
    if (this.stopped) return;
    if (m.type === 'fatal') {
      this.abort(new FatalWorkerError(m.error));
      return;
    }
    if (m.type === 'result') {
      slot.job = null;
      this.onResult(m.record);
    }
    this.next(slot);
  }

  private next(slot: Slot): void {
    const job = this.queue.shift();
    if (!job) {
      void slot.worker.terminate();
      this.slots = this.slots.filter((s) => s !== slot);
      this.settle();
      return;
    }
    slot.job = job;
    slot.worker.postMessage(job);
  }

  private onExit(slot: Slot, why: string): void {
    if (this.stopped || !this.slots.includes(slot)) return;
    this.slots = this.slots.filter((s) => s !== slot);
    if (slot.job) {
      this.onResult({ path: slot.job.path, name: slot.job.name, ok: false, error: { code: 'INTERNAL', message: `The worker thread stopped on this image (${why}).` } });
    }
    if (this.queue.length > 0) {
      if (++this.restarts > MAX_RESTARTS) {
        this.abort(new Error(`worker threads kept stopping (${why}); gave up after ${MAX_RESTARTS} restarts`));
        return;
      }
      this.start();
    }
    this.settle();
  }

  private settle(): void {
    if (this.slots.length === 0 && (this.queue.length === 0 || this.stopped)) this.finish();
  }
}
