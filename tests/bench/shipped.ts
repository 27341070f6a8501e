/** The shipped models the benchmark measures, by bench name: 'default' is the app's default model. */
export type Shipped = 'default' | 'fashion_scenes';
export const SHIPPED: Shipped[] = ['default', 'fashion_scenes'];
/** Their folders, relative to the repository (served under the same path by the browser runs). */
export const SHIPPED_DIRS: Record<Shipped, string> = { default: 'models/imagenet-darknet-tiny', fashion_scenes: 'models/fashion-scenes' };
