// Public surface of the `tollgate` CLI package: the program builder (for tests and embedding).
import { Command, CommanderError } from 'commander';
import { isTollgateError } from '@tollgate/core';
import { COMMANDS } from './commands/index.js';
import { redactCredentials } from './credential-redaction.js';
import { printableText } from './printable-text.js';

/**
 * Builds the `tollgate` program with every registered command.
 *
 * @example
 * await buildProgram().parseAsync(['node', 'tollgate', 'migrate']);
 */
export function buildProgram(): Command {
  const program = new Command('tollgate').description('Tollgate: governance for AI agents').version('0.1.0');
  for (const register of COMMANDS) register(program);
  return program;
}

/**
 * Runs the CLI; errors with a Tollgate code print one line and exit 2 (configuration) or 1.
 *
 * @example
 * await runCli(process.argv);
 */
export async function runCli(argv: readonly string[]): Promise<void> {
  if (argv[2] !== 'serve') quietOnClosedPipe();
  try {
    await buildProgram().exitOverride().parseAsync([...argv]);
  } catch (error) {
    if (error instanceof CommanderError) {
      process.exitCode = error.exitCode;
      return;
    }
    process.stderr.write(`tollgate: ${describeError(error)}\n`);
    process.exitCode = isTollgateError(error) && error.code === 'CONFIG_INVALID' ? 2 : 1;
  }
}

/** A Node system error (a file, a socket, a port): its message says what and where; a stack would say nothing more. */
function isSystemError(error: unknown): error is Error & { code: string } {
  const code = error instanceof Error ? (error as Error & { code?: unknown }).code : undefined;
  return typeof code === 'string' && /^E[A-Z]+$/.test(code);
}

/**
 * One line for an error: Tollgate's own with their code; a missing file, a refused connection or a port in use with
 * Node's message (and what to do for a port); a failed `fetch` with its cause; anything else (a bug) with its stack.
 * Credentials it quotes are redacted (fetch's errors repeat a URL's `user:password@` and a refused `Authorization`
 * header) and control characters shown, not interpreted (a message may quote a server's answer); a stack keeps its
 * line breaks.
 *
 * @example describeError(new TollgateError('NOT_FOUND', 'no policy')) // 'NOT_FOUND: no policy'
 */
export function describeError(error: unknown): string {
  return printableText(redactCredentials(errorText(error)), { keepNewlines: true });
}

function errorText(error: unknown): string {
  if (isTollgateError(error)) return `${error.code}: ${error.message}`;
  if (isSystemError(error)) {
    return error.code === 'EADDRINUSE' ? `${error.message} (another process listens there: stop it or pick --port)` : error.message;
  }
  const cause = (error as { cause?: unknown } | null)?.cause;
  if (error instanceof TypeError && error.message === 'fetch failed') {
    return `cannot reach the server: ${cause instanceof Error ? cause.message : String(cause)}`;
  }
  if (error instanceof AggregateError && error.errors.length > 0 && error.errors.every(isSystemError)) {
    return [...new Set(error.errors.map((inner: Error) => inner.message))].join('; ');
  }
  if (error instanceof Error && /^SQLITE_/.test(String((error as { code?: unknown }).code))) return `${(error as Error & { code: string }).code}: ${error.message}`;
  return String((error as Error)?.stack ?? error);
}

let pipeGuarded = false;

/**
 * Output piped into a reader that stopped (`tollgate … | head`): stop quietly, as other command-line tools do,
 * instead of an EPIPE stack trace. Not for `serve` (its output is logs, and a server whose stdout listeners were set
 * up this way measured slower in bench/http.bench.mjs: ratio 0.70–0.76 against 0.86 without, in one session's runs).
 */
function quietOnClosedPipe(): void {
  if (pipeGuarded) return;
  pipeGuarded = true;
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
      throw error;
    });
  }
}
