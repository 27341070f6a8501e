/**
 * startWhycamWorker: a worker whose best binary fails is started again once, capped at the
 * fallback binary (its URL fragment says which); a URL that already names one, or no fallback,
 * fails with the worker's BACKEND error. Node workers stand in for browser ones: the first start
 * gets a backend that cannot start.
 */
import { WhycamError } from '../../src/errors';
import { startWhycamWorker } from '../../worker/client';
import { settle, startNodeWorker, type NodeWorker } from './helpers';

const started: NodeWorker[] = [];
const exited: string[] = [];
/** A URL without a fragment starts a broken worker, one with `#binary=` a working one. */
function create(url: string) {
  const w = startNodeWorker(url.includes('#binary=') ? 'wasm' : 'no-such-backend');
  w.worker.once('exit', () => exited.push(url));
  started.push(w);
  return w.worker;
}
afterAll(async () => { await Promise.all(started.map((w) => w.close())); });

test('the best binary fails: started again at #binary=simd, told why, and the first worker is ended', async () => {
  const urls: string[] = [];
  const reasons: WhycamError[] = [];
  const { client, backend } = await startWhycamWorker('worker.js', { create: (u) => { urls.push(u); return create(u); }, onFallback: (e) => reasons.push(e) });
  expect(urls).toEqual(['worker.js', 'worker.js#binary=simd']);
  expect(reasons).toHaveLength(1);
  expect(reasons[0]).toBeInstanceOf(WhycamError);
  expect(reasons[0].code).toBe('BACKEND');
  expect(backend.backend).toBe('wasm');
  expect(await client.backendInfo()).toEqual(backend);
  // The first worker was terminated (its thread exits), the second runs on.
  for (let i = 0; i < 50 && !exited.includes('worker.js'); i++) await new Promise((r) => setTimeout(r, 100));
  expect(exited).toEqual(['worker.js']);
  await client.dispose();
});

test('a URL with a fragment, or no fallback, is started once and its error reported', async () => {
  for (const [url, fallback] of [['worker.js#threads=2', undefined], ['worker.js', null]] as const) {
    const urls: string[] = [];
    const r = await settle(startWhycamWorker(url, { fallback, create: (u) => { urls.push(u); return create(u); }, onFallback: () => { throw new Error('no fallback expected'); } }));
    if (r.ok) throw new Error(`${url} started`);
    expect(r.error).toBeInstanceOf(WhycamError);
    expect(r.error.code).toBe('BACKEND');
    expect(urls).toEqual([url]);
  }
});
