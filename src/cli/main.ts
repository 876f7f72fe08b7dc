import { Command } from 'commander';

import { describeCommand } from './commands/describe.ts';
import { dlqCommand } from './commands/dlq.ts';
import { resetCommand } from './commands/reset.ts';
import { runCommand } from './commands/run.ts';
import { schemasCommand } from './commands/schemas.ts';
import { sourceCommand } from './commands/source.ts';
import { topicsCommand } from './commands/topics.ts';
import { runProgram, withUsageErrors } from './exit.ts';

/**
 * The `tributary` command: one file per command in commands/, each declaring the settings
 * groups it reads. The load generators are demo tools (`npm run produce`, tools/cli.ts).
 */
export function program(): Command {
  const root = new Command('tributary').description(
    'A Kafka-native stream processor for TypeScript: run, inspect and reset topologies.',
  );
  for (const command of [
    runCommand(),
    describeCommand(),
    topicsCommand(),
    schemasCommand(),
    resetCommand(),
    sourceCommand(),
    dlqCommand(),
  ])
    root.addCommand(command);
  return withUsageErrors(root);
}

export function main(argv: string[]): Promise<number> {
  return runProgram(program(), argv);
}

const code = await main(process.argv);
// `run` keeps the process alive (its worker); every other command ends here.
if (code !== 0 || process.argv[2] !== 'run') process.exit(code);
