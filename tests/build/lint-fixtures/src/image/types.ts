export interface ImageInput { width: number; height: number }
export const IMAGE_LIMIT = 4096;
