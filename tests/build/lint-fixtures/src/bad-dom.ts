// Compiled by tests/build/src-tsconfig.test.ts with src/tsconfig.json's settings: DOM and Worker globals must not exist.
export const title = (): string => document.title;
export const reply = (message: unknown): void => self.postMessage(message);
