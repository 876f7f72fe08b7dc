import { Command } from 'commander';

import {
  appSettings,
  cassandraSettings,
  kafkaSettings,
  logSettings,
  metricsSettings,
  registrySettings,
  runWorker,
  workerOptionsFrom,
  workerSettings,
} from '../../app/index.ts';
import { printableSettings } from '../../core/index.ts';
import { commandTopology } from '../load-topology.ts';
import { addSettingOptions, commandSettings } from '../settings-options.ts';

/** What a worker reads in any case. */
const workerGroups = [kafkaSettings, appSettings, workerSettings, logSettings, metricsSettings];
/** What a topology may read through its context: checked only when it does. */
const topologyGroups = [registrySettings, cassandraSettings];

/** `tributary run <topology-file>`. */
export function runCommand(): Command {
  const command = new Command('run')
    .description(
      'Run one worker of a topology until SIGTERM or SIGINT (then it commits and leaves the group).',
    )
    .argument('<topology-file>', 'a .ts or .js file whose default export is a topology')
    .option('--print-config', 'print the effective configuration (secrets as ***) and exit');
  addSettingOptions(command, [...workerGroups, ...topologyGroups]);
  return command.action(async (file: string, options: Record<string, unknown>) => {
    const { source, settings } = commandSettings(options, workerGroups);
    if (options['printConfig'] === true) {
      process.stdout.write(
        `${printableSettings(source.raw, [...workerGroups, ...topologyGroups])}\n`,
      );
      return;
    }
    const topology = await commandTopology(file, source, false);
    // The settings of every client the topology took (the registry, Cassandra), before
    // anything starts: a bad TRIBUTARY_CASSANDRA_* stops here, not at the sink's first write.
    source.check();
    await runWorker(topology, workerOptionsFrom(settings));
  });
}
