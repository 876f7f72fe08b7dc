import { CommanderError } from 'commander';
import type { Command } from 'commander';

import { TributaryError } from '../core/index.ts';

/**
 * Exit codes of the `tributary` command (and of the tools' CLI): 0 done, 1 failed, 2 bad usage
 * or configuration (nothing was started). The one place that maps an error to a code.
 */
const usageErrors = new Set([
  'CONFIG_INVALID',
  'TOPOLOGY_FILE_INVALID',
  'TOPOLOGY_INVALID',
  'MODEL_NOT_FOUND',
  'MODEL_INVALID',
  'TOPIC_NOT_FOUND',
]);

/** The exit code of an error that ended a command. */
export function exitCodeOf(error: unknown): number {
  // --help and --version end with a CommanderError of code 0; usage errors were printed by
  // commander.
  if (error instanceof CommanderError) return error.exitCode === 0 ? 0 : 2;
  return error instanceof TributaryError && usageErrors.has(error.code) ? 2 : 1;
}

/** Every command (and sub-command) throws instead of exiting, and shows help after an error. */
export function withUsageErrors(command: Command): Command {
  command.exitOverride().showHelpAfterError();
  for (const sub of command.commands) withUsageErrors(sub);
  return command;
}

/** Runs a program to its end: its exit code, the error's message on stderr. */
export async function runProgram(program: Command, argv: string[]): Promise<number> {
  try {
    await program.parseAsync(argv);
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (error) {
    if (!(error instanceof CommanderError)) {
      const message = error instanceof Error ? error.message : String(error);
      process.stderr.write(`${program.name()}: ${message}\n`);
    }
    return exitCodeOf(error);
  }
}
