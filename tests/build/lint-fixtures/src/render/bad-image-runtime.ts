import { IMAGE_LIMIT } from '../image/types';

export const limit = IMAGE_LIMIT;
