/**
 * Turns whatever image arrived in the worker into the engine's pixels. Encoded files
 * and bitmaps need the platform (createImageBitmap/OffscreenCanvas in a browser, sharp
 * in Node), so the entry passes those decoders in.
 */
import { WhycamError, type WhycamErrorCode } from '../src/errors';
import type { ImageInput } from '../src/image/types';
import { checkImageLimits } from '../src/image/limits';
import type { PixelImage, WorkerImage } from './protocol';

export interface ImageDecoders {
  /** Encoded image file -> RGBA pixels. */
  decodeFile(bytes: Blob): Promise<ImageInput>;
  /** ImageBitmap -> RGBA pixels (browser only). */
  decodeBitmap?(bitmap: ImageBitmap): Promise<ImageInput>;
}

// Duck-typed, not instanceof: across realms (worker_threads, jest sandboxes) the classes differ.
const tag = (v: unknown) => Object.prototype.toString.call(v);
export const isBlob = (v: unknown): v is Blob => tag(v) === '[object Blob]' || tag(v) === '[object File]';
export const isImageBitmap = (v: unknown): v is ImageBitmap => tag(v) === '[object ImageBitmap]';
const isPixelData = (v: unknown): v is Uint8Array | Uint8ClampedArray => tag(v) === '[object Uint8Array]' || tag(v) === '[object Uint8ClampedArray]';

export async function toImageInput(image: WorkerImage, decoders: ImageDecoders): Promise<ImageInput> {
  if (image === null || typeof image !== 'object') {
    throw new WhycamError('BAD_IMAGE', 'The image must be an ImageBitmap, ImageData, Blob or { data, width, height }.');
  }
  if (isBlob(image)) return decoders.decodeFile(image);
  if (isImageBitmap(image)) {
    if (!decoders.decodeBitmap) throw new WhycamError('BAD_IMAGE', 'ImageBitmap images need a browser worker.');
    const { width, height } = image;
    if (width === 0 || height === 0) throw new WhycamError('EMPTY_IMAGE', `The bitmap is ${width}x${height} pixels (closed or transferred already?): there is nothing to explain.`);
    checkImageLimits(width, height);
    return decoders.decodeBitmap(image);
  }
  return pixels(image as PixelImage);
}

/** ImageData and {data, width, height, channels?}: channels inferred from the data length when absent. */
function pixels(image: PixelImage): ImageInput {
  const { data, width, height } = image;
  if (!isPixelData(data) || typeof width !== 'number' || typeof height !== 'number') {
    throw new WhycamError('BAD_IMAGE', 'The image must be an ImageBitmap, ImageData, Blob or { data: Uint8Array | Uint8ClampedArray, width, height }.');
  }
  let channels = image.channels;
  if (channels === undefined) {
    const per = width > 0 && height > 0 ? data.length / (width * height) : 4;
    if (per !== 1 && per !== 3 && per !== 4) {
      throw new WhycamError('BAD_IMAGE', `The image data has ${data.length} values, which is not 1, 3 or 4 per pixel of ${width}x${height}; pass channels explicitly.`);
    }
    channels = per;
  }
  // The engine checks sizes, channels and length itself (EMPTY_IMAGE, IMAGE_TOO_LARGE, BAD_IMAGE).
  return { data, width, height, channels };
}


/**
 * Reads a Blob's bytes. A File picked by the user can vanish from disk before we read it
 * (NotFoundError / NotReadableError): that is FILE_NOT_FOUND, not a bad image.
 */
export async function readBlob(blob: Blob, what: string, otherwise: WhycamErrorCode): Promise<Uint8Array> {
  try {
    return new Uint8Array(await blob.arrayBuffer());
  } catch (e) {
    const name = (e as { name?: string })?.name;
    if (name === 'NotFoundError' || name === 'NotReadableError') {
      throw new WhycamError('FILE_NOT_FOUND', `The ${what} could not be read (${(e as Error).message}); was the file moved or deleted? Pick it again.`, { cause: e });
    }
    throw new WhycamError(otherwise, `The ${what} could not be read: ${(e as Error)?.message ?? String(e)}`, { cause: e });
  }
}
