/**
 * `whycam/node`: what a Node program needs around the engine: a model from a path (a directory,
 * a model.json or a Teachable Machine zip) or a URL, and image files decoded to pixels and back.
 *
 *   const explainer = await Explainer.load(await modelSourceFromPath('models/fashion-scenes'));
 *   const image = decodeImage(fs.readFileSync('photo.jpg'));
 */
export { modelSourceFromPath } from './model-path';
export { decodeImage, encodePng, resizeImage, applyOrientation, readJpegOrientation, IMAGE_LIMITS } from '../image';
export type { DecodeOptions, ImageInput, Orientation } from '../image';
