import { PNG } from 'pngjs';
import { WhycamError } from '../errors';

/**
 * Encodes RGBA pixels (row-major, 4 bytes a pixel) as an 8-bit RGBA PNG. Lossless, so a saved
 * overlay keeps the exact colours of the colour map.
 */
export function encodePng(rgba: Uint8ClampedArray | Uint8Array, width: number, height: number): Uint8Array {
  if (width === 0 || height === 0) {
    throw new WhycamError('EMPTY_IMAGE', `Cannot write a ${width}x${height} PNG: it has no pixels.`);
  }
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 0 || height < 0) {
    throw new WhycamError('BAD_OPTION', `PNG width and height must be whole numbers >= 1; got ${width}x${height}.`);
  }
  if (rgba.length !== width * height * 4) {
    throw new WhycamError(
      'INPUT_SHAPE',
      `encodePng needs width x height x 4 = ${width * height * 4} RGBA bytes; got ${rgba.length}.`,
    );
  }
  const png = new PNG({ width, height });
  // pngjs wants a Buffer; a view over the caller's memory avoids a copy (it is only read).
  png.data = Buffer.from(rgba.buffer, rgba.byteOffset, rgba.length);
  const out = PNG.sync.write(png, { colorType: 6 });
  return new Uint8Array(out.buffer, out.byteOffset, out.length);
}
