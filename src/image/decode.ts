import sharp from 'sharp';
import { WhycamError } from '../errors';
import { checkImageLimits, IMAGE_LIMITS } from './limits';
import type { ImageInput } from './types';

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
 * bytes, not from a file name. The pixels come from sharp (libvips with libjpeg-turbo and
 * libpng), the decoders browsers use, so a photo gives the CLI the pixels it gives the app:
 * embedded colour profiles converted to sRGB, 16-bit PNGs scaled to 8 bits, grey and palette
 * images expanded to RGBA.
 *
 * Rejects with WhycamError:
 * - `BAD_IMAGE`: not a PNG or JPEG (the message names the format when it recognises it), or a
 *   truncated or corrupt file;
 * - `EMPTY_IMAGE`: the header says width or height is 0;
 * - `IMAGE_TOO_LARGE`: a side over `IMAGE_LIMITS.maxSide` or more than `IMAGE_LIMITS.maxPixels`,
 *   checked from the header before any pixel is decoded.
 */
export async function decodeImage(bytes: Uint8Array, options: DecodeOptions = {}): Promise<ImageInput> {
  if (bytes.length === 0) {
    throw new WhycamError('BAD_IMAGE', `The file is empty (0 bytes); ${SUPPORTED}.`);
  }
  const format = sniffFormat(bytes);
  if (format === 'png') {
    checkSize(pngSize(bytes), 'PNG');
    checkPngEnd(bytes);
    return decodePixels(bytes, 'PNG', false);
  }
  if (format === 'jpeg') {
    checkSize(jpegSize(bytes), 'JPEG');
    return decodePixels(bytes, 'JPEG', options.applyExifOrientation ?? true);
  }
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

function checkSize({ width, height }: { width: number; height: number }, format: string): void {
  if (width === 0 || height === 0) {
    throw new WhycamError('EMPTY_IMAGE', `The ${format} header says the image is ${width}x${height} pixels: it has no pixels to explain.`);
  }
  checkImageLimits(width, height, `The ${format}`);
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

/** Width and height from the IHDR chunk, which is always first: length(4) "IHDR"(4) width(4) height(4) ... */
function pngSize(bytes: Uint8Array): { width: number; height: number } {
  if (bytes.length < 33 || !startsWith(bytes, ascii('IHDR'), 12)) {
    throw corrupt('PNG', new Error('no IHDR header'));
  }
  return { width: u32be(bytes, 16), height: u32be(bytes, 20) };
}

/** libpng stops at the end of the image data; a file cut inside its final IEND chunk is still truncated. */
function checkPngEnd(bytes: Uint8Array): void {
  const end = lastIndexOf(bytes, ascii('IEND'));
  if (end < 0 || end + 8 > bytes.length) throw corrupt('PNG', new Error('no complete IEND chunk at the end'));
}

function lastIndexOf(b: Uint8Array, sig: number[]): number {
  for (let at = b.length - sig.length; at >= Math.max(0, b.length - 4096); at--) if (startsWith(b, sig, at)) return at;
  return -1;
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

async function decodePixels(bytes: Uint8Array, format: string, orient: boolean): Promise<ImageInput> {
  let out: { data: Buffer; info: { width: number; height: number; channels: number } };
  try {
    // failOn 'truncated': a cut-off file fails as browsers would show it broken; libjpeg's benign warnings do not.
    let image = sharp(bytes, { failOn: 'truncated', limitInputPixels: IMAGE_LIMITS.maxPixels });
    if (orient) image = image.rotate(); // no angle: as the EXIF Orientation tag says
    out = await image.toColourspace('srgb').ensureAlpha().raw().toBuffer({ resolveWithObject: true });
  } catch (e) {
    throw corrupt(format, e);
  }
  const { width, height, channels } = out.info;
  if (channels !== 4 || out.data.length !== width * height * 4) {
    throw corrupt(format, new Error(`the decoder returned ${channels} channels and ${out.data.length} bytes for ${width}x${height}`));
  }
  return { data: ownBytes(out.data), width, height, channels: 4 };
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
