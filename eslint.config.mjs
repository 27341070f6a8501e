// ESLint (flat config): typescript-eslint's recommended rules, the layer rules and no import cycles.
// Layers: eslint-plugin-boundaries, because it classifies files by folder and tells `import type` from a runtime import
// (eslint-plugin-import-x's no-restricted-paths cannot); cycles: eslint-plugin-import-x's no-cycle.
import js from '@eslint/js';
import boundaries from 'eslint-plugin-boundaries';
import importX from 'eslint-plugin-import-x';
import globals from 'globals';
import tseslint from 'typescript-eslint';

/**
 * The repository's root, and a copy of its layout holding deliberately wrong files that
 * tests/build/lint.test.ts lints to see every rule fail. The real run ignores the copy.
 */
export const LINT_FIXTURES = 'tests/build/lint-fixtures/';
const ROOTS = [LINT_FIXTURES, ''];
const under = (...globs) => ROOTS.flatMap((root) => globs.map((g) => root + g));

// What each part of the project is. In src/, one folder per layer; its top-level files by name.
const SRC_FOLDERS = ['image', 'render', 'model-files', 'model', 'record', 'gradients', 'methods', 'passes', 'trust', 'quantize', 'node', 'cli'];
const elements = [
  ...ROOTS.flatMap((root) => [
    ...SRC_FOLDERS.map((f) => ({ type: f, pattern: `${root}src/${f}`, partialMatch: false })),
    { type: 'src', pattern: `${root}src`, partialMatch: false },
    { type: 'worker', pattern: `${root}worker`, partialMatch: false },
    { type: 'pwa', pattern: `${root}pwa`, partialMatch: false },
    { type: 'models', pattern: `${root}models`, partialMatch: false },
  ]),
  { type: 'tests', pattern: 'tests', partialMatch: false },
];

const layer = (name) => {
  const file = { errors: 'errors.ts', explainer: 'explainer.ts', backend: 'backend.ts', index: 'index.ts' }[name];
  return file ? { element: { type: 'src', fileInternalPath: file } } : { element: { type: name } };
};

// The stack, bottom first: each layer's runtime imports (its own files always allowed).
// errors <- image <- render; model-files (tfjs-free: weight sizes, zips); model <- record <- gradients <- methods <- passes <- explainer;
// backend, quantize, trust, node, cli and the index above.
const ENGINE = ['errors', 'image', 'render', 'model-files', 'model', 'record', 'gradients', 'methods', 'passes', 'explainer'];
const ALL_SRC = [...ENGINE, 'backend', 'quantize', 'trust', 'node', 'cli', 'index'];
const RUNTIME = {
  errors: [],
  image: ['errors'],
  // Pure image helpers (types, shapes, resampling); the page-safe files only (see the import rule below).
  render: ['errors', 'image'],
  'model-files': ['errors'],
  model: ['errors', 'image', 'model-files'],
  record: ['errors', 'model'],
  gradients: ['errors', 'model', 'record'],
  // Methods compute over typed arrays: what they know of tensors, models and passes is types only.
  methods: ['errors', 'render'],
  // The values methods read, from one forward record and from batches of inputs.
  passes: ['errors', 'model', 'record', 'gradients'],
  explainer: ENGINE,
  backend: ['errors', 'gradients'],
  quantize: ENGINE,
  trust: ENGINE,
  node: ['errors', 'image', 'model-files', 'model'],
  cli: ALL_SRC,
  index: ALL_SRC,
  worker: ALL_SRC,
  // The page never holds a tensor: the worker does.
  pwa: ['worker', 'errors', 'render', 'methods', 'model-files'],
  models: ALL_SRC,
  tests: [...ALL_SRC, 'worker', 'pwa', 'models'],
};
const TYPES_ONLY = {
  methods: ['model', 'record', 'gradients', 'image'],
  passes: ['methods'],
  pwa: ALL_SRC,
};

const own = (name) => (layer(name).element.type === 'src' ? [] : [name]);
const policies = Object.entries(RUNTIME).flatMap(([from, to]) => [
  ...(own(from).length + to.length ? [{ from: layer(from), allow: { to: [...own(from), ...to].map(layer) } }] : []),
  ...(TYPES_ONLY[from] ? [{ from: layer(from), allow: { to: TYPES_ONLY[from].map(layer), dependency: { kind: 'type' } } }] : []),
]);

const TFJS = ['@tensorflow/*'];

export default tseslint.config(
  { ignores: ['node_modules/', 'dist/', 'coverage/', 'out/', 'whycam-out/', 'tests/artifacts/', LINT_FIXTURES] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node } },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    rules: {
      // `_`-prefixed names are deliberately unused (a callback's position, a destructured rest).
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none', ignoreRestSiblings: true }],
    },
  },
  {
    // webpack turns a required .wasm into its emitted URL; package.json is read where it is needed.
    rules: { '@typescript-eslint/no-require-imports': ['error', { allow: ['\\.wasm$', 'package\\.json$'] }] },
  },
  {
    files: ['**/*.cjs', '**/*.js'],
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    files: ['**/*.ts'],
    plugins: { boundaries, 'import-x': importX },
    settings: {
      'import/resolver': { node: { extensions: ['.ts', '.js', '.json'] } },
      'import-x/resolver': { node: { extensions: ['.ts', '.js', '.json'] } },
      'import-x/extensions': ['.ts', '.js'],
      'import-x/parsers': { '@typescript-eslint/parser': ['.ts'] },
      'boundaries/elements': elements,
      'boundaries/dependency-nodes': ['import', 'export', 'require', 'dynamic-import'],
    },
    rules: {
      'boundaries/dependencies': ['error', { default: 'disallow', checkInternals: true, policies }],
      'import-x/no-cycle': 'error',
    },
  },
  // No tfjs where it must not run: render, image and model-files never (pages import them), the page and the methods not at runtime.
  {
    files: under('src/render/**/*.ts', 'src/image/**/*.ts', 'src/model-files/**/*.ts'),
    rules: {
      '@typescript-eslint/no-restricted-imports': ['error', {
        patterns: [{ group: TFJS, message: 'src/render, src/image and src/model-files are plain TypeScript that pages load: no tfjs.' }],
      }],
    },
  },
  {
    files: under('pwa/**/*.ts', 'src/methods/**/*.ts'),
    rules: {
      '@typescript-eslint/no-restricted-imports': ['error', {
        patterns: [{ group: TFJS, allowTypeImports: true, message: 'tfjs runs in the worker and the engine below the methods; import its types only.' }],
      }],
    },
  },
  // Pages load src/render: from src/image it takes the pure modules, never the Node decoders.
  {
    files: under('src/render/**/*.ts'),
    rules: {
      '@typescript-eslint/no-restricted-imports': ['error', {
        patterns: [
          { group: TFJS, message: 'src/render is plain TypeScript that pages load: no tfjs.' },
          { regex: '^\\.\\./image(/(index|decode|encode|orientation))?$', message: 'src/render loads in pages: import only the pure image modules (types, shape, resampling), not the Node decoders.' },
        ],
      }],
    },
  },
);
