/**
 * A labels file for a model without metadata.json (CLI `--labels`, the app's import): a JSON
 * array of strings, or plain text with one name per line (blank lines and surrounding spaces
 * ignored, so a trailing newline or Windows line ends do no harm). Whether the count matches the
 * model's outputs is checked once the model is loaded.
 */
import { WhycamError } from '../errors';

/** `what` names the file in the messages, e.g. "--labels names.txt" or "The labels file “names.txt”". */
export function parseLabels(text: string, what: string): string[] {
  const trimmed = text.replace(/^\uFEFF/, '').trim();
  if (trimmed.startsWith('[')) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(trimmed);
    } catch (e) {
      throw new WhycamError('BAD_OPTION', `${what} starts like a JSON array but is not valid JSON (${(e as Error).message}).`);
    }
    if (!Array.isArray(parsed) || !parsed.every((l) => typeof l === 'string')) {
      throw new WhycamError('BAD_OPTION', `${what} must be a JSON array of strings (class names in the model's output order).`);
    }
    return parsed as string[];
  }
  const names = trimmed.split(/\r?\n/).map((l) => l.trim()).filter((l) => l !== '');
  if (names.length === 0) throw new WhycamError('BAD_OPTION', `${what} holds no class names.`);
  return names;
}
