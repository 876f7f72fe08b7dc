import { CommanderError } from 'commander';
import type { Command } from 'commander';

import { domainExitCodes, exitCodeOf as errorExitCode } from '../core/index.ts';

/**
 * The exit code of an error that ended a command (of `tributary` or of the tools' CLI): 0 done,
 * 2 bad usage (commander) or an error of the `config` domain (nothing was started), 1 any other
 * failure. The codes by domain are the registry's (src/core/error-codes.ts, domainExitCodes).
 */
export function exitCodeOf(error: unknown): number {
  // --help and --version end with a CommanderError of code 0; usage errors were printed by
  // commander.
  if (error instanceof CommanderError) return error.exitCode === 0 ? 0 : domainExitCodes.config;
  return errorExitCode(error);
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
