/**
 * Data-parallel training on the cores of one machine. tfjs-backend-wasm runs one thread in
 * Node, so each core gets a replica (train-replica.ts) in a worker thread. Every step, each
 * replica computes the gradient of its shard of the batch; the coordinator averages them in a
 * fixed order and sends the average back; each replica applies it with its own AdamW. The
 * result is a function of (seed, steps, batch, replicas), not of timing.
 */
import { Worker } from 'worker_threads';
import * as path from 'path';

export interface ReplicaSetup {
  seed: number;
  steps: number;
  /** Scenes per step over all replicas (a multiple of `replicas`). */
  batch: number;
  replicas: number;
  rank: number;
}

export type ReplicaRequest =
  | { type: 'gradient'; step: number }
  | { type: 'apply'; step: number; flat: Float32Array }
  | { type: 'validate'; scenes: number }
  | { type: 'weights' };

export interface NamedWeight { name: string; shape: number[]; data: Float32Array }

export type ReplicaReply =
  | { type: 'ready'; parameters: number }
  | { type: 'gradient'; step: number; loss: number; correct: number; flat: Float32Array }
  | { type: 'validate'; accuracy: number }
  | { type: 'weights'; weights: NamedWeight[] }
  | { type: 'error'; message: string };

const REPLICA = path.join(__dirname, 'train-replica.ts');

class Replica {
  private readonly worker: Worker;
  private waiting: Array<{ resolve: (r: ReplicaReply) => void; reject: (e: Error) => void }> = [];
  private failure: Error | null = null;
  readonly ready: Promise<ReplicaReply>;

  constructor(setup: ReplicaSetup) {
    const worker = new Worker(REPLICA, { execArgv: ['--require', require.resolve('tsx/cjs')], workerData: setup });
    this.worker = worker;
    worker.on('message', (m: ReplicaReply) => {
      const w = this.waiting.shift();
      if (m.type === 'error') this.fail(new Error(`training replica ${setup.rank}: ${m.message}`), w);
      else w?.resolve(m);
    });
    worker.on('error', (e) => this.fail(e, this.waiting.shift()));
    worker.on('exit', (code) => this.fail(new Error(`training replica ${setup.rank} exited (${code})`), this.waiting.shift()));
    this.ready = this.next();
  }

  private fail(e: Error, w?: { reject: (e: Error) => void }): void {
    this.failure ??= e;
    w?.reject(e);
    for (const rest of this.waiting.splice(0)) rest.reject(e);
  }

  private next(): Promise<ReplicaReply> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => this.waiting.push({ resolve, reject }));
  }

  /** Sends a request that gets a reply. */
  ask(m: ReplicaRequest): Promise<ReplicaReply> {
    const reply = this.next();
    this.worker.postMessage(m);
    return reply;
  }

  /** Sends a request that gets none (replies stay in order: the replica handles requests one by one). */
  tell(m: ReplicaRequest): void {
    this.worker.postMessage(m);
  }

  async close(): Promise<void> {
    this.failure ??= new Error('closed');
    await this.worker.terminate();
  }
}

function replyOf<T extends ReplicaReply['type']>(r: ReplicaReply, type: T): Extract<ReplicaReply, { type: T }> {
  if (r.type !== type) throw new Error(`training replica answered '${r.type}', expected '${type}'`);
  return r as Extract<ReplicaReply, { type: T }>;
}

export class ParallelTrainer {
  private constructor(private readonly replicas: Replica[], readonly parameters: number, readonly batch: number) {}

  static async start(options: { seed: number; steps: number; batch: number; replicas: number }): Promise<ParallelTrainer> {
    const { replicas: n, batch } = options;
    if (n < 1 || batch % n !== 0) throw new Error(`The batch (${batch}) must split evenly over ${n} replica(s).`);
    const replicas = Array.from({ length: n }, (_, rank) => new Replica({ ...options, rank }));
    try {
      const ready = await Promise.all(replicas.map((r) => r.ready));
      return new ParallelTrainer(replicas, replyOf(ready[0], 'ready').parameters, batch);
    } catch (e) {
      await Promise.all(replicas.map((r) => r.close()));
      throw e;
    }
  }

  /** The gradient of batch `step`'s mean loss (mean of the shards' gradients, summed in rank order), without applying it. */
  async gradient(step: number): Promise<{ loss: number; accuracy: number; flat: Float32Array }> {
    const parts = (await Promise.all(this.replicas.map((r) => r.ask({ type: 'gradient', step })))).map((r) => replyOf(r, 'gradient'));
    const flat = new Float32Array(this.parameters);
    for (const p of parts) for (let i = 0; i < flat.length; i++) flat[i] += p.flat[i];
    const k = 1 / parts.length;
    for (let i = 0; i < flat.length; i++) flat[i] *= k;
    return {
      loss: parts.reduce((a, p) => a + p.loss, 0) / parts.length,
      accuracy: parts.reduce((a, p) => a + p.correct, 0) / this.batch,
      flat,
    };
  }

  /** One optimisation step: every replica applies the same averaged gradient. */
  async step(step: number): Promise<{ loss: number; accuracy: number }> {
    const { loss, accuracy, flat } = await this.gradient(step);
    for (const r of this.replicas) r.tell({ type: 'apply', step, flat });
    return { loss, accuracy };
  }

  /** Validation accuracy of replica 0 (its batch-norm moving statistics). */
  async validate(scenes: number): Promise<number> {
    return replyOf(await this.replicas[0].ask({ type: 'validate', scenes }), 'validate').accuracy;
  }

  /**
   * The trained weights in model.weights order. Trainable weights must be identical on every
   * replica (a difference is a bug and throws); the batch-norm moving statistics, which each
   * replica tracked on its own shards, are averaged.
   */
  async weights(): Promise<NamedWeight[]> {
    const all = (await Promise.all(this.replicas.map((r) => r.ask({ type: 'weights' })))).map((r) => replyOf(r, 'weights').weights);
    return all[0].map((w, i) => {
      const moving = /moving_(mean|variance)$/.test(w.name);
      const data = new Float32Array(w.data.length);
      for (const replica of all) {
        const d = replica[i].data;
        for (let j = 0; j < data.length; j++) {
          if (!moving && d[j] !== w.data[j]) throw new Error(`replicas disagree on ${w.name}[${j}]: ${w.data[j]} vs ${d[j]}`);
          data[j] += d[j] / all.length;
        }
      }
      return { ...w, data: moving ? data : w.data };
    });
  }

  async close(): Promise<void> {
    await Promise.all(this.replicas.map((r) => r.close()));
  }
}
