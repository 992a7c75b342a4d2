// Public surface of the `tollgate` CLI package: the program builder (for tests and embedding).
import { Command, CommanderError } from 'commander';
import { isTollgateError } from '@tollgate/core';
import { COMMANDS } from './commands/index.js';

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
  try {
    await buildProgram().exitOverride().parseAsync([...argv]);
  } catch (error) {
    if (error instanceof CommanderError) {
      process.exitCode = error.exitCode;
      return;
    }
    const message = isTollgateError(error) ? `${error.code}: ${error.message}` : String((error as Error)?.stack ?? error);
    process.stderr.write(`tollgate: ${message}\n`);
    process.exitCode = isTollgateError(error) && error.code === 'CONFIG_INVALID' ? 2 : 1;
  }
}
