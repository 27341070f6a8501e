/**
 * Image pixels -> the model's input tensor, the one preprocessing of every front end (CLI,
 * worker, app, widget): fit the photo to the input's aspect (default: centre crop), resample
 * it to the input size (area-averaged when shrinking by more than 2x, else bilinear; an
 * image already at that size goes in unchanged), drop alpha, convert to grey for
 * single-channel models and scale to the model's value range.
 */
import * as tf from '@tensorflow/tfjs-core';
import { WhycamError } from '../errors';
import type { ImageInput } from '../image/types';
import { checkImageLimits } from '../image/limits';
import { DEFAULT_FIT, fitPlan, type Fit, type Region } from '../image/fit';
import { resampleInto } from '../image/resample';
import type { InputSpec } from './inspect';

export type InputRange = '0..1' | '-1..1' | '0..255';
export const INPUT_RANGES: readonly InputRange[] = ['0..1', '-1..1', '0..255'];

export function checkImage(image: ImageInput): void {
  const { width, height, channels, data } = image ?? ({} as ImageInput);
  if (!image || !data || typeof width !== 'number' || typeof height !== 'number') {
    throw new WhycamError('BAD_IMAGE', 'The image must have data, width, height and channels.');
  }
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 0 || height < 0) {
    throw new WhycamError('BAD_IMAGE', `The image size ${width}x${height} is not a valid pixel size.`);
  }
  if (width === 0 || height === 0) throw new WhycamError('EMPTY_IMAGE', `The image is ${width}x${height} pixels: there is nothing to explain.`);
  checkImageLimits(width, height);
  if (channels !== 1 && channels !== 3 && channels !== 4) {
    throw new WhycamError('BAD_IMAGE', `The image has ${channels} channels; expected 1, 3 or 4.`);
  }
  if (data.length !== width * height * channels) {
    throw new WhycamError('BAD_IMAGE', `The image data has ${data.length} values; ${width}x${height}x${channels} needs ${width * height * channels}.`);
  }
}

/**
 * The fitted pixels as float32 at the input size, alpha dropped in the same pass (a strided
 * tf.slice of an RGBA tensor took ~10 ms at 224x224 on tfjs-backend-wasm).
 */
function fittedPixels(image: ImageInput, spec: InputSpec, fit: Fit): { pixels: Float32Array; channels: 1 | 3; region: Region } {
  const channels = image.channels === 1 ? 1 : 3;
  const plan = fitPlan(image.width, image.height, spec.width, spec.height, fit);
  // Zeros are the padding of `contain`.
  const pixels = new Float32Array(spec.width * spec.height * channels);
  if (image.width === spec.width && image.height === spec.height) {
    const { data } = image;
    const n = image.width * image.height;
    const step = image.channels;
    for (let p = 0, i = 0, o = 0; p < n; p++, i += step) for (let c = 0; c < channels; c++) pixels[o++] = data[i + c];
  } else {
    resampleInto(image, plan.source, pixels, spec.width, channels, plan.placed);
  }
  return { pixels, channels, region: plan.region };
}

export interface PreparedInput {
  /** [1, H, W, C] float32 in the model's range; the caller disposes it. */
  input: tf.Tensor4D;
  fit: Fit;
  /** The rectangle of the source image (in its pixels) that the whole input covers (image/fit.ts). */
  region: Region;
}

/** The model input for `image`, and the part of the image it shows. */
export function prepareInput(image: ImageInput, spec: InputSpec, range: InputRange, fit: Fit = DEFAULT_FIT): PreparedInput {
  checkImage(image);
  const { pixels, channels, region } = fittedPixels(image, spec, fit);
  const input = tf.tidy(() => {
    let x: tf.Tensor3D = tf.tensor3d(pixels, [spec.height, spec.width, channels], 'float32');
    if (spec.channels === 1 && channels === 3) {
      // ITU-R BT.601 luma, as tf.image.rgbToGrayscale.
      x = tf.sum(tf.mul(x, tf.tensor1d([0.2989, 0.587, 0.114])), 2, true);
    } else if (spec.channels === 3 && channels === 1) {
      x = tf.tile(x, [1, 1, 3]);
    }
    const batch = tf.expandDims(x, 0) as tf.Tensor4D;
    switch (range) {
      case '0..1': return tf.div(batch, 255) as tf.Tensor4D;
      case '-1..1': return tf.sub(tf.div(batch, 127.5), 1) as tf.Tensor4D;
      case '0..255': return batch;
    }
  });
  return { input, fit, region };
}

/** Returns a [1, H, W, C] float32 tensor ready for the model. The caller disposes it. */
export function imageToInput(image: ImageInput, spec: InputSpec, range: InputRange, fit: Fit = DEFAULT_FIT): tf.Tensor4D {
  return prepareInput(image, spec, range, fit).input;
}
