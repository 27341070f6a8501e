import type { ImageInput } from './types';

/**
 * EXIF orientation for JPEGs. Decoders return the pixels as stored; phone cameras store portrait
 * photos sideways and add an Orientation tag (TIFF tag 0x0112) that viewers and browsers apply.
 */

export type Orientation = 1 | 2 | 3 | 4 | 5 | 6 | 7 | 8;

/** The Orientation tag of the JPEG's APP1 Exif segment, or 1 (as stored) when there is none or it is unreadable. */
export function readJpegOrientation(b: Uint8Array): Orientation {
  let at = 2;
  while (at + 4 <= b.length && b[at] === 0xff) {
    const marker = b[at + 1];
    if (marker === 0xda || marker === 0xd9) break; // image data starts: no more metadata
    const length = (b[at + 2] << 8) | b[at + 3];
    const body = at + 4;
    // APP1 "Exif\0\0" then a TIFF header.
    if (marker === 0xe1 && length >= 8 && body + 6 <= b.length &&
        b[body] === 0x45 && b[body + 1] === 0x78 && b[body + 2] === 0x69 && b[body + 3] === 0x66 &&
        b[body + 4] === 0 && b[body + 5] === 0) {
      return tiffOrientation(b, body + 6, Math.min(b.length, at + 2 + length));
    }
    at += 2 + length;
  }
  return 1;
}

function tiffOrientation(b: Uint8Array, tiff: number, end: number): Orientation {
  if (tiff + 8 > end) return 1;
  const little = b[tiff] === 0x49 && b[tiff + 1] === 0x49; // "II" little-endian, "MM" big-endian
  if (!little && !(b[tiff] === 0x4d && b[tiff + 1] === 0x4d)) return 1;
  const u16 = (at: number) => (little ? b[at] | (b[at + 1] << 8) : (b[at] << 8) | b[at + 1]);
  const u32 = (at: number) =>
    little
      ? (b[at] | (b[at + 1] << 8) | (b[at + 2] << 16) | (b[at + 3] << 24)) >>> 0
      : ((b[at] << 24) | (b[at + 1] << 16) | (b[at + 2] << 8) | b[at + 3]) >>> 0;
  if (u16(tiff + 2) !== 42) return 1;
  const ifd = tiff + u32(tiff + 4);
  if (ifd + 2 > end) return 1;
  const count = u16(ifd);
  for (let i = 0; i < count; i++) {
    const entry = ifd + 2 + i * 12;
    if (entry + 12 > end) return 1;
    if (u16(entry) === 0x0112) {
      const type = u16(entry + 2);
      const value = type === 3 ? u16(entry + 8) : type === 4 ? u32(entry + 8) : 0;
      return value >= 1 && value <= 8 ? (value as Orientation) : 1;
    }
  }
  return 1;
}

/**
 * Returns the image as it should be displayed for an EXIF orientation: 2 mirror, 3 rotate 180,
 * 4 flip, 5 transpose, 6 rotate 90 clockwise, 7 transverse, 8 rotate 90 anticlockwise.
 */
export function applyOrientation(image: ImageInput, orientation: Orientation): ImageInput {
  if (orientation === 1) return image;
  const { width: w, height: h, channels: c, data } = image;
  const swap = orientation >= 5;
  const ow = swap ? h : w;
  const oh = swap ? w : h;
  const out = new Uint8Array(data.length);
  for (let y = 0; y < oh; y++) {
    for (let x = 0; x < ow; x++) {
      // Source pixel (sx, sy) of the stored image shown at (x, y).
      let sx: number, sy: number;
      switch (orientation) {
        case 2: sx = w - 1 - x; sy = y; break;
        case 3: sx = w - 1 - x; sy = h - 1 - y; break;
        case 4: sx = x; sy = h - 1 - y; break;
        case 5: sx = y; sy = x; break;
        case 6: sx = y; sy = h - 1 - x; break;
        case 7: sx = w - 1 - y; sy = h - 1 - x; break;
        default: sx = w - 1 - y; sy = x; break; // 8
      }
      const s = (sy * w + sx) * c;
      const o = (y * ow + x) * c;
      for (let k = 0; k < c; k++) out[o + k] = data[s + k];
    }
  }
  return { data: out, width: ow, height: oh, channels: c };
}
