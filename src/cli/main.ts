/**
 * Entry of the `whycam` command (src/cli/bin.cjs runs it through tsx). `run` never throws:
 * every failure becomes one `whycam: <message>` line on stderr and an exit code (exit-codes.ts).
 */
import { isWhycamError } from '../errors';
import { CliError, parseCommand, usage } from './args';
import { EXIT, exitCodeFor } from './exit-codes';

export interface CliIO {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
}

const processIO: CliIO = {
  stdout: (t) => process.stdout.write(t),
  stderr: (t) => process.stderr.write(t),
};

/** Messages from tfjs or Node can span lines; the CLI promises one. */
const oneLine = (s: string) => s.replace(/\s*\n\s*/g, ' ').trim();

export async function run(argv: string[], io: CliIO = processIO): Promise<number> {
  const debug = process.env.WHYCAM_DEBUG === '1';
  try {
    const command = parseCommand(argv);
    if (command.kind === 'help') {
      io.stdout(usage());
      return EXIT.OK;
    }
    if (command.kind === 'version') {
      io.stdout(`${(require('../../package.json') as { version: string }).version}\n`);
      return EXIT.OK;
    }
    const out = { out: (line: string) => io.stdout(`${line}\n`), err: (text: string) => io.stderr(text) };
    if (command.kind === 'audit' || command.kind === 'merge') {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const batch = require('./audit/command') as typeof import('./audit/command');
      return command.kind === 'audit' ? await batch.auditCommand(command.args, out) : await batch.mergeCommand(command.args, out);
    }
    // Required only now, so --help and command-line errors answer without loading tfjs (~0.4 s); a synchronous
    // require because tsx's CommonJS hook (bin.cjs) does not compile an import() of a .ts file.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { explainCommand } = require('./explain') as typeof import('./explain');
    await explainCommand(command.args, out);
    return EXIT.OK;
  } catch (e) {
    if (e instanceof CliError) {
      io.stderr(`whycam: ${oneLine(e.message)}\n`);
      return e.exitCode;
    }
    if (isWhycamError(e)) {
      io.stderr(`whycam: ${oneLine(e.message)}\n`);
      if (debug && e.stack) io.stderr(`${e.stack}\n`);
      return exitCodeFor(e.code);
    }
    const err = e instanceof Error ? e : new Error(String(e));
    io.stderr(`whycam: unexpected error: ${oneLine(err.message)}${debug ? '' : ' (set WHYCAM_DEBUG=1 for details)'}\n`);
    if (debug && err.stack) io.stderr(`${err.stack}\n`);
    return EXIT.UNEXPECTED;
  }
}
