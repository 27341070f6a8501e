/** `--labels <file>`: class names for a model that has no metadata.json. */
import { promises as fs } from 'fs';
import { WhycamError } from '../errors';
import { parseLabels } from '../model-files/labels';

export async function readLabels(file: string): Promise<string[]> {
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (e) {
    throw new WhycamError('BAD_OPTION', `Cannot read the labels file '${file}' (${(e as Error).message}).`);
  }
  return parseLabels(text, `--labels ${file}`);
}
