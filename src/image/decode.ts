import * as jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import { WhycamError } from '../errors';
import { applyOrientation, readJpegOrientation } from './orientation';
import type { ImageInput } from './types';

/**
 * Largest image `decodeImage` accepts. Checked from the file header before any pixel is decoded,
 * so a hostile or mistaken file cannot make the CLI allocate gigabytes. 50 MP covers the largest
 * phone cameras' full-resolution photos (48-50 MP); the side limit also refuses extreme strips
 * (say 100000x10) that the pixel limit alone would let through.
 */
import { IMAGE_LIMITS } from './limits';
export { IMAGE_LIMITS };

export interface DecodeOptions {
  /**
   * Rotate/flip JPEGs as their EXIF Orientation tag says (default true), as browsers and photo
   * viewers do: phone cameras store portrait photos sideways plus this tag, and the model should
   * see the photo the way the person took it.
   */
  applyExifOrientation?: boolean;
}

const SUPPORTED = 'whycam reads PNG and JPEG files';

/**
 * Decodes a PNG or JPEG file to RGBA pixels (channels 4), recognising the format from its first
 * bytes, not from a file name. 16-bit PNGs are scaled to 8 bits; grey and palette images are
 * expanded to RGBA.
 *
 * Throws WhycamError:
 * - `BAD_IMAGE`: not a PNG or JPEG (the message names the format when it recognises it), or a
 *   truncated or corrupt file;
 * - `EMPTY_IMAGE`: the header says width or height is 0;
 * - `IMAGE_TOO_LARGE`: a side over `IMAGE_LIMITS.maxSide` or more than `IMAGE_LIMITS.maxPixels`.
 */
export function decodeImage(bytes: Uint8Array, options: DecodeOptions = {}): ImageInput {
  if (bytes.length === 0) {
    throw new WhycamError('BAD_IMAGE', `The file is empty (0 bytes); ${SUPPORTED}.`);
  }
  const format = sniffFormat(bytes);
  if (format === 'png') return decodePng(bytes);
  if (format === 'jpeg') return decodeJpeg(bytes, options.applyExifOrientation ?? true);
  const hint = format === 'unknown' ? 'It is not an image format whycam recognises' : `It looks like a ${format} file`;
  throw new WhycamError('BAD_IMAGE', `${hint}; ${SUPPORTED}. Convert it to PNG or JPEG first.`);
}

type Format = 'png' | 'jpeg' | 'GIF' | 'WebP' | 'BMP' | 'TIFF' | 'HEIC/HEIF' | 'AVIF' | 'PDF' | 'SVG/XML' | 'unknown';

function startsWith(bytes: Uint8Array, sig: ArrayLike<number>, at = 0): boolean {
  if (bytes.length < at + sig.length) return false;
  for (let i = 0; i < sig.length; i++) if (bytes[at + i] !== sig[i]) return false;
  return true;
}

const ascii = (s: string) => Array.from(s, (ch) => ch.charCodeAt(0));

/** Magic bytes; the non-supported formats are recognised only to say what the file is. */
function sniffFormat(b: Uint8Array): Format {
  if (startsWith(b, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) return 'png';
  if (startsWith(b, [0xff, 0xd8, 0xff])) return 'jpeg';
  if (startsWith(b, ascii('GIF8'))) return 'GIF';
  if (startsWith(b, ascii('RIFF')) && startsWith(b, ascii('WEBP'), 8)) return 'WebP';
  if (startsWith(b, ascii('BM'))) return 'BMP';
  if (startsWith(b, [0x49, 0x49, 0x2a, 0x00]) || startsWith(b, [0x4d, 0x4d, 0x00, 0x2a])) return 'TIFF';
  if (startsWith(b, ascii('ftyp'), 4)) {
    const brand = String.fromCharCode(...b.subarray(8, 12));
    if (brand === 'avif' || brand === 'avis') return 'AVIF';
    if (['heic', 'heix', 'hevc', 'hevx', 'mif1', 'msf1'].includes(brand)) return 'HEIC/HEIF';
  }
  if (startsWith(b, ascii('%PDF'))) return 'PDF';
  // Text starting with '<' after optional whitespace or a UTF-8 byte-order mark.
  const skippable = new Set([0x20, 0x09, 0x0a, 0x0d, 0xef, 0xbb, 0xbf]);
  let i = 0;
  while (i < b.length && i < 64 && skippable.has(b[i])) i++;
  if (b[i] === 0x3c) return 'SVG/XML';
  return 'unknown';
}

function checkSize(width: number, height: number, format: string): void {
  if (width === 0 || height === 0) {
    throw new WhycamError('EMPTY_IMAGE', `The ${format} header says the image is ${width}x${height} pixels: it has no pixels to explain.`);
  }
  if (width > IMAGE_LIMITS.maxSide || height > IMAGE_LIMITS.maxSide || width * height > IMAGE_LIMITS.maxPixels) {
    throw new WhycamError(
      'IMAGE_TOO_LARGE',
      `The ${format} is ${width}x${height} pixels (${(width * height / 1e6).toFixed(1)} MP); whycam accepts at most ` +
        `${IMAGE_LIMITS.maxSide} pixels a side and ${IMAGE_LIMITS.maxPixels / 1e6} MP. Scale it down first ` +
        '(the model sees a small square anyway, e.g. 224x224).',
    );
  }
}

function corrupt(format: string, e: unknown): WhycamError {
  const detail = e instanceof Error ? e.message : String(e);
  return new WhycamError('BAD_IMAGE', `Could not decode the ${format}: the file looks truncated or corrupt (${detail}).`, {
    cause: e,
  });
}

function u32be(b: Uint8Array, at: number): number {
  return ((b[at] << 24) >>> 0) + (b[at + 1] << 16) + (b[at + 2] << 8) + b[at + 3];
}

function decodePng(bytes: Uint8Array): ImageInput {
  // IHDR is always the first chunk: length(4) "IHDR"(4) width(4) height(4) ...
  if (bytes.length < 33 || !startsWith(bytes, ascii('IHDR'), 12)) {
    throw corrupt('PNG', new Error('no IHDR header'));
  }
  checkSize(u32be(bytes, 16), u32be(bytes, 20), 'PNG');
  let png: { width: number; height: number; data: Buffer };
  try {
    png = PNG.sync.read(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length));
  } catch (e) {
    throw corrupt('PNG', e);
  }
  return { data: ownBytes(png.data), width: png.width, height: png.height, channels: 4 };
}

/**
 * A Uint8Array that owns its whole ArrayBuffer, so a caller can transfer `.buffer` to a worker
 * without shipping (or detaching) unrelated memory from Node's Buffer pool.
 */
function ownBytes(buf: Uint8Array): Uint8Array {
  if (buf.byteOffset === 0 && buf.buffer.byteLength === buf.length) {
    return new Uint8Array(buf.buffer);
  }
  return new Uint8Array(buf);
}

/** Reads the frame size from the first SOFn marker without decoding. */
function jpegSize(b: Uint8Array): { width: number; height: number } {
  let at = 2;
  while (at + 4 <= b.length) {
    if (b[at] !== 0xff) throw corrupt('JPEG', new Error(`expected a marker at offset ${at}`));
    const marker = b[at + 1];
    if (marker === 0xff) {
      at++; // fill byte
      continue;
    }
    if (marker === 0x01 || (marker >= 0xd0 && marker <= 0xd8)) {
      at += 2; // markers without a length
      continue;
    }
    const length = (b[at + 2] << 8) | b[at + 3];
    const isSof = marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;
    if (isSof) {
      if (at + 9 > b.length) break;
      return { height: (b[at + 5] << 8) | b[at + 6], width: (b[at + 7] << 8) | b[at + 8] };
    }
    if (marker === 0xda || marker === 0xd9) throw corrupt('JPEG', new Error('no frame header before the image data'));
    at += 2 + length;
  }
  throw corrupt('JPEG', new Error('the file ends before the frame header'));
}

function decodeJpeg(bytes: Uint8Array, orient: boolean): ImageInput {
  const { width, height } = jpegSize(bytes);
  checkSize(width, height, 'JPEG');
  let decoded: { width: number; height: number; data: Uint8Array };
  try {
    decoded = jpeg.decode(bytes, {
      useTArray: true,
      formatAsRGBA: true,
      // Our own header check above is the one that speaks; these only back it up inside jpeg-js,
      // which holds roughly 20 bytes per pixel while decoding (so 50 MP needs about 1 GB).
      maxResolutionInMP: IMAGE_LIMITS.maxPixels / 1e6,
      maxMemoryUsageInMB: 2048,
    });
  } catch (e) {
    const message = e instanceof Error ? e.message : '';
    if (/maxResolutionInMP|maxMemoryUsageInMB|allocate enough memory/.test(message)) {
      throw new WhycamError('IMAGE_TOO_LARGE', `The JPEG needs too much memory to decode (${message}).`, { cause: e });
    }
    throw corrupt('JPEG', e);
  }
  if (decoded.data.length !== decoded.width * decoded.height * 4) {
    throw corrupt('JPEG', new Error('decoder returned a wrong-sized pixel buffer'));
  }
  const image: ImageInput = { data: ownBytes(decoded.data), width: decoded.width, height: decoded.height, channels: 4 };
  const orientation = orient ? readJpegOrientation(bytes) : 1;
  return orientation === 1 ? image : applyOrientation(image, orientation);
}
