import { WhycamError } from '../errors';

function isSize(v: number): boolean {
  return Number.isInteger(v) && v >= 0;
}

/** Checks that a flat array really holds width x height x channels values, so loops never read past it. */
export function checkMapShape(length: number, width: number, height: number, channels: number, what: string): void {
  if (!isSize(width) || !isSize(height) || !Number.isInteger(channels) || channels < 1) {
    throw new WhycamError(
      'INPUT_SHAPE',
      `The ${what} has an invalid shape ${width}x${height}x${channels}: width and height must be ` +
        'whole numbers >= 0 and channels a whole number >= 1.',
    );
  }
  if (length !== width * height * channels) {
    throw new WhycamError(
      'INPUT_SHAPE',
      `The ${what} holds ${length} values, but ${width}x${height}x${channels} needs ${width * height * channels}.`,
    );
  }
}
