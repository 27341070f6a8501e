/**
 * The lint rules that keep the layers: on a copy of the repository's layout holding one
 * deliberately wrong file per rule (tests/build/lint-fixtures/), each `bad-*` file fails with
 * the rule it breaks and each `ok-*` file passes; the real tree passes.
 */
import { execFileSync } from 'child_process';
import * as path from 'path';

const ROOT = path.resolve(__dirname, '../..');
const FIXTURES = 'tests/build/lint-fixtures';

interface Result { filePath: string; messages: Array<{ ruleId: string | null; message: string; line: number }> }

function lint(...args: string[]): Result[] {
  const out = execFileSync(process.execPath, [path.join(__dirname, 'eslint-json.mjs'), ...args], { cwd: ROOT, encoding: 'utf8', maxBuffer: 64 * 2 ** 20 });
  return JSON.parse(out) as Result[];
}

let fixtureResults: Map<string, Result['messages']>;
beforeAll(() => {
  fixtureResults = new Map(lint('--fixtures', FIXTURES).map((r) => [path.relative(path.join(ROOT, FIXTURES), r.filePath), r.messages]));
});

const rulesOf = (file: string): string[] => {
  const messages = fixtureResults.get(file);
  if (!messages) throw new Error(`${file} was not linted`);
  return messages.map((m) => m.ruleId ?? `parse error: ${m.message}`);
};

describe('each layer rule fails on a file that breaks it', () => {
  test.each([
    ['src/render/bad-tfjs.ts', '@typescript-eslint/no-restricted-imports', 'render imports tfjs (even a type)'],
    ['src/model-files/bad-tfjs.ts', '@typescript-eslint/no-restricted-imports', 'the tfjs-free model-file helpers import tfjs'],
    ['src/render/bad-model.ts', 'boundaries/dependencies', 'render imports from outside render, image types and errors'],
    ['src/render/bad-image-decoder.ts', '@typescript-eslint/no-restricted-imports', 'render (loaded by pages) imports the Node image decoder'],
    ['src/image/bad-render.ts', 'boundaries/dependencies', 'image imports render'],
    ['src/record/bad-gradients.ts', 'boundaries/dependencies', 'record imports the layer above it'],
    ['src/model/bad-worker.ts', 'boundaries/dependencies', 'src imports worker/'],
    ['src/methods/bad-tfjs.ts', '@typescript-eslint/no-restricted-imports', 'methods import tfjs at runtime'],
    ['src/methods/bad-model.ts', 'boundaries/dependencies', 'methods import a runtime value from model'],
    ['pwa/bad-tfjs.ts', '@typescript-eslint/no-restricted-imports', 'the page imports tfjs at runtime'],
    ['pwa/bad-explainer.ts', 'boundaries/dependencies', 'the page imports the engine at runtime'],
    ['src/model/bad-cycle-a.ts', 'import-x/no-cycle', 'an import cycle'],
    ['src/model/bad-cycle-b.ts', 'import-x/no-cycle', 'an import cycle'],
  ])('%s: %s (%s)', (file, rule) => {
    expect(rulesOf(file)).toEqual([rule]);
  });
});

test('what the rules still allow passes: type imports where types are allowed, the layer below', () => {
  for (const file of ['src/render/ok-image-type.ts', 'src/methods/ok-types.ts', 'pwa/ok-types.ts', 'src/gradients/backward.ts']) {
    expect([file, rulesOf(file)]).toEqual([file, []]);
  }
});

test('the real tree passes', () => {
  const problems = lint('.').flatMap((r) => r.messages.map((m) => `${path.relative(ROOT, r.filePath)}:${m.line} ${m.ruleId}: ${m.message}`));
  expect(problems).toEqual([]);
});
