import type { ImageInput } from '../image/types';
import { FixtureError } from '../errors';

export const check = (image: ImageInput): void => { if (!image.width) throw new FixtureError('empty'); };
