/**
 * Malicious model zips, built in the test: a zip whose directory truthfully declares a huge
 * zero-filled weights.bin (deflate squeezes 1.5 GB of zeros into ~1.4 MB), and a zip whose
 * directory understates what an entry inflates to.
 */
import * as zlib from 'zlib';
import JSZip from 'jszip';

export interface PlainFile {
  name: string;
  data: Uint8Array;
}

interface Entry {
  name: Buffer;
  method: 0 | 8;
  crc: number;
  compressed: Buffer;
  size: number;
}

/** A zip archive of ready entries (stored or raw-deflated), written field by field (PKWARE APPNOTE 4.3). */
function writeZip(entries: Entry[]): Uint8Array {
  const parts: Buffer[] = [];
  const central: Buffer[] = [];
  let offset = 0;
  for (const e of entries) {
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(e.method, 8);
    local.writeUInt32LE(e.crc >>> 0, 14);
    local.writeUInt32LE(e.compressed.length, 18);
    local.writeUInt32LE(e.size, 22);
    local.writeUInt16LE(e.name.length, 26);
    parts.push(local, e.name, e.compressed);
    const dir = Buffer.alloc(46);
    dir.writeUInt32LE(0x02014b50, 0);
    dir.writeUInt16LE(20, 4);
    dir.writeUInt16LE(20, 6);
    dir.writeUInt16LE(e.method, 10);
    dir.writeUInt32LE(e.crc >>> 0, 16);
    dir.writeUInt32LE(e.compressed.length, 20);
    dir.writeUInt32LE(e.size, 24);
    dir.writeUInt16LE(e.name.length, 28);
    dir.writeUInt32LE(offset, 42);
    central.push(dir, e.name);
    offset += 30 + e.name.length + e.compressed.length;
  }
  const dirBytes = Buffer.concat(central);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(dirBytes.length, 12);
  end.writeUInt32LE(offset, 16);
  return new Uint8Array(Buffer.concat([...parts, dirBytes, end]));
}

const stored = (f: PlainFile): Entry => ({
  name: Buffer.from(f.name), method: 0, crc: zlib.crc32(f.data), compressed: Buffer.from(f.data), size: f.data.byteLength,
});

/** `files` plus `bombName`: `bombBytes` zeros (at most 4 GB - 1), deflated in 16 MB steps so the test never holds them. */
export async function zeroBombZip(files: PlainFile[], bombName: string, bombBytes: number): Promise<Uint8Array> {
  const deflate = zlib.createDeflateRaw({ level: 9 });
  const out: Buffer[] = [];
  deflate.on('data', (c: Buffer) => out.push(c));
  const ended = new Promise((resolve) => deflate.on('end', resolve));
  const step = Buffer.alloc(16 << 20);
  let crc = 0;
  for (let left = bombBytes; left > 0; left -= step.length) {
    const chunk = left >= step.length ? step : step.subarray(0, left);
    crc = zlib.crc32(chunk, crc);
    if (!deflate.write(chunk)) await new Promise((resolve) => deflate.once('drain', resolve));
  }
  deflate.end();
  await ended;
  return writeZip([...files.map(stored), { name: Buffer.from(bombName), method: 8, crc, compressed: Buffer.concat(out), size: bombBytes }]);
}

/**
 * A JSZip archive of `files` where `liar` (a zero-filled buffer of `actualBytes`) is declared,
 * in both its local header and the central directory, to be `declaredBytes` long.
 */
export async function understatedZip(files: PlainFile[], liar: string, actualBytes: number, declaredBytes: number): Promise<Uint8Array> {
  const zip = new JSZip();
  for (const f of files) zip.file(f.name, f.data);
  zip.file(liar, new Uint8Array(actualBytes));
  const bytes = Buffer.from(await zip.generateAsync({ type: 'uint8array', compression: 'DEFLATE' }));
  const name = Buffer.from(liar);
  for (const [signature, sizeAt, nameLenAt, headerLen] of [[0x04034b50, 22, 26, 30], [0x02014b50, 24, 28, 46]]) {
    for (let i = 0; i + headerLen < bytes.length; i++) {
      if (bytes.readUInt32LE(i) !== signature) continue;
      const len = bytes.readUInt16LE(i + nameLenAt);
      if (len === name.length && bytes.subarray(i + headerLen, i + headerLen + len).equals(name)) bytes.writeUInt32LE(declaredBytes, i + sizeAt);
    }
  }
  return new Uint8Array(bytes);
}
