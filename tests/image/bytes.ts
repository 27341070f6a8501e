/** Hand-built file bytes for decoder tests (not a test file itself). */

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

/** CRC-32 as the PNG specification defines it (ISO 3309 / ITU-T V.42). */
export function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (const b of bytes) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function u32(v: number): number[] {
  return [(v >>> 24) & 0xff, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff];
}

function chunk(type: string, data: number[]): number[] {
  const typeAndData = Uint8Array.from([...Array.from(type, (c) => c.charCodeAt(0)), ...data]);
  return [...u32(data.length), ...typeAndData, ...u32(crc32(typeAndData))];
}

/** A PNG whose IHDR (with a valid CRC) claims width x height, RGBA 8-bit, followed by IEND only. */
export function pngHeaderOnly(width: number, height: number): Uint8Array {
  const ihdr = [...u32(width), ...u32(height), 8, 6, 0, 0, 0];
  return Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, ...chunk('IHDR', ihdr), ...chunk('IEND', [])]);
}

/** Copy of a baseline JPEG with its SOF0 frame size rewritten. */
export function withJpegSize(jpeg: Uint8Array, width: number, height: number): Uint8Array {
  const out = jpeg.slice();
  for (let i = 2; i + 9 < out.length; i++) {
    if (out[i] === 0xff && out[i + 1] === 0xc0) {
      out[i + 5] = height >> 8;
      out[i + 6] = height & 0xff;
      out[i + 7] = width >> 8;
      out[i + 8] = width & 0xff;
      return out;
    }
  }
  throw new Error('no SOF0 marker');
}

/**
 * Copy of a JPEG with an APP1 Exif segment, holding only an Orientation tag, inserted right after
 * SOI: "Exif\0\0", TIFF header, IFD0 with one entry (tag 0x0112, SHORT, count 1).
 */
export function withExifOrientation(jpeg: Uint8Array, orientation: number, littleEndian = false): Uint8Array {
  const u16 = (v: number) => (littleEndian ? [v & 0xff, v >> 8] : [v >> 8, v & 0xff]);
  const u32le = (v: number) => (littleEndian ? u32(v).reverse() : u32(v));
  const tiff = [
    ...(littleEndian ? [0x49, 0x49] : [0x4d, 0x4d]),
    ...u16(42),
    ...u32le(8), // IFD0 right after the header
    ...u16(1), // one entry
    ...u16(0x0112), ...u16(3), ...u32le(1), ...u16(orientation), 0, 0,
    ...u32le(0), // no next IFD
  ];
  const body = [0x45, 0x78, 0x69, 0x66, 0, 0, ...tiff];
  const app1 = [0xff, 0xe1, (body.length + 2) >> 8, (body.length + 2) & 0xff, ...body];
  return Uint8Array.from([...jpeg.subarray(0, 2), ...app1, ...jpeg.subarray(2)]);
}
