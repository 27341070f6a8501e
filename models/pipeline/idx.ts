/**
 * IDX files (the MNIST format: big-endian magic 0x00 0x00 <type> <rank>, then one
 * 32-bit big-endian size per dimension, then the data), optionally gzipped, and the
 * Fashion-MNIST files that Debian's dataset-fashion-mnist package installs.
 */
import { existsSync, readFileSync } from 'fs';
import * as path from 'path';
import { gunzipSync } from 'zlib';

export interface IdxArray {
  /** Sizes, outermost first, e.g. [60000, 28, 28]. */
  dims: number[];
  data: Uint8Array;
}

/** Parses IDX bytes with unsigned-byte data (type 0x08, the only type MNIST-style files use). */
export function parseIdx(bytes: Uint8Array): IdxArray {
  if (bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b) bytes = gunzipSync(bytes);
  if (bytes.length < 4 || bytes[0] !== 0 || bytes[1] !== 0) throw new Error('Not an IDX file: the magic number must start with two zero bytes.');
  const type = bytes[2];
  const rank = bytes[3];
  if (type !== 0x08) throw new Error(`IDX data type 0x${type.toString(16)} is not supported (only unsigned bytes, 0x08).`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const dims: number[] = [];
  for (let i = 0; i < rank; i++) dims.push(view.getUint32(4 + 4 * i, false));
  const offset = 4 + 4 * rank;
  const count = dims.reduce((a, b) => a * b, 1);
  if (bytes.length - offset !== count) {
    throw new Error(`IDX file holds ${bytes.length - offset} data bytes; its header [${dims}] says ${count}.`);
  }
  return { dims, data: bytes.subarray(offset, offset + count) };
}

export function readIdx(file: string): IdxArray {
  return parseIdx(new Uint8Array(readFileSync(file)));
}

export const FASHION_MNIST_DIR = '/usr/share/datasets/fashion-mnist';

/** Label order of the dataset (its README). */
export const FASHION_MNIST_LABELS = [
  'T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot',
] as const;

export type Split = 'train' | 'test';

export interface FashionSplit {
  split: Split;
  count: number;
  /** count x 28 x 28 grey images, 0 background, 255 brightest. */
  images: Uint8Array;
  labels: Uint8Array;
  size: 28;
}

const FILES: Record<Split, [string, string]> = {
  train: ['train-images-idx3-ubyte.gz', 'train-labels-idx1-ubyte.gz'],
  test: ['t10k-images-idx3-ubyte.gz', 't10k-labels-idx1-ubyte.gz'],
};

export class DatasetMissingError extends Error {
  constructor(file: string) {
    super(
      `Fashion-MNIST is not installed: ${file} is missing.\n` +
      'Install Debian\'s package (nothing is downloaded by this pipeline):\n' +
      '  sudo apt-get update && sudo apt-get install -y dataset-fashion-mnist\n' +
      'or point FASHION_MNIST_DIR at a directory holding the four *-ubyte(.gz) files.',
    );
    this.name = 'DatasetMissingError';
  }
}

/** Finds a file as shipped (.gz) or unpacked. */
function locate(dir: string, name: string): string {
  for (const candidate of [path.join(dir, name), path.join(dir, name.replace(/\.gz$/, ''))]) {
    if (existsSync(candidate)) return candidate;
  }
  throw new DatasetMissingError(path.join(dir, name));
}

export function loadFashionMnist(split: Split, dir = process.env.FASHION_MNIST_DIR || FASHION_MNIST_DIR): FashionSplit {
  const [imgName, lblName] = FILES[split];
  const images = readIdx(locate(dir, imgName));
  const labels = readIdx(locate(dir, lblName));
  if (images.dims.length !== 3 || images.dims[1] !== 28 || images.dims[2] !== 28) {
    throw new Error(`${imgName}: expected [N, 28, 28] images, got [${images.dims}].`);
  }
  if (labels.dims.length !== 1 || labels.dims[0] !== images.dims[0]) {
    throw new Error(`${lblName}: expected ${images.dims[0]} labels, got [${labels.dims}].`);
  }
  for (const l of labels.data) if (l > 9) throw new Error(`${lblName}: label ${l} is outside 0..9.`);
  return { split, count: images.dims[0], images: images.data, labels: labels.data, size: 28 };
}

/** The 28x28 image at `index` (a view, not a copy). */
export function garmentImage(set: FashionSplit, index: number): Uint8Array {
  return set.images.subarray(index * 784, (index + 1) * 784);
}
