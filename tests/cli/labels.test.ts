/** `--labels <file>` parsing: a JSON array or one name a line. */
import { WhycamError } from '../../src/errors';
import { parseLabels } from '../../src/model-files/labels';

test('one name a line: CRLF, surrounding spaces, blank lines and a byte-order mark do no harm', () => {
  expect(parseLabels('\uFEFFtabby\r\n  Egyptian cat \n\nespresso\n', 'l.txt')).toEqual(['tabby', 'Egyptian cat', 'espresso']);
});

test('a JSON array of strings, kept exactly (commas and spaces inside names)', () => {
  expect(parseLabels('["T-shirt/top", "tench, Tinca tinca", " x "]', 'l.json')).toEqual(['T-shirt/top', 'tench, Tinca tinca', ' x ']);
});

test.each([
  ['["a", 2]', /JSON array of strings/],
  ['["a", ', /not valid JSON/],
  ['\n \n', /no class names/],
])('%j is a BAD_OPTION naming the file', (text, message) => {
  let err: unknown;
  try { parseLabels(text, 'names.txt'); } catch (e) { err = e; }
  expect(err).toBeInstanceOf(WhycamError);
  expect((err as WhycamError).code).toBe('BAD_OPTION');
  expect((err as WhycamError).message).toMatch(message);
  expect((err as WhycamError).message).toMatch(/names\.txt/);
});
