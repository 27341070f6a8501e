import { decodeImage } from '../image/decode';

export const decode = decodeImage;
