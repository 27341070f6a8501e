/**
 * The worker for Node's worker_threads (tests, benchmarks): the same service as in a
 * browser, on tfjs-backend-wasm as Node runs it (SIMD, one thread), decoding image
 * files with the engine's decoder (sharp). `workerData.backend` picks 'wasm' (default)
 * or 'cpu'. Start it with tsx's hook: new Worker(path, { execArgv: ['--require', 'tsx/cjs'] }).
 */
import { parentPort, workerData } from 'worker_threads';
import * as Comlink from 'comlink';
import nodeEndpoint from 'comlink/dist/umd/node-adapter';
import { useBackend, type BackendName } from '../src/backend';
import { decodeImage } from '../src/image';
import { runningBackend } from './backend-info';
import { readBlob } from './image';
import { registerTransferHandlers } from './protocol';
import { WhycamService } from './service';

if (!parentPort) throw new Error('worker/entry.node.ts runs inside a worker_threads Worker.');

registerTransferHandlers();

const backend = ((workerData as { backend?: BackendName } | null)?.backend ?? 'wasm') as BackendName;

const service = new WhycamService({
  async startBackend() {
    await useBackend(backend);
    return runningBackend();
  },
  decoders: {
    decodeFile: async (blob) => decodeImage(await readBlob(blob, 'image file', 'BAD_IMAGE')),
  },
});

Comlink.expose(service, nodeEndpoint(parentPort));
