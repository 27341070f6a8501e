/** `--labels <file>`: class names for a model that has no metadata.json. */
import { promises as fs } from 'fs';
import { WhycamError } from '../errors';

/**
 * A JSON array of strings, or plain text with one name per line (blank lines and surrounding
 * spaces ignored, so a trailing newline or Windows line ends do no harm). Whether the count
 * matches the model's outputs is the Explainer's check, once the model is loaded.
 */
export function parseLabels(text: string, file: string): string[] {
  const trimmed = text.replace(/^\uFEFF/, '').trim();
  if (trimmed.startsWith('[')) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(trimmed);
    } catch (e) {
      throw new WhycamError('BAD_OPTION', `--labels ${file} starts like a JSON array but is not valid JSON (${(e as Error).message}).`);
    }
    if (!Array.isArray(parsed) || !parsed.every((l) => typeof l === 'string')) {
      throw new WhycamError('BAD_OPTION', `--labels ${file} must be a JSON array of strings (class names in the model's output order).`);
    }
    return parsed as string[];
  }
  const names = trimmed.split(/\r?\n/).map((l) => l.trim()).filter((l) => l !== '');
  if (names.length === 0) throw new WhycamError('BAD_OPTION', `--labels ${file} holds no class names.`);
  return names;
}

export async function readLabels(file: string): Promise<string[]> {
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (e) {
    throw new WhycamError('BAD_OPTION', `Cannot read the labels file '${file}' (${(e as Error).message}).`);
  }
  return parseLabels(text, file);
}
