/** Jest: TypeScript through SWC (type-checking is `tsc --noEmit`, run first by `npm test`). */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/tests'],
  testMatch: ['**/*.test.ts'],
  transform: { '^.+\\.(t|j)sx?$': ['@swc/jest'] },
  setupFiles: ['<rootDir>/tests/helpers/setup.ts'],
  testTimeout: 300000,
  maxWorkers: 2,
};
