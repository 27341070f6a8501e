/** Image files in Node: decode (sharp: libvips with libjpeg-turbo and libpng), encode (pngjs), resize. Node-side (uses Buffer). */
export type { ImageInput } from './types';
export { decodeImage, IMAGE_LIMITS } from './decode';
export type { DecodeOptions } from './decode';
export { encodePng } from './encode';
export { resizeImage } from './resize';
export { applyOrientation, readJpegOrientation } from './orientation';
export type { Orientation } from './orientation';
