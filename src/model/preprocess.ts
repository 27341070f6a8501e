/**
 * Image pixels -> the model's input tensor: drop alpha, convert to grey for
 * single-channel models, resize bilinearly to the input size (an image already at
 * that size goes in unchanged) and scale to the model's value range.
 */
import * as tf from '@tensorflow/tfjs-core';
import { WhycamError } from '../errors';
import type { ImageInput } from '../image/types';
import { IMAGE_LIMITS } from '../image/limits';
import type { InputSpec } from './inspect';

export type InputRange = '0..1' | '-1..1' | '0..255';
export const INPUT_RANGES: readonly InputRange[] = ['0..1', '-1..1', '0..255'];

const MAX_IMAGE_SIDE = IMAGE_LIMITS.maxSide;
const MAX_IMAGE_PIXELS = IMAGE_LIMITS.maxPixels;

export function checkImage(image: ImageInput): void {
  const { width, height, channels, data } = image ?? ({} as ImageInput);
  if (!image || !data || typeof width !== 'number' || typeof height !== 'number') {
    throw new WhycamError('BAD_IMAGE', 'The image must have data, width, height and channels.');
  }
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 0 || height < 0) {
    throw new WhycamError('BAD_IMAGE', `The image size ${width}x${height} is not a valid pixel size.`);
  }
  if (width === 0 || height === 0) throw new WhycamError('EMPTY_IMAGE', `The image is ${width}x${height} pixels: there is nothing to explain.`);
  if (width > MAX_IMAGE_SIDE || height > MAX_IMAGE_SIDE || width * height > MAX_IMAGE_PIXELS) {
    throw new WhycamError('IMAGE_TOO_LARGE', `The image is ${width}x${height}; the limit is ${MAX_IMAGE_SIDE} px a side and ${MAX_IMAGE_PIXELS / 1e6} megapixels. Scale it down first.`);
  }
  if (channels !== 1 && channels !== 3 && channels !== 4) {
    throw new WhycamError('BAD_IMAGE', `The image has ${channels} channels; expected 1, 3 or 4.`);
  }
  if (data.length !== width * height * channels) {
    throw new WhycamError('BAD_IMAGE', `The image data has ${data.length} values; ${width}x${height}x${channels} needs ${width * height * channels}.`);
  }
}

/**
 * The pixels as float32, alpha dropped in the same pass: a strided tf.slice of the RGBA tensor
 * took ~10 ms at 224x224 on tfjs-backend-wasm (measured with npm run bench:profile), this ~0.3 ms.
 */
function dropAlpha(image: ImageInput): Float32Array {
  const { data } = image;
  if (image.channels !== 4) return Float32Array.from(data);
  const n = image.width * image.height;
  const out = new Float32Array(n * 3);
  for (let p = 0, i = 0, o = 0; p < n; p++, i += 4, o += 3) {
    out[o] = data[i];
    out[o + 1] = data[i + 1];
    out[o + 2] = data[i + 2];
  }
  return out;
}

/** Returns a [1, H, W, C] float32 tensor ready for the model. The caller disposes it. */
export function imageToInput(image: ImageInput, spec: InputSpec, range: InputRange): tf.Tensor4D {
  checkImage(image);
  return tf.tidy(() => {
    let rgb: tf.Tensor3D = tf.tensor3d(dropAlpha(image), [image.height, image.width, image.channels === 4 ? 3 : image.channels], 'float32');
    if (spec.channels === 1 && rgb.shape[2] === 3) {
      // ITU-R BT.601 luma, as tf.image.rgbToGrayscale.
      rgb = tf.sum(tf.mul(rgb, tf.tensor1d([0.2989, 0.587, 0.114])), 2, true);
    } else if (spec.channels === 3 && rgb.shape[2] === 1) {
      rgb = tf.tile(rgb, [1, 1, 3]);
    }
    let x = tf.expandDims(rgb, 0) as tf.Tensor4D;
    if (image.height !== spec.height || image.width !== spec.width) {
      x = tf.image.resizeBilinear(x, [spec.height, spec.width], false, true);
    }
    switch (range) {
      case '0..1': return tf.div(x, 255);
      case '-1..1': return tf.sub(tf.div(x, 127.5), 1);
      case '0..255': return x;
    }
  });
}
