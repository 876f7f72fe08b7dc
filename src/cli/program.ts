import { Command } from 'commander';

import { describeCommand } from './commands/describe.ts';
import { dlqCommand } from './commands/dlq.ts';
import { resetCommand } from './commands/reset.ts';
import { runCommand } from './commands/run.ts';
import { schemasCommand } from './commands/schemas.ts';
import { sourceCommand } from './commands/source.ts';
import { topicsCommand } from './commands/topics.ts';
import { withUsageErrors } from './exit.ts';

/**
 * The `tributary` command (main.ts runs it): one file per command in commands/, each declaring
 * the settings groups it reads. The load generators are demo tools (`npm run produce`,
 * tools/cli.ts), not commands of the product.
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
