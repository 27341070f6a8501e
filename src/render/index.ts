/**
 * Rendering of saliency maps: normalise, resize, colour, overlay. Plain TypeScript over typed
 * arrays without tfjs or DOM APIs, so the page bundle can import it without pulling in the engine.
 */
export { normalizeMap, normalizationScale, NORMALIZE_MODES } from './normalize';
export type { RawMap, NormalizeMode, NormalizeOptions } from './normalize';
export { upsample, resizeBilinearInto } from './upsample';
export type { MapLike, WritableNumericArray } from './upsample';
export { colormap, colormapLUT, colorize, colormapStops, COLORMAP_NAMES } from './colormaps';
export type { ColormapName, RGB, ColorStop } from './colormaps';
export { overlay } from './overlay';
export type { NormalizedMap, OverlayOptions, RGBAImage } from './overlay';
