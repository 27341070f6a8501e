import { WhycamError } from '../../src/errors';

/** The WhycamError code `fn` throws, undefined when it does not throw, and a message naming anything else it throws. */
export function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    return e instanceof WhycamError ? e.code : `not a WhycamError: ${String(e)}`;
  }
  return undefined;
}
