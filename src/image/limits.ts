/** The largest image whycam accepts, in one place for the decoder and the engine (no dependencies: browser-safe). */
export const IMAGE_LIMITS = { maxSide: 16384, maxPixels: 50_000_000 } as const;
