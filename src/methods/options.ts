/** Reading a method's own options (ExplainOptions.methodOptions) with clear errors. */
import { WhycamError } from '../errors';

export interface NumberRule {
  min: number;
  max: number;
  integer?: boolean;
}

/** The option's value, or `fallback` when absent; anything else than a number within the rule is BAD_OPTION. */
export function numberOption(options: Readonly<Record<string, unknown>>, method: string, key: string, fallback: number, rule: NumberRule): number {
  const v = options[key];
  if (v === undefined) return fallback;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < rule.min || v > rule.max || (rule.integer && !Number.isInteger(v))) {
    throw new WhycamError('BAD_OPTION', `${method}: '${key}' must be ${rule.integer ? 'an integer' : 'a number'} from ${rule.min} to ${rule.max}; got ${JSON.stringify(v)}.`);
  }
  return v;
}

/** Refuses keys a method does not know, so a typo never passes silently. */
export function onlyOptions(options: Readonly<Record<string, unknown>>, method: string, known: readonly string[]): void {
  for (const k of Object.keys(options)) {
    if (!known.includes(k)) throw new WhycamError('BAD_OPTION', `${method}: unknown option '${k}'; it takes ${known.join(', ')}.`);
  }
}
