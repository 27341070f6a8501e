/**
 * A decoded image as plain pixels: no DOM types, so it crosses Node, a Worker and a page.
 * `data` is row-major, interleaved, `channels` values per pixel (1 grey, 3 RGB, 4 RGBA), 0..255.
 */
export interface ImageInput {
  data: Uint8Array | Uint8ClampedArray;
  width: number;
  height: number;
  channels: 1 | 3 | 4;
}
