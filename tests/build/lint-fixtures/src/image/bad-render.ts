import { check } from '../render/ok-image-type';

export const checked = check;
