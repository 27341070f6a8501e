// Lints the given paths with the repository's eslint.config.mjs through ESLint's Node API and prints
// the results as JSON. A child process, because ESLint loads its config with import(), which jest's
// module sandbox does not run. `--fixtures` lints the deliberately wrong files the real run ignores.
import { ESLint } from 'eslint';

const args = process.argv.slice(2);
const fixtures = args.includes('--fixtures');
const eslint = new ESLint({ ignore: !fixtures });
const results = await eslint.lintFiles(args.filter((a) => a !== '--fixtures'));
process.stdout.write(JSON.stringify(results.map((r) => ({
  filePath: r.filePath,
  messages: r.messages.map((m) => ({ ruleId: m.ruleId, message: m.message, line: m.line })),
}))));
