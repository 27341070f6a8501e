/**
 * WhycamError crosses a Comlink boundary intact — every code, thrown or returned — through
 * the transfer handlers worker/protocol.ts registers (here over a real MessageChannel).
 * Comlink's own handler would keep only message and name.
 */
import { MessageChannel } from 'worker_threads';
import * as Comlink from 'comlink';
import { WhycamError, type WhycamErrorCode } from '../../src/errors';
import { registerTransferHandlers, toWhycamError } from '../../worker/protocol';

const CODES = [
  'MODEL_NOT_FOUND', 'MODEL_CORRUPT', 'WEIGHTS_MISMATCH', 'UNSUPPORTED_LAYER', 'UNSUPPORTED_MODEL', 'MODEL_TOO_LARGE', 'BAD_IMAGE',
  'IMAGE_TOO_LARGE', 'EMPTY_IMAGE', 'INPUT_SHAPE', 'UNKNOWN_CLASS', 'UNKNOWN_LAYER', 'UNKNOWN_METHOD', 'BAD_OPTION',
  'BACKEND', 'CANCELLED', 'FILE_NOT_FOUND', 'INTERNAL',
] as const satisfies readonly WhycamErrorCode[];
// A new code in src/errors.ts fails type-checking here until it is listed above.
const allListed: Exclude<WhycamErrorCode, (typeof CODES)[number]> extends never ? true : false = true;

const api = {
  fail(code: WhycamErrorCode): void {
    throw new WhycamError(code, `Something about ${code} that a person can act on.`);
  },
  async failLater(code: WhycamErrorCode): Promise<void> {
    await new Promise((r) => setTimeout(r, 1));
    throw new WhycamError(code, `Later: ${code}.`);
  },
  give(code: WhycamErrorCode): WhycamError {
    return new WhycamError(code, `Returned: ${code}.`);
  },
  plain(): void {
    throw new RangeError('not ours');
  },
};

let remote: Comlink.Remote<typeof api>;
let close: () => void;

beforeAll(() => {
  registerTransferHandlers();
  const { port1, port2 } = new MessageChannel();
  Comlink.expose(api, port1 as unknown as Comlink.Endpoint);
  remote = Comlink.wrap<typeof api>(port2 as unknown as Comlink.Endpoint);
  close = () => { port1.close(); port2.close(); };
});
afterAll(() => close());

test('the list covers every code', () => {
  expect(allListed).toBe(true);
  expect(new Set(CODES).size).toBe(18);
});

test.each(CODES)('%s thrown in the worker arrives as a WhycamError with its code and message', async (code) => {
  for (const call of [() => remote.fail(code), () => remote.failLater(code)]) {
    const e = await (call() as Promise<unknown>).then(() => null, (err: unknown) => err);
    expect(e).toBeInstanceOf(WhycamError);
    expect(e).toMatchObject({ name: 'WhycamError', code });
    expect((e as Error).message).toMatch(code);
  }
});

test('a WhycamError returned as a value keeps its class and code', async () => {
  const error = await remote.give('UNKNOWN_CLASS');
  expect(error).toBeInstanceOf(WhycamError);
  expect(error.code).toBe('UNKNOWN_CLASS');
});

test("other errors still go through Comlink's own handler", async () => {
  await expect(remote.plain()).rejects.toMatchObject({ message: 'not ours', name: 'RangeError' });
});

test('toWhycamError types anything else as INTERNAL, and keeps a WhycamError as it is', () => {
  const own = new WhycamError('BAD_IMAGE', 'x');
  expect(toWhycamError(own)).toBe(own);
  expect(toWhycamError(new Error('kernel exploded'))).toMatchObject({ code: 'INTERNAL', message: expect.stringContaining('kernel exploded') });
  expect(toWhycamError({ name: 'WhycamError', code: 'EMPTY_IMAGE', message: 'm' })).toMatchObject({ code: 'EMPTY_IMAGE', message: 'm' });
});
